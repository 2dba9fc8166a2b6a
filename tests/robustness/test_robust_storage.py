"""Real storage: exports and library commits reach the disk before "done"; the library on read-only media,
a full disk while creating one, and importers, a searcher and the panel's library at once.

The read-only and full-disk cases mount a read-only bind mount and a tiny tmpfs, as a USB stick or a full
drive would be; where this machine cannot mount (no privileges), they are skipped and say so.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest

from mtm_daw.errors import MtmError
from mtm_daw.export import files as export_files

ROOT = Path(__file__).resolve().parents[2]
MTM = [sys.executable, "-m", "mtm_daw.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _midi(path: Path, transpose: int) -> Path:
    """A two-bar tune; each transposition is a different file (another content hash)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("track_name", name="Melody")])
    for pitch in (60, 64, 67, 72, 67, 64, 62, 60):
        track.append(mido.Message("note_on", note=pitch + transpose, velocity=90, time=0))
        track.append(mido.Message("note_off", note=pitch + transpose, velocity=0, time=240))
    midi.tracks.append(track)
    midi.save(path)
    return path


def _mtm(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*MTM, *arguments], capture_output=True, text=True, timeout=timeout, env=ENV, cwd=ROOT)


@contextlib.contextmanager
def _mounted(arguments: list[str], target: Path):
    target.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", *arguments, str(target)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount here ({made.stderr.strip() or made.returncode}): needs a machine that can")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


# --- durability ------------------------------------------------------------------------------------
def test_an_export_reaches_the_disk_before_its_renames_and_after(tmp_path, monkeypatch):
    """Each new file is synced before any rename; the folder before the renames (its backup names) and
    after them (the new names), so a power loss after "done" keeps the new files, whole."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append(("sync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def replace(source, target):
        events.append(("rename", str(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    (tmp_path / "a.txt").write_text("old")
    files = export_files.FileSet(tmp_path, overwrite=True)
    for name in ("a.txt", "b.txt"):
        files.add(name, lambda path, name=name: Path(path).write_text(f"new {name}"))
    files.commit()
    renames = [i for i, (kind, _) in enumerate(events) if kind == "rename"]
    synced_files = [i for i, (kind, path) in enumerate(events) if kind == "sync" and path != str(tmp_path)]
    synced_folder = [i for i, (kind, path) in enumerate(events) if kind == "sync" and path == str(tmp_path)]
    assert len(renames) == 2 and len(synced_files) == 2
    assert max(synced_files) < min(renames)
    assert any(i < min(renames) for i in synced_folder) and any(i > max(renames) for i in synced_folder)
    assert (tmp_path / "a.txt").read_text() == "new a.txt"


def test_library_commits_are_durable(tmp_path):
    """WAL with synchronous=FULL: an import reported done survives a power loss (NORMAL could lose it)."""
    from mtm_daw.library.store import LibraryStore

    with LibraryStore.open(tmp_path / "lib.sqlite") as store:
        run = store._connection.execute
        assert run("PRAGMA journal_mode").fetchall()[0][0] == "wal"
        assert run("PRAGMA synchronous").fetchall()[0][0] == 2  # FULL


# --- the library on real storage -------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_library(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("library")
    songs = folder / "songs"
    songs.mkdir()
    _midi(songs / "tune.mid", 0)
    added = _mtm("library", "--library", str(folder / "lib.sqlite"), "add", str(songs), "--quiet")
    assert added.returncode == 0, added.stderr
    return folder


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_never_writes_and_reads_the_vector_table(small_library, tmp_path):
    """verify opens the file read-only (not a byte changed, nothing logged) and finds a vector table
    that sqlite-vec can no longer search (one of its shadow tables dropped)."""
    import apsw
    import sqlite_vec

    library = tmp_path / "lib.sqlite"
    library.write_bytes((small_library / "lib.sqlite").read_bytes())
    before = _digest(library)
    checked = _mtm("library", "--library", str(library), "verify")
    assert checked.returncode == 0 and "ok" in checked.stdout, checked.stderr
    assert _digest(library) == before
    wal = tmp_path / "lib.sqlite-wal"  # a reader in WAL mode may make the empty log and its index, no more
    assert not wal.exists() or wal.stat().st_size == 0
    connection = apsw.Connection(str(library))
    connection.enable_load_extension(True)
    connection.load_extension(sqlite_vec.loadable_path())
    connection.execute("DROP TABLE item_vectors_rowids")
    connection.close()
    damaged = _mtm("library", "--library", str(library), "verify")
    assert damaged.returncode == 2
    assert "the vector table item_vectors cannot be read" in damaged.stdout + damaged.stderr


def test_the_library_on_read_only_media(small_library, tmp_path):
    """search, ls, stats and verify work from read-only storage (all failed before: "cannot open or write
    the library"); adding says why it cannot, in one line; the file is unchanged."""
    with _mounted(["--bind", "-o", "ro", str(small_library)], tmp_path / "stick") as stick:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(stick)], capture_output=True)
        if os.access(stick, os.W_OK):
            pytest.skip("the bind mount stayed writable on this machine")
        library = str(stick / "lib.sqlite")
        before = _digest(stick / "lib.sqlite")
        for command in (["ls"], ["search", "calm piano", "-k", "3"], ["stats"], ["verify"]):
            run = _mtm("library", "--library", library, *command)
            assert run.returncode == 0, (command, run.stderr)
        search = _mtm("library", "--library", library, "search", str(stick / "songs" / "tune.mid"), "-k", "1")
        assert search.returncode == 0 and "tune.mid" in search.stdout, search.stderr
        added = _mtm("library", "--library", library, "add", str(stick / "songs"))
        lines = added.stderr.strip().splitlines()
        assert added.returncode == 2 and len(lines) == 1 and "read-only storage" in lines[0], added.stderr
        assert _digest(stick / "lib.sqlite") == before


