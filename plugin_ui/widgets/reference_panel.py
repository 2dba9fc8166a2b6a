"""References: pick one from your library (search + filters) or drop a MIDI/audio file, and set how
closely the dit engine follows it.

The library half shows a disabled list with the reason until plugin_ui.library_adapter reports a
library it can search (set_library_status).
"""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                             QListWidgetItem, QPushButton, QSlider, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from mtm_daw.description import GENRES, MOODS
from plugin_ui.widgets.drop_zone import local_files

REFERENCE_FILTER = "Audio or MIDI (*.wav *.flac *.mp3 *.ogg *.aif *.aiff *.m4a *.mid *.midi);;All files (*)"
REFERENCE_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff", ".m4a", ".mid", ".midi", ".kar", ".smf"}
LOOKING = "Looking for your library…"


class ReferenceFileBox(QLabel):
    """A drop target for one MIDI or audio reference file."""

    file_dropped = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__("Drop a MIDI or audio file here to follow its rhythm and harmony")
        self.setAcceptDrops(True)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(56)
        self.setStyleSheet("QLabel { border: 2px dashed #5a606b; border-radius: 6px; color: #9aa1ac; padding: 6px; }")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = local_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.file_dropped.emit(files[0])


class ReferencePanel(QWidget):
    search_requested = pyqtSignal(str, dict)  # query, filters
    audition_requested = pyqtSignal(str)  # a file to listen to
    file_rejected = pyqtSignal(str)  # why a dropped file cannot be a reference
    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._file: str | None = None
        self._engine = "dit"
        self._library_ready = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        # follow + strength
        top = QHBoxLayout()
        self.follow = QCheckBox("Follow a reference")
        self.follow.setToolTip("The dit engine follows the chosen reference's rhythm, harmony and contour")
        self.follow.toggled.connect(lambda _: self.changed.emit())
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(70)
        self.strength.setToolTip("Reference strength: 0 ignores the reference, 100 follows it closely")
        self.strength_label = QLabel("0.70")
        self.strength_label.setMinimumWidth(32)
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v / 100:.2f}"))
        top.addWidget(self.follow)
        top.addWidget(QLabel("Strength"))
        top.addWidget(self.strength, 1)
        top.addWidget(self.strength_label)
        layout.addLayout(top)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._library_tab(), "Library")
        self.tabs.addTab(self._file_tab(), "File")
        self.tabs.currentChanged.connect(lambda _: self.changed.emit())
        layout.addWidget(self.tabs, 1)
        self.set_library_status({"available": False, "message": LOOKING})
        self.set_engine("dit")

    # --- library tab ------------------------------------------------------------------------------
    def _library_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(5)
        row = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search: “warm jazz trio” or a file path (empty: the dropped sound or the description)")
        self.query.setToolTip("Broad search by meaning, or by sound when the query is an audio or MIDI file "
                              "(an empty box uses a dropped loop or MIDI file, else the description's sentence); "
                              "add filters for a targeted search")
        self.query.returnPressed.connect(self._search)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self._search)
        row.addWidget(self.query, 1)
        row.addWidget(self.search_button)
        layout.addLayout(row)
        filters = QHBoxLayout()
        self.genre_filter = QComboBox()
        self.genre_filter.addItems(["any genre", *GENRES])
        self.mood_filter = QComboBox()
        self.mood_filter.addItems(["any mood", *MOODS])
        self.bpm_min = QSpinBox()
        self.bpm_max = QSpinBox()
        for spin, text in ((self.bpm_min, "min"), (self.bpm_max, "max")):
            spin.setRange(0, 400)
            spin.setSpecialValueText(f"BPM {text}")
            spin.setToolTip(f"Tempo {text}imum of the references (blank: no limit)")
        self.genre_filter.setToolTip("Only references tagged with this genre")
        self.mood_filter.setToolTip("Only references tagged with this mood")
        for widget in (self.genre_filter, self.mood_filter, self.bpm_min, self.bpm_max):
            filters.addWidget(widget, 1)
        layout.addLayout(filters)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setToolTip("Choose the reference to follow; double-click to audition")
        self.results.itemSelectionChanged.connect(self.changed.emit)
        self.results.itemDoubleClicked.connect(lambda item: self._audition_library())
        layout.addWidget(self.results, 1)
        bottom = QHBoxLayout()
        self.library_notice = QLabel("")
        self.library_notice.setObjectName("notice")
        self.library_notice.setWordWrap(True)
        self.audition_button = QPushButton("Audition")
        self.audition_button.setToolTip("Listen to the chosen reference")
        self.audition_button.clicked.connect(self._audition_library)
        bottom.addWidget(self.library_notice, 1)
        bottom.addWidget(self.audition_button)
        layout.addLayout(bottom)
        return tab

    def set_library_status(self, status: dict) -> None:
        """{"available": bool, "message": str} from plugin_ui.library_adapter.library_status."""
        self._library_ready = bool(status.get("available"))
        for widget in (self.query, self.search_button, self.genre_filter, self.mood_filter, self.bpm_min,
                       self.bpm_max, self.results, self.audition_button):
            widget.setEnabled(self._library_ready)
        self.library_notice.setText(status.get("message", "") if self._library_ready else "")
        if not self._library_ready:
            self.results.clear()
            placeholder = QListWidgetItem(status.get("message", ""))
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(placeholder)

    @property
    def library_ready(self) -> bool:
        return self._library_ready

    def filters(self) -> dict:
        filters = {}
        if self.genre_filter.currentIndex() > 0:
            filters["genre"] = self.genre_filter.currentText()
        if self.mood_filter.currentIndex() > 0:
            filters["mood"] = self.mood_filter.currentText()
        if self.bpm_min.value() > 0:
            filters["bpm_min"] = float(self.bpm_min.value())
        if self.bpm_max.value() > 0:
            filters["bpm_max"] = float(self.bpm_max.value())
        return filters

    def _search(self) -> None:
        if self._library_ready:
            self.search_requested.emit(self.query.text().strip(), self.filters())

    def set_results(self, rows: list[dict]) -> None:
        self.results.clear()
        for row in rows:
            bpm = f"{row['bpm']:.0f} BPM" if row.get("bpm") else ""
            tags = " · ".join(t for t in (row.get("genre"), row.get("mood"), bpm, row.get("key")) if t)
            item = QListWidgetItem(f"{row['title']}   {tags}   ({row['score']:.2f})")
            item.setData(Qt.ItemDataRole.UserRole, row)
            matched = ", ".join(row.get("matched") or []) or "meaning only"
            caption = f"{row['caption']}\n" if row.get("caption") else ""
            provenance = f"\nsource: {row.get('source') or 'unknown'} · licence: {row.get('licence') or 'unknown'}"
            item.setToolTip(f"{caption}{row['path']}\nmatched: {matched} ({row.get('track', '')} search){provenance}")
            self.results.addItem(item)
        if not rows:
            self.library_notice.setText("No reference matches; loosen the filters")
        if rows:
            self.results.setCurrentRow(0)

    def _chosen_row(self) -> dict | None:
        items = self.results.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _audition_library(self) -> None:
        row = self._chosen_row()
        if row:
            self.audition_requested.emit(row["path"])

    # --- file tab ---------------------------------------------------------------------------------
    def _file_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(6, 6, 6, 6)
        self.file_box = ReferenceFileBox()
        self.file_box.file_dropped.connect(self.set_file)
        layout.addWidget(self.file_box, 1)
        row = QHBoxLayout()
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose a MIDI or audio file as the reference")
        browse.clicked.connect(self._browse)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(lambda: self.set_file(None))
        self.file_audition = QPushButton("Audition")
        self.file_audition.setToolTip("Listen to the reference file")
        self.file_audition.clicked.connect(lambda: self._file and self.audition_requested.emit(self._file))
        for button in (browse, self.clear_button, self.file_audition):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        return tab

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a reference (MIDI or audio)", "", REFERENCE_FILTER)
        if path:
            self.set_file(path)

    def set_file(self, path: str | None) -> None:
        """Use a MIDI or audio file as the reference (None clears it)."""
        if path is not None:
            suffix = Path(path).suffix.lower()
            if suffix not in REFERENCE_SUFFIXES:
                self.file_rejected.emit(f"{Path(path).name}: a reference must be a MIDI or audio file")
                return
        self._file = path
        self.file_box.setText(f"Reference: {Path(path).name}" if path else
                              "Drop a MIDI or audio file here to follow its rhythm and harmony")
        if path:
            self.tabs.setCurrentIndex(1)
            if self.follow.isEnabled():
                self.follow.setChecked(True)
        self.changed.emit()

    # --- state ------------------------------------------------------------------------------------
    def set_engine(self, engine: str) -> None:
        self._engine = engine
        usable = engine == "dit"
        self.follow.setEnabled(usable)
        self.follow.setToolTip("The dit engine follows the chosen reference's rhythm, harmony and contour" if usable
                               else "References steer the dit engine; the baseline composer does not read them")

    def reference(self) -> dict | None:
        """What generate sends: {"kind", "path", "strength"}, or None (no reference, or the baseline engine)."""
        if self._engine != "dit" or not self.follow.isChecked():
            return None
        strength = self.strength.value() / 100.0
        if self.tabs.currentIndex() == 1:
            return {"kind": "file", "path": self._file, "strength": strength} if self._file else None
        row = self._chosen_row()
        return {**row, "strength": strength} if row else None
