"""The panel (plugin_ui) under pytest-qt, offscreen: drop a file, edit, generate, cancel, drag out.

One engine process serves the whole module (it takes a few seconds to start); each test gets a
fresh window with its own settings file and output folder. Screenshots of the main states go to
build/screenshots (or $MTM_PANEL_SCREENSHOTS).
"""
from __future__ import annotations

import os
import time
import types
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6.QtWidgets")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PyQt6.QtGui import QDropEvent  # noqa: E402

from mtm_daw.description import MusicDescription  # noqa: E402
from plugin_ui import library_adapter  # noqa: E402
from plugin_ui.main_window import MainWindow  # noqa: E402
from plugin_ui.playback import Playback  # noqa: E402
from plugin_ui.settings import PanelSettings  # noqa: E402
from plugin_ui.theme import apply_theme  # noqa: E402
from plugin_ui.widgets.style_picker import STYLE_ROLE  # noqa: E402
from plugin_ui.workers import EngineClient  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "mtm_daw" / "data" / "demo"
DEMO_IMAGE, DEMO_VIDEO = DEMO / "demo_image.png", DEMO / "demo_video.mp4"
SCREENSHOTS = Path(os.environ.get("MTM_PANEL_SCREENSHOTS", Path(__file__).resolve().parent.parent / "build" /
                                  "screenshots"))


def wait_until(app, condition, timeout: float = 60.0) -> None:
    """Run the event loop until condition() holds (module fixtures have no qtbot)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g} s")
        app.processEvents()
        time.sleep(0.005)


@pytest.fixture(scope="module")
def engine(qapp):
    apply_theme(qapp)
    client = EngineClient()
    client.start()
    wait_until(qapp, lambda: client.ready, 90)
    yield client
    client.shutdown()


def make_window(tmp: Path, engine: EngineClient, playback: Playback | None = None) -> MainWindow:
    settings = PanelSettings(tmp / "panel.ini")  # never the user's own settings
    settings.output_folder = str(tmp / "out")
    settings.library_path = str(tmp / "no_library.sqlite")
    window = MainWindow(settings, client=engine, playback=playback or Playback(force_off=True))
    window.resize(1280, 800)
    window.show()
    return window


@pytest.fixture
def window(qtbot, tmp_path, engine):
    window = make_window(tmp_path, engine)
    qtbot.addWidget(window)
    yield window
    window.cancel()
    window.close()


@pytest.fixture(scope="module")
def generated(qapp, engine, tmp_path_factory):
    """A window that described the demo image and generated an 8 s cue with the baseline engine."""
    window = make_window(tmp_path_factory.mktemp("generated"), engine)
    window.load_source(str(DEMO_IMAGE))
    wait_until(qapp, lambda: window.source_kind == "image" and not window.busy)
    window.controls.duration.setValue(8.0)
    window.controls.engine.setCurrentText("baseline")
    stages = []
    window.controls.progress.valueChanged.connect(lambda value: stages.append(window.controls.stage.text()))
    window.generate()
    wait_until(qapp, lambda: window.result is not None and not window.busy)
    qapp.processEvents()
    window.progress_seen = stages
    yield window
    window.close()


def drop(widget, path: Path) -> None:
    """What a file manager's drop does: a QDropEvent carrying the file's URL."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def screenshot(window: MainWindow, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert window.grab().save(str(path))
    return path


# --- dropping a file fills the description ---------------------------------------------------------

def test_dropping_an_image_fills_the_description(qtbot, window):
    with qtbot.waitSignal(window.description_ready, timeout=30000) as blocker:
        drop(window.drop_zone, DEMO_IMAGE)
    description = blocker.args[0]
    assert window.source_kind == "image"
    assert window.editor.genre.currentText() == description.genre
    assert window.editor.mood.currentText() == description.mood
    assert window.editor.tempo.value() == pytest.approx(description.tempo, abs=0.05)
    assert window.editor.sentence.toPlainText() == description.sentence != ""
    assert "demo_image.png" in window.drop_zone.headline.text()
    assert len(window.picture.images) == 1
    assert not window.busy and window.controls.generate.isEnabled()


def test_a_still_is_scored_for_exactly_the_duration_set(qtbot, window, tmp_path):
    """A still in the panel: the tempo is fitted to the duration set (whole bars) and shown before it renders;
    the engine ends every stem and the mix at that length."""
    import json

    from mtm_daw.progress import CancelToken
    from plugin_ui.backend import generate_job

    with qtbot.waitSignal(window.description_ready, timeout=30000):
        drop(window.drop_zone, DEMO_IMAGE)
    window.controls.duration.setValue(12.5)
    payload = window.generation_payload()
    shown = window.editor.description()
    assert payload["end_at_picture"] is True and shown.tempo == payload["description"]["tempo"]
    bars = shown.seconds_to_beats(12.5) / shown.beats_per_bar
    assert bars == pytest.approx(round(bars), abs=1e-3)
    payload.update(engine="baseline", output_folder=str(tmp_path), name="still")
    result = generate_job(payload, lambda stage, fraction: None, CancelToken(), lambda message: None)
    for path in Path(result["files"]["sidecar"]).parent.glob("*.wav"):
        with AudioFile(str(path)) as handle:
            assert handle.frames == round(12.5 * handle.samplerate), path.name
    assert json.loads(Path(result["files"]["sidecar"]).read_text())["recipe"]["end_seconds"] == 12.5


