"""Structure metrics of a Score: what separates music with form from notes without it.

Each figure is computed the same way for generated cues and for music people wrote:
  repeat_share       bars that exactly repeat the bar 4 or 8 bars earlier (onset step in the bar and pitch)
  bar_similarity     Jaccard similarity of a role's bar with the bar `lag` bars earlier, averaged
  chord_tone_share   melody duration on the chord tones of the bar it sounds in (chords heard in the bass
                     and harmony), and the same melody shifted one bar later as the control: music whose
                     melody follows its chords scores well above its control
  step_share / leap_share   melody intervals of at most 2 semitones / of 5 or more
  velocity_spread    standard deviation of a role's velocities
  empty_bar_share    bars in which a requested role starts no note
  hit_accent_share   hit points with a crash, or a drum at velocity 100 or more, within a sixteenth
"""
from __future__ import annotations

import numpy as np

from mtm_daw.plan.chords import chords_from_score
from mtm_daw.score.score import Score, Track

STEPS_PER_BEAT = 4
CRASHES = (49, 57, 52, 55)


def _bars(score: Score, track: Track) -> list[frozenset]:
    bar_steps = max(1, int(round(score.beats_per_bar * STEPS_PER_BEAT)))
    bars = max(1, score.bars)
    cells: list[set] = [set() for _ in range(bars)]
    for note in track.notes:
        step = int(round(note.onset * STEPS_PER_BEAT))
        bar, inside = divmod(step, bar_steps)
        if 0 <= bar < bars:
            cells[bar].add((inside, note.pitch))
    return [frozenset(c) for c in cells]


def repeat_share(score: Score, role: str, lags: tuple[int, ...] = (4, 8)) -> float:
    """Share of the bars (from bar min(lags) on, with notes) equal to the bar 4 or 8 earlier; NaN if none."""
    track = score.tracks.get(role)
    if track is None or not track.notes:
        return float("nan")
    bars = _bars(score, track)
    candidates = [b for b in range(min(lags), len(bars)) if bars[b]]
    if not candidates:
        return float("nan")
    return float(np.mean([any(b - lag >= 0 and bars[b] == bars[b - lag] for lag in lags) for b in candidates]))


def bar_similarity(score: Score, role: str, lag: int) -> float:
    track = score.tracks.get(role)
    if track is None or not track.notes:
        return float("nan")
    bars = _bars(score, track)
    values = [len(bars[b] & bars[b - lag]) / len(bars[b] | bars[b - lag])
              for b in range(lag, len(bars)) if bars[b] or bars[b - lag]]
    return float(np.mean(values)) if values else float("nan")


def chord_tone_share(score: Score) -> tuple[float, float]:
    """(share on the chord tones, share of the one-bar-shifted control); NaN without melody or accompaniment."""
    melody = score.tracks.get("melody")
    accompaniment = {role: track for role, track in score.tracks.items() if role in ("bass", "harmony") and track.notes}
    if melody is None or not melody.notes or not accompaniment:
        return float("nan"), float("nan")
    heard = Score(score.tempo, score.time_signature, score.key, accompaniment, score.length_beats)
    chords = chords_from_score(heard, score.beats_per_bar)

    def share(shift_bars: int) -> float:
        on, total = 0.0, 0.0
        for note in melody.notes:
            bar = int(note.onset // score.beats_per_bar) + shift_bars
            if not 0 <= bar < len(chords) or chords[bar] is None:
                continue
            total += note.duration
            on += note.duration if note.pitch % 12 in chords[bar].pitch_classes else 0.0
        return on / total if total else float("nan")

    return share(0), share(1)


def melody_motion(score: Score) -> tuple[float, float]:
    """(share of steps <= 2 semitones, share of leaps >= 5) between successive melody onsets (top note)."""
    melody = score.tracks.get("melody")
    if melody is None or len(melody.notes) < 2:
        return float("nan"), float("nan")
    tops: dict[float, int] = {}
    for note in melody.notes:
        tops[note.onset] = max(tops.get(note.onset, 0), note.pitch)
    pitches = np.array([tops[onset] for onset in sorted(tops)])
    intervals = np.abs(np.diff(pitches))
    if not len(intervals):
        return float("nan"), float("nan")
    return float(np.mean(intervals <= 2)), float(np.mean(intervals >= 5))


def velocity_spread(score: Score, role: str) -> float:
    track = score.tracks.get(role)
    if track is None or len(track.notes) < 2:
        return float("nan")
    return float(np.std([note.velocity for note in track.notes]))


def empty_bar_share(score: Score, role: str) -> float:
    track = score.tracks.get(role)
    if track is None:
        return float("nan")
    bars = _bars(score, track)
    return float(np.mean([not bar for bar in bars]))


def notes_per_bar(score: Score, role: str) -> float:
    track = score.tracks.get(role)
    return float("nan") if track is None else len(track.notes) / max(1, score.bars)


def hit_accent_share(score: Score, hit_beats: list[float]) -> float:
    drums = next((t for t in score.tracks.values() if t.is_drum), None)
    if not hit_beats:
        return float("nan")
    if drums is None:
        return 0.0
    accents = [n.onset for n in drums.notes if n.pitch in CRASHES or n.velocity >= 100]
    return float(np.mean([any(abs(onset - beat) <= 0.25 + 1e-6 for onset in accents) for beat in hit_beats]))


def structure_summary(score: Score) -> dict[str, float | None]:
    """Three figures for `mtm eval`: repeat share at 4/8 bars averaged over bass, harmony and melody; melody
    chord-tone share minus its one-bar-shifted control; melody velocity spread. None where not measurable."""
    def defined(value: float) -> float | None:
        return None if value != value else round(value, 4)

    repeats = [v for v in (repeat_share(score, role) for role in ("bass", "harmony", "melody")) if v == v]
    on_chords, control = chord_tone_share(score)
    return {"repeat": defined(float(np.mean(repeats))) if repeats else None,
            "chord_tones": defined(on_chords - control),
            "melody_velocity_spread": defined(velocity_spread(score, "melody"))}
