"""Library import throughput, as ratios measured in this run:

    .venv/bin/python benchmarks/bench_import.py [--clips 12] [--seconds 30]

Renders `clips` audio files (baseline-composer cues, `seconds` long, 44.1 kHz stereo WAV) and MIDI
files, then imports each set into a fresh library one file at a time (on two-thread onnxruntime sessions)
and two files at once (threads of one process, one-thread sessions each: the default on 2 cores), with and
without note transcription. Prints clips per second and the two-worker / one-worker ratio,
and writes benchmarks/results/import.json with the machine's description.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import numpy as np

from mtm_daw.description import GENRES, MOODS, MusicDescription


def make_files(folder: Path, clips: int, seconds: float) -> tuple[Path, Path]:
    from pedalboard.io import AudioFile

    from mtm_daw.render import make_renderer, render_mono
    from mtm_daw.compose.baseline import compose
    from mtm_daw.score.midi import score_to_midi

    audio_dir, midi_dir = folder / "audio", folder / "midi"
    audio_dir.mkdir()
    midi_dir.mkdir()
    renderer = make_renderer(sample_rate=44100, warn=lambda message: None)
    for index in range(clips):
        description = MusicDescription(genre=GENRES[index % len(GENRES)], mood=MOODS[index % len(MOODS)],
                                       tempo=80 + 5 * index, key="A minor", duration=seconds)
        score = compose(description, seed=index)
        mono = render_mono(score, renderer, seconds) * 0.5
        with AudioFile(str(audio_dir / f"clip{index:03d}.wav"), "w", 44100, 2) as handle:
            handle.write(np.stack([mono, mono]))
        score_to_midi(score).save(str(midi_dir / f"clip{index:03d}.mid"))
    return audio_dir, midi_dir


def run(folder: Path, files: Path, workers: int, transcribe: bool) -> float:
    from mtm_daw.library.importer import import_paths

    library = folder / f"lib-{files.name}-{workers}-{transcribe}.sqlite"
    report = import_paths(library, [files], workers=workers, transcribe=transcribe,
                          notes_dir=folder / f"notes-{workers}-{transcribe}")
    if report.failed:
        raise SystemExit(f"import failed: {report.failed}")
    return report.added / report.seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "import.json")
    args = parser.parse_args()
    results = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                           "cpus": os.cpu_count()}, "clips": args.clips, "seconds_per_clip": args.seconds}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        audio, midi = make_files(folder, args.clips, args.seconds)
        from mtm_daw.library.starter import open_library

        for name in ("warm",):  # first use loads the models and seeds a library: keep it out of the timings
            open_library(folder / f"{name}.sqlite").close()
        for label, files, transcribe in (("audio", audio, True), ("audio, no notes", audio, False),
                                         ("midi", midi, False)):
            one = run(folder, files, 1, transcribe)
            two = run(folder, files, 2, transcribe)
            results[label] = {"one_worker_clips_per_s": round(one, 3), "two_workers_clips_per_s": round(two, 3),
                              "ratio": round(two / one, 2),
                              "audio_seconds_per_s_two_workers": round(two * args.seconds, 1)}
            print(f"{label:>16}: 1 worker {one:5.2f} clips/s, 2 workers {two:5.2f} clips/s "
                  f"(x{two / one:.2f}; {two * args.seconds:.0f} s of music per second)")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
