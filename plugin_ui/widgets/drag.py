"""Drag-out: files leave the panel as file URLs (text/uri-list), which DAWs and file managers accept."""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QMimeData, QPoint, Qt, QUrl
from PyQt6.QtGui import QDrag, QMouseEvent
from PyQt6.QtWidgets import QApplication, QLabel, QWidget


def mime_for_paths(paths: list[str | Path]) -> QMimeData:
    """MIME data holding the files as URLs (text/uri-list), plus their paths as plain text."""
    mime = QMimeData()
    files = [Path(p).resolve() for p in paths]
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    mime.setText("\n".join(str(p) for p in files))
    return mime


class DragHandle(QLabel):
    """A label you drag files out of; `paths` is a callable so it always offers the current files."""

    def __init__(self, text: str, paths, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._paths = paths
        self._press: QPoint | None = None
        self.setObjectName("dragHandle")
        self.setToolTip(tooltip)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)  # looks: QLabel#dragHandle in theme.py

    def paths(self) -> list[str]:
        return [p for p in self._paths() if p and Path(p).exists()]

    def mime_data(self) -> QMimeData:
        return mime_for_paths(self.paths())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        if (event.position().toPoint() - self._press).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        if not self.paths():
            return
        drag = QDrag(self)
        drag.setMimeData(self.mime_data())
        drag.exec(Qt.DropAction.CopyAction)
