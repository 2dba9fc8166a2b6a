"""Multi-track piano-roll on a sixteenth-note grid: what the generator diffuses over.

Each grid step holds, per role:
  drums   onset + velocity for each of DRUM_KEYS (GM keys, other drum notes map to the nearest class)
  bass, harmony, melody   onset and sustain for each pitch in the role's range, and one velocity
Pitches are stored relative to the key (the tonic moved to C by at most six semitones), so the
model learns scale degrees and the key comes from the description. Encoding then decoding is
lossless for notes on the grid, inside the ranges, with one velocity per role and step (drums:
per drum) — which the baseline composer's straight (unswung) output satisfies.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.score import gm
from mtm_daw.score.score import ROLES, Note, Score, Track
from mtm_daw.score.theory import SCALE_STEPS

STEPS_PER_BEAT = 4
DRUM_KEYS = (gm.KICK, gm.SIDE_STICK, gm.SNARE, gm.CLAP, gm.TIMPANI_LIKE_TOM, gm.LOW_TOM, gm.MID_TOM, gm.HIGH_TOM,
             gm.CLOSED_HAT, gm.PEDAL_HAT, gm.OPEN_HAT, gm.CRASH, gm.RIDE, gm.TAMBOURINE, gm.SHAKER)
_DRUM_ALIASES = {35: gm.KICK, 40: gm.SNARE, 43: gm.TIMPANI_LIKE_TOM, 48: gm.HIGH_TOM, 52: gm.CRASH, 55: gm.CRASH,
                 57: gm.CRASH, 53: gm.RIDE, 59: gm.RIDE, 69: gm.SHAKER, 82: gm.SHAKER, 56: gm.TAMBOURINE}
PITCH_RANGES = {"bass": (22, 68), "harmony": (40, 88), "melody": (52, 100)}  # [low, high) after key shift


@dataclass(frozen=True)
class Layout:
    """Column offsets of each role's block in a roll row."""
    drum_onset: slice
    drum_velocity: slice
    onset: dict[str, slice]
    sustain: dict[str, slice]
    velocity: dict[str, int]
    width: int


def _layout() -> Layout:
    n_drums = len(DRUM_KEYS)
    column = 2 * n_drums
    onset, sustain, velocity = {}, {}, {}
    for role, (low, high) in PITCH_RANGES.items():
        size = high - low
        onset[role] = slice(column, column + size)
        sustain[role] = slice(column + size, column + 2 * size)
        velocity[role] = column + 2 * size
        column += 2 * size + 1
    return Layout(slice(0, n_drums), slice(n_drums, 2 * n_drums), onset, sustain, velocity, column)


LAYOUT = _layout()
FEATURES = LAYOUT.width
VELOCITY_COLUMNS = np.r_[LAYOUT.drum_velocity, [LAYOUT.velocity[r] for r in PITCH_RANGES]]
BINARY_COLUMNS = np.setdiff1d(np.arange(FEATURES), VELOCITY_COLUMNS)  # onsets and sustains: on or off


def key_shift(tonic: int) -> int:
    """Semitones that move the tonic to C by the shorter way: -6..+5."""
    return -(((tonic + 6) % 12) - 6)


def drum_class(key: int) -> int | None:
    key = _DRUM_ALIASES.get(key, key)
    return DRUM_KEYS.index(key) if key in DRUM_KEYS else None


def role_columns(role: str) -> np.ndarray:
    """Every column that belongs to a role (for masks: inpainting, dropped roles)."""
    if role == "drums":
        return np.r_[LAYOUT.drum_onset, LAYOUT.drum_velocity]
    return np.r_[LAYOUT.onset[role], LAYOUT.sustain[role], [LAYOUT.velocity[role]]]


def score_to_roll(score: Score) -> np.ndarray:
    """(steps, FEATURES) float32 in 0..1; steps = the score's length on the sixteenth grid."""
    steps = int(round(score.length_beats * STEPS_PER_BEAT))
    roll = np.zeros((steps, FEATURES), dtype=np.float32)
    shift = key_shift(score.parsed_key.tonic)
    for role, track in score.tracks.items():
        if role not in ROLES:
            continue
        for note in track.notes:
            start = int(round(note.onset * STEPS_PER_BEAT))
            if not 0 <= start < steps:
                continue
            if role == "drums":
                index = drum_class(note.pitch)
                if index is not None:
                    roll[start, LAYOUT.drum_onset.start + index] = 1.0
                    roll[start, LAYOUT.drum_velocity.start + index] = note.velocity / 127.0
                continue
            low, high = PITCH_RANGES[role]
            pitch = note.pitch + shift
            while pitch < low:
                pitch += 12
            while pitch >= high:
                pitch -= 12
            stop = min(steps, max(start + 1, int(round(note.end * STEPS_PER_BEAT))))
            column = pitch - low
            roll[start, LAYOUT.onset[role].start + column] = 1.0
            roll[start:stop, LAYOUT.sustain[role].start + column] = 1.0
            roll[start, LAYOUT.velocity[role]] = max(roll[start, LAYOUT.velocity[role]], note.velocity / 127.0)
    return roll


