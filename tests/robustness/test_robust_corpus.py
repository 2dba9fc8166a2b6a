"""The hostile corpus (tests/robustness/hostile.py, 150+ files) through every command a user would try on
each: analyze and describe for all; compose --reference for audio, render for MIDI, score for video,
compose --description for descriptions; then library add of the whole folder and a search by the densest
MIDI file. Each call runs through mtm's real entry point (cli.main) in one child process, so a crash in
native code shows as the case it died on, and the child's peak memory is measured.

Every call must end in exit 0, or exit 2 with one line "mtm: error: ..." naming the file; nothing from
other libraries (warnings, FluidSynth's log) on the way; within 30 s; under 1 GB for the whole run; and a
failed call leaves no output folder behind.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pedalboard.io import AudioFile

from tests.robustness.corrupt import peak_memory_mb
from tests.robustness.hostile import Case, build_corpus

ROOT = Path(__file__).resolve().parents[2]
CALL_SECONDS = 30.0
SECONDS_PER_MINUTE_MADE = 4.0  # more for a call that writes a long cue (a damaged delta time, a video's odd
                               # clock): long work is not a hang
PEAK_MB = 1000
CHILD_SECONDS = 600  # one command over the whole corpus
FOREIGN_OUTPUT = ("Traceback", "Warning", "warning:", "fluidsynth", "Ringbuffer", "numba", "librosa")


COMMANDS = ("analyze", "describe", "compose --reference", "render", "score", "compose --description")


def arguments_for(command: str, case: Case, out: Path) -> list[str] | None:
    """The command's arguments for this file, or None when the command does not take its kind."""
    path = str(case.path)
    if command in ("analyze", "describe"):
        return [command, path]
    if command == "compose --reference" and case.kind == "audio":
        return ["compose", "--engine", "dit", "--steps", "2", "--reference", path, "--duration", "4", "-o", str(out)]
    if command == "render" and case.kind == "midi":
        return ["render", path, "-o", str(out)]
    if command == "score" and case.kind == "video":
        return ["score", path, "--engine", "baseline", "-o", str(out)]
    if command == "compose --description" and case.kind == "description":
        return ["compose", "--description", path, "--engine", "baseline", "-o", str(out)]
    return None


def _call(arguments: list[str]) -> tuple[int, str, str, float]:
    from mtm_daw.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(arguments)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
        except BaseException as error:  # the real entry point would print a traceback
            code = 99
            stderr.write(f"Traceback: {type(error).__name__}: {error}")
    return code, stdout.getvalue(), stderr.getvalue(), time.monotonic() - started


def _minutes(path: Path) -> float:
    with AudioFile(str(path)) as audio:
        return audio.duration / 60


def run_command(folder: str, command: str) -> dict:
    """In a child of its own (so its peak memory is one command's): `command` over every case that it takes,
    or for "library", an add of the whole corpus and a search by its densest MIDI file."""
    folder = Path(folder)
    cases = [Case(c["name"], Path(c["path"]), c["kind"]) for c in json.loads((folder / "cases.json").read_text())]
    results = []
    with open(folder / f"progress {command}.txt", "w") as log:
        if command == "library":
            library = str(folder / "library.sqlite")
            add = _call(["library", "--library", library, "add", str(folder / "corpus"), "--workers", "1"])
            dense = next(c for c in cases if c.name == "mid, 3072 notes at one instant")
            search = _call(["library", "--library", library, "search", str(dense.path), "--json", "-k", "3"])
            results = [{"case": "library add", "code": add[0], "stdout": add[1][-3000:], "stderr": add[2][-3000:]},
                       {"case": "library search", "code": search[0], "stdout": search[1], "stderr": search[2][-3000:],
                        "file": dense.path.name}]
        for index, case in enumerate(cases if command != "library" else []):
            out = folder / "out" / f"{command} {index:03d}"
            arguments = arguments_for(command, case, out)
            if arguments is None:
                continue
            log.write(f"{case.name}\n")
            log.flush()
            code, stdout, stderr, seconds = _call(arguments)
            left = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
            made = sum(_minutes(mix) for mix in out.glob("*_mix.wav")) if out.is_dir() else 0.0
            results.append({"case": case.name, "command": command, "code": code, "stderr": stderr[-2000:],
                            "stdout": stdout[-300:], "seconds": round(seconds, 2), "left": left,
                            "minutes_made": round(made, 2),
                            "file": case.path.name,  # the peak only grows: the case that raised it shows
                            "peak_mb": round(peak_memory_mb())})
    return {"results": results, "peak_mb": peak_memory_mb()}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hostile")
    cases = build_corpus(folder / "corpus")
    (folder / "cases.json").write_text(json.dumps([{"name": c.name, "path": str(c.path), "kind": c.kind}
                                                   for c in cases]))
    code = ("import json, sys; from tests.robustness.test_robust_corpus import run_command; "
            "print('RESULTS', json.dumps(run_command(sys.argv[1], sys.argv[2])))")
    run = {"cases": len(cases), "results": [], "peak_mb": {}}
    for command in (*COMMANDS, "library"):
        child = subprocess.run([sys.executable, "-c", code, str(folder), command], cwd=ROOT, capture_output=True,
                               text=True, timeout=CHILD_SECONDS, env={**os.environ, "PYTHONPATH": str(ROOT)})
        line = next((l for l in child.stdout.splitlines() if l.startswith("RESULTS ")), None)
        progress = folder / f"progress {command}.txt"
        last = progress.read_text().splitlines()[-1:] if progress.exists() else []
        assert line, f"{command}: the child died (exit {child.returncode}) on {last}: {child.stderr[-2000:]}"
        outcome = json.loads(line[len("RESULTS "):])
        if command == "library":
            run["library"] = outcome["results"]
        else:
            run["results"] += outcome["results"]
        run["peak_mb"][command] = round(outcome["peak_mb"])
    return run


