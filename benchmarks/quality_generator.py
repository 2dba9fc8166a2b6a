"""How the trained generator (DiT + ControlFormer, ONNX) follows held-out descriptions and references,
next to the baseline composer on the same descriptions.

    .venv/bin/python benchmarks/quality_generator.py [--count 24] [--steps 20] [--precision fp32]

Held-out: descriptions from a seed the training never used. Reports key adherence (key heard in the
notes), empty requested roles, notes per bar and pitch per role against the baseline (the training
data's source), seed-to-seed overlap, and reference similarity at strength 0, 0.5 and 1.
"""
from __future__ import annotations

import argparse
import random
import time

import numpy as np

from mtm_daw.control import ControlSignal, control_from_score
from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.metrics import key_matches, note_overlap, reference_similarity, role_stats
from mtm_daw.models.data import random_description
from mtm_daw.score.baseline import compose
from mtm_daw.score.roll import quantize_score

HELD_OUT_SEED = 987_654  # training uses --seed 1234


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--model", help="an ecmg ONNX file (default: the shipped one)")
    args = parser.parse_args()
    rng = random.Random(HELD_OUT_SEED)
    descriptions = [random_description(rng) for _ in range(args.count)]
    for description in descriptions:  # at most 30 s, keeping what falls inside
        description.duration = min(description.duration, 30.0)
        description.hit_points = [h for h in description.hit_points if h.time <= description.duration]
    encoder = TextEncoder.default()
    embeddings = encoder.encode([d.to_sentence() for d in descriptions])
    generator = Generator(args.model) if args.model else Generator.default(args.precision)
    settings = GenerationSettings(steps=args.steps, precision=args.precision)

    keys = {"dit": 0, "baseline": 0}
    empty = {"dit": 0, "baseline": 0}
    stats = {"dit": {}, "baseline": {}}
    overlaps, similarity = [], {0.0: [], 0.5: [], 1.0: []}
    started = time.perf_counter()
    for index, (description, embedding) in enumerate(zip(descriptions, embeddings)):
        scores = {"dit": generate_score(description, embedding, settings=GenerationSettings(
                      steps=args.steps, seed=index, precision=args.precision), generator=generator),
                  "baseline": compose(description, seed=index)}
        for engine, score in scores.items():
            keys[engine] += key_matches(score)
            empty[engine] += sum(1 for role in description.roles if not score.tracks[role].notes)
            for role, value in role_stats(score).items():
                stats[engine].setdefault(role, []).append(value)
        other_seed = generate_score(description, embedding, settings=GenerationSettings(
            steps=args.steps, seed=index + 1000, precision=args.precision), generator=generator)
        overlaps.append(note_overlap(scores["dit"], other_seed))
        reference_score = quantize_score(compose(random_description(rng), seed=index + 77))
        features = control_from_score(reference_score)
        for strength in similarity:
            score = generate_score(description, embedding, ControlSignal(features, strength), settings, generator=generator)
            similarity[strength].append(reference_similarity(score, features))

    n = args.count
    print(f"{n} held-out descriptions, {args.steps} DDIM steps, {args.precision}, "
          f"{time.perf_counter() - started:.0f} s")
    for engine in ("dit", "baseline"):
        print(f"{engine:>9}: key heard = requested {keys[engine]}/{n} ({100 * keys[engine] / n:.0f}%), "
              f"empty requested roles {empty[engine]}")
    print("notes per bar and mean pitch per role (dit | baseline):")
    for role in ("drums", "bass", "harmony", "melody"):
        d, b = stats["dit"].get(role, []), stats["baseline"].get(role, [])
        if not d:
            continue
        mean = lambda values, field: float(np.nanmean([getattr(v, field) for v in values]))  # noqa: E731
        print(f"  {role:>8}: {mean(d, 'notes_per_bar'):5.1f} | {mean(b, 'notes_per_bar'):5.1f} notes/bar   "
              f"pitch {mean(d, 'mean_pitch'):5.1f} | {mean(b, 'mean_pitch'):5.1f}   "
              f"range {mean(d, 'pitch_range'):4.1f} | {mean(b, 'pitch_range'):4.1f}")
    print(f"seed-to-seed note overlap (dit): mean {np.mean(overlaps):.2f} (1 = identical)")
    for strength, values in similarity.items():
        print(f"reference strength {strength:.1f}: onset similarity {np.mean([v['onset'] for v in values]):.3f}, "
              f"chroma similarity {np.mean([v['chroma'] for v in values]):.3f}")


if __name__ == "__main__":
    main()
