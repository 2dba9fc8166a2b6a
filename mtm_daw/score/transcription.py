"""Transcribed notes (seconds) -> a Score on the beat grid, with the top line split off as the melody.

    notes = Transcriber.default().transcribe_file("loop.wav")
    tempo = estimate_tempo(samples, sr)
    score = notes_to_score(notes, tempo.bpm, tempo.beat_times)  # tracks "melody" (+ "harmony")

Beats: with tracked beat times, a time is placed between the beats around it (so a drifting or
rubato performance still lands on the grid), and linearly at `bpm` before the first and after the
last; without them (or with fewer than two), simply at `bpm` from time 0. Whole beats are added
so that time 0 is within half a beat of beat 0 (a beat tracker often skips a beat on the very
first sample), which keeps every tracked beat on a whole beat, i.e. on a multiple of 4 in
sixteenth steps. Numpy only: any notes with start_s, end_s, pitch and velocity will do.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.score.roll import STEPS_PER_BEAT
from mtm_daw.score.score import Note, Score, Track, validate_tempo, validate_time_signature
from mtm_daw.score.theory import Key, parse_key

SKYLINE_BINS_PER_SECOND = 100  # time resolution of the top-line test


def seconds_to_beats(times, bpm: float, beat_times=None) -> np.ndarray:
    """Beat positions of `times` (seconds): see the module docstring. Returns float64, same shape."""
    times = np.asarray(times, dtype=np.float64)
    period = 60.0 / validate_tempo(bpm)
    beats_at = _check_beat_times(beat_times)
    if beats_at is None:
        return times / period
    index = np.arange(len(beats_at), dtype=np.float64)
    beats = np.interp(times, beats_at, index)
    before, after = times < beats_at[0], times > beats_at[-1]
    beats[before] = (times[before] - beats_at[0]) / period
    beats[after] = index[-1] + (times[after] - beats_at[-1]) / period
    return beats + round(beats_at[0] / period)  # time 0 within half a beat of beat 0


def skyline(starts, ends, pitches) -> np.ndarray:
    """(n,) bool: which notes form the top line. A note belongs to it when, for at least half of
    its length, no higher note sounds (so block chords give their top note, a melody over held
    chords is kept whole, and an accompaniment between melody notes stays accompaniment)."""
    starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    pitches = np.asarray(pitches, dtype=np.int64)
    if len(starts) == 0:
        return np.zeros(0, dtype=bool)
    first = int(np.floor(starts.min() * SKYLINE_BINS_PER_SECOND))
    lo = np.floor(starts * SKYLINE_BINS_PER_SECOND).astype(np.int64) - first
    hi = np.maximum(lo + 1, np.ceil(ends * SKYLINE_BINS_PER_SECOND).astype(np.int64) - first)
    top = np.full(int(hi.max()), -1, dtype=np.int64)  # highest pitch sounding in each bin
    for a, b, pitch in zip(lo, hi, pitches):
        np.maximum(top[a:b], pitch, out=top[a:b])
    return np.array([np.mean(top[a:b] <= pitch) >= 0.5 for a, b, pitch in zip(lo, hi, pitches)], dtype=bool)


def notes_to_score(notes: Sequence, bpm: float, beat_times=None, *, key: str | None = None,
                   time_signature: tuple[int, int] = (4, 4), program: int = 0, split: bool = True,
                   steps_per_beat: int = STEPS_PER_BEAT) -> Score:
    """A Score from transcribed notes (objects with start_s, end_s, pitch, velocity).

    split: the top line (see skyline) becomes the "melody" track and the rest "harmony"; without
    it every note goes to one "melody" track. Onsets and ends snap to `steps_per_beat` steps per
    beat (0: no snapping); a note lasts at least one step. key: estimated from the notes' pitch
    classes (weighted by length) when not given. Both tracks use GM `program`.
    """
    time_signature = validate_time_signature(time_signature)
    if not isinstance(program, int) or not 0 <= program <= 127:
        raise MtmError(f"GM program must be 0..127, got {program!r}")
    if not isinstance(steps_per_beat, int) or steps_per_beat < 0:
        raise MtmError(f"steps_per_beat must be a whole number (0 = no snapping), got {steps_per_beat!r}")
    notes = list(notes)
    for i, n in enumerate(notes):
        if not all(hasattr(n, field) for field in ("start_s", "end_s", "pitch", "velocity")):
            raise MtmError(f"note #{i + 1} is a {type(n).__name__}, not a transcribed note")
        if not (math.isfinite(n.start_s) and math.isfinite(n.end_s) and 0 <= n.start_s < n.end_s):
            raise MtmError(f"note #{i + 1} has a bad time span ({n.start_s!r} s to {n.end_s!r} s)")
        if not 0 <= int(n.pitch) <= 127:
            raise MtmError(f"note #{i + 1} has pitch {n.pitch!r}, outside MIDI's 0..127")

    # 1. seconds -> beats, snapped to the grid
    onsets = seconds_to_beats([n.start_s for n in notes], bpm, beat_times)
    ends = seconds_to_beats([n.end_s for n in notes], bpm, beat_times)
    if steps_per_beat:
        onsets = np.round(onsets * steps_per_beat) / steps_per_beat
        ends = np.round(ends * steps_per_beat) / steps_per_beat
    shortest = 1.0 / steps_per_beat if steps_per_beat else 1e-3
    onsets = np.maximum(onsets, 0.0)  # a note in the first half beat may start a hair before beat 0
    ends = np.maximum(ends, onsets + shortest)
    pitches = [int(n.pitch) for n in notes]
    velocities = [int(min(127, max(1, round(n.velocity)))) for n in notes]

    # 2. roles: the top line and the rest
    top = skyline([n.start_s for n in notes], [n.end_s for n in notes], pitches) if split else np.ones(len(notes), bool)
    roles = {"harmony": [], "melody": []}  # play order, as ROLES
    for onset, end, pitch, velocity, is_top in zip(onsets, ends, pitches, velocities, top):
        roles["melody" if is_top else "harmony"].append(Note(float(onset), float(end - onset), pitch, velocity))
    tracks = {role: Track(role, program, _tidy(found)) for role, found in roles.items() if found or role == "melody"}

    # 3. key and length
    key = _key_of(notes) if key is None else parse_key(key).name
    bar = time_signature[0] * 4.0 / time_signature[1]
    last = max((track.end for track in tracks.values()), default=0.0)
    length = max(1, math.ceil(last / bar - 1e-9)) * bar
    return Score(float(bpm), time_signature, key, tracks, length)


def _tidy(notes: list[Note]) -> list[Note]:
    """Sorted; one note per (onset, pitch) (the longer, the louder velocity); a note ends where the
    next one at its pitch starts (a MIDI track cannot hold one key down twice)."""
    merged: dict[tuple[float, int], Note] = {}
    for note in notes:
        same = merged.get((note.onset, note.pitch))
        if same is None:
            merged[(note.onset, note.pitch)] = note
        else:
            same.duration = max(same.duration, note.duration)
            same.velocity = max(same.velocity, note.velocity)
    ordered = sorted(merged.values(), key=lambda n: (n.onset, n.pitch))
    following: dict[int, float] = {}
    for note in reversed(ordered):
        if note.pitch in following:
            note.duration = min(note.duration, following[note.pitch] - note.onset)
        following[note.pitch] = note.onset
    return ordered


def _key_of(notes: Sequence) -> str:
    if not notes:
        return Key(0, "major").name
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.analysis.key import key_from_pitch_class_histogram

    histogram = np.zeros(12)
    for n in notes:
        histogram[int(n.pitch) % 12] += n.end_s - n.start_s
    return key_from_pitch_class_histogram(histogram).key.name


def _check_beat_times(beat_times) -> np.ndarray | None:
    if beat_times is None:
        return None
    beats = np.asarray(beat_times, dtype=np.float64).reshape(-1)
    if len(beats) < 2:
        return None  # one beat or none: no grid to follow, use the tempo
    if not np.all(np.isfinite(beats)) or np.any(np.diff(beats) <= 0) or beats[0] < 0:
        raise MtmError("beat times must be increasing, non-negative seconds")
    return beats
