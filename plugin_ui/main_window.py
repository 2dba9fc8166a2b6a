"""The panel's one window: source, description, references | generate, result stems, score, picture.

All long work goes to the engine process through EngineClient jobs; this class only wires widgets
to jobs and back, so the UI thread never waits.
"""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, QTimer, QUrl, pyqtSignal
from PyQt6.QtGui import QCloseEvent, QDesktopServices, QKeySequence, QShortcut
from PyQt6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMenu, QMessageBox, QPushButton,
                             QScrollArea, QSizePolicy, QTabWidget, QToolButton, QVBoxLayout, QWidget)

from mtm_daw.describe import fit_to_picture
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.serve.protocol import ask
from plugin_ui.playback import Playback
from plugin_ui.settings import PanelSettings
from plugin_ui.widgets.about_cue import edit_title, provenance_text
from plugin_ui.widgets.common import Card, ElidedLabel
from plugin_ui.widgets.description_editor import DescriptionEditor
from plugin_ui.widgets.drag import DragHandle
from plugin_ui.widgets.drop_zone import DropZone, IdeaField, display_name
from plugin_ui.widgets.generation_controls import GenerationControls
from plugin_ui.widgets.picture import PicturePanel
from plugin_ui.widgets.piano_roll import PianoRoll
from plugin_ui.widgets.reference_panel import ReferencePanel
from plugin_ui.widgets.remake_dialog import RegenerateDialog, ask_extend_bars
from plugin_ui.widgets.stems import StemList
from plugin_ui.workers import EngineClient, Job

REMIX_DELAY_MS = 350  # wait for the mixer to settle before re-mixing
STATUS_MS = 6000


