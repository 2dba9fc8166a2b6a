"""Settings: library file, output folder, SoundFont, VST3 effects per stem (saved with QSettings)."""
from __future__ import annotations

from PyQt6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit,
                             QPushButton, QVBoxLayout, QWidget)

from mtm_daw.score.score import ROLES
from plugin_ui.settings import PanelSettings


class _PathField(QWidget):
    def __init__(self, text: str, placeholder: str, chooser, tooltip: str) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setToolTip(tooltip)
        button = QPushButton("Browse…")
        button.clicked.connect(lambda: self._choose(chooser))
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)

    def _choose(self, chooser) -> None:
        chosen = chooser(self)
        if chosen:
            self.edit.setText(chosen)

    def text(self) -> str:
        return self.edit.text().strip()


class SettingsDialog(QDialog):
    def __init__(self, settings: PanelSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("mtm panel settings")
        self.setMinimumWidth(560)
        form = QFormLayout()
        self.library = _PathField(settings.library_path, "default library location",
                                  lambda w: QFileDialog.getOpenFileName(w, "Library file", "",
                                                                        "Library (*.sqlite *.db);;All files (*)")[0],
                                  "The music library (made with `mtm library add`); empty: the default location")
        self.output = _PathField(settings.output_folder, "", lambda w: QFileDialog.getExistingDirectory(w, "Output folder"),
                                 "Each generation writes its stems, mix, MIDI and description into a new folder here")
        self.soundfont = _PathField(settings.soundfont, "found on the system",
                                    lambda w: QFileDialog.getOpenFileName(w, "SoundFont", "", "SoundFont (*.sf2)")[0],
                                    "A General MIDI .sf2 file; empty: the system's (FluidR3_GM) or the built-in synth")
        form.addRow("Library", self.library)
        form.addRow("Output folder", self.output)
        form.addRow("SoundFont", self.soundfont)
        plugins = settings.vst3_plugins
        self.vst3 = {}
        for role in ROLES:
            field = _PathField("; ".join(plugins.get(role, [])), "no plugins",
                               lambda w: QFileDialog.getOpenFileName(w, "VST3 effect", "", "VST3 (*.vst3)")[0],
                               f"VST3 effects appended to the {role} chain, separated by ';'")
            self.vst3[role] = field
            form.addRow(f"VST3 · {role}", field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def accept(self) -> None:
        self.save()
        super().accept()

    def save(self) -> None:
        self.settings.library_path = self.library.text()
        self.settings.output_folder = self.output.text()
        self.settings.soundfont = self.soundfont.text()
        self.settings.vst3_plugins = {role: [p.strip() for p in field.text().split(";") if p.strip()]
                                      for role, field in self.vst3.items()}
        self.settings.sync()
