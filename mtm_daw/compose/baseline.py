"""The procedural baseline composer: MusicDescription -> Score.

It is the reference every learned model must beat and a source of labelled training data.
Steps: lay out bars and sections, pick a progression per section, then write each role from
the genre's style, scaling density and velocity with the energy curve and putting accents
(with a fill before them) on hit points. Seeded and deterministic.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from mtm_daw.description import MusicDescription, Section
from mtm_daw.plan.chords import diatonic_chord, progression_chord
from mtm_daw.compose.planner import make_plan
from mtm_daw.score import gm
from mtm_daw.score.progressions import progressions_for
from mtm_daw.score.roll import STEPS_PER_BEAT
from mtm_daw.score.score import Note, Score, Track, without_overlaps
from mtm_daw.score.styles import LEVELS, BassStep, Style, style_for, swung_onset
from mtm_daw.score.theory import Key, parse_key

HARMONY_RANGE = (52, 76)
BASS_LOW = 36


@dataclass
class Chord:
    degree: int  # scale degree, 0 = tonic
    pitch_classes: tuple[int, ...]  # root first


@dataclass
class Bar:
    index: int
    start: float  # beats
    section: str
    section_bar: int  # position inside its section
    section_length: int  # bars in its section
    energy: float  # 0..1
    chord: Chord
    next_chord: Chord

    @property
    def level(self) -> str:
        return LEVELS[0] if self.energy < 0.4 else LEVELS[1] if self.energy < 0.7 else LEVELS[2]

    @property
    def ends_section(self) -> bool:
        return self.section_bar == self.section_length - 1


def compose(description: MusicDescription, seed: int = 0, role_seeds: dict[str, int] | None = None) -> Score:
    """Write a multi-track Score that follows the description.

    role_seeds: roles written with their own seed: the form and chords still come from `seed`, so
    a role re-written this way fits the other roles of the piece `seed` alone writes.
    """
    description.validate()
    key = parse_key(description.key)
    style = style_for(description.genre)
    rng = random.Random(seed)
    numerator, denominator = description.time_signature
    steps_per_bar = numerator * 16 // denominator
    beats_per_bar = steps_per_bar / STEPS_PER_BEAT

    bars = _lay_out_bars(description, key, style, beats_per_bar, rng, seed)
    grooves = _grooves(style, steps_per_bar, denominator)
    hit_steps = sorted({round(description.seconds_to_beats(h.time) * STEPS_PER_BEAT) for h in description.hit_points})
    feel = style.feel

    writers = {
        "drums": lambda rng: _drums(bars, grooves, style, steps_per_bar, hit_steps, feel, rng),
        "bass": lambda rng: _bass(bars, grooves, style, key, steps_per_bar, hit_steps, rng),
        "harmony": lambda rng: _harmony(bars, grooves, style, key, steps_per_bar, hit_steps, feel, rng),
        "melody": lambda rng: _melody(bars, style, key, steps_per_bar, feel, rng),
    }
    tracks = {}
    for role in description.roles:
        program = description.instruments.get(role, style.programs[role])
        role_rng = random.Random(role_seeds[role]) if role_seeds and role in role_seeds else rng
        tracks[role] = Track(role, program, writers[role](role_rng), is_drum=role == "drums")  # drums: the kit
    return Score(description.tempo, (numerator, denominator), key.name, tracks, len(bars) * beats_per_bar)


# --- form and harmony ------------------------------------------------------------------------

def default_sections(n_bars: int, bar_seconds: float) -> list[Section]:
    """Intro, alternating verse/chorus blocks of 4 bars, outro — scaled to the cue's length."""
    if n_bars < 6:
        return [Section("main", 0.0, n_bars * bar_seconds, 0.6)]
    plan: list[tuple[str, int, float]] = [("intro", 2 if n_bars < 16 else 4, 0.35)]
    remaining = n_bars - plan[0][1] - 2
    names = [("verse", 0.55), ("chorus", 0.85)]
    block = 0
    while remaining > 0:
        name, energy = names[block % 2]
        length = min(4 if n_bars < 24 else 8, remaining)
        plan.append((name, length, energy))
        remaining -= length
        block += 1
    plan.append(("outro", 2, 0.4))
    sections, start = [], 0
    for name, length, energy in plan:
        sections.append(Section(name, start * bar_seconds, (start + length) * bar_seconds, energy))
        start += length
    return sections