def test_dropping_a_video_fills_the_description_and_the_timeline(qtbot, window):
    with qtbot.waitSignal(window.description_ready, timeout=30000) as blocker:
        drop(window.drop_zone, DEMO_VIDEO)
    description = blocker.args[0]
    assert description.duration == pytest.approx(9.0, abs=0.1)
    assert window.controls.duration.value() == pytest.approx(description.duration, abs=0.05)
    timeline = window.picture.timeline
    assert len(timeline.frames) == 12
    assert timeline.cuts == description.cuts and [c.time for c in timeline.cuts] == pytest.approx([3.0, 6.0], abs=0.13)
    assert [t for t, _ in timeline.hits] == [h.time for h in description.hit_points]
    assert timeline.hits, "the demo video has hit points"
    assert window.tabs.currentWidget() is window.picture
    screenshot(window, "2_video_described")


def test_editing_fields_and_sentence_stays_in_sync(qtbot, window):
    editor = window.editor
    editor.genre.set_style("jazz")
    assert "jazz" in editor.sentence.toPlainText()
    assert "swing" in editor.style_summary.text()
    assert editor.description().sentence == editor.sentence.toPlainText()
    editor.roles["drums"].setChecked(False)
    assert editor.description().roles == ("bass", "harmony", "melody")
    editor.sentence.setPlainText("A dark orchestral cue with a cello melody, 70 bpm in D minor, 3/4")
    editor.read_sentence()  # (otherwise half a second after the last key press)
    d = editor.description()
    assert (d.genre, d.mood, d.tempo, d.key, d.time_signature) == ("orchestral", "dark", 70.0, "D minor", (3, 4))
    assert d.instruments.get("melody") == 42  # cello
    assert d.sentence.startswith("A dark orchestral cue")
    assert editor.meter.currentText() == "3/4" and editor.tempo.value() == 70.0


def test_chords_and_form_are_edited_and_checked(qtbot, window):
    editor = window.editor
    editor.set_description(MusicDescription(key="A minor", duration=32.0))
    changed = []
    editor.changed.connect(changed.append)
    editor.chords.setText("Am F C G")
    editor.form.setText("aaba")
    editor.form.editingFinished.emit()
    assert (editor.description().chords, editor.description().form) == ("Am F C G", "AABA")
    assert editor.form.text() == "AABA" and changed and editor.plan_error.text() == ""
    editor.chords.setText("Am H C")  # not a chord: refused, named, the last good value kept
    editor.chords.editingFinished.emit()
    assert "cannot read 'H'" in editor.plan_error.text()
    assert editor.chords.text() == "Am F C G" and editor.description().chords == "Am F C G"


# --- generate --------------------------------------------------------------------------------------

def test_generate_lists_stems_and_the_files_exist(generated):
    result = generated.result
    assert list(generated.stems.rows) == ["drums", "bass", "harmony", "melody"]
    for role, row in generated.stems.rows.items():
        assert Path(result["files"][role]).is_file()
        assert row.waveform.peaks.shape == (2, 480) and abs(row.waveform.peaks).max() > 0
        assert not row.play.isEnabled()  # playback is off in this window (no device)
    for part in ("mix", "midi", "sidecar"):
        assert Path(result["files"][part]).is_file()
    assert result["engine"] == "baseline" and 8.0 <= result["duration"] < 14.0
    assert Path(result["folder"]).parent == Path(generated.settings.output_folder)
    assert generated.piano_roll.score is result["score"]
    assert any("Composing" in s or "Rendering" in s or "Mixing" in s for s in generated.progress_seen)
    assert generated.controls.generate.isEnabled() and not generated.controls.cancel.isEnabled()
    assert generated.export_button.isEnabled()
    screenshot(generated, "3_generated_picture")
    generated.tabs.setCurrentWidget(generated.piano_roll)
    screenshot(generated, "4_generated_score")


def test_drag_out_holds_the_files_as_urls(generated):
    files = generated.result["files"]
    for role, row in generated.stems.rows.items():
        mime = row.handle.mime_data()
        assert mime.hasFormat("text/uri-list")
        assert mime.urls() == [QUrl.fromLocalFile(str(Path(files[role]).resolve()))]
    assert generated.drag_handles["mix"].mime_data().urls() == [QUrl.fromLocalFile(files["mix"])]
    assert generated.drag_handles["midi"].mime_data().urls() == [QUrl.fromLocalFile(files["midi"])]
    everything = [url.toLocalFile() for url in generated.drag_handles["all"].mime_data().urls()]
    assert everything == [files[r] for r in ("drums", "bass", "harmony", "melody", "mix", "midi")]
    assert all(Path(p).is_file() for p in everything)


def test_export_to_folder_copies_the_cue(qtbot, generated, tmp_path, monkeypatch):
    job = generated.export_to_folder(str(tmp_path / "export"))
    with qtbot.waitSignal(job.finished, timeout=20000):
        pass
    assert job.state == "done"
    names = sorted(p.name for p in (tmp_path / "export").iterdir())
    assert names == sorted(Path(p).name for p in generated.result_files() + [generated.result["files"]["sidecar"]])
    asked = []  # a second export into the same folder asks before replacing
    monkeypatch.setattr("plugin_ui.main_window.QMessageBox.question", lambda *a: asked.append(a[2]) or 0)
    job = generated.export_to_folder(str(tmp_path / "export"))
    with qtbot.waitSignal(job.finished, timeout=20000):
        pass
    assert job.state == "failed" and asked and "already exists" in asked[0]


