"""Symbolic metrics: does a Score follow its description and its reference?

Used by the generator's quality report and tests, and by evaluation later.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.engine.control import control_from_score
from mtm_daw.score.midi import estimate_key_from_notes
from mtm_daw.score.roll import STEPS_PER_BEAT, quantize_score
from mtm_daw.score.score import Score


@dataclass
class RoleStats:
    notes_per_bar: float
    mean_pitch: float  # NaN for drums or an empty role
    pitch_range: float  # highest - lowest


def role_stats(score: Score) -> dict[str, RoleStats]:
    bars = max(score.bars, 1)
    stats = {}
    for role, track in score.tracks.items():
        pitches = np.array([n.pitch for n in track.notes], dtype=np.float64)
        pitched = len(pitches) > 0 and not track.is_drum
        stats[role] = RoleStats(len(track.notes) / bars, float(pitches.mean()) if pitched else float("nan"),
                                float(np.ptp(pitches)) if pitched else 0.0)
    return stats


def key_matches(score: Score) -> bool:
    """Does the key heard in the notes (duration-weighted pitch classes) equal the score's key?"""
    pitched = [t for t in score.tracks.values() if not t.is_drum and t.notes]
    if not pitched:
        return False
    return estimate_key_from_notes(pitched).name == score.parsed_key.name


def reference_similarity(score: Score, reference: np.ndarray) -> dict[str, float]:
    """Cosine similarity of onsets (any role, per step) and of tonic-relative chroma with a reference's
    control features, on the score's own grid."""
    features = control_from_score(quantize_score(score))
    if len(features) == 0 or len(reference) == 0:
        return {"onset": 0.0, "chroma": 0.0}
    reference = np.resize(reference, features.shape)  # tiled over the cue, as the generator reads it

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        norm = np.linalg.norm(a) * np.linalg.norm(b)
        return float((a * b).sum() / norm) if norm > 0 else 0.0

    return {"onset": cosine(features[:, :4].max(axis=1), reference[:, :4].max(axis=1)),
            "chroma": cosine(features[:, 4:16], reference[:, 4:16])}


def note_overlap(first: Score, second: Score) -> float:
    """Jaccard overlap of (role, step, pitch) onsets: 1 = the same notes, 0 = nothing shared."""
    def onsets(score: Score) -> set:
        return {(role, int(round(n.onset * STEPS_PER_BEAT)), n.pitch)
                for role, track in score.tracks.items() for n in track.notes}

    a, b = onsets(first), onsets(second)
    return len(a & b) / len(a | b) if a | b else 1.0
