"""A long cue from the trained generator (overlapping 32-beat windows): time, peak memory, and whether
the window seams show (a gap in the notes, a key jump).

    .venv/bin/python benchmarks/bench_long_cue.py [--minutes 10] [--steps 20]

Reports, for the whole cue: seconds per minute of music, peak resident memory; per window seam: notes
in the bar before and after it (a gap is a bar with no note in any stem); notes outside the key's scale
(the raised 7th allowed in minor); per 32-beat window: the key its notes are heard in
(mtm_daw.score.midi.estimate_key_from_notes) against the cue's key, and the same for --baseline-cues
single-window cues of the same description (the model's own rate, with no seams to drift across).
"""
from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace

from mtm_daw.description import MusicDescription, Section
from mtm_daw.engine.generator import OVERLAP_TOKENS, WINDOW_TOKENS, GenerationSettings
from mtm_daw.pipeline import compose_cue
from mtm_daw.score.midi import estimate_key_from_notes
from mtm_daw.score.score import Score, Track
from mtm_daw.score.roll import KEY_LOCK_STEPS


def window_keys(score: Score) -> list[str]:
    keys = []
    for window_start in range(0, int(score.length_beats) - WINDOW_TOKENS + 1, WINDOW_TOKENS):
        window = [Track(t.role, t.program, [n for n in t.notes if window_start <= n.onset < window_start + WINDOW_TOKENS],
                        t.is_drum) for t in score.tracks.values()]
        keys.append(estimate_key_from_notes(window).name)
    return keys


def notes_outside_scale(score: Score) -> int:
    key = score.parsed_key
    scale = {(key.tonic + step) % 12 for step in KEY_LOCK_STEPS[key.mode]}
    return sum(n.pitch % 12 not in scale for t in score.tracks.values() if not t.is_drum for n in t.notes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--baseline-cues", type=int, default=8)
    arguments = parser.parse_args()
    seconds = arguments.minutes * 60
    sections = [Section(name, seconds * i / 4, seconds * (i + 1) / 4, energy)
                for i, (name, energy) in enumerate([("intro", 0.4), ("verse", 0.6), ("chorus", 0.85), ("outro", 0.5)])]
    description = MusicDescription(genre="cinematic", mood="epic", tempo=120, key="D minor", duration=seconds,
                                   sections=sections)
    start = time.perf_counter()
    cue = compose_cue(description, seed=1, engine="dit", generation=GenerationSettings(steps=arguments.steps),
                      warn=lambda message: None)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    score = cue.score
    print(f"{arguments.minutes:g} min cue, {score.bars} bars, {score.note_count()} notes: {elapsed:.0f} s "
          f"({elapsed / arguments.minutes:.1f} s per minute of music), peak memory {peak_mb:.0f} MB")

    bar = score.beats_per_bar
    onsets = sorted(note.onset for track in score.tracks.values() for note in track.notes)
    empty_bars = [b + 1 for b in range(score.bars) if not any(b * bar <= o < (b + 1) * bar for o in onsets)]
    seams = list(range(WINDOW_TOKENS, int(score.length_beats), WINDOW_TOKENS - OVERLAP_TOKENS))
    around = [(sum(s - bar <= o < s for o in onsets), sum(s <= o < s + bar for o in onsets)) for s in seams]
    print(f"window seams: {len(seams)}; notes in the bar before / after each: "
          f"min {min(a for a, _ in around)} / {min(b for _, b in around)}, "
          f"mean {sum(a for a, _ in around) / len(around):.1f} / {sum(b for _, b in around) / len(around):.1f}")
    print(f"bars with no note in any stem: {len(empty_bars)} {empty_bars[:12]}")
    keys = window_keys(score)
    agreeing = sum(key == score.key for key in keys)
    print(f"notes outside {score.key}'s scale: {notes_outside_scale(score)} of {score.note_count()}")
    print(f"32-beat windows heard in {score.key}: {agreeing}/{len(keys)}; others: "
          f"{sorted({k for k in keys if k != score.key})}")
    single = []
    for seed in range(arguments.baseline_cues):
        short = compose_cue(replace(description, duration=WINDOW_TOKENS * 60 / description.tempo, sections=[]),
                            seed=seed, engine="dit", generation=GenerationSettings(steps=arguments.steps),
                            warn=lambda message: None)
        single += window_keys(short.score)
    print(f"baseline, {arguments.baseline_cues} single-window cues of the same description: "
          f"{sum(key == score.key for key in single)}/{len(single)} heard in {score.key}")
    print(f"tempo in every file: {score.tempo:g} BPM (one tempo event); stems {cue.mix.shape[1] / cue.sample_rate:.1f} s")


if __name__ == "__main__":
    main()