def test_mixer_remixes_the_files_and_reproduce_makes_the_remix_again(qtbot, generated, tmp_path):
    mix = Path(generated.result["files"]["mix"])
    before = mix.stat().st_mtime_ns
    row = generated.stems.rows["drums"]
    with qtbot.waitSignal(generated.result_ready, timeout=30000) as blocker:
        row.mute.setChecked(True)
        generated.stems.rows["melody"].preset.setCurrentIndex(1)  # dry
    result = blocker.args[0]
    assert mix.stat().st_mtime_ns > before
    assert row.waveform.dimmed
    import json

    from mtm_daw.cli import main

    sidecar = json.loads(Path(result["files"]["sidecar"]).read_text())
    recorded = sidecar["recipe"]["mix"]  # the mix is part of the cue's recipe ...
    assert recorded["drums"]["mute"] is True and recorded["melody"]["preset"] == "dry"
    assert main(["reproduce", result["files"]["sidecar"], "--quiet", "-o", str(tmp_path / "again")]) == 0
    for path in [path for path in result["files"].values() if path.endswith(".wav")]:  # ... so it is made again
        assert (tmp_path / "again" / Path(path).name).read_bytes() == Path(path).read_bytes(), Path(path).name
    with qtbot.waitSignal(generated.result_ready, timeout=30000):
        row.mute.setChecked(False)
        generated.stems.rows["melody"].preset.setCurrentIndex(0)


def test_generate_with_a_reference_file_on_the_dit_engine(qtbot, window, generated):
    window.editor.set_description(MusicDescription(genre="jazz", mood="calm", tempo=100, key="F major", duration=6))
    window.controls.duration.setValue(6.0)
    window.controls.engine.setCurrentText("dit")
    window.controls.steps.setValue(6)
    window.references.set_file(generated.result["files"]["midi"])
    assert window.references.follow.isChecked()
    assert window.references.reference()["kind"] == "file"
    with qtbot.waitSignal(window.result_ready, timeout=60000) as blocker:
        window.generate()
    parameters = blocker.args[0]["parameters"]
    assert parameters["reference"]["source"] == generated.result["files"]["midi"]
    assert parameters["reference"]["strength"] == pytest.approx(0.7)
    window.controls.engine.setCurrentText("baseline")
    assert window.references.reference() is None and not window.references.follow.isEnabled()


# --- cancel ----------------------------------------------------------------------------------------

def test_cancel_stops_generation_and_the_panel_is_idle(qtbot, window):
    window.editor.set_description(MusicDescription(genre="pop", mood="happy", duration=60))
    window.controls.duration.setValue(60.0)
    window.controls.engine.setCurrentText("dit")
    window.controls.steps.setValue(200)
    window.generate()
    job = window.job
    qtbot.waitUntil(lambda: window.controls.progress.value() > 0, timeout=60000)  # inside the DDIM loop
    screenshot(window, "5_generating")
    window.cancel()
    assert not window.busy and window.controls.generate.isEnabled() and not window.controls.cancel.isEnabled()
    assert window.controls.stage.text() == "Cancelled"
    qtbot.waitUntil(lambda: not job.active, timeout=3000)
    assert job.state == "cancelled"
    assert job.ended_at - job.cancel_requested_at < 1.0
    assert window.result is None
    assert not list(Path(window.settings.output_folder).glob("**/*.wav"))


def test_cancel_of_a_step_that_ignores_it_replaces_the_engine(qtbot, engine):
    restarts = engine.restarts
    job = engine.submit("sleep", {"seconds": 30})
    qtbot.waitUntil(lambda: job.state == "running", timeout=20000)
    qtbot.wait(200)
    job.cancel()
    qtbot.waitUntil(lambda: not job.active, timeout=3000)
    assert job.state == "cancelled" and job.ended_at - job.cancel_requested_at < 1.0
    assert engine.restarts == restarts + 1
    after = engine.submit("library_status", {"path": "/nonexistent/library.sqlite"})
    qtbot.waitUntil(lambda: not after.active, timeout=30000)  # the new engine process answers
    assert after.state == "done"


# --- bad input -------------------------------------------------------------------------------------

def test_a_bad_file_gives_an_error_dialog_not_a_crash(qtbot, window, tmp_path, monkeypatch):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(os.urandom(4096))
    shown = []
    monkeypatch.setattr("plugin_ui.main_window.QMessageBox.warning", lambda parent, title, text: shown.append((title, text)))
    before = window.editor.description()
    with qtbot.waitSignal(window.job_ended, timeout=30000) as blocker:
        drop(window.drop_zone, bad)
    assert blocker.args == ["describe", "failed"]
    assert len(shown) == 1
    title, text = shown[0]
    assert "clip.mp4" in title and "clip.mp4" in text and "internal" not in text
    assert window.editor.description() == before
    assert not window.busy and window.controls.generate.isEnabled()
    window.references.set_file(str(DEMO_IMAGE))  # a picture cannot be a reference
    assert shown[-1][0] == "Not a reference" and window.references.reference() is None


