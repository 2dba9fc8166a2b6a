"""The description editor: fields and the sentence, kept in sync both ways.

Changing a field re-renders the sentence (MusicDescription.to_sentence). Typing in the sentence
reads the fields it names (genre, mood, tempo, key, meter, length, instruments) with the text
parser's word rules only — no model, so it runs on the UI thread in well under a millisecond —
and keeps your words as the sentence. Chords and form pin the plan the cue is written to; a value
that does not parse (or does not fit the key or the length) is named below the fields and not kept.
"""
from __future__ import annotations

from dataclasses import replace

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                             QPlainTextEdit, QWidget)

from mtm_daw.description import MOODS, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.score.gm import GM_PROGRAMS
from mtm_daw.score.score import ROLES, parse_time_signature
from mtm_daw.score.styles import style_for
from mtm_daw.score.theory import parse_key
from plugin_ui.widgets.style_picker import StylePicker, style_line

TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
KEYS = tuple(parse_key(f"{tonic} {mode}").name for mode in ("major", "minor") for tonic in TONICS)
METERS = ("4/4", "3/4", "6/8", "2/4", "5/4", "7/8", "12/8")
INSTRUMENT_ROLES = ("melody", "harmony", "bass")
SENTENCE_DELAY_MS = 500  # read the sentence this long after the last key press


