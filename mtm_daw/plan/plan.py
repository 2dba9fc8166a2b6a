"""The plan a cue is written to: its form (sections, phrases) and its chords, bar by bar.

A Plan is what the generator is conditioned on besides the description (per beat: the chord, the
bar's place in its phrase, the section's label) and what the sampler reads to make a repeated
section return as the same music. It comes from the planner (mtm_daw.compose.planner), from a
reference or synced MIDI file (plan_from_score), or from the user (--chords, --form), and is
recorded in the sidecar.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.plan.chords import Chord, chords_from_score, chords_from_weights, parse_chord
from mtm_daw.score.score import Score
from mtm_daw.score.theory import Key

MAX_PHRASE_POSITION = 8  # bar-in-phrase ids 0..7; the last bar of a phrase adds 8
PHRASE_IDS = 2 * MAX_PHRASE_POSITION
SECTION_IDS = 8  # section labels A..H (later letters share ids modulo 8)
SECTION_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_form(text: str) -> str:
    """'AABA', 'a a b a' -> 'AABA'."""
    form = "".join(str(text).split()).upper()
    if not form or any(letter not in SECTION_LETTERS for letter in form):
        raise MtmError(f"form: '{text}' is not a form (write section letters, e.g. AABA or ABAB)")
    return form


def check_chords_fit_key(progression: list[tuple[Chord, ...]], key: Key) -> None:
    """Refuse a progression most of whose roots lie outside the key's scale (in minor, with its raised 7th)."""
    allowed = set(key.scale_pitch_classes()) | ({(key.tonic + 11) % 12} if key.mode == "minor" else set())
    roots = [chord.root for bar in progression for chord in bar]
    outside = [chord.name(key) for bar in progression for chord in bar if chord.root not in allowed]
    if len(outside) * 2 > len(roots):
        raise MtmError(f"chords: {' '.join(outside)} lie outside {key.name}; change the key or the chords")


@dataclass(frozen=True)
class PlanSection:
    label: str  # "A", "B", ...: a label seen before means the same music returns
    start_bar: int
    bars: int
    phrase_bars: int = 4  # bars per phrase inside the section

    @property
    def end_bar(self) -> int:
        return self.start_bar + self.bars


@dataclass(frozen=True)
class Repeat:
    """Bars [bar, bar + bars) play again what bars [source_bar, source_bar + bars) played."""
    bar: int
    source_bar: int
    bars: int