def test_an_impossible_description_gives_an_error_dialog(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr("plugin_ui.main_window.QMessageBox.warning", lambda parent, title, text: shown.append(text))
    window.editor._description.tempo = 900  # what a damaged description file could hold
    window.generate()
    assert shown and "tempo" in shown[0] and not window.busy


# --- library, settings, playback, shortcuts --------------------------------------------------------

def test_a_new_library_starts_with_the_starter_set_and_the_list_is_enabled(qtbot, window):
    qtbot.waitUntil(lambda: window.references.library_ready, timeout=60000)
    panel = window.references
    assert panel.results.isEnabled() and panel.query.isEnabled() and panel.search_button.isEnabled()
    status = library_adapter.library_status(str(window.settings.library_path))
    assert status["available"] is True and Path(status["path"]).is_file()
    rows = library_adapter.search_references(status["path"], "a gentle orchestral chorale", {"genre": "orchestral"}, 5)
    assert rows and all(r["genre"] == "orchestral" and r["licence"] for r in rows)
    screenshot(window, "1_empty")


def test_a_library_that_cannot_be_opened_disables_the_list_with_the_reason(qtbot, tmp_path):
    from plugin_ui.widgets.reference_panel import ReferencePanel

    damaged = tmp_path / "library.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    status = library_adapter.library_status(str(damaged))
    assert status["available"] is False and "could not be opened" in status["message"]
    panel = ReferencePanel()
    qtbot.addWidget(panel)
    panel.set_library_status(status)
    assert not panel.results.isEnabled() and not panel.search_button.isEnabled()


def _one_cue_library(tmp_path: Path, midi: Path, monkeypatch, seed: int, **tags) -> tuple[Path, np.ndarray]:
    """(library file, its item's vector): a library holding one generated MIDI cue, which every query
    finds (the query embedder replaced by that vector: its weights may not be there)."""
    import hashlib

    store_module = pytest.importorskip("mtm_daw.library.store")
    from mtm_daw.errors import MtmError
    from mtm_daw.library.item import LibraryItem

    vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    library = tmp_path / "library.sqlite"
    try:
        with store_module.LibraryStore.open(library, create=True) as store:
            store.add_item(LibraryItem(path=str(midi), content_hash=hashlib.sha256(midi.read_bytes()).hexdigest(),
                                       kind="midi", duration=8.0, bpm=107.0, key="G major", genre="ambient",
                                       mood="calm", caption="a calm ambient cue", **tags), vector)
    except MtmError as error:  # e.g. sqlite-vec missing on this machine
        pytest.skip(str(error))
    monkeypatch.setattr(library_adapter, "_open_stores", {})
    monkeypatch.setattr("mtm_daw.library.tagging.query_embedding", lambda query, embedder: (vector, None))
    return library, vector


def test_a_real_library_file_enables_the_list_and_its_rows_give_a_control(qtbot, window, generated, tmp_path,
                                                                         monkeypatch):
    """The adapter against mtm_daw.library itself (the query embedder replaced: its weights may not be there)."""
    midi = Path(generated.result["files"]["midi"])
    library, vector = _one_cue_library(tmp_path, midi, monkeypatch, seed=0)
    rows = library_adapter.search_references(str(library), "calm ambient", {"genre": "ambient", "bpm_min": 100.0}, 5)
    assert [(r["path"], r["track"], r["matched"]) for r in rows] == [(str(midi), "targeted", ["bpm", "genre"])]
    signal = library_adapter.reference_control({**rows[0], "strength": 0.5})
    assert signal.strength == 0.5 and signal.features.shape[1] == 18 and "library item" in signal.source

    window.settings.library_path = str(library)  # the panel's engine process opens it too
    window.refresh_library()
    qtbot.waitUntil(lambda: window.references.library_ready, timeout=30000)
    assert window.references.results.isEnabled() and window.references.query.isEnabled()


def test_a_dropped_sound_searches_the_library_by_its_sound(generated, tmp_path, monkeypatch):
    """A file path as the query is a search by sound: the file's own library entry comes first."""
    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.library.starter import open_library
    from mtm_daw.library.tagging import tag_file

    midi = Path(generated.result["files"]["midi"])
    library = tmp_path / "library.sqlite"
    with open_library(library) as store:  # the starter set, plus the cue's MIDI
        tagged = tag_file(midi, "midi", JointEmbedder.default())
        store.add_item(tagged.item, tagged.embedding, tagged.windows)
    monkeypatch.setattr(library_adapter, "_open_stores", {})
    rows = library_adapter.search_references(str(library), str(midi), {}, 3)
    assert rows[0]["path"] == str(midi.resolve()) and len(rows) == 3


def test_reference_panel_shows_library_results(qtbot):
    from plugin_ui.widgets.reference_panel import ReferencePanel

    panel = ReferencePanel()
    qtbot.addWidget(panel)
    panel.set_library_status({"available": True, "message": "Library: /x/library.sqlite"})
    assert panel.results.isEnabled() and panel.query.isEnabled()
    searches = []
    panel.search_requested.connect(lambda query, filters: searches.append((query, filters)))
    panel.query.setText("dark strings")
    panel.genre_filter.setCurrentText("cinematic")
    panel.bpm_min.setValue(80)
    panel.search_button.click()
    assert searches == [("dark strings", {"genre": "cinematic", "bpm_min": 80.0})]
    row = {"kind": "library", "library": "/x/library.sqlite", "item_id": 3, "path": "/x/a.mid", "title": "a",
           "genre": "cinematic", "mood": "dark", "bpm": 90.0, "key": "D minor", "duration": 8.0, "score": 0.7,
           "matched": ["genre"], "track": "targeted"}
    panel.set_results([row])
    panel.follow.setChecked(True)
    panel.strength.setValue(40)
    assert panel.reference() == {**row, "strength": 0.4}


def test_settings_persist_in_their_own_file(qtbot, tmp_path, engine):
    from mtm_daw.pipeline import ENGINES
    from plugin_ui.settings import ENGINES as PANEL_ENGINES

    assert PANEL_ENGINES == ENGINES
    path = tmp_path / "panel.ini"
    settings = PanelSettings(path)
    settings.library_path = "/music/library.sqlite"
    settings.output_folder = str(tmp_path / "cues")
    settings.soundfont = "/sf/GM.sf2"
    settings.vst3_plugins = {"melody": ["/fx/Reverb.vst3"], "bass": []}
    settings.engine = "baseline"
    settings.sync()
    again = PanelSettings(path)
    assert (again.library_path, again.output_folder, again.soundfont, again.engine) == (
        "/music/library.sqlite", str(tmp_path / "cues"), "/sf/GM.sf2", "baseline")
    assert again.vst3_plugins == {"melody": ["/fx/Reverb.vst3"]}
    window = MainWindow(again, client=engine, playback=Playback(force_off=True))
    qtbot.addWidget(window)
    assert window.controls.engine.currentText() == "baseline"
    assert window.controls.key_lock.isChecked() and not window.controls.key_lock.isEnabled()  # baseline: no lock
    window.controls.engine.setCurrentText("dit")
    assert window.controls.key_lock.isEnabled()
    window.controls.key_lock.setChecked(False)
    window.close()
    assert PanelSettings(path).engine == "dit" and PanelSettings(path).key_lock is False
    payload = MainWindow.generation_payload(window)
    assert payload["key_lock"] is False
    assert payload["render"] == {"soundfont": "/sf/GM.sf2", "plugins": {"melody": ["/fx/Reverb.vst3"]}}
    assert payload["output_folder"] == str(tmp_path / "cues")


def test_playback_without_a_device_is_off_with_a_notice(qtbot, window):
    playback = Playback()
    if playback.available:
        pytest.skip("this machine has an audio output")
    assert playback.notice and not playback.playing
    playback.play(__file__)  # no-ops, never a crash
    playback.toggle(__file__)
    playback.stop()
    assert not window.play_button.isEnabled()
    assert window.playback.notice in window.play_button.toolTip()
    window.toggle_playback()
    assert window.statusBar().currentMessage() == window.playback.notice


def test_shortcuts_and_tooltips(window):
    from PyQt6.QtGui import QShortcut

    keys = {s.key().toString() for s in window.findChildren(QShortcut)}
    assert {"Space", "Ctrl+G", "Ctrl+E", "Ctrl+O", "Esc"} <= keys
    for widget in (window.controls.generate, window.controls.cancel, window.export_button, window.drop_zone,
                   window.editor.sentence, window.references.strength, window.controls.engine):
        assert widget.toolTip()


def test_settings_dialog_saves(qtbot, window, tmp_path):
    from plugin_ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    dialog.output.edit.setText(str(tmp_path / "elsewhere"))
    dialog.vst3["drums"].edit.setText("/a/One.vst3; /a/Two.vst3")
    dialog.resize(640, 360)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SCREENSHOTS / "6_settings.png"))
    dialog.accept()
    assert window.settings.output_folder == str(tmp_path / "elsewhere")
    assert window.settings.vst3_plugins == {"drums": ["/a/One.vst3", "/a/Two.vst3"]}
    print(f"panel screenshots: {SCREENSHOTS}")


