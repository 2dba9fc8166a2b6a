"""Editing a finished score: continue it by some bars, or write one role anew in some bars.

These splice notes, so whatever is outside the edit stays exactly as it was:
  extended(parent, continuation)          the parent's notes, then the continuation's from the parent's end
  with_region(parent, candidate, role, ...)  the role's notes outside the region from the parent, inside from
                                          the candidate; a parent note still sounding into the region is cut
                                          at its start, a new note still sounding at its end is cut there.
"""
from __future__ import annotations

import re

from mtm_daw.errors import MtmError
from mtm_daw.score.score import Note, Score, Track

_BARS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_bars(text: str, bars: int | None = None) -> tuple[int, int]:
    """'3-6' or '5' -> (first, last), 1-based and inclusive; checked against the score's `bars`."""
    match = _BARS.match(str(text))
    if not match:
        raise MtmError(f"--bars expects FIRST-LAST (e.g. 3-6) or one bar number, got '{text}'")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not 1 <= first <= last:
        raise MtmError(f"--bars {text}: bars count from 1 and the first comes before the last")
    if bars is not None and last > bars:
        raise MtmError(f"--bars {text}: the cue has {bars} bar{'s' if bars != 1 else ''}")
    return first, last


def bar_span(score: Score, first: int, last: int) -> tuple[float, float]:
    """Bars first..last (1-based, inclusive) as (start, end) in beats."""
    return (first - 1) * score.beats_per_bar, last * score.beats_per_bar


def extended(parent: Score, continuation: Score, bars: int) -> Score:
    """The parent followed by the continuation's notes from the parent's end on, `bars` bars long in all."""
    if parent.time_signature != continuation.time_signature or parent.tempo != continuation.tempo:
        raise MtmError("internal: a continuation must keep the cue's tempo and meter")
    start = parent.length_beats
    tracks = {}
    for role, track in parent.tracks.items():
        new = continuation.tracks.get(role)
        later = [_copy(n) for n in (new.notes if new else []) if n.onset >= start - 1e-9]
        tracks[role] = Track(track.role, track.program, [_copy(n) for n in track.notes] + later, track.is_drum)
    return Score(parent.tempo, parent.time_signature, parent.key, tracks, bars * parent.beats_per_bar)


def with_region(parent: Score, candidate_notes: list[Note], role: str, start: float, end: float) -> Score:
    """The parent with `role`'s notes in beats [start, end) replaced by the candidate's there."""
    if role not in parent.tracks:
        raise MtmError(f"this cue has no {role} stem (it has: {', '.join(parent.tracks)})")
    kept = []
    for note in parent.tracks[role].notes:
        if note.onset < start:
            duration = min(note.duration, start - note.onset) if note.end > start else note.duration
            kept.append(Note(note.onset, round(duration, 6), note.pitch, note.velocity))
        elif note.onset >= end - 1e-9:
            kept.append(_copy(note))
    new = [Note(n.onset, round(min(n.duration, end - n.onset), 6), n.pitch, n.velocity)
           for n in candidate_notes if start - 1e-9 <= n.onset < end - 1e-9]
    tracks = {name: (Track(track.role, track.program, sorted(kept + new, key=lambda n: (n.onset, n.pitch)),
                           track.is_drum) if name == role else
                     Track(track.role, track.program, [_copy(n) for n in track.notes], track.is_drum))
              for name, track in parent.tracks.items()}
    return Score(parent.tempo, parent.time_signature, parent.key, tracks, parent.length_beats)


def _copy(note: Note) -> Note:
    return Note(note.onset, note.duration, note.pitch, note.velocity)
