"""The `mtm` command line on bad input: exit status 2, one line on stderr starting 'mtm: error:', no
traceback, and nothing written. A few cases run as their own `mtm` process (the real entry point:
interpreter exit status, nothing printed past main()); all of them run through `mtm_daw.cli.main` in
one child process, which keeps the suite quick (each `mtm` start imports for about 2 s here).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.robustness import corrupt

ROOT = Path(__file__).resolve().parents[2]


def bad_inputs(folder: Path) -> dict[str, tuple[list[str], str]]:
    """case -> (mtm arguments, a piece of the expected message)."""
    def write(name: str, data: bytes) -> str:
        path = folder / name
        path.write_bytes(data)
        return str(path)

    midi = corrupt.midi_bytes()
    library = write("library.sqlite", corrupt.MAGIC[".sqlite"] + bytes(range(256)) * 64)
    out = str(folder / "out")
    return {
        "PNG named .wav": (["analyze", write("png.wav", corrupt.image_bytes())], "not a readable audio file"),
        "MIDI named .mp4": (["analyze", write("midi.mp4", midi)], "not a readable video file"),
        "truncated WAV": (["analyze", write("cut.wav", corrupt.wav_bytes()[:30])], "cut.wav"),
        "empty MIDI": (["analyze", write("empty.mid", b"")], "empty"),
        "random bytes, no extension": (["analyze", write("noise", b"\0\0\0\7junk" + corrupt.noise(3000, 1))],
                                       "unknown kind of file"),
        "PNG claiming 100000 x 100000": (["analyze", write("bomb.png", corrupt.png_claiming(100_000, 100_000))],
                                         "too large"),
        "MIDI with 0 ticks per beat": (["analyze", write("ticks.mid", midi[:12] + b"\0\0" + midi[14:])],
                                       "0 ticks per beat"),
        "MIDI with a bad key signature": (["describe", write("key.mid", midi.replace(b"\xff\x59\x02\x00\x01",
                                                                                     b"\xff\x59\x02\x00\xc8"))],
                                          "not a readable MIDI file"),
        "description nested 100000 deep": (["describe", write("deep.json", b"[" * 100_000)], "not valid JSON"),
        "description with an unknown mood": (["compose", "--description", write("mood.json", b'{"mood": "balm"}'),
                                              "-o", out], "unknown mood 'balm'"),
        "a 3601 s cue": (["compose", "--duration", "3601", "-o", out], "maximum of 3600 s"),
        "a name too long for the disk": (["describe", str(folder / ("x" * 300 + ".wav"))], "x" * 300),
        "damaged library": (["library", "--library", library, "verify"], "library.sqlite"),
        "sidecar nested deep": (["reproduce", write("deep_description.json", b"{" * 100_000), "-o", out],
                                "not a readable sidecar"),
        "remix of what is not a sidecar": (["remix", write("notes_description.json", b'{"mood": "calm"}'),
                                            "--mute", "bass", "-o", out], "notes_description.json"),
    }


PROCESS_CASES = ["PNG named .wav", "description nested 100000 deep", "damaged library"]


def check(case: str, code: int, stdout: str, stderr: str, expected: str) -> None:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and "internal error" not in stderr, f"{case}: {stderr}"
    assert code == 2, f"{case}: exit {code}, stderr {stderr!r}"
    assert len(lines) == 1 and lines[0].startswith("mtm: error:"), f"{case}: stderr {stderr!r}"
    assert expected in lines[0], f"{case}: {lines[0]!r} does not say {expected!r}"


@pytest.mark.parametrize("case", PROCESS_CASES)
def test_mtm_process_on_bad_input(tmp_path, case):
    arguments, expected = bad_inputs(tmp_path)[case]
    run = subprocess.run([sys.executable, "-m", "mtm_daw.cli", *arguments], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    check(case, run.returncode, run.stdout, run.stderr, expected)
    assert not (tmp_path / "out").exists()


def run_main_cases(folder: str) -> dict:
    """In the child: every case through mtm_daw.cli.main, with its exit status and output."""
    import contextlib
    import io

    from mtm_daw.cli import main

    results = {}
    for case, (arguments, _) in bad_inputs(Path(folder)).items():
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(arguments)
            except SystemExit as exit_:  # argparse
                code = exit_.code
            except BaseException as error:  # would be a traceback from the real entry point
                code, stderr = 99, io.StringIO(f"Traceback: {type(error).__name__}: {error}")
        results[case] = (code, stdout.getvalue(), stderr.getvalue())
    return results


def test_every_bad_input_through_main(tmp_path):
    code = ("import json, sys; from tests.robustness.test_robust_cli import run_main_cases; "
            "print('RESULTS', json.dumps(run_main_cases(sys.argv[1])))")
    child = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = next((l for l in child.stdout.splitlines() if l.startswith("RESULTS ")), None)
    assert line, f"the child failed: {child.stderr[-2000:]}"
    results = json.loads(line[len("RESULTS "):])
    expected = {case: text for case, (_, text) in bad_inputs(tmp_path).items()}
    assert set(results) == set(expected)
    for case, (code, stdout, stderr) in results.items():
        check(case, code, stdout, stderr, expected[case])
    assert not (tmp_path / "out").exists()


def test_non_utf8_names_print_as_bytes(tmp_path):
    """A strict UTF-8 terminal: `mtm analyze` of a file whose name is not UTF-8 (an internal error before)."""
    name = os.fsencode(tmp_path) + b"/take-\xff.mid"
    with open(name, "wb") as handle:
        handle.write(corrupt.midi_bytes())
    run = subprocess.run([sys.executable, "-m", "mtm_daw.cli", "analyze", os.fsdecode(name)], capture_output=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"})
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert b"take-\xff.mid" in run.stdout
