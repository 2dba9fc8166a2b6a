"""Training examples for the generator: music people wrote (music21's corpus, folk tunes over mma
grooves; training.corpus) and, for at most a quarter of the windows, baseline arrangements.

Each piece is kept whole as a uint8 roll (onset/sustain 0/1, velocities 0..127) with its
description, sentence embedding, control features and the plan heard in it (chords per beat, its
phrases and their labels: mtm_daw.plan.plan_from_score); batches are random bar-aligned windows.
Augmentation: tempo (a condition only — the grid is in beats), role dropout, and control views
(the target's own rhythm, harmony or contour, masked in time), so the ControlFormer learns to
follow whatever part of a reference it is given.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from mtm_daw.compose.baseline import compose
from mtm_daw.description import MOODS, HitPoint, MusicDescription, Section
from mtm_daw.engine.conditioning import encode_conditions
from mtm_daw.engine.control import CONTROL_FEATURES, control_from_score
from mtm_daw.plan.plan import Plan, plan_from_score
from mtm_daw.score.roll import FEATURES, STEPS_PER_BEAT, VELOCITY_COLUMNS, quantize_score, score_to_roll
from mtm_daw.score.score import ROLES, Score
from mtm_daw.score.styles import CORE_GENRES, FEELS, style_for
from mtm_daw.score.theory import PITCH_CLASS_NAMES_SHARP

METER_CHOICES = ((4, 4),) * 7 + ((3, 4),) * 2 + ((6, 8),)


@dataclass
class Piece:
    roll: np.ndarray  # (steps, FEATURES) uint8: 0/1, velocities 0..127
    control: np.ndarray  # (steps, CONTROL_FEATURES) float32
    description: MusicDescription
    sentence: np.ndarray  # (384,) float32
    beats_per_bar: float
    plan: Plan
    source: str = "baseline"


def random_description(rng: random.Random, genres: tuple[str, ...] = CORE_GENRES) -> MusicDescription:
    """A labelled description across styles, moods, keys, meters, energy shapes and hit points. A style
    mostly plays in its own meter and tempo range (as its file says), sometimes anywhere."""
    genre = rng.choice(genres)
    style = style_for(genre)
    if genres == CORE_GENRES or rng.random() < 0.2:
        meter, tempo = rng.choice(METER_CHOICES), float(rng.randint(64, 168))
    else:
        meter, tempo = style.meter, float(rng.randint(int(style.tempo_range[0]), int(style.tempo_range[1])))
    bars = rng.randint(8, 20)
    duration = bars * meter[0] * 4 / meter[1] * 60 / tempo
    sections, energy = [], []
    if rng.random() < 0.5:
        edges = sorted(rng.sample(range(1, bars), k=min(2, bars - 1)))
        bounds = [0] + edges + [bars]
        bar_seconds = duration / bars
        sections = [Section(f"part {i + 1}", a * bar_seconds, b * bar_seconds, round(rng.uniform(0.1, 1.0), 2))
                    for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    elif rng.random() < 0.5:
        energy = [(0.0, round(rng.uniform(0, 1), 2)), (duration, round(rng.uniform(0, 1), 2))]
    hits = [HitPoint(round(rng.uniform(1.0, duration - 0.5), 2)) for _ in range(rng.choice((0, 0, 1, 2)))]
    roles = tuple(ROLES)
    if rng.random() < 0.25:
        dropped = set(rng.sample(ROLES, k=rng.choice((1, 2))))
        roles = tuple(r for r in ROLES if r not in dropped)
    key = f"{rng.choice(PITCH_CLASS_NAMES_SHARP)} {rng.choice(('major', 'minor'))}"
    return MusicDescription(genre=genre, mood=rng.choice(MOODS), tempo=tempo, key=key,
                            time_signature=meter, duration=duration, sections=sections, energy=energy,
                            hit_points=hits, roles=roles)


def encode_roll_uint8(score: Score) -> np.ndarray:
    roll = score_to_roll(score)
    roll[:, VELOCITY_COLUMNS] *= 127.0
    return np.rint(roll).astype(np.uint8)


def decode_roll_uint8(roll: np.ndarray) -> np.ndarray:
    out = roll.astype(np.float32)
    out[..., VELOCITY_COLUMNS] /= 127.0
    return out


def straight_swing(score: Score, feel: str) -> Score:
    """A swung piece on the straight grid the model writes on: in swing and shuffle the off-beat eighth
    sits on the last triplet, which the sixteenth grid rounds to the beat's fourth sixteenth; it goes back
    to the beat's half (the decoder plays the feel again). There are no straight sixteenths in a swing."""
    grid, _ = FEELS[feel]
    if grid != STEPS_PER_BEAT:
        return score
    for track in score.tracks.values():
        for note in track.notes:
            if round(note.onset * STEPS_PER_BEAT) % STEPS_PER_BEAT == STEPS_PER_BEAT - 1:
                note.onset = round(note.onset - 1 / STEPS_PER_BEAT, 6)
    return score


