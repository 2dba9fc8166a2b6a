"""The result, one row per stem: waveform thumbnail, mute / solo / gain, FX preset, play, drag-out."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPainterPath
from PyQt6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout,
                             QWidget)

from mtm_daw.score.gm import GM_PROGRAMS
from plugin_ui.backend import FX_PRESETS
from plugin_ui.theme import role_colour
from plugin_ui.widgets.drag import DragHandle

FX_LABELS = {"genre": "Genre chain", "dry": "Dry"}
GAIN_RANGE_DB = (-24, 6)


class WaveformView(QWidget):
    """Min/max peaks of a stem (from the engine, a few hundred columns) drawn as one filled shape."""

    def __init__(self, colour: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = colour
        self.peaks = np.zeros((2, 1), dtype=np.float32)
        self.dimmed = False
        self.position = -1.0  # playhead, 0..1 (negative: none)
        self.setMinimumSize(120, 32)

    def set_peaks(self, peaks: np.ndarray) -> None:
        self.peaks = np.asarray(peaks, dtype=np.float32)
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        self.dimmed = dimmed
        self.update()

    def set_position(self, fraction: float) -> None:
        self.position = fraction
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, QColor("#1a1c20"))
        lows, highs = self.peaks
        count = len(highs)
        scale = max(1e-6, float(max(np.abs(lows).max(initial=0), np.abs(highs).max(initial=0))))
        middle, half = rect.center().y(), rect.height() / 2 - 2
        xs = rect.left() + np.arange(count) * rect.width() / max(1, count - 1)
        path = QPainterPath(QPointF(rect.left(), middle))
        for x, high in zip(xs, highs):
            path.lineTo(QPointF(float(x), middle - float(high) / scale * half))
        for x, low in zip(xs[::-1], lows[::-1]):
            path.lineTo(QPointF(float(x), middle - float(low) / scale * half))
        colour = QColor(self.colour)
        colour.setAlpha(70 if self.dimmed else 220)
        painter.fillPath(path, colour)
        if self.position >= 0:
            painter.setPen(QColor("#ffffff"))
            x = rect.left() + self.position * rect.width()
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))


class StemRow(QFrame):
    mixer_changed = pyqtSignal()
    play_requested = pyqtSignal(str)  # role

    def __init__(self, role: str, program: int, peaks: np.ndarray, path_of, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setObjectName("stemRow")
        colour = role_colour(role)
        self.setStyleSheet(f"QFrame#stemRow {{ background: #202328; border-left: 4px solid {colour.name()};"
                           " border-radius: 4px; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 4, 2)
        layout.setSpacing(5)
        names = QVBoxLayout()
        names.setContentsMargins(0, 0, 0, 0)
        names.setSpacing(0)
        title = QLabel(role.title())
        title.setStyleSheet("font-weight: 600;")
        instrument = QLabel("Standard kit" if role == "drums" else GM_PROGRAMS[program % 128])
        instrument.setObjectName("muted")
        instrument.setStyleSheet("font-size: 8.5pt;")
        names.addWidget(title)
        names.addWidget(instrument)
        holder = QWidget()
        holder.setLayout(names)
        holder.setFixedWidth(104)
        layout.addWidget(holder)
        self.waveform = WaveformView(colour)
        self.waveform.set_peaks(peaks)
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

    def _toggle(self, text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setObjectName(name)
        button.setCheckable(True)
        button.setToolTip(tip)
        button.setFixedWidth(24)
        button.toggled.connect(lambda _: self.mixer_changed.emit())
        return button

    def state(self) -> dict:
        return {"gain_db": float(self.gain.value()), "mute": self.mute.isChecked(), "solo": self.solo.isChecked(),
                "preset": self.preset.currentData()}


class StemList(QWidget):
    """The rows of the current result; mixer_changed when any row's mixer setting changes."""

    mixer_changed = pyqtSignal()
    play_requested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)
        self.rows: dict[str, StemRow] = {}
        self.files: dict[str, str] = {}
        self.empty = QLabel("Stems appear here after Generate (Ctrl+G)")
        self.empty.setObjectName("notice")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_.addWidget(self.empty)
        self.layout_.addStretch(1)

    def set_result(self, result: dict | None) -> None:
        """A new cue: fresh rows (mixer at its defaults)."""
        for row in self.rows.values():
            row.setParent(None)
            row.deleteLater()
        self.rows = {}
        self.files = dict(result["files"]) if result else {}
        self.empty.setVisible(result is None)
        if result is None:
            return
        for index, (role, stem) in enumerate(result["stems"].items()):
            row = StemRow(role, stem["program"], stem["peaks"], lambda r: self.files.get(r, ""))
            row.mixer_changed.connect(self._changed)
            row.play_requested.connect(self.play_requested.emit)
            self.layout_.insertWidget(index, row)
            row.show()
            self.rows[role] = row
        self._changed(emit=False)

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
