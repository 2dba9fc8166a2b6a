"""The input: a drop zone for a video, image, audio or MIDI file, and a field for a text idea."""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PyQt6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                             QWidget)

FILE_FILTER = ("Media (*.mp4 *.mov *.mkv *.webm *.avi *.m4v *.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff "
               "*.wav *.flac *.mp3 *.ogg *.aif *.aiff *.m4a *.mid *.midi *.txt *.json);;All files (*)")
KIND_LABEL = {"video": "Video", "image": "Image", "audio": "Audio", "midi": "MIDI", "text": "Text"}


def local_files(mime) -> list[str]:
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class DropZone(QFrame):
    """Drop a file here (or click to browse): emits file_chosen(path)."""

    file_chosen = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumHeight(64)
        self.setToolTip("Drop a video, image, audio loop or MIDI file to describe it (or click to browse, Ctrl+O)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.headline = QLabel("Drop video · image · audio · MIDI")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline.setStyleSheet("font-size: 11pt; font-weight: 600;")
        self.detail = QLabel("or click to choose a file")
        self.detail.setObjectName("muted")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        self._set_hover(False)

    def _set_hover(self, hover: bool) -> None:
        colour = "#ff9f43" if hover else "#5a606b"
        self.setStyleSheet(f"DropZone {{ border: 2px dashed {colour}; border-radius: 8px; background: #202328; }}")

    def show_source(self, name: str, kind: str) -> None:
        self.headline.setText(f"{KIND_LABEL.get(kind, kind.title())}: {name}")
        self.detail.setText("drop another file to replace it")

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a video, image, audio or MIDI file", "", FILE_FILTER)
        if path:
            self.file_chosen.emit(path)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.browse()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event.mimeData()):
            event.acceptProposedAction()
            self._set_hover(True)

    def dragLeaveEvent(self, event) -> None:
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hover(False)
        files = local_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.file_chosen.emit(files[0])


class IdeaField(QWidget):
    """A one-line text idea ('gentle piano with soft strings, 72 bpm'): emits idea_entered(text)."""

    idea_entered = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("…or type an idea: “dark cinematic strings, 90 bpm, D minor”")
        self.edit.setToolTip("A text idea: genre, mood, instruments, tempo, key and length are read from it")
        self.edit.returnPressed.connect(self._emit)
        self.button = QPushButton("Describe")
        self.button.setToolTip("Turn the idea into an editable description (Enter)")
        self.button.clicked.connect(self._emit)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)

    def _emit(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.idea_entered.emit(text)


def display_name(source: str) -> str:
    return Path(source).name if Path(source).exists() else f"“{source[:40]}”"
