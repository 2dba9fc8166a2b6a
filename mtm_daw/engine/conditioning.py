"""Description -> the generator's condition arrays (numpy; shared by training and the runtime).

Categorical fields become ids for learned embeddings; the sentence comes in as its MiniLM
embedding; energy and hit points are sampled on the token grid (one token per beat), and so is the
plan (chord, phrase position, section label per beat).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.description import MOODS, MusicDescription
from mtm_daw.plan.plan import Plan
from mtm_daw.score.score import ROLES
from mtm_daw.score.styles import CORE_GENRES, style_for
from mtm_daw.score.theory import parse_key

TEMPO_EDGES = (70, 85, 100, 115, 130, 145, 160)  # 8 buckets
METERS = ((4, 4), (3, 4), (6, 8))  # anything else shares one more id
SENTENCE_DIM = 384
MAX_BEAT_IN_BAR = 8


@dataclass
class Conditions:
    """Arrays for one example; batch them with np.stack."""
    labels: np.ndarray  # (5,) int64: genre (the model's row for the style), mood, mode, tempo bucket, meter
    roles: np.ndarray  # (4,) float32: 1 where the role is requested
    sentence: np.ndarray  # (384,) float32, L2-normalised
    energy: np.ndarray  # (tokens,) float32 0..1
    hits: np.ndarray  # (tokens,) float32 0..1: hit-point strength on the beat it falls in
    beat_in_bar: np.ndarray  # (tokens,) int64
    plan: np.ndarray  # (tokens, 3) int64: chord id, phrase position id, section id (Plan.tokens)


def genre_label(style: str, genres: tuple[str, ...] = CORE_GENRES) -> int:
    """The model's genre row for a style: its own row when the model was trained with it, else its parent's."""
    return genres.index(style) if style in genres else genres.index(style_for(style).parent)


def tempo_bucket(tempo: float) -> int:
    return int(np.searchsorted(TEMPO_EDGES, tempo, side="right"))


def meter_id(time_signature: tuple[int, int]) -> int:
    return METERS.index(tuple(time_signature)) if tuple(time_signature) in METERS else len(METERS)


def encode_conditions(description: MusicDescription, tokens: int, sentence_embedding: np.ndarray,
                      start_beat: float = 0.0, plan: Plan | None = None,
                      genres: tuple[str, ...] = CORE_GENRES) -> Conditions:
    """Conditions for `tokens` beats of the description, starting at `start_beat` (for windows);
    without a plan every beat reads "no chord, first bar of a phrase, section A". genres: the styles the
    model has genre rows for (others are heard as their parent)."""
    key = parse_key(description.key)
    labels = np.array([genre_label(description.genre, genres), MOODS.index(description.mood),
                       0 if key.mode == "major" else 1, tempo_bucket(description.tempo),
                       meter_id(description.time_signature)], dtype=np.int64)
    roles = np.array([1.0 if role in description.roles else 0.0 for role in ROLES], dtype=np.float32)
    beats = start_beat + np.arange(tokens)
    energy = np.array([description.energy_at(description.beats_to_seconds(b + 0.5)) for b in beats], dtype=np.float32)
    hits = np.zeros(tokens, dtype=np.float32)
    for hit, beat in zip(description.hit_points, description.hit_point_beats()):
        # the beat the hit falls in; the composer writes its accent on the nearest sixteenth, which
        # may open the next beat, and the model learns that from the data (the shipped model was
        # trained with this definition, so it must not change without retraining)
        index = int(np.floor(beat - start_beat))
        if 0 <= index < tokens:
            hits[index] = max(hits[index], hit.strength)
    beat_in_bar = np.minimum(np.floor(np.mod(beats, description.beats_per_bar)), MAX_BEAT_IN_BAR - 1).astype(np.int64)
    sentence = np.asarray(sentence_embedding, dtype=np.float32).reshape(SENTENCE_DIM)
    planned = plan.tokens(key, start_beat, tokens) if plan is not None else np.zeros((tokens, 3), dtype=np.int64)
    return Conditions(labels, roles, sentence, energy, hits, beat_in_bar, planned)
