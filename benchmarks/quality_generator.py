"""The trained generator, the baseline composer and music people wrote, side by side, on held-out pieces.

    .venv/bin/python benchmarks/quality_generator.py [--count 24] [--steps 20] [--model FILE] [--out results.md]

Needs the training corpus cache (`python -m training.corpus`, about 4 minutes); only its held-out
pieces (training.corpus.is_held_out: 10 % of every source, never trained or tuned on) are read. For each
held-out piece with at least two roles and 16 bars, its first 16 bars are the human-written column;
both engines write a 16-bar cue for a description made from the piece's labels (genre, mood, tempo,
key, meter, roles, instruments). Pieces are taken in turn from each source (Bach chorales, groove
songs, Monteverdi, Palestrina). Hit points: the same descriptions with three hits each. Reference
following: the piece's first 8 bars as the reference (tiled over the cue, as the generator reads it)
at strength 0, 0.5 and 1; chance is the strength-1 cue against the first 8 bars of the next held-out
piece (chroma is relative to each piece's tonic, so another key is no advantage or handicap).
"""
from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mtm_daw.engine.control import ControlSignal, control_from_score
from mtm_daw.description import HitPoint, MusicDescription
from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.evaluation import structure
from mtm_daw.pipeline.loop import cut_to_bars
from mtm_daw.evaluation.metrics import key_matches, reference_similarity
from training.corpus import is_held_out, load_corpus_cache
from mtm_daw.compose.baseline import compose
from mtm_daw.score.roll import quantize_score
from mtm_daw.score.score import ROLES, Note, Score, Track

BARS = 16
REFERENCE_BARS = 8
ENGINES = ("trained", "baseline", "human")


def excerpt(score: Score, first_bar: int, bars: int) -> Score:
    start = first_bar * score.beats_per_bar
    tracks = {role: Track(role, t.program, [Note(n.onset - start, n.duration, n.pitch, n.velocity) for n in t.notes
                                            if n.onset >= start - 1e-9], t.is_drum) for role, t in score.tracks.items()}
    return cut_to_bars(Score(score.tempo, score.time_signature, score.key, tracks, score.length_beats - start), bars)


def description_of(piece, bars: int) -> MusicDescription:
    score = piece.score
    return MusicDescription(genre=piece.genre, mood=piece.mood, tempo=score.tempo, key=score.key,
                            time_signature=score.time_signature, duration=bars * score.beats_per_bar * 60 / score.tempo,
                            roles=tuple(r for r in ROLES if r in score.tracks),
                            instruments={r: t.program for r, t in score.tracks.items() if not t.is_drum})


def held_out_pieces(corpus: Path, count: int) -> list:
    """Held-out pieces of at least 2 roles and BARS bars, from each source in turn."""
    pieces = [p for p in load_corpus_cache(corpus) if is_held_out(p.source) and len(p.score.tracks) >= 2
              and p.score.bars >= BARS]
    groups: dict[str, list] = {}
    for piece in pieces:
        groups.setdefault("grooves" if "+mma/" in piece.source else piece.source.split("/")[0], []).append(piece)
    chosen = []
    while len(chosen) < count and any(groups.values()):
        for group in sorted(groups):
            if groups[group] and len(chosen) < count:
                chosen.append(groups[group].pop(0))
    return chosen


def row_values(score: Score, hit_beats: list[float] | None = None) -> dict[str, float]:
    values = {}
    for role in ROLES:
        values[f"repeat {role}"] = structure.repeat_share(score, role)
        values[f"velocity spread {role}"] = structure.velocity_spread(score, role)
        values[f"empty bars {role}"] = structure.empty_bar_share(score, role)
        values[f"notes per bar {role}"] = structure.notes_per_bar(score, role)
    for lag in (1, 4, 8):
        values[f"melody similarity lag {lag}"] = structure.bar_similarity(score, "melody", lag)
    values["drums similarity lag 1"] = structure.bar_similarity(score, "drums", 1)
    values["chord-tone share"], values["chord-tone control"] = structure.chord_tone_share(score)
    values["melody steps"], values["melody leaps"] = structure.melody_motion(score)
    values["key heard"] = float(key_matches(score))
    return values


