"""The result, one row per stem: waveform thumbnail, mute / solo / gain, FX preset, play, drag-out."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QLineF, QPointF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPixmap
from PyQt6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout,
                             QWidget)

from mtm_daw.provenance import FX_PRESETS
from mtm_daw.score.gm import GM_PROGRAMS
from mtm_daw.score.score import ROLES
from plugin_ui.theme import role_colour
from plugin_ui.widgets.drag import DragHandle

FX_LABELS = {"genre": "Genre chain", "dry": "Dry"}
GAIN_RANGE_DB = (-24, 6)


class WaveformView(QWidget):
    """Min/max peaks of a stem (from the engine, a few hundred columns): one vertical line per pixel
    column, drawn once into a pixmap per peaks, size and dimming; paint copies it and the playhead."""

    def __init__(self, colour: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = colour
        self.peaks = np.zeros((2, 1), dtype=np.float32)
        self.dimmed = False
        self.position = -1.0  # playhead, 0..1 (negative: none)
        self._pixmap: QPixmap | None = None
        self.setMinimumSize(120, 32)

    def set_peaks(self, peaks: np.ndarray) -> None:
        self.peaks = np.asarray(peaks, dtype=np.float32)
        self._pixmap = None
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        if dimmed != self.dimmed:
            self.dimmed = dimmed
            self._pixmap = None
            self.update()

    def set_position(self, fraction: float) -> None:
        self.position = fraction
        self.update()

    def resizeEvent(self, event) -> None:
        self._pixmap = None
        super().resizeEvent(event)

    def _draw(self) -> QPixmap:
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor("#1a1c20"))
        width, height = self.width(), self.height()
        lows, highs = self.peaks
        if width < 2 or len(highs) < 1:
            return pixmap
        scale = max(1e-6, float(max(np.abs(lows).max(), np.abs(highs).max())))
        columns = np.minimum((np.arange(width) * len(highs) / width).astype(int), len(highs) - 1)
        middle, half = height / 2.0, height / 2.0 - 2
        tops = middle - highs[columns] / scale * half
        bottoms = np.maximum(middle - lows[columns] / scale * half, tops + 1)
        colour = QColor(self.colour)
        colour.setAlpha(70 if self.dimmed else 220)
        painter = QPainter(pixmap)
        painter.setPen(colour)
        painter.drawLines([QLineF(x, float(top), x, float(bottom)) for x, top, bottom in zip(range(width), tops, bottoms)])
        painter.end()
        return pixmap

    def paintEvent(self, event) -> None:
        if self._pixmap is None or self._pixmap.size() != self.size():
            self._pixmap = self._draw()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        if self.position >= 0:
            painter.setPen(QColor("#ffffff"))
            x = self.position * self.width()
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))


class ColourStrip(QWidget):
    """The stem's colour down the row's left edge (painted: no per-row style sheet to re-polish)."""

    def __init__(self, colour: QColor) -> None:
        super().__init__()
        self.colour = colour
        self.setFixedWidth(4)

    def paintEvent(self, event) -> None:
        QPainter(self).fillRect(self.rect(), self.colour)


class StemRow(QFrame):
    """One stem. Rows are made once per role and reused for every cue (making widgets while a result
    arrives would stall the UI thread)."""

    mixer_changed = pyqtSignal()
    play_requested = pyqtSignal(str)  # role
    clicked = pyqtSignal(str)  # role: a click on the row's name or waveform selects it

    def __init__(self, role: str, path_of, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setObjectName("stemRow")
        self.setProperty("selected", False)
        self.setToolTip(f"Click to select the {role} (Regenerate… starts from the selected stem)")
        colour = role_colour(role)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 4, 2)
        layout.setSpacing(5)
        layout.addWidget(ColourStrip(colour))
        names = QVBoxLayout()
        names.setContentsMargins(4, 0, 0, 0)
        names.setSpacing(0)
        title = QLabel(role.title())
        title.setObjectName("stemTitle")
        self.instrument = QLabel("")
        self.instrument.setObjectName("stemInstrument")
        names.addWidget(title)
        names.addWidget(self.instrument)
        holder = QWidget()
        holder.setLayout(names)
        holder.setFixedWidth(104)
        layout.addWidget(holder)
        self.waveform = WaveformView(colour)
        layout.addWidget(self.waveform, 1)
        self.mute = self._toggle("M", "mute", f"Mute the {role} in the mix (the stem file is still written)")
        self.solo = self._toggle("S", "solo", f"Solo the {role}: the mix holds only soloed stems")
        layout.addWidget(self.mute)
        layout.addWidget(self.solo)
        self.gain = QSlider(Qt.Orientation.Horizontal)
        self.gain.setRange(*GAIN_RANGE_DB)
        self.gain.setValue(0)
        self.gain.setFixedWidth(76)
        self.gain.setToolTip(f"{role.title()} gain in dB (applied to the stem and the mix)")
        self.gain_label = QLabel("0 dB")
        self.gain_label.setFixedWidth(40)
        self.gain.valueChanged.connect(lambda v: self.gain_label.setText(f"{v:+d} dB" if v else "0 dB"))
        self.gain.sliderReleased.connect(self.mixer_changed.emit)
        self.gain.valueChanged.connect(lambda _: None if self.gain.isSliderDown() else self.mixer_changed.emit())
        layout.addWidget(self.gain)
        layout.addWidget(self.gain_label)
        self.preset = QComboBox()
        for preset in FX_PRESETS:
            self.preset.addItem(FX_LABELS.get(preset, f"{preset.title()} chain"), preset)
        self.preset.setToolTip("FX preset: the Pedalboard chain for this stem (a genre's chain, or dry); "
                               "your VST3 plugins from Settings are appended")
        self.preset.currentIndexChanged.connect(lambda _: self.mixer_changed.emit())
        self.preset.setFixedWidth(122)
        layout.addWidget(self.preset)
        self.play = QToolButton()
        self.play.setText("▶")
        self.play.setObjectName("play")
        self.play.setToolTip(f"Play the {role} stem alone")
        self.play.clicked.connect(lambda: self.play_requested.emit(self.role))
        layout.addWidget(self.play)
        self.handle = DragHandle("⇱", lambda: [path_of(role)],
                                 f"Drag the {role} stem into your DAW or a folder")
        layout.addWidget(self.handle)

    def mousePressEvent(self, event) -> None:
        self.clicked.emit(self.role)
        super().mousePressEvent(event)

    def set_selected(self, selected: bool) -> None:
        if self.property("selected") != selected:
            self.setProperty("selected", selected)
            self.style().unpolish(self)  # one row re-styled, on a click
            self.style().polish(self)

    def _toggle(self, text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setObjectName(name)
        button.setCheckable(True)
        button.setToolTip(tip)
        button.setFixedWidth(24)
        button.toggled.connect(lambda _: self.mixer_changed.emit())
        return button

    def show_stem(self, program: int, peaks: np.ndarray) -> None:
        """A new cue's stem, the mixer back at its defaults (without emitting mixer_changed)."""
        self.instrument.setText("Standard kit" if self.role == "drums" else GM_PROGRAMS[program % 128])
        self.waveform.set_peaks(peaks)
        for widget, reset in ((self.mute, lambda: self.mute.setChecked(False)),
                              (self.solo, lambda: self.solo.setChecked(False)),
                              (self.gain, lambda: self.gain.setValue(0)),
                              (self.preset, lambda: self.preset.setCurrentIndex(0))):
            widget.blockSignals(True)
            reset()
            widget.blockSignals(False)
        self.gain_label.setText("0 dB")

    def state(self) -> dict:
        return {"gain_db": float(self.gain.value()), "mute": self.mute.isChecked(), "solo": self.solo.isChecked(),
                "preset": self.preset.currentData()}