def test_mtm_ui_subcommand_opens_the_panel():
    from mtm_daw.cli import build_parser, cmd_ui

    args = build_parser().parse_args(["ui", "clip.mp4", "--settings", "panel.ini"])
    assert args.handler is cmd_ui and args.source == "clip.mp4" and args.settings == "panel.ini"


# --- extend, regenerate, about this cue ------------------------------------------------------------

def read_wav(path) -> np.ndarray:
    with AudioFile(str(path)) as handle:
        return handle.read(handle.frames)


def midi_notes(path, role: str) -> list[tuple]:
    from mtm_daw.score.midi import load_midi_score

    return [(n.onset, n.duration, n.pitch, n.velocity) for n in load_midi_score(path).tracks[role].notes]


def generate_short_cue(qtbot, window) -> dict:
    """A 4-bar baseline cue at 120 BPM in D minor, seed 3 (8 s): the parent of the edits below."""
    window.editor.set_description(MusicDescription(genre="pop", mood="happy", tempo=120, key="D minor", duration=8))
    window.controls.duration.setValue(8.0)
    window.controls.engine.setCurrentText("baseline")
    window.controls.seed.setValue(3)
    with qtbot.waitSignal(window.result_ready, timeout=60000) as blocker:
        window.generate()
    parent = blocker.args[0]
    assert parent["bars"] == 4 and parent["name"] == "cue"
    return parent


