"""Paths: non-UTF-8 names (Linux bytes), very long names, spaces, quotes and emoji, NUL characters,
read-only folders and a full disk. Readers work on any name the file system allows and refuse the
others with an MtmError naming them; writers fail with an MtmError and leave the user's files as
they were, with no temporary files behind.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess

import pytest

from mtm_daw.describe import describe
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.export import export_cue, files, wav
from mtm_daw.export.files import prepare_output_folder
from mtm_daw.library import LibraryStore
from mtm_daw.media import detect_kind, iter_frames, load_audio, load_image, probe_video
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.pipeline.sync import read_sync
from mtm_daw.score.midi import load_midi_score
from tests.robustness import corrupt
from tests.robustness.corrupt import listing, temp_names


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("samples")
    return {".wav": corrupt.wav_bytes(), ".flac": corrupt.flac_bytes(folder), ".mid": corrupt.midi_bytes(),
            ".png": corrupt.image_bytes("PNG"), ".mp4": corrupt.video_bytes(folder), ".json": corrupt.description_bytes()}


@pytest.fixture(scope="module")
def cue():
    """A 4-second cue through the built-in synth (fast, no SoundFont needed)."""
    return compose_cue(MusicDescription(genre="rock", duration=4), seed=2, settings=RenderSettings(synth="builtin"),
                       warn=lambda message: None)


def read_everything(path: str, suffix: str) -> None:
    """The readers for a file of this kind, as the CLI and the panel call them."""
    assert detect_kind(path) in ("audio", "midi", "image", "video", "text")
    if suffix in (".wav", ".flac"):
        assert load_audio(path).frames > 0
    elif suffix == ".mid":
        assert load_midi_score(path).note_count() > 0
        read_sync(path)
    elif suffix == ".png":
        load_image(path)
        describe(path)
    elif suffix == ".mp4":
        probe_video(path)
        assert list(iter_frames(path))
    elif suffix == ".json":
        MusicDescription.load(path).validate()


def non_utf8(folder, name: bytes) -> str:
    """A path whose last part is not UTF-8 (allowed on Linux), as Python spells it: surrogate escapes."""
    return os.fsdecode(os.fsencode(folder) + b"/" + name)


# --- names --------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mid", ".png", ".mp4", ".json"])
def test_non_utf8_names_are_read(samples, tmp_path, suffix):
    """load_audio and write_wav once failed here: pedalboard takes UTF-8 path strings only."""
    path = non_utf8(tmp_path, b"take-\xff\xfe" + suffix.encode())
    with open(os.fsencode(path), "wb") as handle:
        handle.write(samples[suffix])
    read_everything(path, suffix)


def test_export_into_a_non_utf8_folder(cue, tmp_path):
    written = export_cue(cue, non_utf8(tmp_path, b"cues-\xe9t\xe9"))  # Latin-1 bytes
    assert len(written) == 7 and all(os.path.getsize(os.fsencode(str(p))) > 0 for p in written)


def test_a_library_at_a_non_utf8_path_is_refused_clearly(tmp_path):
    path = non_utf8(tmp_path, b"library-\xff.sqlite")
    with pytest.raises(MtmError, match="cannot use this path for the library"):  # UnicodeEncodeError before
        LibraryStore.open(path)


@pytest.mark.parametrize("suffix", [".wav", ".mid", ".png", ".mp4", ".json"])
def test_names_of_250_characters_are_read(samples, tmp_path, suffix):
    path = tmp_path / ("n" * (250 - len(suffix)) + suffix)
    path.write_bytes(samples[suffix])
    read_everything(str(path), suffix)


def test_names_longer_than_the_file_system_allows(tmp_path):
    """OSError(ENAMETOOLONG) escaped from every one of these before."""
    for suffix, read in ((".wav", load_audio), (".wav", detect_kind), (".mid", load_midi_score), (".png", load_image),
                         (".mp4", probe_video), (".wav", describe), (".json", MusicDescription.load),
                         (".sqlite", LibraryStore.open)):
        path = tmp_path / ("x" * 300 + suffix)
        with pytest.raises(MtmError) as error:
            read(path)
        assert path.name in str(error.value), f"{read.__name__}: {error.value}"
    path = tmp_path / ("ü" * 130 + ".wav")  # 130 characters, 260 bytes
    with pytest.raises(MtmError, match="cannot open this path"):
        load_audio(path)
    with pytest.raises(MtmError, match="cannot create the output folder"):
        prepare_output_folder(tmp_path / ("d" * 300))


def test_a_long_text_idea_is_an_idea_not_a_file_name():
    idea = "a slow, gentle piano piece with soft strings, nostalgic and tender, for the end credits " * 4
    assert len(idea) > 255
    assert describe(idea).genre  # OSError(ENAMETOOLONG) from Path.exists() before


def test_an_export_name_too_long_for_the_file_system(cue, tmp_path):
    folder = tmp_path / "out"
    with pytest.raises(MtmError, match="shorter --name"):  # OSError from FileSet.check_targets before
        export_cue(cue, folder, name="n" * 250)
    assert listing(folder) == {}


def test_spaces_quotes_and_emoji(samples, cue, tmp_path):
    folder = tmp_path / "my cues 'best' \"v2\" ñ 🎵 $HOME `ls` ;"
    folder.mkdir()
    for suffix, data in samples.items():
        path = folder / f"take 1 'a' \"b\" é 🎻{suffix}"
        path.write_bytes(data)
        read_everything(str(path), suffix)
    written = export_cue(cue, folder / "out put", name="my 'cue' \"x\" é 🎵")
    assert all(p.is_file() for p in written)


def test_nul_characters_in_paths(cue, tmp_path):
    """ValueError('embedded null byte') escaped from these before (the Python API; argv cannot hold NUL)."""
    for call in (lambda: load_audio(str(tmp_path / "a\x00b.wav")), lambda: MusicDescription.load("a\x00.json"),
                 lambda: LibraryStore.open(str(tmp_path / "a\x00.sqlite")), lambda: export_cue(cue, str(tmp_path / "o\x00"))):
        with pytest.raises(MtmError):
            call()


# --- read-only folders --------------------------------------------------------------------------
@contextlib.contextmanager
def read_only_folder(base):
    """A folder holding the user's file that this process cannot write to: chmod 555, or for root (who
    ignores permissions) a read-only tmpfs; skipped where neither can be had."""
    folder = base / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        (folder / "mine.wav").write_bytes(b"the user's own take")
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("running as root without permission to mount a read-only tmpfs")
    try:
        (folder / "mine.wav").write_bytes(b"the user's own take")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_read_only_output_folder(cue, tmp_path):
    with read_only_folder(tmp_path) as folder:
        before = listing(folder)
        with pytest.raises(MtmError, match="not writable"):
            export_cue(cue, folder)
        with pytest.raises(MtmError, match="cannot create the output folder"):
            export_cue(cue, folder / "inside")
        with pytest.raises(MtmError, match="cannot create the library here: the folder is read-only"):
            LibraryStore.open(folder / "library.sqlite")
        assert listing(folder) == before


# --- a full disk --------------------------------------------------------------------------------
def fail_once(n: int, error: BaseException, real):
    """A stand-in for `real` whose n-th call raises `error` (after doing nothing)."""
    calls = {"count": 0}

    def call(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == n:
            raise error
        return real(*args, **kwargs)
    return call


class FillingUpAudioFile:
    """pedalboard's AudioFile whose third write stops part way with pedalboard's RuntimeError, as on a full disk."""
    writes = 0

    def __init__(self, *args, **kwargs):
        self.inner = wav_audio_file(*args, **kwargs)

    def __enter__(self):
        self.inner.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self.inner.__exit__(*exc_info)

    def write(self, audio):
        FillingUpAudioFile.writes += 1
        if FillingUpAudioFile.writes == 3:
            self.inner.write(audio[:, :1000])
            raise RuntimeError("Unable to write data to audio file.")
        self.inner.write(audio)


wav_audio_file = wav.AudioFile


@pytest.mark.parametrize("where", ["a stem", "the MIDI file", "the sidecar", "renaming into place"])
def test_a_full_disk_leaves_the_users_files_as_they_were(cue, tmp_path, monkeypatch, where):
    folder = tmp_path / "out"
    export_cue(cue, folder, name="mine")  # the user's earlier render, to be replaced with --overwrite
    before = listing(folder)
    full = OSError(errno.ENOSPC, "No space left on device")
    if where == "a stem":  # pedalboard says RuntimeError; write_wav checks the free space and says ENOSPC
        FillingUpAudioFile.writes = 0
        monkeypatch.setattr(wav, "AudioFile", FillingUpAudioFile)
        monkeypatch.setattr(wav.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1 << 30, 1 << 30, 0))
    elif where == "the MIDI file":
        import mido

        monkeypatch.setattr(mido.MidiFile, "save", fail_once(1, full, mido.MidiFile.save))
    elif where == "the sidecar":
        from pathlib import Path

        monkeypatch.setattr(Path, "write_text", fail_once(1, full, Path.write_text))
    else:  # the old files backed up, two new ones placed, then the third fails to go into place
        real = os.replace
        placed = []

        def replace(source, target):
            if ".part" in os.path.basename(source):
                placed.append(target)
                if len(placed) == 3:
                    raise full
            return real(source, target)
        monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(MtmError, match="No space left on device.*nothing was changed"):
        export_cue(cue, folder, name="mine", overwrite=True)
    assert listing(folder) == before and temp_names(folder) == []


def test_a_really_full_disk(cue, tmp_path):
    """A 1 MB tmpfs (root only): the export fails cleanly; a library write fails and the library stays whole."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and permission to mount a small tmpfs (the injected failures above cover it)")
    try:
        (folder / "mine.txt").write_text("the user's notes")
        with pytest.raises(MtmError, match="No space left on device"):
            export_cue(cue, folder)  # RuntimeError from pedalboard before
        assert listing(folder) == {"mine.txt": b"the user's notes"}
        from tests.test_library_store import make_item, vector

        with LibraryStore.open(folder / "library.sqlite", dim=16) as store:
            with pytest.raises(MtmError, match="disk is full"):
                for batch in range(1000):
                    store.add_items([make_item(batch * 50 + n, caption="x" * 2000) for n in range(50)],
                                    __import__("numpy").stack([vector(batch * 50 + n) for n in range(50)]))
            assert store.verify() == []
            kept = store.count()
        with LibraryStore.open(folder / "library.sqlite") as store:
            assert store.count() == kept and store.verify() == []
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