def _planned_bars(description: MusicDescription, key: Key, beats_per_bar: float, seed: int) -> list[Bar]:
    """Bars from the plan, when the user pinned chords or a form (one chord a bar: each bar's first)."""
    plan = make_plan(description, seed)
    scale = key.scale_pitch_classes()
    bars = []
    for index in range(plan.bars):
        section = plan.section_at(index)
        chord = next((c for c in plan.chords[index] if c is not None), None) or diatonic_chord(key, 0)
        planned = Chord(scale.index(chord.root) if chord.root in scale else -1, chord.pitch_classes)
        bars.append(Bar(index, index * beats_per_bar, section.label, index - section.start_bar, section.bars,
                        description.energy_at(description.beats_to_seconds((index + 0.5) * beats_per_bar)),
                        planned, planned))
    for bar, following in zip(bars, bars[1:]):
        bar.next_chord = following.chord
    return bars


def _lay_out_bars(description: MusicDescription, key: Key, style: Style, beats_per_bar: float,
                  rng: random.Random, seed: int) -> list[Bar]:
    if description.chords or description.form:
        return _planned_bars(description, key, beats_per_bar, seed)
    bar_seconds = description.bar_seconds
    n_bars = description.bars
    sections = description.sections or default_sections(n_bars, bar_seconds)
    choices = progressions_for(key.mode, description.mood, description.genre)
    progression_by_name: dict[str, tuple[int, ...]] = {}

    layout: list[tuple[Section, int]] = []
    for index in range(n_bars):
        middle = (index + 0.5) * bar_seconds
        section = next((s for s in sections if s.start <= middle < s.end), sections[-1])
        layout.append((section, index))

    bars: list[Bar] = []
    for index, (section, _) in enumerate(layout):
        section_bars = [i for i, (s, _) in enumerate(layout) if s is section]
        position = section_bars.index(index)
        progression = progression_by_name.setdefault(section.name, rng.choice(choices))
        degree = 0 if index == n_bars - 1 else progression[position % len(progression)]
        energy = description.energy_at((index + 0.5) * bar_seconds) if description.energy else section.energy
        bars.append(Bar(index, index * beats_per_bar, section.name, position, len(section_bars), energy,
                        _chord(key, degree, style), _chord(key, degree, style)))
    for bar, following in zip(bars, bars[1:]):
        bar.next_chord = following.chord
    return bars


def _chord(key: Key, degree: int, style: Style) -> Chord:
    return Chord(degree, progression_chord(key, degree, style.sevenths).pitch_classes)


# --- grooves -----------------------------------------------------------------------------------

