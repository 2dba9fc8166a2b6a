"""How well rendered cues follow their description: tempo measured on the mix, key on the harmony stem.

    .venv/bin/python benchmarks/accuracy_baseline.py [--count 20] [--seed 0] [--synth auto]

Random descriptions (genre, mood, tempo 70-170, key, 4/4) through compose -> render -> mix; the
mix's tempo comes from beat tracking and the harmony stem's key from chroma against key profiles.
Tempo within ±2 BPM counts as right; half or double time is reported separately.
"""
from __future__ import annotations

import argparse
import random
import time

import librosa
import numpy as np

from mtm_daw.analysis import estimate_key, estimate_tempo
from mtm_daw.description import GENRES, MOODS, MusicDescription
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.score.theory import PITCH_CLASS_NAMES_SHARP

ANALYSIS_RATE = 22050


def mono(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    return librosa.resample(audio.mean(axis=0), orig_sr=sample_rate, target_sr=ANALYSIS_RATE)


def random_description(rng: random.Random) -> MusicDescription:
    key = f"{rng.choice(PITCH_CLASS_NAMES_SHARP)} {rng.choice(['major', 'minor'])}"
    return MusicDescription(genre=rng.choice(GENRES), mood=rng.choice(MOODS), tempo=float(rng.randint(70, 170)),
                            key=key, duration=30.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synth", default="auto")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tempo_ok = octave = key_ok = 0
    started = time.perf_counter()
    for index in range(args.count):
        description = random_description(rng)
        cue = compose_cue(description, seed=index, settings=RenderSettings(synth=args.synth), warn=lambda m: None)
        bpm = estimate_tempo(mono(cue.mix, cue.sample_rate), ANALYSIS_RATE).bpm
        key = estimate_key(mono(cue.stems["harmony"].audio, cue.sample_rate), ANALYSIS_RATE).key
        tempo_right = abs(bpm - description.tempo) <= 2
        octave_error = not tempo_right and any(abs(bpm - description.tempo * f) <= 2 for f in (0.5, 2, 2 / 3, 1.5))
        key_right = key.name == cue.score.key
        tempo_ok += tempo_right
        octave += octave_error
        key_ok += key_right
        print(f"{index:2d} {description.genre:<10} {description.mood:<8} {description.tempo:5.0f} BPM -> {bpm:6.1f}"
              f" {'ok' if tempo_right else 'octave' if octave_error else 'WRONG':<6} | {cue.score.key:<9} -> "
              f"{key.name:<9} {'ok' if key_right else 'WRONG'}")
    n = args.count
    print(f"tempo within ±2 BPM: {tempo_ok}/{n} ({100 * tempo_ok / n:.0f}%), half/double/3:2 time: {octave}/{n}")
    print(f"key of the harmony stem: {key_ok}/{n} ({100 * key_ok / n:.0f}%)")
    print(f"{time.perf_counter() - started:.1f} s for {n} cues of 30 s ({args.synth} renderer)")


if __name__ == "__main__":
    main()
