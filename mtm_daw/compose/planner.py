"""The planner: a description (and what the user pinned: chords, form) -> a Plan. Seeded.

Form: the user's (--form AABA: equal sections, one letter each), else the description's sections
(sections with the same name are the same music), else one chosen by length — 4-bar phrases, AABA
and verse/chorus shapes with their repeats. Chords: the user's progression (restarting with every
section, so a returning section brings its chords back), else a progression per section label chosen
by mode and mood, ending the cue on the tonic.
"""
from __future__ import annotations

import random
from dataclasses import replace

from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.plan.chords import Chord, diatonic_chord, parse_progression, progression_chord
from mtm_daw.plan.plan import SECTION_LETTERS, Plan, PlanSection, parse_form
from mtm_daw.score.progressions import progressions_for
from mtm_daw.score.styles import style_for
from mtm_daw.score.theory import parse_key

PHRASE_BARS = 4
# Forms by cue length in phrases (letters = sections of one phrase each, or two when the cue is long).
_FORMS = {1: ("A",), 2: ("AA", "AB"), 3: ("AAB", "ABA"), 4: ("AABA", "ABAB", "AABB"),
          5: ("AABAB", "ABABA"), 6: ("AABABA", "ABABCB"), 7: ("AABABCB", "ABABCAB"), 8: ("AABAABCA", "ABABCBAB")}


def _form_sections(form: str, bars: int) -> list[PlanSection]:
    if len(form) > bars:
        raise MtmError(f"form: {form} has {len(form)} sections but the cue has only {bars} bars")
    size = bars // len(form)
    sections, start = [], 0
    for index, label in enumerate(form):
        length = size if index < len(form) - 1 else bars - start
        sections.append(PlanSection(label, start, length, min(PHRASE_BARS, size)))
        start += length
    return sections


def _sections_from_description(description: MusicDescription, bars: int) -> list[PlanSection]:
    bar_seconds = description.bar_seconds
    names: dict[str, str] = {}
    sections: list[PlanSection] = []
    for bar in range(bars):
        middle = (bar + 0.5) * bar_seconds
        section = next((s for s in description.sections if s.start <= middle < s.end), description.sections[-1])
        label = names.setdefault(section.name, SECTION_LETTERS[len(names) % len(SECTION_LETTERS)])
        if sections and sections[-1].label == label and sections[-1].end_bar == bar:
            last = sections[-1]
            sections[-1] = PlanSection(label, last.start_bar, last.bars + 1, last.phrase_bars)
        else:
            sections.append(PlanSection(label, bar, 1, PHRASE_BARS))
    return sections


def _chosen_sections(bars: int, rng: random.Random) -> list[PlanSection]:
    phrases = max(1, round(bars / PHRASE_BARS))
    if phrases > 8:  # long cues: sections of two phrases
        phrases = max(1, round(bars / (2 * PHRASE_BARS)))
    options = _FORMS.get(phrases)
    if options is None:  # past 8 sections: repeat the verse/chorus pair, bridge C near the end
        body = "AB" * (phrases // 2)
        options = (body[:phrases - 2] + "CB" if phrases % 2 == 0 else body + "A",)
    form = rng.choice(options)
    sections = _form_sections(form, bars) if bars >= len(form) else _form_sections("A", bars)
    return [replace(s, phrase_bars=min(PHRASE_BARS, s.bars)) for s in sections]


def make_plan(description: MusicDescription, seed: int = 0) -> Plan:
    """The plan for a description; its `chords` ('Am F C G') and `form` ('AABA') pin what the user chose."""
    description.validate()
    chords, form = description.chords, description.form
    key = parse_key(description.key)
    rng = random.Random(seed * 7919 + 13)
    bars = description.bars
    if form:
        sections = _form_sections(parse_form(form), bars)
    elif description.sections:
        sections = _sections_from_description(description, bars)
    else:
        sections = _chosen_sections(bars, rng)

    if chords:
        progression = parse_progression(chords)
        by_label = {s.label: progression for s in sections}
    else:
        sevenths = style_for(description.genre).sevenths
        options = progressions_for(key.mode, description.mood, description.genre)
        by_label = {}
        for section in sections:
            if section.label not in by_label:
                degrees = rng.choice(options)
                by_label[section.label] = [(progression_chord(key, d, sevenths),) for d in degrees]
    bar_chords: list[tuple[Chord | None, ...]] = []
    for section in sections:
        progression = by_label[section.label]
        for position in range(section.bars):
            bar_chords.append(tuple(progression[position % len(progression)]))
    if not chords:
        bar_chords[-1] = (diatonic_chord(key, 0),)  # the cue ends home
    return Plan(description.beats_per_bar, sections, bar_chords).validate()