@dataclass
class Groove:
    drums: dict[str, dict[int, str]]  # level -> {GM key: pattern of one or more bars}
    bass: dict[str, tuple[BassStep, ...]]
    harmony: dict[str, str]
    fill: dict[int, str]  # {GM key: one beat} replacing those voices on a section's last beat
    bass_length: dict[str, int] | None = None  # level -> bass pattern length in steps (None: one bar)

    def bar_slice(self, pattern: str, bar_index: int, steps_per_bar: int) -> str:
        """The bar's part of a pattern that runs over several bars."""
        start = (bar_index % max(1, len(pattern) // steps_per_bar)) * steps_per_bar
        return pattern[start:start + steps_per_bar]

    def bass_steps(self, level: str, bar_index: int, steps_per_bar: int) -> list[BassStep]:
        length = (self.bass_length or {}).get(level, steps_per_bar)
        start = (bar_index % max(1, length // steps_per_bar)) * steps_per_bar
        return [BassStep(s.step - start, s.length, s.tone) for s in self.bass[level]
                if start <= s.step < start + steps_per_bar]


def _grooves(style: Style, steps_per_bar: int, denominator: int) -> Groove:
    """The style's patterns in its own meter; other meters get a groove on the meter's pulses."""
    if steps_per_bar == style.meter[0] * 16 // style.meter[1] and denominator == style.meter[1]:
        return Groove(style.drums, style.bass, style.harmony, style.fill, style.bass_length)
    return generic_groove(style, steps_per_bar, denominator)


def meter_pulses(steps_per_bar: int, denominator: int) -> list[int]:
    """Steps where the meter's pulses fall: quarters for x/4, groups of 3 (or 2+..+3) eighths for x/8."""
    if denominator <= 4:
        size = 16 // denominator if denominator < 4 else 4
        return list(range(0, steps_per_bar, size))
    eighths = steps_per_bar // 2
    if eighths == 0:  # a bar shorter than an eighth (1/16): one pulse
        return [0]
    if eighths % 3 == 0:
        groups = [3] * (eighths // 3)
    else:
        groups = [2] * ((eighths - 3) // 2) + [3] if eighths >= 3 else [eighths]
    pulses, position = [], 0
    for group in groups:
        pulses.append(position * 2)
        position += group
    return pulses


def generic_groove(style: Style, steps_per_bar: int, denominator: int) -> Groove:
    """Drums, bass and harmony rhythms for meters other than 4/4, built on the meter's pulses."""
    pulses = meter_pulses(steps_per_bar, denominator)

    def line(steps: list[int], char: str = "x", hold: bool = False) -> str:
        cells = ["-" if hold else "."] * steps_per_bar
        for step in steps:
            cells[step] = char
        if hold:
            cells[: min(steps)] = ["."] * min(steps)
        return "".join(cells)

    downbeat = [pulses[0]] + ([pulses[len(pulses) // 2]] if len(pulses) >= 4 else [])
    backbeats = [p for i, p in enumerate(pulses) if i % 2 == 1] or pulses[1:]
    eighths = list(range(0, steps_per_bar, 2))
    low_voice = gm.TIMPANI_LIKE_TOM if style.parent in ("cinematic", "orchestral") else gm.KICK
    time_voice = gm.RIDE if style.parent == "jazz" else gm.SHAKER if style.parent == "ambient" else gm.CLOSED_HAT
    drums = {
        "low": {low_voice: line(downbeat), time_voice: line(pulses)},
        "mid": {low_voice: line(downbeat), gm.SNARE: line(backbeats, "o"), time_voice: line(eighths)},
        "high": {low_voice: line(downbeat), gm.SNARE: line(backbeats), time_voice: line(eighths)},
    }
    bass = {
        "low": (BassStep(0, steps_per_bar, "R"),),
        "mid": tuple(BassStep(p, (pulses + [steps_per_bar])[i + 1] - p, "R5"[i % 2]) for i, p in enumerate(pulses)),
        "high": tuple(BassStep(s, 2, "R") for s in eighths),
    }
    harmony = {"low": line([0], hold=True), "mid": line(pulses, hold=True),
               "high": "a" * steps_per_bar if style.parent in ("cinematic", "orchestral") else line(pulses, hold=True)}
    return Groove(drums, bass, harmony, {gm.SNARE: "xxxx"})


def parse_pattern(pattern: str) -> list[tuple[int, int, str]]:
    """'x-.o' -> [(step, length, char)]: each hit held over the '-' that follow it."""
    hits = []
    for step, char in enumerate(pattern):
        if char in "xXoa":
            length = 1
            while step + length < len(pattern) and pattern[step + length] == "-":
                length += 1
            hits.append((step, length, char))
    return hits


# --- helpers -----------------------------------------------------------------------------------

def _velocity(style: Style, energy: float, char: str, rng: random.Random) -> int:
    weight = {"X": 1.2, "x": 1.0, "a": 0.9, "o": 0.6}[char]
    value = style.velocity * weight * (0.75 + 0.45 * energy) + rng.uniform(-4, 4)
    return int(min(127, max(1, round(value))))


def _onset(bar: Bar, step: int, feel: str) -> float:
    """A step's onset in beats, where the style's feel puts it."""
    return bar.start + swung_onset(step / STEPS_PER_BEAT, feel)


def _note(onset: float, steps: float, pitch: int, velocity: int) -> Note:
    return Note(round(onset, 6), round(steps / STEPS_PER_BEAT, 6), pitch, velocity)


def _bar_of_step(bars: list[Bar], step: int, steps_per_bar: int) -> Bar | None:
    index = step // steps_per_bar
    return bars[index] if 0 <= index < len(bars) else None


# --- roles -------------------------------------------------------------------------------------

def _drums(bars: list[Bar], groove: Groove, style: Style, steps_per_bar: int, hit_steps: list[int],
           feel: str, rng: random.Random) -> list[Note]:
    notes: list[Note] = []
    fill_steps = set()
    for hit in hit_steps:
        fill_steps.update(range(max(0, hit - STEPS_PER_BEAT), hit))
    for bar in bars:
        if bar.index == len(bars) - 1 and len(bars) > 1:
            notes += [_note(bar.start, 1, gm.CRASH, 110), _note(bar.start, 1, gm.KICK, 110)]
            continue
        # a section's last beat: the style's fill takes over its voices, the rest of the groove plays on
        fill_start = steps_per_bar - STEPS_PER_BEAT if bar.ends_section and bar.index < len(bars) - 2 else None
        for drum, pattern in groove.drums[bar.level].items():
            for step, _, char in parse_pattern(groove.bar_slice(pattern, bar.index, steps_per_bar)):
                global_step = bar.index * steps_per_bar + step
                if (fill_start is not None and step >= fill_start and drum in groove.fill) or global_step in fill_steps:
                    continue
                notes.append(_note(_onset(bar, step, feel), 1, drum, _velocity(style, bar.energy, char, rng)))
        if bar.section_bar == 0 and bar.index > 0:
            notes.append(_note(bar.start, 2, gm.CRASH, _velocity(style, bar.energy, "X", rng)))
        if fill_start is not None:
            for drum, pattern in groove.fill.items():
                for step, _, char in parse_pattern(pattern):
                    notes.append(_note(_onset(bar, fill_start + step, feel), 1, drum,
                                       _velocity(style, max(bar.energy, 0.5), char, rng)))
    for hit in hit_steps:
        bar = _bar_of_step(bars, hit, steps_per_bar)
        if bar is None:
            continue
        onset = hit / STEPS_PER_BEAT
        notes += [_note(onset, 2, gm.CRASH, 120), _note(onset, 1, gm.KICK, 120)]
        if hit >= STEPS_PER_BEAT:
            notes += _fill(onset - 1.0, max(bar.energy, 0.7), style, rng)
    return sorted(notes, key=lambda n: (n.onset, n.pitch))


def _fill(start: float, energy: float, style: Style, rng: random.Random) -> list[Note]:
    """One beat of sixteenths down the toms (or snare), getting louder."""
    voices = [gm.HIGH_TOM, gm.MID_TOM, gm.LOW_TOM, gm.TIMPANI_LIKE_TOM] if energy >= 0.5 else [gm.SNARE] * 4
    notes = []
    for i, drum in enumerate(voices):
        velocity = int(min(127, style.velocity * (0.7 + 0.1 * i) * (0.8 + 0.4 * energy) + rng.uniform(-3, 3)))
        notes.append(_note(start + i / STEPS_PER_BEAT, 1, drum, max(1, velocity)))
    return notes


def _bass_pitch(pitch_class: int) -> int:
    return BASS_LOW + (pitch_class - BASS_LOW) % 12


def _bass(bars: list[Bar], groove: Groove, style: Style, key: Key, steps_per_bar: int,
          hit_steps: list[int], rng: random.Random) -> list[Note]:
    notes: list[Note] = []
    for bar in bars:
        root = _bass_pitch(bar.chord.pitch_classes[0])
        if bar.index == len(bars) - 1:
            notes.append(_note(bar.start, steps_per_bar, root, _velocity(style, bar.energy, "x", rng)))
            continue
        if style.walking_bass:
            notes += _walking_bar(bar, key, style, steps_per_bar, rng)
            continue
        next_root = _bass_pitch(bar.next_chord.pitch_classes[0])
        third = root + (bar.chord.pitch_classes[1] - bar.chord.pitch_classes[0]) % 12 if len(bar.chord.pitch_classes) > 1 \
            else root + 4
        for step in groove.bass_steps(bar.level, bar.index, steps_per_bar):
            pitch = {"R": root, "3": third, "5": root + 7, "6": root + 9, "8": root + 12, "b": root + 10,
                     "A": next_root - 1 if next_root > root else next_root + 1}[step.tone]
            length = max(1, step.length - (1 if step.length > 2 else 0))  # a little air between notes
            notes.append(_note(bar.start + step.step / STEPS_PER_BEAT, length, pitch,
                               _velocity(style, bar.energy, "x", rng)))
    for hit in hit_steps:
        bar = _bar_of_step(bars, hit, steps_per_bar)
        if bar is not None:
            notes.append(_note(hit / STEPS_PER_BEAT, STEPS_PER_BEAT, _bass_pitch(bar.chord.pitch_classes[0]), 118))
    return without_overlaps(notes)


def _walking_bar(bar: Bar, key: Key, style: Style, steps_per_bar: int, rng: random.Random) -> list[Note]:
    """Quarter notes: root, chord or scale tones, then a chromatic approach to the next root."""
    beats = steps_per_bar // STEPS_PER_BEAT
    root = _bass_pitch(bar.chord.pitch_classes[0])
    target = _bass_pitch(bar.next_chord.pitch_classes[0])
    pitches = [root]
    chord_tones = [root + (pc - bar.chord.pitch_classes[0]) % 12 for pc in bar.chord.pitch_classes[1:]]
    for _ in range(beats - 2):
        pitches.append(rng.choice(chord_tones + [root + 12]))
    if beats > 1:
        pitches.append(target + (1 if rng.random() < 0.5 else -1))
    return [_note(bar.start + i, STEPS_PER_BEAT - 1, p, _velocity(style, bar.energy, "x", rng))
            for i, p in enumerate(pitches)]


def voice_chord(pitch_classes: tuple[int, ...], previous: list[int] | None, power: bool = False) -> list[int]:
    """The voicing within HARMONY_RANGE closest to the previous one (smooth voice leading)."""
    low, high = HARMONY_RANGE
    if power:
        root = low + (pitch_classes[0] - low) % 12
        return [root, root + 7, root + 12]
    candidates = []
    for inversion in range(len(pitch_classes)):
        order = pitch_classes[inversion:] + pitch_classes[:inversion]
        for base in range(low, low + 12):
            if base % 12 != order[0]:
                continue
            voicing = [base]
            for pc in order[1:]:
                voicing.append(voicing[-1] + (pc - voicing[-1]) % 12)
            if voicing[-1] <= high:
                candidates.append(voicing)
    if previous is None:
        return min(candidates, key=lambda v: abs(sum(v) / len(v) - (low + high) / 2))
    return min(candidates, key=lambda v: sum(abs(a - b) for a, b in zip(sorted(v), sorted(previous))))


def _harmony(bars: list[Bar], groove: Groove, style: Style, key: Key, steps_per_bar: int,
             hit_steps: list[int], feel: str, rng: random.Random) -> list[Note]:
    notes: list[Note] = []
    voicing: list[int] | None = None
    for bar in bars:
        voicing = voice_chord(bar.chord.pitch_classes, voicing, style.power_chords)
        if bar.index == len(bars) - 1:
            notes += [_note(bar.start, steps_per_bar, p, _velocity(style, bar.energy, "x", rng)) for p in voicing]
            continue
        arpeggio = voicing + voicing[-2:0:-1]  # up and back down
        arp_index = 0
        for step, length, char in parse_pattern(groove.bar_slice(groove.harmony[bar.level], bar.index, steps_per_bar)):
            onset = _onset(bar, step, feel)
            velocity = _velocity(style, bar.energy, char, rng)
            if char == "a":
                notes.append(_note(onset, length, arpeggio[arp_index % len(arpeggio)], velocity))
                arp_index += 1
            else:
                held = length if length > 2 else length * 0.8
                notes += [_note(onset, held, p, velocity) for p in voicing]
    for hit in hit_steps:
        bar = _bar_of_step(bars, hit, steps_per_bar)
        if bar is not None:
            stab = voice_chord(bar.chord.pitch_classes, None, style.power_chords)
            notes += [_note(hit / STEPS_PER_BEAT, STEPS_PER_BEAT, p, 118) for p in stab]
    return without_overlaps(notes)


def _melody_rhythm(style: Style, energy: float, steps_per_bar: int, rng: random.Random) -> list[tuple[int, int]]:
    """One bar of (step, length): a note on the downbeat, then eighths (or sixteenths) by density."""
    grid = 1 if style.melody.sixteenths and energy > 0.7 else 2
    chance = style.melody.density * (0.5 + 0.6 * energy)
    onsets = [0] + [s for s in range(grid, steps_per_bar, grid) if rng.random() < chance]
    rhythm = []
    for onset, following in zip(onsets, onsets[1:] + [steps_per_bar]):
        gap = following - onset
        rhythm.append((onset, gap if gap <= 2 or rng.random() < 0.6 else gap - 1))
    return rhythm


def _melody(bars: list[Bar], style: Style, key: Key, steps_per_bar: int, feel: str,
            rng: random.Random) -> list[Note]:
    melody = style.melody
    scale = [p for p in range(melody.low, melody.high + 1) if (p - key.tonic) % 12 in
             {(pc - key.tonic) % 12 for pc in key.scale_pitch_classes()}]
    pitch = min(scale, key=lambda p: abs(p - (melody.low + melody.high) // 2 - 2))
    motifs: dict[tuple[str, int], list[tuple[int, int]]] = {}
    plays_intro = len({bar.section for bar in bars}) == 1
    notes: list[Note] = []
    for bar in bars:
        if bar.section == "intro" and not plays_intro:
            continue
        chord_tones = [p for p in range(melody.low, melody.high + 1) if p % 12 in bar.chord.pitch_classes]
        if bar.index == len(bars) - 1 or bar.section_bar % 4 == 3 or bar.ends_section:
            # phrase end: one long chord tone (the tonic on the last bar)
            targets = [p for p in chord_tones if p % 12 == key.tonic] if bar.index == len(bars) - 1 else chord_tones[:]
            pitch = min(targets or chord_tones, key=lambda p: abs(p - pitch))
            notes.append(_note(bar.start, steps_per_bar - 1, pitch, _velocity(style, bar.energy, "x", rng)))
            continue
        rhythm = motifs.setdefault((bar.section, bar.section_bar % 2),
                                   _melody_rhythm(style, bar.energy, steps_per_bar, rng))
        bar_scale = _bar_scale(scale, key, bar)
        for step, length in rhythm:
            if step % STEPS_PER_BEAT == 0:
                pitch = min(chord_tones, key=lambda p: abs(p - pitch) + rng.random() * 3)
            else:
                pitch = _step_from(pitch, bar_scale, melody.leap_chance, rng)
            char = "x" if step % STEPS_PER_BEAT == 0 else "o" if rng.random() < 0.2 else "a"
            notes.append(_note(_onset(bar, step, feel), length, pitch, _velocity(style, bar.energy, char, rng)))
    return without_overlaps(notes)


def _bar_scale(scale: list[int], key: Key, bar: Bar) -> list[int]:
    """The key's scale, with the leading tone raised over a minor key's major dominant."""
    if key.mode == "minor" and bar.chord.degree == 4:
        flat_seventh = (key.tonic + 10) % 12
        return sorted({p + 1 if p % 12 == flat_seventh else p for p in scale})
    return scale


def _step_from(pitch: int, scale: list[int], leap_chance: float, rng: random.Random) -> int:
    index = min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))
    move = rng.choice((-1, 1)) * (rng.randint(2, 4) if rng.random() < leap_chance else 1)
    target = index + move
    if not 0 <= target < len(scale):
        target = index - move  # turn back at the edges of the range
    return scale[max(0, min(len(scale) - 1, target))]