def mean(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return float(np.mean(values)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--steps", type=int, default=GenerationSettings.steps)
    parser.add_argument("--guidance", type=float, default=GenerationSettings.guidance,
                        help="classifier-free guidance scale (default: the generator's)")
    parser.add_argument("--model", help="an ecmg ONNX file (default: the shipped one)")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus.jsonl"))
    parser.add_argument("--out", type=Path, help="also write the table (.md) and the figures (.json) here")
    args = parser.parse_args()
    if not args.corpus.is_file():
        raise SystemExit(f"{args.corpus} is missing: build it with `.venv/bin/python -m training.corpus`")
    started = time.perf_counter()
    pieces = held_out_pieces(args.corpus, args.count)
    descriptions = [description_of(p, BARS) for p in pieces]
    embeddings = TextEncoder.default().encode([d.to_sentence() for d in descriptions])
    generator = Generator(args.model) if args.model else Generator.default()
    rng = random.Random(5)

    rows: dict[str, dict[str, list[float]]] = {engine: {} for engine in ENGINES}
    hits: dict[str, list[float]] = {"trained": [], "baseline": []}
    following: dict[str, list[float]] = {}
    for index, (piece, description, embedding) in enumerate(zip(pieces, descriptions, embeddings)):
        settings = GenerationSettings(steps=args.steps, seed=index, guidance=args.guidance)
        scores = {"trained": generate_score(description, embedding, settings=settings, generator=generator),
                  "baseline": compose(description, seed=index),
                  "human": excerpt(piece.score, 0, BARS)}
        for engine, score in scores.items():
            for name, value in row_values(score).items():
                rows[engine].setdefault(name, []).append(value)
        if "drums" in description.roles:
            with_hits = replace(description, hit_points=[HitPoint(round(rng.uniform(1.0, description.duration - 1), 2))
                                                         for _ in range(3)])
            beats = with_hits.hit_point_beats()
            hits["trained"].append(structure.hit_accent_share(
                generate_score(with_hits, embedding, settings=settings, generator=generator), beats))
            hits["baseline"].append(structure.hit_accent_share(compose(with_hits, seed=index), beats))
        reference = control_from_score(quantize_score(excerpt(piece.score, 0, REFERENCE_BARS)))
        unrelated = pieces[(index + 1) % len(pieces)].score
        other = control_from_score(quantize_score(excerpt(unrelated, 0, REFERENCE_BARS)))
        for strength in (0.0, 0.5, 1.0):
            cue = generate_score(description, embedding, ControlSignal(reference, strength), settings, generator=generator)
            similarity = reference_similarity(cue, reference)
            following.setdefault(f"chroma at {strength:g}", []).append(similarity["chroma"])
            following.setdefault(f"onset at {strength:g}", []).append(similarity["onset"])
            if strength == 1.0:
                chance = reference_similarity(cue, other)
                following.setdefault("chroma chance", []).append(chance["chroma"])
                following.setdefault("onset chance", []).append(chance["onset"])

    table = {engine: {name: mean(values) for name, values in rows[engine].items()} for engine in ENGINES}
    for engine in ENGINES:
        table[engine]["repeat 4/8 (bass, harmony, melody)"] = mean(
            [table[engine][f"repeat {r}"] for r in ("bass", "harmony", "melody")])
    table["trained"]["hit accents"] = mean(hits["trained"])
    table["baseline"]["hit accents"] = mean(hits["baseline"])
    table["human"]["hit accents"] = float("nan")
    names = ["repeat 4/8 (bass, harmony, melody)"] + [f"repeat {r}" for r in ROLES] + \
        [f"melody similarity lag {lag}" for lag in (1, 4, 8)] + ["drums similarity lag 1", "chord-tone share",
         "chord-tone control", "melody steps", "melody leaps"] + [f"velocity spread {r}" for r in ROLES] + \
        [f"empty bars {r}" for r in ROLES] + [f"notes per bar {r}" for r in ROLES] + ["hit accents", "key heard"]
    lines = [f"{len(pieces)} held-out human-written pieces ({BARS} bars each), {args.steps} DDIM steps, "
             f"guidance {args.guidance:g}, {time.perf_counter() - started:.0f} s", "",
             "| figure | trained | baseline | human-written |", "|---|---|---|---|"]
    for name in names:
        cells = [table[e].get(name, float("nan")) for e in ENGINES]
        lines.append(f"| {name} | " + " | ".join("–" if c != c else f"{c:.2f}" for c in cells) + " |")
    lines += ["", "| reference following (trained) | chroma | onset |", "|---|---|---|"]
    for label in ("at 0", "at 0.5", "at 1", "chance"):
        lines.append(f"| {label} | {mean(following[f'chroma {label}']):.3f} | {mean(following[f'onset {label}']):.3f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".md").write_text(text + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(
            {"table": table, "reference": {k: mean(v) for k, v in following.items()}, "guidance": args.guidance,
             "pieces": [p.source for p in pieces]}, indent=2, default=float))


if __name__ == "__main__":
    main()
