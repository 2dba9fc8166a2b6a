"""Crash safety of export: `mtm compose -o DIR` killed with SIGKILL while it writes, and a kill at every
step of FileSet.commit (each rename), with and without files from an earlier render in the folder.

After any kill, every file under a final name is complete (the earlier render's or the new one's,
never half-written, never missing when it was there before); what else remains has a temporary name
FileSet makes (`.<name>.<pid>.<random>.part<suffix>`, `.<name>.<pid>.old`); and a re-run completes and
clears them.
Library import under kill -9 is covered by tests/test_library_import.py.
"""
from __future__ import annotations

import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest

from mtm_daw.description import MusicDescription
from mtm_daw.export import export_cue, files
from mtm_daw.pipeline import RenderSettings, compose_cue
from tests.robustness.corrupt import temp_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ["compose", "--genre", "rock", "--tempo", "120", "--key", "C major", "--duration", "8", "--synth", "builtin", "--seed", "4",
           "--name", "crash", "--quiet"]
FINAL = {"crash_120bpm_Cmaj_drums.wav", "crash_120bpm_Cmaj_bass.wav", "crash_120bpm_Cmaj_harmony.wav",
         "crash_120bpm_Cmaj_melody.wav", "crash_120bpm_Cmaj_mix.wav", "crash_120bpm_Cmaj.mid",
         "crash_120bpm_Cmaj_description.json"}


def check_complete(folder: Path, expected: set[str] | None = None) -> set[str]:
    """Every file under a final name is whole; the rest carry FileSet's temporary names. Returns the final names."""
    finals = {name for name in os.listdir(folder) if not name.startswith(".")}
    assert set(os.listdir(folder)) - finals == set(temp_names(folder)), f"unexpected files: {os.listdir(folder)}"
    for name in finals:
        path = folder / name
        data = path.read_bytes()
        if name.endswith(".wav"):
            assert data[:4] == b"RIFF" and struct.unpack("<I", data[4:8])[0] == len(data) - 8, f"{name} is cut short"
            from mtm_daw.media import load_audio

            assert load_audio(path).frames > 0
        elif name.endswith(".mid"):
            assert len(mido.MidiFile(path).tracks) >= 2
        elif name.endswith(".json"):
            assert json.loads(data)["name"]
    if expected is not None:
        assert finals == expected, f"files under their final names: {sorted(finals)}"
    return finals


def mtm(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mtm_daw.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_kill_9_while_mtm_compose_writes(tmp_path):
    """Three runs killed at a random moment after the first temporary file appears, then a re-run."""
    folder = tmp_path / "out"
    folder.mkdir()
    rng = random.Random(9)
    outcomes = []
    for attempt in range(3):
        overwrite = ["--overwrite"] if attempt else []  # the later runs replace what an earlier one left
        process = mtm(*COMPOSE, "-o", str(folder), *overwrite)
        deadline = time.monotonic() + 60
        while process.poll() is None and not any(".part" in name for name in os.listdir(folder)):
            assert time.monotonic() < deadline, "mtm compose never started writing"
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.15))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        outcomes.append("killed" if process.returncode == -signal.SIGKILL else f"finished ({process.returncode})")
        assert check_complete(folder) <= FINAL  # whole files only (a kill between renames may leave some of them)
    rerun = mtm(*COMPOSE, "-o", str(folder), "--overwrite")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err.decode()
    check_complete(folder, FINAL)
    assert "killed" in outcomes, outcomes
    assert temp_names(folder) == []  # the re-run cleared what the killed runs left


def test_stale_files_of_a_killed_export_are_cleared_and_nothing_else(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "cue_mix.wav").write_bytes(b"new mix")
        os.link(tmp_path / "cue_mix.wav", tmp_path / f".cue_mix.wav.{dead}.old")  # a second name: dropped
        (tmp_path / f".cue_drums.wav.{dead}.old").write_bytes(b"the only copy")  # moved aside: put back
        (tmp_path / f".cue.mid.{dead}.abcd_123.part.mid").write_bytes(b"half")  # a dead writer's temp: removed
        (tmp_path / f".cue.json.{running.pid}.wxyz_789.part.json").write_bytes(b"busy")  # a live writer's: kept
        (tmp_path / f".notes.txt.{dead}.old").write_text("the user's")  # someone's hidden file, not a second name
        (tmp_path / "notes.txt").write_text("other")
        assert files.remove_stale_files(tmp_path) == 3
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
            "cue_mix.wav", "cue_drums.wav", f".cue.json.{running.pid}.wxyz_789.part.json", f".notes.txt.{dead}.old",
            "notes.txt"])
        assert (tmp_path / "cue_drums.wav").read_bytes() == b"the only copy"
    finally:
        running.kill()
        running.wait()


def test_an_old_version_a_killed_overwrite_left_goes_when_its_name_is_overwritten_again(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    (tmp_path / "cue_mix.wav").write_bytes(b"the killed run's new mix")
    (tmp_path / f".cue_mix.wav.{dead}.old").write_bytes(b"the mix before it")  # kept until cue_mix.wav is redone
    (tmp_path / "cue_bass.wav").write_bytes(b"new bass")
    (tmp_path / f".cue_bass.wav.{dead}.old").write_bytes(b"the bass before it")  # not rewritten now: kept
    fileset = files.FileSet(tmp_path, overwrite=True)
    fileset.add("cue_mix.wav", lambda path: path.write_bytes(b"the re-run's mix"))
    fileset.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".cue_bass.wav.{dead}.old", "cue_bass.wav",
                                                          "cue_mix.wav"]
    assert (tmp_path / "cue_mix.wav").read_bytes() == b"the re-run's mix"


@pytest.fixture(scope="module")
def cue():
    return compose_cue(MusicDescription(genre="rock", tempo=120, duration=4), seed=4,
                       settings=RenderSettings(synth="builtin"), warn=lambda message: None)


def _export_killed_at(cue, folder: Path, call: int, overwrite: bool) -> int:
    """Export in a forked child that SIGKILLs itself on its `call`-th os.replace; the child's wait status."""
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            real = os.replace
            count = [0]

            def replace(source, target):
                count[0] += 1
                if count[0] == call:
                    os.kill(os.getpid(), signal.SIGKILL)
                real(source, target)

            files.os.replace = replace  # files.os is the os module: only this child is affected
            export_cue(cue, folder, name="crash", overwrite=overwrite)
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1]


@pytest.mark.parametrize("overwrite", [False, True], ids=["new folder", "over an earlier render"])
def test_kill_at_every_step_of_the_commit(cue, tmp_path, overwrite):
    """SIGKILL at the 1st, 2nd, ... os.replace of the commit (moving old files aside, then the new ones in)."""
    names = {p.name for p in export_cue(cue, tmp_path / "reference", name="crash")}
    for call in range(1, 3 * len(names)):
        folder = tmp_path / f"kill{call}"
        if overwrite:
            export_cue(cue, folder, name="crash")
            (folder / "mine.txt").write_text("the user's notes")
        status = _export_killed_at(cue, folder, call, overwrite)
        finals = check_complete(folder)
        assert finals <= names | {"mine.txt"}
        if overwrite:  # every earlier file is still there under its name (old or new, whole)
            assert finals == names | {"mine.txt"}, f"killed at rename {call}: missing {sorted(names - finals)}"
            assert (folder / "mine.txt").read_text() == "the user's notes"
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):  # past the last rename
            assert finals >= names and not temp_names(folder)
            break
    else:
        pytest.fail("the export never finished: more renames than expected")
    assert call > len(names), "the kills never reached the renames"
