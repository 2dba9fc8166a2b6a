"""The library end to end on real files: import (tagging, transcription, resumable), search, CLI, retrieval."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mtm_daw.description import GENRES, MOODS, MusicDescription
from mtm_daw.library.importer import collect_files, import_paths
from mtm_daw.library.starter import STARTER_PARTITION, load_index, open_library
from tests.conftest import requires_soundfont

pytestmark = requires_soundfont


def _write_cue_audio(path: Path, genre: str, tempo: float, key: str, seed: int) -> None:
    from pedalboard.io import AudioFile

    from mtm_daw.compose.baseline import compose
    from mtm_daw.render import make_renderer, render_mono

    score = compose(MusicDescription(genre=genre, mood="calm", tempo=tempo, key=key, duration=12), seed=seed)
    mono = render_mono(score, make_renderer(sample_rate=44100, warn=lambda m: None), 12.0)
    with AudioFile(str(path), "w", 44100, 2) as handle:
        handle.write(np.stack([mono, mono]) * 0.5)


def _write_midi(path: Path, genre: str, seed: int) -> None:
    from mtm_daw.compose.baseline import compose
    from mtm_daw.score.midi import score_to_midi

    score = compose(MusicDescription(genre=genre, mood="dark", tempo=90, key="D minor", duration=10), seed=seed)
    score_to_midi(score).save(str(path))


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    (folder / "drums and keys").mkdir()
    _write_cue_audio(folder / "drums and keys" / "groove 120.wav", "rock", 120, "E minor", 1)
    _write_midi(folder / "theme.mid", "cinematic", 2)
    (folder / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + os.urandom(300))
    (folder / "readme.txt").write_text("not music")
    (folder / ".hidden.wav").write_bytes(b"junk")
    return folder


@pytest.fixture(scope="module")
def imported(media, tmp_path_factory):
    library = tmp_path_factory.mktemp("lib") / "library.sqlite"
    report = import_paths(library, [media], workers=1)
    return library, report


def test_collect_files_finds_audio_and_midi_recursively_and_skips_the_rest(media):
    found, problems = collect_files([media, media / "readme.txt", media / "missing.wav"])
    names = sorted(p.name for p, _ in found)
    assert names == ["broken.wav", "groove 120.wav", "theme.mid"]
    assert {Path(p).name for p, _ in problems} == {"readme.txt", "missing.wav"}


def test_import_tags_audio_and_midi_and_reports_the_broken_file(imported):
    library, report = imported
    assert report.added == 2 and report.skipped == 0
    assert [Path(p).name for p, _ in report.failed] == ["broken.wav"]
    assert "broken.wav" in report.failed[0][1]
    with open_library(library) as store:
        items = {Path(i.path).name: i for i in store.list_items(partition="user")}
        assert store.count(STARTER_PARTITION) == len(load_index()["items"])  # a new library gets the starter set
        assert store.verify() == []
    audio, midi = items["groove 120.wav"], items["theme.mid"]
    assert abs(audio.bpm - 120) <= 3, audio.bpm
    assert audio.key.startswith("E") or audio.key == "G major", audio.key  # E minor or its relative major
    assert audio.genre in GENRES and audio.mood in MOODS and 0 < audio.genre_confidence <= 1
    assert audio.instruments and audio.caption and len(audio.beat_times) > 10
    assert audio.loudness < -5 and abs(audio.duration - 12.0) < 0.1
    from mtm_daw.score.midi import load_midi_score

    notes = load_midi_score(audio.notes_path)  # the transcription is cached as MIDI
    assert notes.note_count() > 10
    assert midi.bpm == 90 and midi.key == "D minor" and midi.kind == "midi"
    assert "drums" in midi.instruments and midi.notes_path == midi.path


def test_a_second_import_skips_what_is_already_there(imported, media):
    library, _ = imported
    again = import_paths(library, [media], workers=1)
    assert again.added == 0 and again.skipped == 2 and len(again.failed) == 1


def test_text_search_and_targeted_filters(imported):
    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.library.item import SearchFilters
    from mtm_daw.library.search import search

    library, _ = imported
    query = JointEmbedder.default().embed_text(["orchestral chorale with strings"])[0]
    with open_library(library) as store:
        broad = search(store, query, SearchFilters(), k=10)
        targeted = search(store, query, SearchFilters(genre="jazz", partition=STARTER_PARTITION), k=5)
        tempo = search(store, query, SearchFilters(bpm_min=85, bpm_max=95), k=50)
    assert len(broad) == 10 and all(r.track == "broad" for r in broad)
    assert sum(r.item.genre == "orchestral" for r in broad) >= 5
    assert targeted and all(r.item.genre == "jazz" and r.item.partition == STARTER_PARTITION for r in targeted)
    assert all(set(r.matched) == {"genre", "partition"} for r in targeted)
    assert tempo and all(85 <= r.item.bpm <= 95 for r in tempo)


def test_retrieval_for_a_description_gives_a_control_signal(imported):
    from mtm_daw.engine.control import CONTROL_FEATURES
    from mtm_daw.library.retrieve import retrieve_control

    library, _ = imported
    description = MusicDescription(genre="jazz", mood="calm", tempo=100, key="F major", duration=20)
    control, reference = retrieve_control(description, library, strength=0.6)
    assert control.features.shape[1] == CONTROL_FEATURES and control.features.any()
    assert control.strength == 0.6 and str(reference.item.id) in control.source
    assert reference.item.genre == "jazz" and "genre" in reference.matched


def _mtm(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtm_daw.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_cli_search_ls_edit_verify_and_bad_input(imported, tmp_path):
    library, _ = imported
    found = _mtm("library", "--library", str(library), "search", "dark cinematic", "--genre", "cinematic",
                 "--bpm", "60-140", "--json")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert results and all(r["item"]["genre"] == "cinematic" and 60 <= r["item"]["bpm"] <= 140 for r in results)
    hostile = _mtm("library", "--library", str(library), "search", "x'); DROP TABLE items;--", "--json")
    assert hostile.returncode == 0 and json.loads(hostile.stdout)
    bad_range = _mtm("library", "--library", str(library), "search", "jazz", "--bpm", "fast")
    assert bad_range.returncode == 2 and "BPM range" in bad_range.stderr and "Traceback" not in bad_range.stderr
    listing = _mtm("library", "--library", str(library), "ls", "--partition", "user", "--json")
    item_id = json.loads(listing.stdout)[0]["id"]
    edited = _mtm("library", "--library", str(library), "edit", str(item_id), "--licence", "CC-BY-4.0",
                  "--source", "my own session")
    assert edited.returncode == 0, edited.stderr
    with open_library(library) as store:
        assert store.get(item_id).licence == "CC-BY-4.0"
    assert _mtm("library", "--library", str(library), "verify").returncode == 0


def test_a_damaged_library_is_reported_and_left_as_it_was(tmp_path):
    damaged = tmp_path / "library.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    before = damaged.read_bytes()
    result = _mtm("library", "--library", str(damaged), "verify")
    assert result.returncode == 2 and str(damaged) in result.stderr and "Traceback" not in result.stderr
    search = _mtm("library", "--library", str(damaged), "search", "jazz")
    assert search.returncode == 2
    assert damaged.read_bytes() == before


def test_two_files_at_once_tag_as_one_at_a_time_does(media, imported, tmp_path):
    """Two tagging threads on one-thread sessions (the default on 2 cores) give the items one thread gives."""
    library, _ = imported
    report = import_paths(tmp_path / "two.sqlite", [media], workers=2, notes_dir=tmp_path / "notes")
    assert report.added == 2 and [Path(p).name for p, _ in report.failed] == ["broken.wav"]
    with open_library(library) as one, open_library(tmp_path / "two.sqlite") as two:
        alone = {i.content_hash: i for i in one.list_items(partition="user")}
        together = {i.content_hash: i for i in two.list_items(partition="user")}
        assert alone.keys() == together.keys()
        for content_hash, item in together.items():
            first = alone[content_hash]
            assert (item.genre, item.mood, item.key, item.instruments) == \
                (first.genre, first.mood, first.key, first.instruments)
            assert item.bpm == pytest.approx(first.bpm) and item.beat_times == first.beat_times
            assert item.genre_confidence == pytest.approx(first.genre_confidence, abs=1e-3)
            # the same embedding to float rounding (one-thread and two-thread sessions)
            assert np.allclose(two.window_vectors([item.id])[item.id], one.window_vectors([first.id])[first.id],
                               atol=1e-4)
    transcribed = [i for i in together.values() if i.kind == "audio"][0]
    assert Path(transcribed.notes_path).parent == tmp_path / "notes" and Path(transcribed.notes_path).is_file()


def test_cancelling_an_import_on_two_threads_keeps_what_finished(tmp_path):
    from mtm_daw.progress import CancelToken

    folder = tmp_path / "many"
    folder.mkdir()
    for seed in range(8):
        _write_midi(folder / f"piece {seed}.mid", GENRES[seed % len(GENRES)], 200 + seed)
    token = CancelToken()

    def progress(stage: str, fraction: float) -> None:
        if stage == "tagging" and fraction > 0:
            token.cancel()  # after the first file is written

    library = tmp_path / "cancelled.sqlite"
    report = import_paths(library, [folder], workers=2, progress=progress, cancel=token)
    assert report.cancelled and 1 <= report.added < 8 and not report.failed
    with open_library(library, create=False) as store:
        assert store.verify() == [] and store.count("user") == report.added
    finished = import_paths(library, [folder], workers=2)  # a rerun adds the rest
    assert finished.added == 8 - report.added and finished.skipped == report.added


def test_a_fresh_process_tagging_midi_on_two_threads_still_prints_its_summary(tmp_path):
    """Both threads' first MIDI file loads FluidSynth, whose import is silenced by swapping sys.stdout: done
    twice at once, the swaps could leave the process writing into a buffer (the summary line lost)."""
    folder = tmp_path / "midi"
    folder.mkdir()
    for seed in range(4):
        _write_midi(folder / f"theme {seed}.mid", GENRES[seed % len(GENRES)], 300 + seed)
    result = _mtm("library", "--library", str(tmp_path / "lib.sqlite"), "add", str(folder), "--workers", "2",
                  "--quiet")
    assert result.returncode == 0, result.stderr
    assert "added 4, already there 0, failed 0" in result.stdout


def test_killing_an_import_leaves_a_consistent_library_and_a_rerun_finishes(media, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for seed in range(6):
        _write_midi(folder / f"piece {seed}.mid", GENRES[seed % len(GENRES)], 100 + seed)
    library = tmp_path / "killed.sqlite"
    process = subprocess.Popen([sys.executable, "-m", "mtm_daw.cli", "library", "--library", str(library), "add",
                                str(folder), "--workers", "1", "--quiet"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    user_items = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if library.exists():
            try:
                with open_library(library, create=False) as store:
                    user_items = store.count("user")
            except Exception:
                continue
            if user_items >= 1:
                break
    if process.poll() is not None:
        pytest.fail("the import finished before it could be killed; give it more files")
    process.send_signal(signal.SIGKILL)
    process.wait()
    with open_library(library, create=False) as store:
        assert store.verify() == []
        kept = store.count("user")
    assert 1 <= kept < 6
    finished = import_paths(library, [folder], workers=1)
    assert finished.skipped == kept and finished.added == 6 - kept


def test_two_library_add_processes_at_once_both_finish(tmp_path):
    folders = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        for seed in range(3):
            _write_midi(folder / f"{side}{seed}.mid", GENRES[seed], 300 + seed + (10 if side == "b" else 0))
        folders.append(folder)
    library = tmp_path / "shared.sqlite"
    with open_library(library):  # created and seeded first, as a panel or an earlier import would have
        pass
    processes = [subprocess.Popen([sys.executable, "-m", "mtm_daw.cli", "library", "--library", str(library), "add",
                                   str(folder), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for folder in folders]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    with open_library(library, create=False) as store:
        assert store.count("user") == 6
        assert store.verify() == []


def test_a_copy_of_a_file_in_the_same_import_is_added_once(tmp_path):
    folder = tmp_path / "copies"
    folder.mkdir()
    _write_midi(folder / "theme.mid", "jazz", 7)
    (folder / "theme copy.mid").write_bytes((folder / "theme.mid").read_bytes())
    report = import_paths(tmp_path / "copies.sqlite", [folder], workers=1, transcribe=False)
    assert report.added == 1 and report.skipped == 1 and not report.failed


def test_search_by_sound_ranks_the_file_itself_first(imported, media):
    library, _ = imported
    found = _mtm("library", "--library", str(library), "search", str(media / "theme.mid"), "-k", "3", "--json")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert Path(results[0]["item"]["path"]).name == "theme.mid" and results[0]["score"] > 0.99


def _library_from_an_older_model(media, folder: Path) -> tuple[Path, dict[str, int]]:
    """A library (no starter set) of the two sample files whose vectors come from 'an older model':
    random vectors and another model name, as an update that ships a new joint model leaves it."""
    import shutil

    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.library.store import LibraryStore
    from mtm_daw.library.tagging import tag_file

    folder.mkdir()
    shutil.copy(media / "theme.mid", folder / "theme.mid")
    shutil.copy(media / "drums and keys" / "groove 120.wav", folder / "groove.wav")
    rng = np.random.default_rng(0)
    ids = {}
    with LibraryStore.open(folder / "library.sqlite", embedding_model="joint_embedding:0ld") as store:
        for name, kind in (("theme.mid", "midi"), ("groove.wav", "audio")):
            tagged = tag_file(folder / name, kind, JointEmbedder.default(), transcribe=False)
            ids[name] = store.add_item(tagged.item, rng.standard_normal(store.dim), rng.standard_normal((2, store.dim)))
        store.update_tags(ids["groove.wav"], genre="funk", licence="CC-BY 4.0")  # the user's edits
    return folder / "library.sqlite", ids


def test_reembed_brings_a_library_to_the_shipped_model_keeping_edits(media, tmp_path):
    library, ids = _library_from_an_older_model(media, tmp_path / "lib")
    refused = _mtm("library", "--library", str(library), "search", "rock", "--json")
    assert refused.returncode == 2 and "mtm library reembed" in refused.stderr and "Traceback" not in refused.stderr
    checked = _mtm("library", "--library", str(library), "verify")
    assert checked.returncode == 0 and ": ok" in checked.stdout and "mtm library reembed" in checked.stdout

    (tmp_path / "lib" / "theme.mid").rename(tmp_path / "theme.mid")  # a file moved away meanwhile
    before = library.read_bytes()
    missing = _mtm("library", "--library", str(library), "reembed", "--quiet")
    assert missing.returncode == 2 and "theme.mid" in missing.stderr and "--drop-missing" in missing.stderr
    assert library.read_bytes() == before, "nothing changes while an item cannot be embedded"

    (tmp_path / "theme.mid").rename(tmp_path / "lib" / "theme.mid")
    done = _mtm("library", "--library", str(library), "reembed", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "embedded 2 item(s) again" in done.stdout
    found = _mtm("library", "--library", str(library), "search", str(tmp_path / "lib" / "theme.mid"), "-k", "2", "--json")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert results[0]["item"]["id"] == ids["theme.mid"] and results[0]["score"] > 0.99
    groove = next(r["item"] for r in results if r["item"]["id"] == ids["groove.wav"])
    assert groove["genre"] == "funk" and groove["licence"] == "CC-BY 4.0"
    again = _mtm("library", "--library", str(library), "reembed")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    from mtm_daw.library.store import LibraryStore

    with LibraryStore.open(library) as store:  # an item stored without window embeddings
        store.add_item(replace(store.get(ids["groove.wav"]), id=None, partition="elsewhere"), np.ones(store.dim))
    redo = _mtm("library", "--library", str(library), "reembed", "--quiet")
    assert redo.returncode == 0 and "embedded 3 item(s) again" in redo.stdout
    assert _mtm("library", "--library", str(library), "verify").returncode == 0


def test_reembed_can_drop_items_whose_file_is_gone(media, tmp_path):
    library, ids = _library_from_an_older_model(media, tmp_path / "lib")
    (tmp_path / "lib" / "groove.wav").unlink()
    done = _mtm("library", "--library", str(library), "reembed", "--drop-missing", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "removed 1" in done.stdout and "groove.wav" in done.stderr
    listed = json.loads(_mtm("library", "--library", str(library), "ls", "--json").stdout)
    assert [item["id"] for item in listed] == [ids["theme.mid"]]


def test_a_query_is_a_sound_only_when_it_names_an_existing_file(tmp_path):
    from pedalboard.io import AudioFile

    from mtm_daw.library.tagging import query_embedding

    class Embedder:
        def embed_text(self, texts):
            return np.full((len(texts), 4), 0.5, np.float32)

        def embed_audio_windows(self, samples, sample_rate, cancel=None):
            return np.eye(4, dtype=np.float32)[:2]

    folder = tmp_path / "My Loops"
    folder.mkdir()
    loop = folder / "beat one.m4a.wav"  # spaces, and a name no extension list would guess
    with AudioFile(str(loop), "w", 22050, 1) as out:
        out.write(np.sin(np.arange(22050, dtype=np.float32) / 10)[None, :])
    vector, windows = query_embedding(str(loop), Embedder())
    assert windows.shape == (2, 4) and np.allclose(vector, np.array([1, 1, 0, 0]) / np.sqrt(2))
    for words in ("lofi/hiphop", "r&b/soul", "warm jazz trio", str(tmp_path / "missing.wav")):
        vector, windows = query_embedding(words, Embedder())
        assert windows is None and np.allclose(vector, 0.5), words
    missing = _mtm("library", "--library", str(tmp_path / "lib.sqlite"), "search", str(tmp_path / "missing.wav"))
    assert missing.returncode == 2 and "no such file to search by sound" in missing.stderr


def test_the_starter_set_comes_with_window_embeddings_and_survives_a_damaged_windows_file(tmp_path):
    import shutil

    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.library.search import search
    from mtm_daw.library.starter import STARTER_DIR, WINDOWS_FILE, seed_starter
    from mtm_daw.library.store import LibraryStore
    from mtm_daw.library.tagging import query_embedding

    pieces = len(load_index()["items"])
    assert pieces >= 24 * 3  # three per style and the corpus pieces
    with open_library(tmp_path / "fresh.sqlite") as store:
        assert store.count(STARTER_PARTITION) == pieces and store.count_without_windows() == 0
        piece = STARTER_DIR / load_index()["items"][5]["file"]
        vector, windows = query_embedding(str(piece), JointEmbedder.default())
        best = search(store, vector, k=3, query_windows=windows)[0]
        assert Path(best.item.path).name == piece.name and best.score > 0.95
    copy = tmp_path / "starter"
    shutil.copytree(STARTER_DIR, copy)
    (copy / WINDOWS_FILE).write_bytes(b"PK\x03\x04 damaged")
    with LibraryStore.open(tmp_path / "damaged.sqlite") as store:
        assert seed_starter(store, copy) == pieces and store.count_without_windows() == pieces
