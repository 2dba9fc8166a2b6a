"""A MIDI file's style from what it plays: its drums against each style's groove checks, its tempo and
meter against each style's range, its instruments against each style's programs.

Notes are exact where audio is not, so the drums speak loudest: a one drop, four on the floor or a
spang-a-lang ride is read straight from the drum track. Without drums, tempo, meter and instruments
decide, which tells apart fewer styles (a string quartet at 70 BPM is cinematic or orchestral, not
house). When the file is also heard (rendered and played to describe.listening), the two votes are
averaged.
"""
from __future__ import annotations

from mtm_daw.score.score import Score
from mtm_daw.score.styles import STYLE_NAMES, combine_votes, groove_match, style_for

TEMPO_SLACK_BPM = 40.0  # a tempo this far outside a style's range no longer counts for it
OTHER_METER = 0.3  # weight of a style written in another meter
GROOVE_FLOOR = 0.05  # a style none of whose checks hold keeps a little weight (a fill-only file)
SHARPNESS = 4  # a groove that matches better wins clearly: weights go as the match to this power
SPECIFICITY = 0.1  # weight per step a style's checks pin down: a full match of many steps is rarer by chance


def _tempo_fit(tempo: float, tempo_range: tuple[float, float]) -> float:
    low, high = tempo_range
    outside = max(low - tempo, tempo - high, 0.0)
    return max(0.05, 1.0 - outside / TEMPO_SLACK_BPM)


def _instrument_fit(score: Score, programs: dict[str, int]) -> float:
    """The share of the file's pitched parts whose General MIDI family (8 programs each) is the one the
    style plays in that role; 0.5 to 1 so that an unusual instrument never rules a style out."""
    pitched = [(role, track.program) for role, track in score.tracks.items() if not track.is_drum and track.notes]
    if not pitched:
        return 1.0
    same = sum(role in programs and program // 8 == programs[role] // 8 for role, program in pitched)
    return 0.5 + 0.5 * same / len(pitched)


def styles_from_score(score: Score) -> dict[str, float]:
    """A distribution over the library's styles (summing to 1) from the notes alone."""
    drums = next((t.notes for t in score.tracks.values() if t.is_drum and t.notes), None)
    bars = max(1, score.bars)
    weights = {}
    for name in STYLE_NAMES:
        style = style_for(name)
        weight = _tempo_fit(score.tempo, style.tempo_range) * _instrument_fit(score, style.programs)
        weight *= 1.0 if tuple(style.meter) == tuple(score.time_signature) else OTHER_METER
        if drums is not None:
            weight *= max(GROOVE_FLOOR, groove_match(drums, style, bars, score.beats_per_bar)) ** SHARPNESS
            weight *= 1.0 + SPECIFICITY * sum(len(c.on) - c.on.count(".") for c in style.signatures)
        weights[name] = weight
    total = sum(weights.values())
    return {name: weight / total for name, weight in weights.items()}


def midi_styles(score: Score, heard: dict[str, float] | None = None) -> list[tuple[str, float]]:
    """The styles a MIDI file is, best first: its notes' vote (none without notes) averaged with what
    was heard when it was rendered and listened to; empty when neither has voted."""
    return combine_votes(styles_from_score(score) if score.note_count() else {}, heard or {})