def make_piece(score: Score, description: MusicDescription, sentence: np.ndarray, source: str = "baseline") -> Piece:
    score = straight_swing(quantize_score(score), style_for(description.genre).feel)
    return Piece(encode_roll_uint8(score), control_from_score(score), description, sentence, score.beats_per_bar,
                 plan_from_score(score), source)


def baseline_pieces(count: int, seed: int, encoder, genres: tuple[str, ...] = CORE_GENRES) -> list[Piece]:
    rng = random.Random(seed)
    descriptions = [random_description(rng, genres) for _ in range(count)]
    sentences = encoder.encode([d.to_sentence() for d in descriptions])
    return [make_piece(compose(d, seed=seed * 100_003 + i), d, s) for i, (d, s) in
            enumerate(zip(descriptions, sentences))]


def corpus_pieces(corpus, encoder) -> list[Piece]:
    """From training.corpus.CorpusPiece items: descriptions built from their labels."""
    descriptions = []
    for item in corpus:
        score = item.score
        roles = tuple(r for r in ROLES if r in score.tracks)
        descriptions.append(MusicDescription(
            genre=item.genre, mood=item.mood, tempo=score.tempo, key=score.key, time_signature=score.time_signature,
            duration=min(score.length_seconds, 600.0), roles=roles,
            instruments={r: t.program for r, t in score.tracks.items() if not t.is_drum}))
    sentences = encoder.encode([d.to_sentence() for d in descriptions]) if descriptions else []
    return [make_piece(item.score, d, s, item.source) for item, d, s in zip(corpus, descriptions, sentences)]


def control_view(control: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A partial view of the target's own control features, as a reference would give."""
    view = control.copy()
    choice = rng.random()
    if choice < 0.15:
        return np.zeros_like(view)  # no reference: the branch must learn to stay quiet
    if choice < 0.35:
        view[:, 4:] = 0.0  # rhythm only
    elif choice < 0.55:
        view[:, :3] = 0.0
        view[:, 4:16] = 0.0  # melody rhythm and contour
    elif choice < 0.7:
        view[:, :4] = 0.0
        view[:, 16:] = 0.0  # harmony (chroma) only
    steps = len(view)
    for _ in range(rng.integers(0, 3)):  # mask a few spans: partial references
        start = int(rng.integers(0, steps))
        view[start:start + int(rng.integers(4, 33))] = 0.0
    return view


def sample_batch(pieces: list[Piece], batch: int, tokens: int, rng: np.random.Generator,
                 with_control: bool = False, condition_dropout: float = 0.1, chord_dropout: float = 0.0,
                 weights: np.ndarray | None = None, genres: tuple[str, ...] = CORE_GENRES) -> dict[str, np.ndarray]:
    """Random bar-aligned windows of `tokens` beats; pieces shorter than the window are zero-padded.

    weights: the chance of drawing each piece (e.g. to balance corpus and baseline pieces).
    chord_dropout: the chance that a window's plan says "no chord" throughout, so the harmony must come
    from elsewhere (the reference, for the ControlFormer) and a cue without chords still works.
    """
    steps = tokens * STEPS_PER_BEAT
    fields: dict[str, list] = {k: [] for k in ("x", "labels", "roles", "sentence", "use_condition", "energy",
                                               "hits", "beat_in_bar", "plan", "control", "strength")}
    for _ in range(batch):
        piece = pieces[int(rng.choice(len(pieces), p=weights)) if weights is not None else int(rng.integers(len(pieces)))]
        bar_steps = int(round(piece.beats_per_bar * STEPS_PER_BEAT))
        bars = max(1, (len(piece.roll) - steps) // bar_steps + 1) if len(piece.roll) > steps else 1
        start = int(rng.integers(bars)) * bar_steps
        window = np.zeros((steps, FEATURES), dtype=np.float32)
        chunk = decode_roll_uint8(piece.roll[start:start + steps])
        window[:len(chunk)] = chunk
        conditions = encode_conditions(piece.description, tokens, piece.sentence, start_beat=start / STEPS_PER_BEAT,
                                       plan=piece.plan, genres=genres)
        control = np.zeros((steps, CONTROL_FEATURES), dtype=np.float32)
        own = piece.control[start:start + steps]
        control[:len(own)] = own
        fields["x"].append(window * 2.0 - 1.0)
        fields["labels"].append(conditions.labels)
        fields["roles"].append(conditions.roles)
        fields["sentence"].append(conditions.sentence)
        fields["use_condition"].append(0.0 if rng.random() < condition_dropout else 1.0)
        fields["energy"].append(conditions.energy)
        fields["hits"].append(conditions.hits)
        fields["beat_in_bar"].append(conditions.beat_in_bar)
        if rng.random() < chord_dropout:
            conditions.plan[:, 0] = 0
        fields["plan"].append(conditions.plan)
        fields["control"].append(control_view(control, rng) if with_control else np.zeros_like(control))
        fields["strength"].append(1.0)
    return {k: np.stack(v).astype(np.int64 if k in ("labels", "beat_in_bar", "plan") else np.float32)
            for k, v in fields.items()}

