"""Form as the sampler uses it: which bars are tied to which earlier bars.

A returning section (a label seen before) is tied bar for bar to its first appearance, every role,
where the two bars have the same chords (the cue's last bar, which goes home, is left free);
inside a section, the drums of each bar but the phrase ends are tied to the section's first bar,
so the groove holds and the fills at phrase ends stay free.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.plan.plan import Plan
from mtm_daw.score.roll import role_columns


@dataclass(frozen=True)
class Tie:
    bar: int  # this bar ...
    source_bar: int  # ... starts out as this earlier one
    columns: np.ndarray  # the roll columns tied (the roles')


def form_ties(plan: Plan, roles: tuple[str, ...]) -> list[Tie]:
    every_role = np.concatenate([role_columns(role) for role in roles])
    ties: list[Tie] = []
    tied_bars = set()
    for repeat in plan.repeats():
        for offset in range(repeat.bars):
            if plan.chords[repeat.bar + offset] != plan.chords[repeat.source_bar + offset]:
                continue
            ties.append(Tie(repeat.bar + offset, repeat.source_bar + offset, every_role))
            tied_bars.add(repeat.bar + offset)
    if "drums" in roles:
        drums = role_columns("drums")
        for section in plan.sections:
            for bar in range(section.start_bar + 1, section.end_bar):
                in_phrase = (bar - section.start_bar) % section.phrase_bars
                if bar not in tied_bars and in_phrase != section.phrase_bars - 1 and bar != section.end_bar - 1:
                    ties.append(Tie(bar, section.start_bar, drums))
    return sorted(ties, key=lambda tie: tie.bar)
