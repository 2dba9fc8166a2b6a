"""Control signal: a reference's rhythm, harmony and contour on the target's sixteenth grid.

What the ControlFormer reads. Features per step (CONTROL_FEATURES = 18):
  4  onsets per role (drums, bass, harmony, melody)
  12 chroma of the sounding pitched notes, relative to the reference's own tonic (so a reference
     in another key steers the target's scale degrees, i.e. it is transposed to the target's key)
  2  melody contour: sounding flag and pitch relative to the tonic, scaled to about -1..1
The grid is in beats, so a reference at another tempo is tempo-warped by construction; a shorter
reference is tiled and a longer one cut to the target's length.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.score.roll import STEPS_PER_BEAT
from mtm_daw.score.score import ROLES, Score

CONTROL_FEATURES = 18


@dataclass
class ControlSignal:
    features: np.ndarray  # (steps, CONTROL_FEATURES) float32
    strength: float  # 0 = ignore the reference, 1 = follow it closely
    source: str = ""  # what it was made from, for the sidecar

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise MtmError(f"reference strength must be between 0 and 1, got {self.strength}")


def control_from_score(score: Score, steps: int | None = None) -> np.ndarray:
    """(steps, CONTROL_FEATURES) features of a score; steps defaults to the score's own length."""
    own_steps = max(1, int(round(score.length_beats * STEPS_PER_BEAT)))
    features = np.zeros((own_steps, CONTROL_FEATURES), dtype=np.float32)
    tonic = score.parsed_key.tonic
    melody_pitch = np.full(own_steps, np.nan, dtype=np.float32)
    for role_index, role in enumerate(ROLES):
        track = score.tracks.get(role)
        if track is None:
            continue
        for note in track.notes:
            start = int(round(note.onset * STEPS_PER_BEAT))
            if not 0 <= start < own_steps:
                continue
            features[start, role_index] = 1.0
            if track.is_drum:
                continue
            stop = min(own_steps, max(start + 1, int(round(note.end * STEPS_PER_BEAT))))
            features[start:stop, 4 + (note.pitch - tonic) % 12] = 1.0
            if role == "melody":
                melody_pitch[start:stop] = np.fmax(melody_pitch[start:stop], note.pitch - tonic)
    sounding = ~np.isnan(melody_pitch)
    features[:, 16] = sounding
    features[sounding, 17] = (melody_pitch[sounding] - 66.0) / 18.0
    if steps is None or steps == own_steps:
        return features
    repeats = int(np.ceil(steps / own_steps))
    return np.tile(features, (repeats, 1))[:steps]
