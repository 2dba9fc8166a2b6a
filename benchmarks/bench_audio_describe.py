"""Audio understood at length: a song of N minutes through `mtm analyze`, `mtm describe` and `mtm library
add` (with and without note transcription), each in a process of its own, timed and measured (peak
resident memory of that process), beside the floor of reading the file at all.

    .venv/bin/python benchmarks/bench_audio_describe.py [--minutes 10] [--out results.json]

Issue 18's targets: at most 2 s per minute of audio and 600 MB for describe and for library tagging. The
song is made here (a click on every beat at 122 BPM, an A major chord that swells, a little noise), 44.1 kHz
stereo WAV; what is measured is the cost of the analysis, not whether it hears this song right.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

ROOT = Path(__file__).resolve().parents[1]
SECONDS_PER_MINUTE_TARGET = 2.0
PEAK_MB_TARGET = 600


def write_song(path: Path, minutes: float, rate: int = 44100) -> Path:
    """The song, written a minute at a time."""
    beat = 60.0 / 122
    with AudioFile(str(path), "w", rate, 2) as handle:
        for first in range(0, int(minutes * 60 * rate), 60 * rate):
            t = (first + np.arange(min(60 * rate, int(minutes * 60 * rate) - first))) / rate
            click = np.exp(-30 * (t % beat)) * np.sin(2 * np.pi * 80 * t)
            chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) * 0.1 * (1 + 0.3 * np.sin(t / 1.3))
            noise = np.random.default_rng(first).standard_normal(len(t)) * 0.01
            mono = (0.4 * click + chord + noise).astype(np.float32)
            handle.write(np.stack([mono, mono]))
    return path


def measure(arguments: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MB of the child, exit status) of one command."""
    started = time.perf_counter()
    child = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args()
    mtm = [sys.executable, "-m", "mtm_daw.cli"]
    with tempfile.TemporaryDirectory(prefix="mtm_bench_audio_") as folder:
        folder = Path(folder)
        songs = folder / "songs"
        songs.mkdir()
        song = write_song(songs / "song.wav", args.minutes)
        library = folder / "library.sqlite"
        measure([*mtm, "library", "--library", str(library), "stats"])  # the starter set, made before timing
        commands = {
            "read the file (floor)": [sys.executable, "-c", "import sys; from mtm_daw.media import load_audio; "
                                      "load_audio(sys.argv[1])", str(song)],
            "mtm analyze": [*mtm, "analyze", str(song)],
            "mtm describe": [*mtm, "describe", str(song), "--quiet"],
            "library add --no-notes": [*mtm, "library", "--library", str(library), "add", str(songs), "--no-notes",
                                       "--workers", "1", "--quiet"],
            "library add (notes)": [*mtm, "library", "--library", str(folder / "notes.sqlite"), "add", str(songs),
                                    "--workers", "1", "--quiet"],
        }
        results = {}
        for name, arguments in commands.items():
            seconds, peak, code = measure(arguments)
            results[name] = {"seconds": round(seconds, 2), "seconds_per_minute": round(seconds / args.minutes, 2),
                             "peak_mb": round(peak), "exit": code}
    floor = results["read the file (floor)"]["seconds"]
    print(f"{args.minutes:g} minutes of 44.1 kHz stereo; targets {SECONDS_PER_MINUTE_TARGET:g} s per minute, "
          f"{PEAK_MB_TARGET} MB")
    print(f"{'':24s} {'s/min':>6s} {'x read':>7s} {'peak MB':>8s} {'x target':>9s}")
    for name, figures in results.items():
        print(f"{name:24s} {figures['seconds_per_minute']:6.2f} {figures['seconds'] / floor:7.1f} "
              f"{figures['peak_mb']:8d} {figures['peak_mb'] / PEAK_MB_TARGET:9.2f}"
              + ("" if figures["exit"] == 0 else f"  (exit {figures['exit']})"))
    if args.out:
        Path(args.out).write_text(json.dumps({"minutes": args.minutes, "results": results}, indent=1))


if __name__ == "__main__":
    main()
