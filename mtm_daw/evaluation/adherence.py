"""Attribute adherence: the tempo, key and time signature asked for against what the cue delivers.

    tempo_adherence(120, measured_bpm)        # measured on the rendered mix (analysis.tempo)
    key_adherence("D minor", measured_key)   # measured on the pitched stems' audio, or on the notes
    meter_from_score(score)                  # the bar heard in the notes' accents -> (3, 4), (6, 8), ...

Tempo counts as met within max(2 BPM, 2 %); a beat tracker may lock to half, double or 2:3 time, which
`octave` reports separately (the README's accuracy benchmark uses the same reading). Keys are also scored
as in MIREX: 1 exact, 0.5 a fifth away (same mode), 0.3 relative major/minor, 0.2 parallel, else 0.
"""
from __future__ import annotations

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.score.roll import STEPS_PER_BEAT
from mtm_daw.score.score import Score
from mtm_daw.score.theory import parse_key

TEMPO_TOLERANCE_BPM = 2.0
TEMPO_TOLERANCE_RATIO = 0.02
TEMPO_OCTAVES = (0.5, 2.0, 2.0 / 3.0, 1.5)

# candidate meters: (numerator, denominator) -> beat positions in sixteenths within the bar
METERS = {(2, 4): (0, 4), (3, 4): (0, 4, 8), (4, 4): (0, 4, 8, 12), (6, 8): (0, 6)}


def tempo_matches(requested: float, measured: float) -> bool:
    return abs(measured - requested) <= max(TEMPO_TOLERANCE_BPM, TEMPO_TOLERANCE_RATIO * requested)


def tempo_adherence(requested: float, measured: float) -> dict:
    """{'measured', 'error_bpm', 'match', 'octave'}: octave = met at half, double, 2:3 or 3:2 time."""
    match = measured > 0 and tempo_matches(requested, measured)
    octave = match or (measured > 0 and any(tempo_matches(requested * ratio, measured) for ratio in TEMPO_OCTAVES))
    return {"measured": round(float(measured), 2), "error_bpm": round(float(measured - requested), 2),
            "match": bool(match), "octave": bool(octave)}


def key_score(requested: str, measured: str | None) -> float:
    """MIREX key score of a measured key against the requested one."""
    if not measured:
        return 0.0
    want, got = parse_key(requested), parse_key(measured)
    if (want.tonic, want.mode) == (got.tonic, got.mode):
        return 1.0
    if want.mode == got.mode and (got.tonic - want.tonic) % 12 in (5, 7):
        return 0.5
    relative = 9 if want.mode == "major" else 3  # C major -> A minor, A minor -> C major
    if want.mode != got.mode and (got.tonic - want.tonic) % 12 == relative:
        return 0.3
    if want.mode != got.mode and want.tonic == got.tonic:
        return 0.2
    return 0.0


def key_adherence(requested: str, measured: str | None) -> dict:
    score = key_score(requested, measured)
    return {"measured": measured, "match": score == 1.0, "mirex": score}


def audio_key(stems: dict, sample_rate: int) -> str | None:
    """Key heard in the sum of the pitched stems' audio (drums left out); None for silence."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.analysis.key import estimate_key

    pitched = [stem.audio for role, stem in stems.items() if role != "drums"]
    if not pitched:
        return None
    mono = np.sum([audio.mean(axis=0) for audio in pitched], axis=0).astype(np.float32)
    try:
        return estimate_key(mono, sample_rate).name
    except MtmError:
        return None


def accent_grid(score: Score) -> np.ndarray:
    """Onset weight per sixteenth: velocity x (half a beat + the note's length up to 2 beats), so long,
    loud notes (chord changes, bass and kick on strong beats) mark the bar."""
    steps = max(1, int(round(score.length_beats * STEPS_PER_BEAT)))
    grid = np.zeros(steps, dtype=np.float64)
    for track in score.tracks.values():
        for note in track.notes:
            step = int(round(note.onset * STEPS_PER_BEAT))
            if 0 <= step < steps:
                grid[step] += note.velocity / 127.0 * (0.5 + min(note.duration, 2.0))
    return grid


def meter_from_score(score: Score) -> tuple[int, int] | None:
    """The meter the notes' accents imply (None without notes).

    The accent grid is folded by each candidate bar length (2, 3 or 4 quarter beats, from bar 1); the
    bar whose first sixteenth carries most of its mean weight wins. A three-beat bar is 6/8 when its
    middle eighth (sixteenth 6) is stronger than the second and third quarter beats, else 3/4."""
    grid = accent_grid(score)
    if not grid.any():
        return None
    best, best_salience = None, -1.0
    for bar_steps in (8, 12, 16):
        bars = len(grid) // bar_steps
        if bars < 1:
            continue
        profile = grid[:bars * bar_steps].reshape(bars, bar_steps).sum(axis=0)
        salience = profile[0] / max(profile.mean(), 1e-12)
        if salience > best_salience + 1e-9:
            best, best_salience = (bar_steps, profile), salience
    if best is None:
        return None
    bar_steps, profile = best
    if bar_steps == 8:
        return (2, 4)
    if bar_steps == 16:
        return (4, 4)
    return (6, 8) if profile[6] > 0.5 * (profile[4] + profile[8]) else (3, 4)


def meter_adherence(requested: tuple[int, int], score: Score) -> dict:
    """{'measured': '3/4', 'match', 'bar_match'}: bar_match = the same bar length in quarter beats
    (3/4 heard as 6/8, or 4/4 as 2/4 heard twice per bar, still lands the bar lines right)."""
    measured = meter_from_score(score)
    if measured is None:
        return {"measured": None, "match": False, "bar_match": False}
    want = tuple(requested)

    def bar_length(meter) -> float:
        return meter[0] * 4.0 / meter[1]

    return {"measured": f"{measured[0]}/{measured[1]}", "match": measured == want,
            "bar_match": bool(bar_length(measured) == bar_length(want) or bar_length(want) == 2 * bar_length(measured))}