def test_the_corpus_is_large(corpus_run):
    assert corpus_run["cases"] >= 150


def test_every_call_exits_0_or_2(corpus_run):
    wrong = [(r["case"], r["command"], r["code"], r["stderr"][-300:]) for r in corpus_run["results"]
             if r["code"] not in (0, 2)]
    assert not wrong, wrong


def test_a_refusal_is_one_line_naming_the_file(corpus_run):
    wrong = []
    for r in corpus_run["results"]:
        lines = r["stderr"].strip().splitlines()
        if r["code"] == 2 and not (len(lines) == 1 and lines[0].startswith("mtm: error: ")):
            wrong.append((r["case"], r["command"], r["stderr"]))
    assert not wrong, wrong


def test_nothing_from_other_libraries_is_printed(corpus_run):
    wrong = [(r["case"], r["command"], r["stderr"][-300:]) for r in corpus_run["results"]
             if any(word in r["stderr"] for word in FOREIGN_OUTPUT)]
    assert not wrong, wrong


def test_every_call_is_quick(corpus_run):
    slow = [(r["case"], r["command"], r["seconds"], r["minutes_made"]) for r in corpus_run["results"]
            if r["seconds"] > CALL_SECONDS + SECONDS_PER_MINUTE_MADE * r["minutes_made"]]
    assert not slow, slow


def test_a_refused_call_leaves_nothing(corpus_run):
    left = [(r["case"], r["command"], r["left"]) for r in corpus_run["results"] if r["code"] == 2 and r["left"]]
    assert not left, left


def test_valid_files_pass(corpus_run):
    failed = [(r["case"], r["command"], r["stderr"]) for r in corpus_run["results"]
              if r["case"].endswith(", valid") and r["code"] != 0]
    assert not failed, failed


@pytest.mark.parametrize("case, needle", [
    ("wav, 1 Hz (a segfault in numba before)", "sample rate of 1 Hz is outside 8000..384000 Hz"),
    ("wav, 33 channels", "33 channels is outside 1..32"),
    ("mid, type 2", "type-2 MIDI"),
    ("mid, SMPTE division (25 fps)", "SMPTE"),
    ("a FIFO named .wav", "not a regular file"),
    ("a folder named .mid", "is a folder"),
])
def test_the_same_verdict_from_every_command(corpus_run, case, needle):
    """The reader policy: every command that reads the file refuses it with the same words."""
    calls = [r for r in corpus_run["results"] if r["case"] == case]
    assert len(calls) >= 3
    for r in calls:
        assert r["code"] == 2 and needle in r["stderr"], (r["command"], r["stderr"])


def test_a_lying_header_reads_what_the_file_holds(corpus_run):
    """A WAV claiming 2^31 frames over 1,000 samples: every command sees 1,000 samples (a 600 s description
    at 1.2-2.2 GB before, while analyze refused it)."""
    calls = {r["command"]: r for r in corpus_run["results"] if r["case"] == "wav, data claims 2^31 frames over 1000 samples"}
    assert calls["analyze"]["code"] == 0 and "0.0454" in calls["analyze"]["stdout"], calls["analyze"]


@pytest.mark.parametrize("case", ["wav, mu-law 1 s (valid)", "wav, A-law 1 s (valid)"])
def test_a_compressed_wav_is_read_whole(corpus_run, case):
    """The size check is for plain PCM: one byte a sample (mu-law, A-law) is not a cut-short file."""
    analyze = next(r for r in corpus_run["results"] if r["case"] == case and r["command"] == "analyze")
    assert analyze["code"] == 0 and "duration: 1.0" in analyze["stdout"], analyze


def test_many_tracks_make_roles_not_files(corpus_run):
    render = next(r for r in corpus_run["results"] if r["case"] == "mid, 1000 tracks" and r["command"] == "render")
    assert render["code"] == 0, render["stderr"]


def test_library_add_and_search_of_the_corpus(corpus_run):
    """One damaged file never stops an import; a dense MIDI file (3,072 notes at once, dropped by FluidSynth
    with 344,484 lines of log before) renders every note and finds itself first by sound."""
    add, search = corpus_run["library"]
    assert add["code"] == 0, add["stderr"]
    assert "added" in add["stdout"] and "failed" in add["stdout"], add["stdout"]
    for call in (add, search):
        assert not any(word in call["stderr"] for word in FOREIGN_OUTPUT), call["stderr"][-1000:]
    assert search["code"] == 0, search["stderr"]
    hits = json.loads(search["stdout"])
    assert hits and Path(hits[0]["item"]["path"]).name == search["file"], hits[:1]


def test_memory_stays_bounded(corpus_run):
    """Each command over the whole corpus, in a process of its own, stays under 1 GB (library add of the
    corpus peaked at 1187 MB before: a SoundFont loaded whole per renderer, a 10-minute spectrogram in one
    piece and pyloudnorm's float64 copies; 796 MB measured after)."""
    rises = [(r["command"], r["case"], r["peak_mb"]) for r in corpus_run["results"] if r["peak_mb"] >= PEAK_MB]
    assert max(corpus_run["peak_mb"].values()) < PEAK_MB, (corpus_run["peak_mb"], rises[:3])