class StemList(QWidget):
    """The rows of the current result; mixer_changed when any row's mixer setting changes."""

    mixer_changed = pyqtSignal()
    play_requested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, playback_notice: str = "") -> None:
        super().__init__(parent)
        self.playback_notice = playback_notice  # why the play buttons are off ("" = playback works)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)
        self.rows: dict[str, StemRow] = {}  # the current cue's rows, in its order
        self.all_rows: dict[str, StemRow] = {}  # every row made so far, shown or not
        self.files: dict[str, str] = {}
        self.selected: str | None = None  # the role clicked last (None: none yet)
        self.empty = QLabel("Stems appear here after Generate (Ctrl+G)")
        self.empty.setObjectName("notice")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_.addWidget(self.empty)
        self.layout_.addStretch(1)
        for role in ROLES:  # made now, while nothing waits on the UI thread
            self._row(role)

    def _row(self, role: str) -> StemRow:
        if role not in self.all_rows:
            row = StemRow(role, lambda r: self.files.get(r, ""))
            row.mixer_changed.connect(self._changed)
            row.play_requested.connect(self.play_requested.emit)
            row.clicked.connect(self.select)
            if self.playback_notice:
                row.play.setEnabled(False)
                row.play.setToolTip(self.playback_notice)
            row.hide()
            self.layout_.insertWidget(len(self.all_rows), row)
            self.all_rows[role] = row
        return self.all_rows[role]

    def set_result(self, result: dict | None) -> None:
        """A new cue: its rows shown, the mixer at its defaults."""
        self.files = dict(result["files"]) if result else {}
        self.empty.setVisible(result is None)
        roles = list(result["stems"]) if result else []
        for role in roles:
            self._row(role)
        for index, role in enumerate(roles):  # rows in the cue's order
            self.layout_.removeWidget(self.all_rows[role])
            self.layout_.insertWidget(index, self.all_rows[role])
        self.rows = {role: self.all_rows[role] for role in roles}
        for role, row in self.all_rows.items():
            if role in self.rows:
                row.show_stem(result["stems"][role]["program"], result["stems"][role]["peaks"])
            row.setVisible(role in self.rows)
        if self.selected not in self.rows:
            self.select(None)
        self._changed(emit=False)

    def select(self, role: str | None) -> None:
        """Mark one row as selected (the stem Regenerate… offers first)."""
        self.selected = role if role in self.rows else None
        for name, row in self.all_rows.items():
            row.set_selected(name == self.selected)

    def update_result(self, result: dict) -> None:
        """The same cue re-mixed: new files and waveforms, the mixer controls as they are."""
        self.files = dict(result["files"])
        for role, stem in result["stems"].items():
            if role in self.rows:
                self.rows[role].waveform.set_peaks(stem["peaks"])

    def mixer(self) -> dict:
        return {role: row.state() for role, row in self.rows.items()}

    def _changed(self, emit: bool = True) -> None:
        states = self.mixer()
        soloed = [r for r, s in states.items() if s["solo"]]
        for role, row in self.rows.items():
            row.waveform.set_dimmed(role not in soloed if soloed else states[role]["mute"])
        if emit:
            self.mixer_changed.emit()

    def set_position(self, fraction: float) -> None:
        for row in self.rows.values():
            row.waveform.set_position(fraction)
