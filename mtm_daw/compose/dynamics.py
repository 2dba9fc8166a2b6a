"""Dynamics from the plan: each note's velocity from its role, the energy where it falls, its place in
the bar (accents) and in its phrase (a rise to the phrase's middle and back), not per-note noise.

The trained generator writes which notes sound; its velocity output is not musical (a spread of about
±30 note to note), so this replaces it for the notes it wrote.
"""
from __future__ import annotations

import math

from mtm_daw.description import MusicDescription
from mtm_daw.plan.plan import Plan
from mtm_daw.score import gm
from mtm_daw.score.score import Track

ROLE_LEVEL = {"melody": 100, "bass": 90, "harmony": 74}  # the melody sits above the accompaniment
DRUM_LEVEL = {gm.KICK: 104, gm.SNARE: 100, gm.CLAP: 96, gm.CRASH: 112, gm.RIDE: 78, gm.CLOSED_HAT: 72,
              gm.PEDAL_HAT: 64, gm.OPEN_HAT: 80}
OTHER_DRUM_LEVEL = 84
HIT_LEVEL = 120  # a drum on a hit point: the accent a cut needs
HIT_DRUMS = (gm.CRASH, gm.KICK, gm.SNARE)


def _accent(beat_in_bar: float, beats_per_bar: float) -> float:
    if beat_in_bar < 1e-6:
        return 6.0  # downbeat
    if beats_per_bar == 4 and abs(beat_in_bar - 2) < 1e-6:
        return 3.0  # the bar's middle
    if abs(beat_in_bar - round(beat_in_bar)) < 1e-6:
        return 1.0  # on a beat
    return -4.0  # between beats


def velocity_for(role: str, pitch: int, onset: float, plan: Plan, description: MusicDescription) -> int:
    beats_per_bar = plan.beats_per_bar
    bar = min(plan.bars - 1, int(onset // beats_per_bar))
    section = plan.section_at(bar)
    phrase_beats = section.phrase_bars * beats_per_bar
    in_phrase = ((onset - section.start_bar * beats_per_bar) % phrase_beats) / phrase_beats
    level = DRUM_LEVEL.get(pitch, OTHER_DRUM_LEVEL) if role == "drums" else ROLE_LEVEL.get(role, 80)
    energy = description.energy_at(description.beats_to_seconds(onset))
    value = level * (0.8 + 0.3 * energy) + _accent(onset % beats_per_bar, beats_per_bar) \
        + 5.0 * math.sin(math.pi * in_phrase)
    return int(min(127, max(1, round(value))))


def shape_dynamics(tracks: dict[str, Track], plan: Plan, description: MusicDescription, roles: set[str],
                   region: tuple[float, float] | None = None) -> None:
    """Set the velocity of every note of `roles` (only those starting inside `region`, in beats, if given)."""
    hits = description.hit_point_beats()
    for role in roles:
        track = tracks.get(role)
        if track is None:
            continue
        for note in track.notes:
            if region is None or region[0] <= note.onset < region[1]:
                note.velocity = velocity_for(role, note.pitch, note.onset, plan, description)
                if role == "drums" and note.pitch in HIT_DRUMS and any(abs(note.onset - b) <= 0.125 for b in hits):
                    note.velocity = max(note.velocity, HIT_LEVEL)