class MainWindow(QMainWindow):
    description_ready = pyqtSignal(object)  # MusicDescription, after a describe
    result_ready = pyqtSignal(dict)  # a generated (extended, regenerated or re-mixed) cue's summary
    job_ended = pyqtSignal(str, str)  # kind, final state (done | failed | cancelled)
    error_shown = pyqtSignal(str)

    def __init__(self, settings: PanelSettings | None = None, client: EngineClient | None = None,
                 playback: Playback | None = None) -> None:
        super().__init__()
        self.settings = settings or PanelSettings()
        self._own_client = client is None
        self.client = client or EngineClient(self)
        self.playback = playback or Playback(self)
        self.job: Job | None = None  # the foreground job: describe, generate, extend or regenerate
        self._preview = ""  # the preview WAV of the cue being generated
        self._preview_seconds = 0.0
        self.remix_job: Job | None = None
        self.source: str | None = None
        self.source_kind = ""
        self.result: dict | None = None
        self.setWindowTitle("mtm — music for your picture")
        self.resize(1280, 800)
        self._remix_timer = QTimer(self)
        self._remix_timer.setSingleShot(True)
        self._remix_timer.setInterval(REMIX_DELAY_MS)
        self._remix_timer.timeout.connect(self.remix)
        self._build()
        self._shortcuts()
        self.client.ready_changed.connect(self._engine_ready)
        if self._own_client:
            self.client.start()
        self._engine_ready(self.client.ready)
        self.refresh_library()
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)

    # --- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(10, 6, 10, 4)
        outer.setSpacing(6)
        top = QHBoxLayout()
        brand = QLabel("mtm")
        brand.setObjectName("brand")
        subtitle = QLabel("picture · words · sound → multi-stem cue")
        subtitle.setObjectName("muted")
        self.engine_label = QLabel("")
        self.engine_label.setObjectName("muted")
        self.settings_button = QToolButton()
        self.settings_button.setText("⚙ Settings")
        self.settings_button.setToolTip("Library, output folder, SoundFont, VST3 plugins (Ctrl+,)")
        self.settings_button.clicked.connect(self.open_settings)
        top.addWidget(brand)
        top.addWidget(subtitle)
        top.addStretch(1)
        top.addWidget(self.engine_label)
        top.addWidget(self.settings_button)
        outer.addLayout(top)

        columns = QHBoxLayout()
        columns.setSpacing(10)
        left = QVBoxLayout()
        left.setSpacing(8)
        source = Card("Source")
        self.drop_zone = DropZone()
        self.drop_zone.file_chosen.connect(self.load_source)
        self.idea = IdeaField()
        self.idea.idea_entered.connect(self.load_source)
        source.body.addWidget(self.drop_zone)
        source.body.addWidget(self.idea)
        left.addWidget(source)
        description = Card("Description")
        self.editor = DescriptionEditor()
        self.editor.changed.connect(self._description_edited)
        description.body.addWidget(self.editor)
        left.addWidget(description)
        references = Card("Reference")
        self.references = ReferencePanel()
        self.references.search_requested.connect(self.search_library)
        self.references.audition_requested.connect(self.audition)
        self.references.file_rejected.connect(lambda message: self.show_error("Not a reference", message))
        references.body.addWidget(self.references)
        left.addWidget(references, 1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(480)
        columns.addWidget(left_widget)

        right = QVBoxLayout()
        right.setSpacing(8)
        generate = Card("Generate")
        self.controls = GenerationControls()
        self.controls.duration.setValue(self.settings.duration)
        self.controls.steps.setValue(self.settings.steps)
        self.controls.key_lock.setChecked(self.settings.key_lock)
        self.controls.engine.setCurrentText(self.settings.engine)
        self.controls.generate_requested.connect(self.generate)
        self.controls.cancel_requested.connect(self.cancel)
        self.controls.engine_changed.connect(self.references.set_engine)
        self.controls.duration_changed.connect(self._duration_edited)
        self.references.set_engine(self.controls.engine.currentText())
        generate.body.addWidget(self.controls)
        right.addWidget(generate)

        result = Card("Result")
        self.result_title = ElidedLabel("Nothing generated yet")
        self.result_title.setStyleSheet("font-weight: 600;")
        self.extend_button = QPushButton("Extend…")
        self.extend_button.setToolTip("Continue this cue by some bars in the same key, tempo and style; every "
                                      "existing bar stays exactly as it is. Written next to it as <name>_extended")
        self.extend_button.clicked.connect(lambda: self.extend())
        self.regenerate_button = QPushButton("Regenerate…")
        self.regenerate_button.setToolTip("Write some bars of one stem anew (the selected stem first); the other "
                                          "stems stay sample for sample the same. Written next to it as "
                                          "<name>_<stem>_bars<first>-<last>")
        self.regenerate_button.clicked.connect(lambda: self.regenerate())
        heading = QHBoxLayout()
        heading.setSpacing(6)
        heading.addWidget(self.result_title, 1)
        heading.addWidget(self.extend_button)
        heading.addWidget(self.regenerate_button)
        result.body.addLayout(heading)
        self.result_info = ElidedLabel("")
        self.result_info.setObjectName("muted")
        self.about_button = QToolButton()
        self.about_button.setText("About this cue ▸")
        self.about_button.setObjectName("about")
        self.about_button.setCheckable(True)
        self.about_button.setToolTip("How this cue was made: engine, seed, models with version and SHA-256, "
                                     "references with source and licence")
        self.about_button.toggled.connect(self._about_toggled)
        info = QHBoxLayout()
        info.setSpacing(6)
        info.addWidget(self.result_info, 1)
        info.addWidget(self.about_button)
        result.body.addLayout(info)
        self.about_label = QLabel("")
        self.about_label.setObjectName("muted")
        self.about_label.setWordWrap(True)
        self.about_label.setTextFormat(Qt.TextFormat.PlainText)
        self.about_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.about_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens
        self.about_label.hide()
        result.body.addWidget(self.about_label)
        bar = QHBoxLayout()
        self.play_button = QPushButton("▶ Play mix")
        self.play_button.setToolTip("Play or stop the mix (Space)")
        self.play_button.clicked.connect(self.toggle_playback)
        self.drag_handles = {
            "mix": DragHandle("⇱ Mix", lambda: [self._file("mix")], "Drag the mix WAV into your DAW"),
            "midi": DragHandle("⇱ MIDI", lambda: [self._file("midi")], "Drag the type-1 MIDI file into your DAW"),
            "all": DragHandle("⇱ All stems", self.result_files, "Drag every stem, the mix and the MIDI at once"),
        }
        self.export_button = QPushButton("Export to folder…")
        self.export_button.setToolTip("Copy the stems, mix, MIDI and description into a folder (Ctrl+E)")
        self.export_button.clicked.connect(lambda: self.export_to_folder())
        self.send_button = QPushButton("Send to plugin")
        self.send_button.setToolTip("Play this cue in an mtm_daw plugin in your DAW (locked to its timeline)")
        self.send_button.clicked.connect(lambda: self.send_to_plugin())
        self.plugin_instance = ""  # the plugin instance that opened the panel (mtm ui --send-to)
        self.show_button = QPushButton("Show in folder")
        self.show_button.setToolTip("Open the folder this cue was written to")
        self.show_button.clicked.connect(self.show_in_folder)
        bar.addWidget(self.play_button)
        for handle in self.drag_handles.values():
            bar.addWidget(handle)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        bar.addWidget(self.send_button)
        bar.addWidget(self.show_button)
        result.body.addLayout(bar)
        self.stems = StemList(playback_notice=self.playback.notice)
        self.stems.mixer_changed.connect(self._remix_timer.start)
        self.stems.play_requested.connect(self.play_stem)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.stems)
        scroll.setMinimumHeight(196)
        result.body.addWidget(scroll, 1)
        right.addWidget(result, 3)

        self.tabs = QTabWidget()
        self.piano_roll = PianoRoll()
        self.picture = PicturePanel()
        self.tabs.addTab(self.piano_roll, "Score")
        self.tabs.addTab(self.picture, "Picture")
        right.addWidget(self.tabs, 3)
        columns.addLayout(right, 1)
        outer.addLayout(columns, 1)
        self.setCentralWidget(root)
        self.setAcceptDrops(True)
        self._set_result_actions(False)
        if not self.playback.available:
            self.play_button.setToolTip(self.playback.notice)
            self.playback_notice = QLabel(self.playback.notice)
            self.playback_notice.setObjectName("notice")
            self.statusBar().addPermanentWidget(self.playback_notice)
        self.playback.position_changed.connect(self._playhead)
        self.playback.state_changed.connect(self._playing_changed)

    def _shortcuts(self) -> None:
        for keys, slot in (("Space", self.toggle_playback), ("Ctrl+G", self.generate),
                           ("Ctrl+E", lambda: self.export_to_folder()), ("Ctrl+O", self.drop_zone.browse),
                           ("Esc", self.cancel), ("Ctrl+,", self.open_settings)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

    # --- source -> description --------------------------------------------------------------------
    def load_source(self, source: str) -> None:
        """Describe a file or a text idea (in the engine); the description fills the editor."""
        source = source.strip()
        if not source:
            return
        self._start_job("describe", {"source": source, "duration": self.controls.duration.value()},
                        f"Describing {display_name(source)}…", self._described)

    def _described(self, result: dict) -> None:
        description = MusicDescription.from_dict(result["description"])
        self.source, self.source_kind = result["source"], result["kind"]
        self.editor.set_description(description)
        self.controls.duration.setValue(description.duration)
        if result["kind"] != "text":
            self.drop_zone.show_source(Path(result["source"]).name, result["kind"])
        self.statusBar().showMessage(f"Described {display_name(result['source'])}: {description.sentence}", STATUS_MS)
        QTimer.singleShot(0, lambda: self._show_picture(result, description))  # a second, short event

    def _show_picture(self, result: dict, description: MusicDescription) -> None:
        if result["kind"] in ("video", "image"):
            self.picture.set_picture(result["kind"], result["source"], result["frames"], result["description"])
            self.tabs.setCurrentWidget(self.picture)
        else:
            self.picture.clear()
        self.description_ready.emit(description)

    def _description_edited(self, description: MusicDescription) -> None:
        if abs(description.duration - self.controls.duration.value()) > 1e-6:
            self.controls.duration.setValue(description.duration)

    def _duration_edited(self, seconds: float) -> None:
        dropped = self.editor.set_duration(seconds)
        if dropped:
            self.statusBar().showMessage(f"Past {seconds:g} s, left out: {', '.join(dropped)}", STATUS_MS)

    # --- generate ---------------------------------------------------------------------------------
    def generation_payload(self) -> dict:
        self._duration_edited(self.controls.duration.value())
        description = self.editor.description()
        description.validate()
        if self.source_kind == "image":  # a still's cue: whole bars exactly the duration set, shown as rendered
            description = fit_to_picture(description)
            self.editor.set_description(description)
        engine = self.controls.engine.currentText()
        reference = self.references.reference()
        return {
            "description": description.to_dict(), "seed": self.controls.seed.value(), "engine": engine,
            "steps": self.controls.steps.value(), "key_lock": self.controls.key_lock.isChecked(),
            "reference": reference, "end_at_picture": self.source_kind in ("video", "image"),
            "render": {"soundfont": self.settings.soundfont, "plugins": self.settings.vst3_plugins},
            "output_folder": self.settings.output_folder,
            "name": Path(self.source).stem if self.source and self.source_kind != "text" else "cue",
        }

    def generate(self) -> None:
        if self.job is not None and self.job.active:
            self.statusBar().showMessage("Busy: cancel the running job first (Esc)", STATUS_MS)
            return
        try:
            payload = self.generation_payload()
        except MtmError as error:
            self.show_error("Cannot generate yet", str(error))
            return
        self._forget_preview()
        job = self._start_job("generate", payload, "Starting…", self._generated)
        job.preview.connect(self._preview_ready)

    def _preview_ready(self, preview: dict) -> None:
        """The first bars, made before the rest: heard at once (where there is an audio output)."""
        self._preview, self._preview_seconds = preview["path"], float(preview["music_seconds"])
        if self.playback.available:
            self.playback.play(self._preview)
            self.statusBar().showMessage(f"Playing the first {preview['seconds']:.0f} s while the rest is made "
                                         "(Space stops)", STATUS_MS)

    def _forget_preview(self) -> None:
        """A preview of a cue that will not come (cancelled, failed) or was taken over: stopped, forgotten."""
        if self._preview and self.playback.current == self._preview:
            self.playback.stop()
        self._preview = ""

    @property
    def previewing(self) -> bool:
        return bool(self._preview) and self.playback.playing and self.playback.current == self._preview

    def _generated(self, result: dict) -> None:
        from_seconds = None  # where the whole cue takes over from its preview: where it is, or where its bars end
        if self._preview and self.playback.current == self._preview:  # playing, or played to its end (Space clears it)
            from_seconds = self.playback.seconds if self.playback.playing else self._preview_seconds
        self._preview = ""
        self.playback.stop()
        self._remix_timer.stop()
        self.result = result
        self.stems.set_result(result)
        self._set_result_actions(True)
        QTimer.singleShot(0, lambda: self._show_score(result))  # a second, short event
        if from_seconds is not None:
            self.playback.play(self._file("mix"), from_seconds)

    def _show_score(self, result: dict) -> None:
        if result is not self.result:
            return
        self.piano_roll.set_score(result["score"], result["duration"])
        self._show_result_info(result)
        edit = edit_title(result.get("provenance") or {})
        if edit:
            self.statusBar().showMessage(f"{edit}: written as {Path(self._file('sidecar')).name} in "
                                         f"{result['folder']}", STATUS_MS)
        if self.source_kind not in ("video", "image"):
            self.tabs.setCurrentWidget(self.piano_roll)
        self.result_ready.emit(result)

    def _show_result_info(self, result: dict) -> None:
        description, score = result["description"], result["score"]
        numerator, denominator = score["time_signature"]
        bars = score["length_beats"] / (numerator * 4.0 / denominator)
        edit = edit_title(result.get("provenance") or {})
        self.result_title.setText(f"{edit}: {description['sentence']}" if edit else description["sentence"])
        renderer = result["renderer"].split(":")[0]
        self.result_info.setText(f"{score['tempo']:g} BPM · {score['key']} · {numerator}/{denominator} · "
                                 f"{bars:.0f} bars · {result['duration']:.1f} s · {result['loudness_lufs']:.1f} LUFS · "
                                 f"{result['engine']} · seed {result['seed']} · {renderer} · "
                                 f"{Path(result['folder']).name}")
        about = provenance_text(result.get("provenance") or {})
        self.about_label.setText(about)
        self.about_label.setToolTip(about)
        self.about_button.setToolTip(f"How this cue was made (click to show or hide):\n{about}")

    def about_text(self) -> str:
        """The "About this cue" lines of the current result ("" before the first)."""
        return self.about_label.text() if self.result else ""

    def _about_toggled(self, shown: bool) -> None:
        self.about_button.setText("About this cue ▾" if shown else "About this cue ▸")
        self.about_label.setVisible(shown)

    def _set_result_actions(self, enabled: bool) -> None:
        for widget in (self.export_button, self.send_button, self.show_button, *self.drag_handles.values()):
            widget.setEnabled(enabled)
        self.play_button.setEnabled(enabled and self.playback.available)
        self.about_button.setEnabled(enabled)
        self._set_edit_actions()

    def _set_edit_actions(self) -> None:
        """Extend… and Regenerate… need a cue with a sidecar and no foreground job running."""
        enabled = bool(self._file("sidecar")) and not self.busy
        self.extend_button.setEnabled(enabled)
        self.regenerate_button.setEnabled(enabled)

    # --- extend, regenerate -----------------------------------------------------------------------
    def result_bars(self) -> int:
        return int(self.result.get("bars") or 0) if self.result else 0

    def extend(self, bars: int | None = None) -> Job | None:
        """Continue the current cue by `bars` bars (asked for when None), in the engine; the new cue
        (`<name>_extended`, next to this one) becomes the result."""
        if not self._can_edit():
            return None
        if bars is None:
            bars = ask_extend_bars(self)
            if bars is None:
                return None
        payload = {"sidecar": self._file("sidecar"), "bars": int(bars), "plugins": self.settings.vst3_plugins}
        return self._start_job("extend", payload, f"Extending by {bars} bar{'s' if bars != 1 else ''}…",
                               self._generated)

    def regenerate(self, role: str | None = None, bars: tuple[int, int] | None = None) -> Job | None:
        """Write bars first..last of one stem anew (asked for when not given: the selected stem, else the
        first); the new cue (`<name>_<role>_bars<first>-<last>`, next to this one) becomes the result."""
        if not self._can_edit():
            return None
        if role is None or bars is None:
            dialog = RegenerateDialog(list(self.result["stems"]), self.result_bars(),
                                      role or self.stems.selected or next(iter(self.stems.rows), None), self)
            if not dialog.exec():
                return None
            role, first, last = dialog.choice()
            bars = (first, last)
        payload = {"sidecar": self._file("sidecar"), "role": role, "bars": [int(bars[0]), int(bars[1])],
                   "plugins": self.settings.vst3_plugins}
        span = f"bar {bars[0]}" if bars[0] == bars[1] else f"bars {bars[0]}-{bars[1]}"
        return self._start_job("regenerate", payload, f"Regenerating the {role}, {span}…", self._generated)

    def _can_edit(self) -> bool:
        if self.busy:
            self.statusBar().showMessage("Busy: cancel the running job first (Esc)", STATUS_MS)
            return False
        if not self._file("sidecar"):
            self.statusBar().showMessage("Nothing to edit yet: Generate first (Ctrl+G)", STATUS_MS)
            return False
        return True

    # --- jobs -------------------------------------------------------------------------------------
    def _start_job(self, kind: str, payload: dict, busy_text: str, on_success) -> Job:
        if self.job is not None and self.job.active:
            self.job.cancel()  # a new source replaces whatever was running
            self._detach(self.job)
        job = self.client.submit(kind, payload)
        self.job = job
        job.progress.connect(self.controls.show_progress)
        job.warning.connect(lambda text: self.statusBar().showMessage(text, STATUS_MS))
        job.succeeded.connect(on_success)
        job.failed.connect(lambda message, user: self._job_failed(kind, payload, message, user))
        job.finished.connect(lambda: self._job_finished(job))
        self.controls.set_busy(True, busy_text)
        self.idea.button.setEnabled(False)
        self._set_edit_actions()
        return job

    def _detach(self, job: Job) -> None:
        for signal in (job.progress, job.warning, job.preview, job.succeeded, job.failed, job.finished):
            try:
                signal.disconnect()
            except TypeError:
                pass

    def _job_finished(self, job: Job) -> None:
        if job is not self.job:
            return
        self.job = None
        if job.state != "done":  # a cancelled or failed cue's preview stops with it
            self._forget_preview()
        self.idea.button.setEnabled(True)
        self._set_edit_actions()
        self.controls.show_idle({"done": "Done", "failed": "Failed", "cancelled": "Cancelled"}.get(job.state, ""))
        self.job_ended.emit(job.kind, job.state)

    def _job_failed(self, kind: str, payload: dict, message: str, user_error: bool) -> None:
        what = {"describe": f"Could not describe {display_name(payload.get('source', ''))}",
                "generate": "Could not generate the cue", "extend": "Could not extend the cue",
                "regenerate": "Could not regenerate the bars"}.get(kind, "Something went wrong")
        self.show_error(what, message if user_error else f"{message}\n\n(an internal error: please report it)")

    def cancel(self) -> None:
        """Stop the running job; the panel is idle again at once, the engine within a second."""
        job = self.job
        if job is None or not job.active:
            return
        job.cancel()
        self._detach(job)
        self.job = None
        self._forget_preview()
        self.idea.button.setEnabled(True)
        self._set_edit_actions()
        self.controls.show_idle("Cancelled")
        self.job_ended.emit(job.kind, "cancelled")

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.active

    def show_error(self, title: str, message: str) -> None:
        self.error_shown.emit(message)
        QMessageBox.warning(self, title, message)

    def _engine_ready(self, ready: bool) -> None:
        if self.client.failure:
            self.engine_label.setText("Engine stopped")
            self.engine_label.setToolTip(self.client.failure)
        else:
            self.engine_label.setText("● Engine ready" if ready else "○ Engine starting…")
            self.engine_label.setToolTip("Generation runs in a separate engine process, so the panel never freezes")

    # --- mixer ------------------------------------------------------------------------------------
    def remix(self) -> None:
        if self.result is None:
            return
        job = self.client.submit("remix", {"result": self.result, "mixer": self.stems.mixer()}, replace_queued=True)
        self.remix_job = job
        cue = self._file("sidecar")  # the cue's identity: a folder holds a cue and its extensions
        self.statusBar().showMessage("Re-mixing…")
        job.succeeded.connect(lambda result: self._remixed(result, cue))
        job.failed.connect(lambda message, user: self.show_error("Could not re-mix", message))

    def _remixed(self, result: dict, cue: str) -> None:
        if self.result is None or self._file("sidecar") != cue:
            return  # a newer cue arrived meanwhile
        playing = self.playback.playing and self.playback.current == self._file("mix")
        self.result = result
        self.stems.update_result(result)
        self._show_result_info(result)
        self.statusBar().showMessage("Re-mixed: stems and mix files updated", STATUS_MS)
        if playing:
            self.playback.play(self._file("mix"))
        self.result_ready.emit(result)

    # --- files ------------------------------------------------------------------------------------
    def _file(self, part: str) -> str:
        return self.result["files"].get(part, "") if self.result else ""

    def result_files(self) -> list[str]:
        """Stems, mix and MIDI of the current cue (what "All stems" drags out)."""
        if not self.result:
            return []
        files = self.result["files"]
        return [files[role] for role in self.result["stems"] if role in files] + \
               [files[part] for part in ("mix", "midi") if part in files]

    def export_to_folder(self, folder: str | None = None, overwrite: bool = False) -> Job | None:
        if not self.result:
            self.statusBar().showMessage("Nothing to export yet: Generate first (Ctrl+G)", STATUS_MS)
            return None
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export the cue to a folder")
            if not folder:
                return None
        files = self.result_files() + [self._file("sidecar")]
        job = self.client.submit("copy", {"files": [f for f in files if f], "folder": folder, "overwrite": overwrite})
        self.statusBar().showMessage(f"Exporting to {folder}…")
        job.succeeded.connect(lambda result: self.statusBar().showMessage(
            f"Exported {len(result['files'])} files to {result['folder']}", STATUS_MS))
        job.failed.connect(lambda message, user: self._export_failed(folder, message, overwrite))
        return job

    def _export_failed(self, folder: str, message: str, overwrite: bool) -> None:
        if "already exists" in message and not overwrite:
            answer = QMessageBox.question(self, "Replace files?", f"{message}.\n\nReplace the files in {folder}?")
            if answer == QMessageBox.StandardButton.Yes:
                self.export_to_folder(folder, overwrite=True)
            return
        self.show_error("Could not export", message)

    def send_to_plugin(self, instance: str | None = None) -> str:
        """Hand the current cue to a running plugin instance through the engine: the one that opened the
        panel, else the only one, else the one chosen from a menu. Returns the status line it showed."""
        try:
            instances = {i["instance"]: i for i in ask({"command": "instances"}, timeout=2.0)["instances"]}
            if instance is None:
                instance = self.plugin_instance if self.plugin_instance in instances else None
            if instance is None and len(instances) == 1:
                instance = next(iter(instances))
            if instance is None and instances:
                instance = self._choose_instance(list(instances.values()))
                if instance is None:
                    return ""
            if instance is None:
                raise MtmError("no mtm_daw plugin is running: add it to a track in your DAW, then send again")
            ask({"command": "send", "instance": instance, "sidecar": self._file("sidecar")}, timeout=5.0)
            host, bpm = instances.get(instance, {}), self.result["description"]["tempo"] if self.result else None
            message = f"sent to the plugin ({instance[:6]})"
            if host and bpm and abs(float(host["tempo"]) - float(bpm)) > 0.01:
                message += (f"; it plays at {host['tempo']:g} BPM, this cue is {float(bpm):g} BPM: it stays silent "
                            "until the tempos match")
        except MtmError as error:
            message = f"could not send to the plugin: {error}"
        self.statusBar().showMessage(message, STATUS_MS)
        return message

    def _choose_instance(self, instances: list[dict]) -> str | None:
        menu = QMenu(self)
        for item in instances:
            action = menu.addAction(f"mtm_daw at {item['tempo']:g} BPM, {item['numerator']}/{item['denominator']} "
                                    f"({item['instance'][:6]})")
            action.setData(item["instance"])
        chosen = menu.exec(self.send_button.mapToGlobal(self.send_button.rect().bottomLeft()))
        return chosen.data() if chosen is not None else None

    def show_in_folder(self) -> None:
        if self.result:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.result["folder"]))

    # --- playback ---------------------------------------------------------------------------------
    def toggle_playback(self) -> None:
        if not self.playback.available:
            self.statusBar().showMessage(self.playback.notice, STATUS_MS)
            return
        if self.previewing:
            self.playback.stop()
        elif self.result:
            self.playback.toggle(self._file("mix"))

    def play_stem(self, role: str) -> None:
        if not self.playback.available:
            self.statusBar().showMessage(self.playback.notice, STATUS_MS)
            return
        self.playback.toggle(self._file(role))

    def _playhead(self, fraction: float) -> None:
        if self.previewing:
            return  # a fraction of the preview, not of the cue shown
        self.stems.set_position(fraction)
        self.piano_roll.set_position(fraction)
        if self.result and fraction >= 0 and self.source_kind == "video":
            self.picture.timeline.set_position(fraction * self.result["duration"])

    def _playing_changed(self, playing: bool) -> None:
        self.play_button.setText("■ Stop" if playing else "▶ Play mix")
        if self.source_kind == "video":
            self.picture.play_video(playing)

    # --- library ----------------------------------------------------------------------------------
    def refresh_library(self) -> None:
        job = self.client.submit("library_status", {"path": self.settings.library_path}, replace_queued=True)
        job.succeeded.connect(self.references.set_library_status)

    def search_library(self, query: str, filters: dict) -> None:
        if not query and self.source and self.source_kind in ("audio", "midi"):
            query = self.source  # a dropped loop or MIDI file: find what sounds like it
        query = query or self.editor.description().sentence
        job = self.client.submit("library_search", {"path": self.settings.library_path, "query": query,
                                                    "filters": filters}, replace_queued=True)
        job.succeeded.connect(lambda result: self.references.set_results(result["rows"]))
        job.failed.connect(lambda message, user: self.show_error("Library search failed", message))

    def audition(self, path: str) -> None:
        if not self.playback.available:
            self.statusBar().showMessage(self.playback.notice, STATUS_MS)
            return
        cache = str(Path(self.settings.output_folder) / ".auditions")
        job = self.client.submit("audition", {"path": path, "cache_folder": cache}, replace_queued=True)
        job.succeeded.connect(lambda result: self.playback.play(result["path"]))
        job.failed.connect(lambda message, user: self.show_error("Cannot audition", message))

    # --- settings, drops, close -------------------------------------------------------------------
    def open_settings(self) -> None:
        from plugin_ui.settings_dialog import SettingsDialog

        if SettingsDialog(self.settings, self).exec():
            self.refresh_library()
            self.statusBar().showMessage(f"Settings saved ({self.settings.file_name})", STATUS_MS)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.drop_zone.dropEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        # settings are written here (and by the settings dialog) only: QSettings writes its file on the
        # UI thread with an fsync, which can take 100 ms on a busy disk — never while work is running
        self.settings.geometry = self.saveGeometry()
        self.settings.engine = self.controls.engine.currentText()
        self.settings.steps = self.controls.steps.value()
        self.settings.key_lock = self.controls.key_lock.isChecked()
        self.settings.duration = self.controls.duration.value()
        self.settings.sync()
        self.playback.stop()
        if self.job is not None and self.job.active:
            self.job.cancel()
        if self._own_client:
            self.client.shutdown()
        super().closeEvent(event)