class DescriptionEditor(QWidget):
    changed = pyqtSignal(object)  # the MusicDescription after any edit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._description = MusicDescription()
        self._updating = False
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(5)

        self.genre = StylePicker()
        self.genre.style_chosen.connect(self._fields_edited)
        self.keep_style = QCheckBox("keep")
        self.keep_style.setToolTip("Keep this style when a new picture, sound or idea is described")
        self.style_summary = QLabel("")
        self.style_summary.setObjectName("muted")
        self.style_summary.setWordWrap(True)
        self.mood = self._combo(MOODS, "Mood: shapes harmony, mode, density and dynamics")
        self.tempo = QDoubleSpinBox()
        self.tempo.setRange(20, 400)
        self.tempo.setDecimals(1)
        self.tempo.setSuffix(" BPM")
        self.tempo.setToolTip("Tempo in beats per minute (20–400)")
        self.tempo.valueChanged.connect(self._fields_edited)
        self.key = self._combo(KEYS, "Key and mode")
        self.meter = self._combo(METERS, "Time signature")
        self.meter.setEditable(True)
        self.meter.lineEdit().editingFinished.connect(self._fields_edited)
        self.roles = {}
        roles_row = QHBoxLayout()
        roles_row.setSpacing(10)
        for role in ROLES:
            box = QCheckBox(role)
            box.setChecked(True)
            box.setToolTip(f"Write a {role} stem")
            box.toggled.connect(self._fields_edited)
            self.roles[role] = box
            roles_row.addWidget(box)
        roles_row.addStretch(1)
        self.instruments = {}
        for role in INSTRUMENT_ROLES:
            combo = QComboBox()
            combo.addItem("style default", None)
            for program, name in enumerate(GM_PROGRAMS):
                combo.addItem(name, program)
            combo.setToolTip(f"General MIDI instrument for the {role} (default: the style's choice)")
            combo.currentIndexChanged.connect(self._fields_edited)
            self.instruments[role] = combo

        def label(text: str) -> QLabel:
            widget = QLabel(text)
            widget.setObjectName("muted")
            return widget

        grid.addWidget(label("Style"), 0, 0)
        style_row = QHBoxLayout()
        style_row.setSpacing(6)
        style_row.addWidget(self.genre, 1)
        style_row.addWidget(self.keep_style)
        grid.addLayout(style_row, 0, 1)
        grid.addWidget(label("Mood"), 0, 2)
        grid.addWidget(self.mood, 0, 3)
        grid.addWidget(label("Tempo"), 1, 0)
        grid.addWidget(self.tempo, 1, 1)
        grid.addWidget(label("Key"), 1, 2)
        grid.addWidget(self.key, 1, 3)
        grid.addWidget(label("Meter"), 2, 0)
        grid.addWidget(self.meter, 2, 1)
        grid.addWidget(label("Lead"), 2, 2)
        grid.addWidget(self.instruments["melody"], 2, 3)
        grid.addWidget(label("Harmony"), 3, 0)
        grid.addWidget(self.instruments["harmony"], 3, 1)
        grid.addWidget(label("Bass"), 3, 2)
        grid.addWidget(self.instruments["bass"], 3, 3)
        grid.addWidget(label("Stems"), 4, 0)
        grid.addLayout(roles_row, 4, 1, 1, 3)
        self.chords = QLineEdit()
        self.chords.setPlaceholderText("planned (e.g. Am F C G)")
        self.chords.setToolTip("The progression, one chord a bar ('Am F | C G' for two a bar); empty: planned "
                               "from the genre and mood")
        self.chords.editingFinished.connect(self._plan_edited)
        self.form = QLineEdit()
        self.form.setPlaceholderText("planned (e.g. AABA)")
        self.form.setToolTip("The form, one letter a section: a letter again brings that music back; empty: "
                             "from the sections or the length")
        self.form.editingFinished.connect(self._plan_edited)
        grid.addWidget(label("Chords"), 7, 0)
        grid.addWidget(self.chords, 7, 1)
        grid.addWidget(label("Form"), 7, 2)
        grid.addWidget(self.form, 7, 3)
        self.plan_error = QLabel("")
        self.plan_error.setObjectName("error")
        self.plan_error.setWordWrap(True)
        grid.addWidget(self.plan_error, 8, 0, 1, 4)
        grid.addWidget(self.style_summary, 9, 0, 1, 4)
        self.sentence = QPlainTextEdit()
        self.sentence.setPlaceholderText("The description in words; edit it and the fields follow")
        self.sentence.setToolTip("The sentence the generator reads. Editing a field rewrites it; words you type "
                                 "here (genre, mood, '90 bpm', 'D minor', '6/8', instruments) set the fields")
        self.sentence.setFixedHeight(74)
        self.sentence.textChanged.connect(self._sentence_typed)
        grid.addWidget(label("Sentence"), 5, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.sentence, 5, 1, 1, 3)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.summary.setWordWrap(True)
        grid.addWidget(self.summary, 6, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self._sentence_timer = QTimer(self)
        self._sentence_timer.setSingleShot(True)
        self._sentence_timer.setInterval(SENTENCE_DELAY_MS)
        self._sentence_timer.timeout.connect(self.read_sentence)
        self.set_description(self._description)

    def _combo(self, items, tooltip: str) -> QComboBox:
        combo = QComboBox()
        combo.addItems(list(items))
        combo.setToolTip(tooltip)
        combo.currentIndexChanged.connect(self._fields_edited)
        return combo

    # --- in and out -----------------------------------------------------------------------------
    def description(self) -> MusicDescription:
        return replace(self._description)

    def set_description(self, description: MusicDescription) -> None:
        """Show a description (from describe, or loaded) without rewriting its sentence; with "keep"
        ticked the style stays the one chosen here (and the sentence follows it)."""
        if self.keep_style.isChecked() and description.genre != self._description.genre:
            description = replace(description, genre=self._description.genre)
            description.sentence = description.to_sentence()
        self._description = replace(description)
        self._updating = True
        try:
            self._show_fields(self._description)
            self.sentence.setPlainText(self._description.sentence or self._description.to_sentence())
        finally:
            self._updating = False
        self._sentence_timer.stop()
        self._update_summary()

    def set_duration(self, seconds: float) -> list[str]:
        """Change the length; sections, energy and hit points past the new end are left out (and named)."""
        d = self._description
        dropped = []
        hits = [h for h in d.hit_points if h.time <= seconds]
        if len(hits) < len(d.hit_points):
            dropped.append(f"{len(d.hit_points) - len(hits)} hit point(s)")
        sections = [replace(s, end=min(s.end, seconds)) for s in d.sections if s.start < seconds]
        if len(sections) < len(d.sections):
            dropped.append(f"{len(d.sections) - len(sections)} section(s)")
        self._description = replace(d, duration=float(seconds), hit_points=hits, sections=sections,
                                    start=d.start if d.start < seconds else 0.0,
                                    energy=[(t, e) for t, e in d.energy if t <= seconds])
        self._update_summary()
        return dropped

    # --- fields -> sentence ---------------------------------------------------------------------
    def _show_fields(self, d: MusicDescription) -> None:
        self.genre.set_style(d.genre)
        self.style_summary.setText(f"{d.genre}: {style_line(style_for(d.genre))}")
        self.mood.setCurrentText(d.mood)
        self.tempo.setValue(d.tempo)
        try:
            name = parse_key(d.key).name
        except MtmError:
            name = "C major"
        if self.key.findText(name) < 0:
            self.key.addItem(name)
        self.key.setCurrentText(name)
        self.meter.setCurrentText(f"{d.time_signature[0]}/{d.time_signature[1]}")
        for role, box in self.roles.items():
            box.setChecked(role in d.roles)
        for role, combo in self.instruments.items():
            program = d.instruments.get(role)
            combo.setCurrentIndex(0 if program is None else int(program) + 1)
        self.chords.setText(d.chords)
        self.form.setText(d.form)
        self.plan_error.setText("")

    def _plan_edited(self) -> None:
        if self._updating:
            return
        edited = replace(self._description, chords=self.chords.text().strip(), form=self.form.text().strip().upper())
        if (edited.chords, edited.form) == (self._description.chords, self._description.form):
            return
        try:
            edited.validate()
        except MtmError as error:
            self.plan_error.setText(str(error))
            self.chords.setText(self._description.chords)
            self.form.setText(self._description.form)
            return
        self.plan_error.setText("")
        self._description = edited
        self.form.setText(edited.form)
        self._update_summary()
        self.changed.emit(self.description())

    def _fields_edited(self, *_) -> None:
        if self._updating:
            return
        d = self._description
        grid = (d.tempo, d.time_signature)
        d.genre, d.mood, d.tempo, d.key = (self.genre.style(), self.mood.currentText(), self.tempo.value(),
                                           self.key.currentText())
        try:
            d.time_signature = parse_time_signature(self.meter.currentText())
        except MtmError:
            self.meter.setCurrentText(f"{d.time_signature[0]}/{d.time_signature[1]}")
        if (d.tempo, d.time_signature) != grid:  # a start fitted to the picture at the old tempo no longer holds
            d.start = 0.0
        roles = tuple(role for role, box in self.roles.items() if box.isChecked())
        if not roles:  # at least one stem: undo the last untick
            self._updating = True
            self.roles[d.roles[0] if d.roles else "melody"].setChecked(True)
            self._updating = False
            roles = tuple(role for role, box in self.roles.items() if box.isChecked())
        d.roles = roles
        d.instruments = {role: combo.currentData() for role, combo in self.instruments.items()
                         if combo.currentData() is not None}
        d.sentence = d.to_sentence()
        self.style_summary.setText(f"{d.genre}: {style_line(style_for(d.genre))}")
        self._updating = True
        self.sentence.setPlainText(d.sentence)
        self._updating = False
        self._update_summary()
        self.changed.emit(self.description())

    # --- sentence -> fields ---------------------------------------------------------------------
    def _sentence_typed(self) -> None:
        if not self._updating:
            self._sentence_timer.start()

    def read_sentence(self) -> None:
        """Set the fields the typed sentence names; keep the sentence as typed."""
        from mtm_daw.describe.text import parse_text

        self._sentence_timer.stop()
        text = self.sentence.toPlainText().strip()
        if not text:
            return
        try:
            parsed = parse_text(text, zero_shot_encoder=None)
        except MtmError:
            return  # an impossible value while typing ("900 bpm"): the fields stay as they are
        found, evidence = parsed.description, parsed.evidence
        d = self._description
        if evidence.get("genre", "").startswith("the word"):
            d.genre = found.genre
        if evidence.get("mood", "").startswith("the word"):
            d.mood = found.mood
        if "tempo" in evidence and not evidence["tempo"].startswith("usual"):
            d.tempo = found.tempo
        if evidence.get("key", "").endswith("in the text"):
            d.key = found.key
        if "time_signature" in evidence:
            d.time_signature = found.time_signature
        if "duration" in evidence:
            self.set_duration(found.duration)
            d = self._description
        if "instruments" in evidence:
            d.instruments.update({r: p for r, p in found.instruments.items() if r in INSTRUMENT_ROLES})
        d.sentence = text
        self._updating = True
        try:
            self._show_fields(d)
        finally:
            self._updating = False
        self._update_summary()
        self.changed.emit(self.description())

    def _update_summary(self) -> None:
        d = self._description
        parts = [f"{d.duration:.1f} s", f"{d.bars} bars"]
        if d.start:
            parts.append(f"music from {d.start:.2f} s")
        if d.sections:
            parts.append(f"{len(d.sections)} sections")
        if d.hit_points:
            parts.append(f"{len(d.hit_points)} hit points")
        if d.energy:
            parts.append("energy curve")
        self.summary.setText(" · ".join(parts))
