"""Generation controls (duration, seed, engine, steps, key lock, Generate) and the progress line with Cancel."""
from __future__ import annotations

import random

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QProgressBar,
                             QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from mtm_daw.description import MAX_DURATION_SECONDS
from plugin_ui.settings import ENGINES

ENGINE_TIPS = {"baseline": "baseline: the procedural composer (fast, rule-based)",
               "dit": "dit: the trained generator (DiT + ControlFormer); can follow a reference"}
STAGE_NAMES = {"compose": "Composing", "render": "Rendering", "mix": "Mixing", "export": "Writing files",
               "analyze": "Analysing", "describe": "Describing", "reference": "Reading the reference"}


class GenerationControls(QWidget):
    generate_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    engine_changed = pyqtSignal(str)
    duration_changed = pyqtSignal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(1, int(MAX_DURATION_SECONDS))
        self.duration.setDecimals(1)
        self.duration.setSuffix(" s")
        self.duration.setValue(30)
        self.duration.setToolTip("Length of the cue in seconds (rounded up to whole bars)")
        self.duration.editingFinished.connect(lambda: self.duration_changed.emit(self.duration.value()))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed: the same seed and settings give the same music")
        self.seed.setMaximumWidth(110)
        self.duration.setMaximumWidth(90)
        self.dice = QToolButton()
        self.dice.setText("⚄")
        self.dice.setToolTip("A new random seed")
        self.dice.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 100000)))
        self.engine = QComboBox()
        for engine in ENGINES:
            self.engine.addItem(engine)
            self.engine.setItemData(self.engine.count() - 1, ENGINE_TIPS[engine], 3)  # Qt.ToolTipRole
        self.engine.setToolTip("Engine: " + "; ".join(ENGINE_TIPS.values()))
        self.engine.currentTextChanged.connect(self._engine_changed)
        self.steps = QSpinBox()
        self.steps.setRange(1, 200)
        self.steps.setValue(20)
        self.steps.setSuffix(" steps")
        self.steps.setToolTip("dit: diffusion steps (more is slower, a little cleaner)")
        self.key_lock = QCheckBox("Key lock")
        self.key_lock.setChecked(True)
        self.key_lock.setToolTip("dit: every generated note on the key's scale (off: chromatic passing notes allowed)")
        self.generate = QPushButton("Generate")
        self.generate.setObjectName("primary")
        self.generate.setToolTip("Compose, render, mix and write the stems (Ctrl+G)")
        self.generate.clicked.connect(self.generate_requested.emit)
        for text, widget in (("Length", self.duration), ("Seed", self.seed)):
            label = QLabel(text)
            label.setObjectName("muted")
            row.addWidget(label)
            row.addWidget(widget)
        row.addWidget(self.dice)
        label = QLabel("Engine")
        label.setObjectName("muted")
        row.addWidget(label)
        row.addWidget(self.engine)
        row.addWidget(self.steps)
        row.addWidget(self.key_lock)
        row.addStretch(1)
        row.addWidget(self.generate)
        layout.addLayout(row)

        line = QHBoxLayout()
        self.stage = QLabel("Ready")
        self.stage.setObjectName("muted")
        self.stage.setMinimumWidth(150)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the running job (Esc)")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.cancel_requested.emit)
        line.addWidget(self.stage)
        line.addWidget(self.progress, 1)
        line.addWidget(self.cancel)
        layout.addLayout(line)
        self._engine_changed(self.engine.currentText())

    def _engine_changed(self, engine: str) -> None:
        self.steps.setEnabled(engine == "dit")
        self.key_lock.setEnabled(engine == "dit")
        self.engine_changed.emit(engine)

    def set_busy(self, busy: bool, what: str = "") -> None:
        self.generate.setEnabled(not busy)
        self.cancel.setEnabled(busy)
        if busy:
            self.stage.setText(what)
            self.progress.setValue(0)
        else:
            self.progress.setValue(0)

    def show_progress(self, stage: str, fraction: float) -> None:
        self.stage.setText(f"{STAGE_NAMES.get(stage, stage.title())}… {fraction * 100:.0f}%")
        self.progress.setValue(int(fraction * 1000))

    def show_idle(self, text: str) -> None:
        self.stage.setText(text)
        self.set_busy(False)