def test_extend_adds_bars_and_keeps_the_first_ones_exactly(qtbot, window):
    parent = generate_short_cue(qtbot, window)
    assert window.extend_button.isEnabled() and window.extend_button.toolTip()
    # a long extension shows progress and is cancelled within a second, nothing written
    job = window.extend(60)
    qtbot.waitUntil(lambda: window.controls.progress.value() > 0, timeout=60000)
    assert not window.extend_button.isEnabled() and window.controls.cancel.isEnabled()
    window.cancel()
    qtbot.waitUntil(lambda: not job.active, timeout=3000)
    assert job.state == "cancelled" and job.ended_at - job.cancel_requested_at < 1.0
    assert window.result is parent and window.extend_button.isEnabled()
    assert not list(Path(parent["folder"]).glob("cue_extended*"))
    # extend by 2 bars: a new cue next to the parent, shown as the result
    with qtbot.waitSignal(window.result_ready, timeout=60000) as blocker:
        window.extend(2)
    result = blocker.args[0]
    assert result["bars"] == 6 and result["name"] == "cue_extended" and result["folder"] == parent["folder"]
    for part in (*result["stems"], "mix", "midi", "sidecar"):
        assert Path(result["files"][part]).is_file()
    assert Path(result["files"]["sidecar"]).name == "cue_extended_120bpm_Dmin_description.json"
    length = parent["score"]["length_beats"]
    added = 0
    for role in parent["stems"]:
        after = midi_notes(result["files"]["midi"], role)
        assert [n for n in after if n[0] < length] == midi_notes(parent["files"]["midi"], role), role
        added += len([n for n in after if n[0] >= length])
    assert added > 0
    assert read_wav(result["files"]["mix"]).shape[1] > read_wav(parent["files"]["mix"]).shape[1]
    assert window.result is result and list(window.stems.rows) == list(result["stems"])
    assert window.piano_roll.score is result["score"]
    assert window.result_title.full_text().startswith("Extended by 2 bars: ")
    about = window.about_text()
    assert "baseline" in about and "seed 3" in about and "extended by 2 bars" in about


def test_regenerate_redoes_bars_of_one_stem_and_the_others_stay_sample_for_sample(qtbot, window, monkeypatch):
    from plugin_ui.widgets.remake_dialog import RegenerateDialog

    parent = generate_short_cue(qtbot, window)
    assert window.regenerate_button.isEnabled() and window.regenerate_button.toolTip()
    qtbot.mouseClick(window.stems.rows["melody"], Qt.MouseButton.LeftButton, pos=window.stems.rows["melody"].rect().center())
    assert window.stems.selected == "melody" and window.stems.rows["melody"].property("selected")
    asked = []

    def answer(dialog):  # the dialog offers the selected stem and all the cue's bars; the user picks bar 1
        asked.append(dialog.choice())
        dialog.last.setValue(1)
        return 1

    monkeypatch.setattr(RegenerateDialog, "exec", answer)
    with qtbot.waitSignal(window.result_ready, timeout=60000) as blocker:
        window.regenerate()
    result = blocker.args[0]
    assert asked == [("melody", 1, 4)]
    assert result["name"] == "cue_melody_bars1-1" and result["folder"] == parent["folder"]
    assert result["bars"] == parent["bars"]
    for part in (*result["stems"], "mix", "midi", "sidecar"):
        assert Path(result["files"][part]).is_file()
    assert Path(result["files"]["sidecar"]).name == "cue_melody_bars1-1_120bpm_Dmin_description.json"
    for role in ("drums", "bass", "harmony"):
        old, new = read_wav(parent["files"][role]), read_wav(result["files"][role])
        assert old.shape == new.shape and np.array_equal(old, new), f"the {role} stem changed"
        assert midi_notes(result["files"]["midi"], role) == midi_notes(parent["files"]["midi"], role)
    bar = parent["score"]["length_beats"] / 4
    assert ([n for n in midi_notes(result["files"]["midi"], "melody") if n[0] >= bar] ==
            [n for n in midi_notes(parent["files"]["midi"], "melody") if n[0] >= bar])
    assert window.result is result and window.result_title.full_text().startswith("Melody, bar 1 redone: ")
    about = window.about_text()
    assert "baseline" in about and f"seed {result['seed']}" in about and "Models: none" in about
    window.about_button.setChecked(True)
    assert window.about_label.isVisible()
    qtbot.wait(50)
    screenshot(window, "7_regenerated_about")


def test_an_edit_of_a_cue_with_other_plugins_is_refused_in_a_dialog(qtbot, window, monkeypatch):
    import json

    generate_short_cue(qtbot, window)
    sidecar = Path(window.result["files"]["sidecar"])  # as if the cue came with a plugin the user never set
    document = json.loads(sidecar.read_text())
    document["recipe"]["render"]["plugins"] = {"melody": ["/elsewhere/Unknown.vst3"]}
    sidecar.write_text(json.dumps(document))
    window.settings.vst3_plugins = {"melody": ["/fx/Mine.vst3"]}
    shown = []
    monkeypatch.setattr("plugin_ui.main_window.QMessageBox.warning", lambda parent, title, text: shown.append((title, text)))
    with qtbot.waitSignal(window.job_ended, timeout=30000) as blocker:
        window.extend(1)
    assert blocker.args == ["extend", "failed"]
    assert shown and shown[0][0] == "Could not extend the cue"
    assert "/elsewhere/Unknown.vst3" in shown[0][1] and "Settings" in shown[0][1]
    assert not window.busy and window.extend_button.isEnabled()