def test_a_full_disk_while_creating_a_library_leaves_no_file(tmp_path):
    """A new library on a disk too small for it: one line, and no lib.sqlite, -wal or -shm left behind
    (all three stayed before, while it said nothing changed)."""
    songs = tmp_path / "songs"
    songs.mkdir()
    _midi(songs / "tune.mid", 2)
    with _mounted(["-t", "tmpfs", "-o", "size=300k", "tmpfs"], tmp_path / "small") as small:
        added = _mtm("library", "--library", str(small / "lib.sqlite"), "add", str(songs))
        assert added.returncode == 2, added.stdout + added.stderr
        assert "the disk is full" in added.stderr
        assert list(small.iterdir()) == []


def test_a_failed_create_removes_what_it_made(tmp_path, monkeypatch):
    """The same promise without a mount: seeding the starter set fails part way."""
    from mtm_daw.library import starter

    def fail(store):
        raise MtmError("seeding failed")

    monkeypatch.setattr(starter, "seed_starter", fail)
    with pytest.raises(MtmError, match="seeding failed"):
        starter.open_library(tmp_path / "lib.sqlite")
    assert list(tmp_path.iterdir()) == []


def _added(stdout: str) -> tuple[int, int]:
    found = re.search(r"added (\d+), already there (\d+)", stdout)
    assert found, stdout
    return int(found.group(1)), int(found.group(2))


def test_two_importers_a_searcher_and_the_panel_at_once(tmp_path):
    """Two `library add` runs over overlapping folders, a command-line search and the panel's library
    adapter searching meanwhile: the counts add up exactly (one said "added 8" when 5 were new), nothing
    fails, and the library verifies."""
    from plugin_ui import library_adapter

    library = tmp_path / "lib.sqlite"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for index in range(10):
        tune = _midi(tmp_path / f"tune{index}.mid", index - 5)
        for folder in ([first] if index < 4 else [second] if index >= 7 else [first, second]):
            (folder / tune.name).write_bytes(tune.read_bytes())
    assert _mtm("library", "--library", str(library), "stats").returncode == 0  # the starter set, made once
    importers = [subprocess.Popen([*MTM, "library", "--library", str(library), "add", str(folder), "--workers", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
                 for folder in (first, second)]
    searches, panel_hits = 0, 0
    while any(process.poll() is None for process in importers):
        searched = _mtm("library", "--library", str(library), "search", "calm piano", "-k", "2")
        assert searched.returncode == 0, searched.stderr
        searches += 1
        panel_hits += len(library_adapter.search_references(str(library), "calm piano", {}, k=2))
        time.sleep(0.2)
    reports = [process.communicate(timeout=300) for process in importers]
    for process, (stdout, stderr) in zip(importers, reports):
        assert process.returncode == 0, stderr
    counts = [_added(stdout) for stdout, _ in reports]
    assert sum(added for added, _ in counts) == 10, counts
    assert counts[0][0] + counts[0][1] == 7 and counts[1][0] + counts[1][1] == 6, counts
    assert searches >= 1 and panel_hits >= 2
    stats = _mtm("library", "--library", str(library), "stats", "--json")
    assert '"user": 10' in stats.stdout, stats.stdout
    assert _mtm("library", "--library", str(library), "verify").returncode == 0