def roll_to_tracks(roll: np.ndarray, tonic: int, programs: dict[str, int], roles: tuple[str, ...] = ROLES,
                   threshold: float = 0.5) -> dict[str, Track]:
    """Decode a (steps, FEATURES) roll (model output in 0..1) back to tracks in the given key."""
    shift = key_shift(tonic)
    tracks: dict[str, Track] = {}
    steps = roll.shape[0]
    for role in roles:
        notes: list[Note] = []
        if role == "drums":
            onsets = roll[:, LAYOUT.drum_onset] > threshold
            for step, index in zip(*(axis.tolist() for axis in np.nonzero(onsets))):
                velocity = _velocity(roll[step, LAYOUT.drum_velocity.start + index])
                notes.append(Note(step / STEPS_PER_BEAT, 1 / STEPS_PER_BEAT, DRUM_KEYS[index], velocity))
        else:
            low, _ = PITCH_RANGES[role]
            onsets = roll[:, LAYOUT.onset[role]] > threshold
            sustain = roll[:, LAYOUT.sustain[role]] > threshold
            for step, column in zip(*(axis.tolist() for axis in np.nonzero(onsets))):
                stop = step + 1
                while stop < steps and sustain[stop, column] and not onsets[stop, column]:
                    stop += 1
                notes.append(Note(step / STEPS_PER_BEAT, (stop - step) / STEPS_PER_BEAT,
                                  low + column - shift, _velocity(roll[step, LAYOUT.velocity[role]])))
        notes.sort(key=lambda n: (n.onset, n.pitch))
        tracks[role] = Track(role, programs.get(role, 0), notes, is_drum=role == "drums")  # drums: the kit
    return tracks


# Semitones above the tonic that the key lock keeps: the scale, and in minor the raised 7th of its cadences.
KEY_LOCK_STEPS = {"major": frozenset(SCALE_STEPS["major"]), "minor": frozenset(SCALE_STEPS["minor"]) | {11}}


def lock_to_scale(roll: np.ndarray, mode: str) -> np.ndarray:
    """A copy of a (steps, FEATURES) roll (0..1, key-relative) with every pitched note on the key's scale.

    A pitch outside the scale is moved a semitone to the scale tone whose own column is more likely
    (onset and sustain together, so a held note moves whole); minor keys keep the raised 7th their
    cadences use. Drums and velocities are untouched.
    """
    allowed = KEY_LOCK_STEPS[mode]
    locked = roll.copy()
    for role, (low, high) in PITCH_RANGES.items():
        onset, sustain = roll[:, LAYOUT.onset[role]], roll[:, LAYOUT.sustain[role]]
        out_onset, out_sustain = locked[:, LAYOUT.onset[role]], locked[:, LAYOUT.sustain[role]]
        for column in range(high - low):
            if (low + column) % 12 in allowed:  # the roll is relative to the tonic moved to C
                continue
            neighbours = [c for c in (column - 1, column + 1) if 0 <= c < high - low and (low + c) % 12 in allowed]
            if not neighbours:  # cannot happen with these ranges; dropping the note would be the answer
                continue
            target = max(neighbours, key=lambda c: float(onset[:, c].sum() + sustain[:, c].sum()))
            out_onset[:, target] = np.maximum(out_onset[:, target], onset[:, column])
            out_sustain[:, target] = np.maximum(out_sustain[:, target], sustain[:, column])
            out_onset[:, column] = 0.0
            out_sustain[:, column] = 0.0
    return locked


SINGLE_VOICE_ROLES = ("bass", "melody")  # lines, not chords: one note at a time


def single_voice(roll: np.ndarray, roles: tuple[str, ...] = SINGLE_VOICE_ROLES, threshold: float = 0.5) -> np.ndarray:
    """A copy of a (steps, FEATURES) roll (0..1) in which each of `roles` starts one note at a time, the
    likeliest, and a note ends where the next begins: a diffusion model smears a line over neighbouring
    pitches, and what it means is the one it holds likeliest."""
    out = roll.copy()
    for role in roles:
        onset, sustain = out[:, LAYOUT.onset[role]], out[:, LAYOUT.sustain[role]]
        starts = np.nonzero((onset > threshold).any(axis=1))[0]
        for index, step in enumerate(starts):
            chosen = int(onset[step].argmax())
            onset[step, np.arange(onset.shape[1]) != chosen] = 0.0
            stop = starts[index + 1] if index + 1 < len(starts) else len(out)
            held = sustain[step:stop, chosen].copy()
            sustain[step:stop] = 0.0  # everything else stops when this note starts
            sustain[step:stop, chosen] = held
    return out


def _velocity(value: float) -> int:
    return int(min(127, max(1, round(float(value) * 127))))


def quantize_score(score: Score) -> Score:
    """The score as the roll can hold it: sixteenth grid, one velocity per role and step (drums: per
    drum), drum hits one step long. score_to_roll(quantize_score(s)) decodes back to exactly this."""
    tracks = {}
    for role, track in score.tracks.items():
        loudest: dict[tuple[int, int], int] = {}
        grid = []
        for note in track.notes:
            start = int(round(note.onset * STEPS_PER_BEAT))
            length = 1 if track.is_drum else max(1, int(round(note.end * STEPS_PER_BEAT)) - start)
            grid.append((start, length, note.pitch))
            voice = note.pitch if track.is_drum else -1
            loudest[(start, voice)] = max(loudest.get((start, voice), 0), note.velocity)
        notes = [Note(start / STEPS_PER_BEAT, length / STEPS_PER_BEAT, pitch,
                      loudest[(start, pitch if track.is_drum else -1)]) for start, length, pitch in sorted(set(grid))]
        tracks[role] = Track(role, track.program, notes, track.is_drum)
    return Score(score.tempo, score.time_signature, score.key, tracks, score.length_beats)