def test_plugins_load_for_an_edit_only_when_they_are_the_panels_own(tmp_path):
    import json

    from mtm_daw.errors import MtmError
    from plugin_ui import backend

    document = {"description": {}, "name": "cue", "recipe": {
        "operation": "compose", "engine": "baseline", "seed": 1, "description": {"genre": "pop"},
        "render": {"plugins": {"melody": ["/fx/Reverb.vst3"], "bass": []}}}}
    sidecar = tmp_path / "cue_120bpm_Cmaj_description.json"
    sidecar.write_text(json.dumps(document))
    notes = []
    path, loaded, allow = backend._remake_source({"sidecar": str(sidecar), "plugins": {"melody": ["/fx/Reverb.vst3"]}},
                                                 notes.append)
    assert allow is True and path == sidecar and loaded["name"] == "cue"
    for configured in ({}, {"melody": ["/fx/Other.vst3"]}, {"melody": ["/fx/Reverb.vst3"], "drums": ["/fx/X.vst3"]}):
        with pytest.raises(MtmError, match="not the ones in the panel's settings"):
            backend._remake_source({"sidecar": str(sidecar), "plugins": configured}, notes.append)
    document["recipe"]["render"] = {}
    sidecar.write_text(json.dumps(document))
    assert backend._remake_source({"sidecar": str(sidecar), "plugins": {"melody": ["/fx/Reverb.vst3"]}},
                                  notes.append)[2] is False  # nothing to load, nothing allowed


def test_about_this_cue_names_models_with_version_and_checksum_and_references_with_licence():
    from plugin_ui.backend import provenance_summary
    from plugin_ui.widgets.about_cue import provenance_text

    document = {
        "engine": "dit", "seed": 7, "renderer": "fluidsynth:FluidR3_GM.sf2", "mtm_daw_version": "0.9",
        "recipe": {"operation": "compose", "engine": "dit", "seed": 7},
        "models": {"generator": {"name": "ecmg", "file": "ecmg.onnx", "version": 3, "precision": "fp32",
                                 "sha256": "0123456789abcdef" * 4},
                   "text_encoder": {"name": "text_encoder", "version": 1, "sha256": "fedcba9876543210" * 4}},
        "references": [{"path": "/lib/notes/a.mid", "sha256": "aa" * 32, "strength": 0.7,
                        "library": {"id": 12, "path": "/music/loops/a.wav", "source": "freesound.org/s/1",
                                    "licence": "CC-BY 4.0", "caption": "a calm loop"}},
                       {"path": "/home/me/theme.mid", "sha256": "bb" * 32, "strength": 0.5, "library": None}],
        "soundfont": {"path": "/usr/share/sounds/sf2/FluidR3_GM.sf2", "sha256": "cc" * 32},
    }
    text = provenance_text(provenance_summary(document))
    lines = text.splitlines()
    assert lines[0].startswith("Engine: dit") and "seed 7" in lines[0]
    assert "generator ecmg v3 fp32 · sha256 0123456789ab;" in lines[1]
    assert "text encoder text_encoder v1 · sha256 fedcba987654" in lines[1]
    assert ("Reference (library item 12): /music/loops/a.wav · source: freesound.org/s/1 · licence: CC-BY 4.0"
            in text)
    assert "Reference (file): /home/me/theme.mid · source: your file · licence: not given · strength 0.50" in text
    assert "FluidR3_GM.sf2 · sha256 cccccccccccc" in text


def test_a_library_reference_is_recorded_with_its_source_and_licence(generated, tmp_path, monkeypatch):
    from mtm_daw.provenance import file_sha256

    midi = Path(generated.result["files"]["midi"])
    library, _ = _one_cue_library(tmp_path, midi, monkeypatch, seed=1, source="made here", licence="CC0")
    row = library_adapter.search_references(str(library), "calm ambient", {}, 1)[0]
    chosen = {**row, "strength": 0.6}
    record = library_adapter.reference_record(chosen, library_adapter.reference_control(chosen))
    assert record.path == str(midi) and record.sha256 == file_sha256(midi) and record.strength == 0.6
    assert (record.library["source"], record.library["licence"], record.library["path"]) == ("made here", "CC0",
                                                                                              str(midi))
    file_record = library_adapter.reference_record({"kind": "file", "path": str(midi), "strength": 0.3},
                                                   types.SimpleNamespace(strength=0.3))
    assert file_record.library is None and file_record.sha256 == record.sha256


def test_an_empty_search_box_searches_by_the_dropped_sound(window, monkeypatch):
    submitted = []
    quiet = types.SimpleNamespace(connect=lambda slot: None)

    def submit(kind, payload, replace_queued=False):
        submitted.append((kind, payload["query"]))
        return types.SimpleNamespace(succeeded=quiet, failed=quiet)

    monkeypatch.setattr(window.client, "submit", submit)
    window.source, window.source_kind = "/loops/groove.wav", "audio"
    window.search_library("", {})
    window.search_library("warm strings", {})
    window.source, window.source_kind = "/clips/scene.mp4", "video"
    window.search_library("", {})
    assert submitted == [("library_search", "/loops/groove.wav"), ("library_search", "warm strings"),
                         ("library_search", window.editor.description().sentence)]


def test_the_engine_process_generates_with_the_panels_key_lock(tmp_path):
    import json

    from mtm_daw.description import MusicDescription
    from mtm_daw.progress import CancelToken
    from plugin_ui.backend import generate_job

    payload = {"description": MusicDescription(genre="jazz", key="Eb major", tempo=120, duration=4.0).to_dict(),
               "seed": 3, "engine": "dit", "steps": 2, "key_lock": False, "render": {"soundfont": None},
               "output_folder": str(tmp_path), "name": "unlocked"}
    result = generate_job(payload, lambda stage, fraction: None, CancelToken(), lambda message: None)
    sidecar = json.loads(Path(result["files"]["sidecar"]).read_text())
    assert sidecar["recipe"]["generation"]["key_lock"] is False