@dataclass
class Plan:
    beats_per_bar: float
    sections: list[PlanSection]  # in order, covering every bar
    chords: list[tuple[Chord | None, ...]]  # per bar: its chords, splitting the bar evenly; None = no chord

    @property
    def bars(self) -> int:
        return len(self.chords)

    @property
    def form(self) -> str:
        return "".join(section.label for section in self.sections)

    def validate(self) -> "Plan":
        position = 0
        for section in self.sections:
            if section.start_bar != position or section.bars < 1 or section.phrase_bars < 1:
                raise MtmError(f"plan: section {section.label} at bar {section.start_bar + 1} does not follow on "
                               f"from bar {position} or is empty")
            position = section.end_bar
        if position != self.bars:
            raise MtmError(f"plan: the sections cover {position} bars but the chords {self.bars}")
        if any(not bar for bar in self.chords):
            raise MtmError("plan: every bar needs at least one chord entry (None for no chord)")
        return self

    def section_at(self, bar: int) -> PlanSection:
        for section in self.sections:
            if section.start_bar <= bar < section.end_bar:
                return section
        return self.sections[-1]

    def chord_at(self, beat: float) -> Chord | None:
        bar = min(self.bars - 1, max(0, int(beat // self.beats_per_bar)))
        chords = self.chords[bar]
        inside = (beat - bar * self.beats_per_bar) / self.beats_per_bar
        return chords[min(len(chords) - 1, max(0, int(inside * len(chords))))]

    def repeats(self) -> list[Repeat]:
        """Each section whose label came before, against the first section with that label."""
        first: dict[str, PlanSection] = {}
        found = []
        for section in self.sections:
            earlier = first.setdefault(section.label, section)
            if earlier is not section:
                found.append(Repeat(section.start_bar, earlier.start_bar, min(section.bars, earlier.bars)))
        return found

    def tokens(self, key: Key, start_beat: float, count: int) -> np.ndarray:
        """(count, 3) int64 per beat from start_beat: chord id, phrase position id, section id."""
        out = np.zeros((count, 3), dtype=np.int64)
        for index in range(count):
            beat = start_beat + index
            bar = int(beat // self.beats_per_bar)
            if bar >= self.bars:
                continue  # past the plan (a window's padding): no chord, first bar of a phrase
            chord = self.chord_at(beat + 1e-6)
            section = self.section_at(bar)
            in_section = bar - section.start_bar
            in_phrase = in_section % section.phrase_bars
            phrase_ends = in_phrase == section.phrase_bars - 1 or bar == section.end_bar - 1
            out[index, 0] = chord.model_id(key.tonic) if chord is not None else 0
            out[index, 1] = min(in_phrase, MAX_PHRASE_POSITION - 1) + (MAX_PHRASE_POSITION if phrase_ends else 0)
            out[index, 2] = SECTION_LETTERS.find(section.label[:1].upper()) % SECTION_IDS
        return out

    # --- sidecar ---------------------------------------------------------------------------
    def to_dict(self, key: Key | None = None) -> dict:
        return {"form": self.form, "beats_per_bar": self.beats_per_bar,
                "sections": [{"label": s.label, "start_bar": s.start_bar, "bars": s.bars, "phrase_bars": s.phrase_bars}
                             for s in self.sections],
                "chords": [" ".join(c.name(key) if c else "-" for c in bar) for bar in self.chords]}

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        try:
            sections = [PlanSection(str(s["label"]), int(s["start_bar"]), int(s["bars"]), int(s.get("phrase_bars", 4)))
                        for s in data["sections"]]
            chords = [tuple(None if word == "-" else parse_chord(word) for word in str(bar).split())
                      for bar in data["chords"]]
            return cls(float(data["beats_per_bar"]), sections, chords).validate()
        except (KeyError, TypeError, ValueError) as error:
            raise MtmError(f"plan: malformed ({error})") from None


def with_reference_chords(plan: Plan, chroma: np.ndarray, tonic: int, steps_per_beat: int = 4) -> Plan:
    """The plan with its chords heard beat by beat in a reference's chroma ((steps, 12), relative to the
    tonic, on the cue's grid; tiled over the cue as the generator reads it), so the chords the model is
    told and the harmony the ControlFormer is shown agree. Beats where the reference is silent keep the
    plan's chord."""
    beats_per_bar = plan.beats_per_bar
    per_bar = max(1, int(round(beats_per_bar)))
    steps = int(round(plan.bars * beats_per_bar * steps_per_beat))
    if not len(chroma):
        return plan
    tiled = np.resize(np.asarray(chroma, dtype=np.float32), (steps, 12))
    span = steps_per_beat * beats_per_bar / per_bar
    weights = np.stack([tiled[int(round(i * span)):int(round((i + 1) * span))].sum(axis=0)
                        for i in range(plan.bars * per_bar)])
    weights = np.roll(weights, tonic, axis=1)  # tonic-relative -> pitch classes
    heard = chords_from_weights(weights)
    chords = []
    for bar in range(plan.bars):
        planned = [plan.chord_at(bar * beats_per_bar + (i + 0.5) * beats_per_bar / per_bar) for i in range(per_bar)]
        chords.append(tuple(heard[bar * per_bar + i] or planned[i] for i in range(per_bar)))
    return Plan(beats_per_bar, plan.sections, chords).validate()


# --- a plan heard in existing music ---------------------------------------------------------------
def _bar_features(score: Score, bars: int, steps_per_bar: int) -> np.ndarray:
    """(bars, steps_per_bar * 13) per sixteenth: the 12 pitch classes sounding and any onset."""
    features = np.zeros((bars, steps_per_bar, 13), dtype=np.float32)
    for track in score.tracks.values():
        for note in track.notes:
            step = int(round(note.onset * 4))
            bar, inside = divmod(step, steps_per_bar)
            if not 0 <= bar < bars:
                continue
            features[bar, inside, 12] = 1.0
            if not track.is_drum:
                end = max(step + 1, int(round(note.end * 4)))
                for s in range(step, min(end, bars * steps_per_bar)):
                    b, i = divmod(s, steps_per_bar)
                    features[b, i, note.pitch % 12] = 1.0
    return features.reshape(bars, -1)


def plan_from_score(score: Score, phrase_bars: int = 4, chord_beats: float | None = None,
                    same_music: float = 0.8) -> Plan:
    """The plan heard in a score: chords per beat (or per chord_beats), and a form from its phrases —
    a phrase that sounds like an earlier one (cosine similarity of pitch classes and onsets at least
    same_music) takes that phrase's label."""
    beats_per_bar = score.beats_per_bar
    bars = max(1, score.bars)
    span = chord_beats or 1.0
    per_bar = max(1, int(round(beats_per_bar / span)))
    heard = chords_from_score(score, beats_per_bar / per_bar)
    heard += [None] * (bars * per_bar - len(heard))
    chords = [tuple(heard[bar * per_bar:(bar + 1) * per_bar]) for bar in range(bars)]

    steps_per_bar = max(1, int(round(beats_per_bar * 4)))
    features = _bar_features(score, bars, steps_per_bar)
    sections: list[PlanSection] = []
    labels: list[tuple[str, np.ndarray]] = []
    for start in range(0, bars, phrase_bars):
        size = min(phrase_bars, bars - start)
        block = features[start:start + size].ravel()
        label = None
        for earlier_label, earlier in labels:
            compared = earlier[:len(block)]
            norm = np.linalg.norm(block) * np.linalg.norm(compared)
            if len(compared) == len(block) and norm > 0 and float(block @ compared) / norm >= same_music:
                label = earlier_label
                break
        if label is None:
            label = SECTION_LETTERS[len(labels) % len(SECTION_LETTERS)]
            labels.append((label, block))
        sections.append(PlanSection(label, start, size, phrase_bars))
    return Plan(beats_per_bar, sections, chords).validate()
