"""The questions before an edit of the current cue: how many bars to extend it by, or which stem's
bars to write anew.

    dialog = RegenerateDialog(["drums", "bass", "harmony", "melody"], bars=8, role="melody")
    if dialog.exec():
        role, first, last = dialog.choice()
"""
from __future__ import annotations

from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel,
                             QSpinBox, QWidget)

DEFAULT_EXTEND_BARS = 4
MAX_EXTEND_BARS = 256  # the engine refuses a cue longer than its maximum duration, naming it


def ask_extend_bars(parent: QWidget, default: int = DEFAULT_EXTEND_BARS) -> int | None:
    """How many bars to add (None when the user cancels)."""
    bars, ok = QInputDialog.getInt(parent, "Extend the cue", "Bars to add (same key, tempo and style;\n"
                                   "every existing bar stays exactly as it is):", default, 1, MAX_EXTEND_BARS, 1)
    return bars if ok else None


class RegenerateDialog(QDialog):
    """Which stem, and which of the cue's bars (1..bars, first <= last), to write anew."""

    def __init__(self, roles: list[str], bars: int, role: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Regenerate bars")
        form = QFormLayout(self)
        self.role = QComboBox()
        for name in roles:
            self.role.addItem(name.title(), name)
        self.role.setCurrentIndex(roles.index(role) if role in roles else 0)
        self.role.setToolTip("The stem written anew; every other stem stays sample for sample the same")
        self.first, self.last = QSpinBox(), QSpinBox()
        for box in (self.first, self.last):
            box.setRange(1, max(1, bars))
        self.first.setValue(1)
        self.last.setValue(max(1, bars))
        self.first.setToolTip(f"The first bar written anew (the cue has bars 1-{bars})")
        self.last.setToolTip(f"The last bar written anew (the cue has bars 1-{bars})")
        self.first.valueChanged.connect(lambda value: self.last.setValue(max(value, self.last.value())))
        self.last.valueChanged.connect(lambda value: self.first.setValue(min(value, self.first.value())))
        span = QHBoxLayout()
        span.addWidget(self.first)
        span.addWidget(QLabel("to"))
        span.addWidget(self.last)
        span.addStretch(1)
        form.addRow("Stem", self.role)
        form.addRow("Bars", span)
        note = QLabel("The chosen stem keeps its notes outside these bars; the cue is written next to this one.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Regenerate")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[str, int, int]:
        return self.role.currentData(), self.first.value(), self.last.value()