def test_the_style_picker_groups_by_family_and_searches_as_you_type(qtbot, window):
    from mtm_daw.score.styles import library, styles_by_family

    picker = window.editor.genre
    headers = [picker.itemText(i) for i in range(picker.count()) if picker.itemData(i, STYLE_ROLE) is None]
    assert headers == list(styles_by_family())
    assert not picker.model().item(0).isEnabled()  # a family header cannot be chosen
    assert {picker.itemData(i, STYLE_ROLE) for i in range(picker.count())} - {None} == set(library())
    completer = picker.completer()
    completer.setCompletionPrefix("bass")
    found = [completer.completionModel().index(i, 0).data() for i in range(completer.completionCount())]
    assert any(entry.startswith("drum-and-bass") for entry in found)
    picker.lineEdit().setText("lofi")
    picker.lineEdit().editingFinished.emit()
    assert picker.style() == "lo-fi" and window.editor.description().genre == "lo-fi"
    picker.lineEdit().setText("polka")
    picker.lineEdit().editingFinished.emit()
    assert picker.style() == "lo-fi" and picker.lineEdit().text() == "lo-fi"  # unknown words are undone


def test_a_kept_style_survives_describing_a_new_source(qtbot, window):
    editor = window.editor
    editor.genre.set_style("bossa-nova")
    editor.keep_style.setChecked(True)
    try:
        editor.set_description(MusicDescription(genre="metal", mood="dark", tempo=150))
        assert editor.description().genre == "bossa-nova" and "bossa nova" in editor.sentence.toPlainText()
        assert editor.description().tempo == 150  # only the style is kept
    finally:
        editor.keep_style.setChecked(False)
    editor.set_description(MusicDescription(genre="metal"))
    assert editor.description().genre == "metal"


class RecordingPlayback(Playback):
    """An audio output that records what the panel asks it to play (CI machines have no sound device)."""

    def __init__(self, plays_to_the_end: bool = False) -> None:
        super().__init__(force_off=True)
        self.available, self.notice, self.calls = True, "", []
        self.plays_to_the_end = plays_to_the_end  # a file is over as soon as it starts (as a player leaves one)

    @property
    def playing(self) -> bool:
        return self.current is not None and not self.plays_to_the_end

    @property
    def seconds(self) -> float:
        return 3.25 if self.current else 0.0

    def play(self, path: str, start_seconds: float = 0.0) -> None:
        self.current = path
        self.calls.append((path, start_seconds))

    def stop(self) -> None:
        self.current = None


def _forty_seconds_of_house(qtbot, tmp_path: Path, engine: EngineClient, playback: Playback, steps: int) -> MainWindow:
    """A window set to make 40 s of house with the trained model (three windows: the first bars come first)."""
    window = make_window(tmp_path, engine, playback)
    qtbot.addWidget(window)
    window.editor.set_description(MusicDescription(genre="house", tempo=124, duration=40.0))
    window.controls.duration.setValue(40.0)
    window.controls.engine.setCurrentText("dit")
    window.controls.steps.setValue(steps)
    return window


@pytest.mark.parametrize("preview_ended", [False, True])
def test_the_first_bars_play_while_the_rest_is_made_and_the_cue_takes_over_there(qtbot, tmp_path, engine,
                                                                                   preview_ended):
    import soundfile

    playback = RecordingPlayback(plays_to_the_end=preview_ended)
    window = _forty_seconds_of_house(qtbot, tmp_path, engine, playback, steps=2)
    previews, results = [], []
    window.generate()
    window.job.preview.connect(previews.append)
    window.job.succeeded.connect(lambda result: results.append(len(previews)))
    qtbot.waitUntil(lambda: window.result is not None and not window.busy, timeout=120000)
    assert len(previews) == 1 and results == [1]  # the preview came before the cue
    preview = Path(previews[0]["path"])
    info = soundfile.info(str(preview))
    assert info.channels == 2 and abs(info.duration - previews[0]["seconds"]) < 1e-3 and 8 <= info.duration < 40
    # the whole cue takes over where the preview is, or where it ended
    taken_over_at = previews[0]["music_seconds"] if preview_ended else 3.25
    assert previews[0]["music_seconds"] < previews[0]["seconds"]  # its bars end before its release tail does
    assert playback.calls == [(str(preview), 0.0), (window.result["files"]["mix"], taken_over_at)]
    window.close()


def test_a_cancelled_cues_preview_does_not_carry_over_to_the_next_cue(qtbot, tmp_path, engine):
    playback = RecordingPlayback(plays_to_the_end=True)
    window = _forty_seconds_of_house(qtbot, tmp_path, engine, playback, steps=200)  # slow: cancelled once previewed
    window.generate()
    qtbot.waitUntil(lambda: len(playback.calls) == 1, timeout=60000)
    window.cancel()
    window.editor.set_description(MusicDescription(genre="house", tempo=124, duration=8.0))
    window.controls.duration.setValue(8.0)
    window.controls.engine.setCurrentText("baseline")
    window.generate()
    qtbot.waitUntil(lambda: window.result is not None and not window.busy, timeout=60000)
    assert len(playback.calls) == 1  # the new cue is not started from where the old preview ended
    window.close()
