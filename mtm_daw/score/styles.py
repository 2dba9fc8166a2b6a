"""The style library: one TOML file a style in mtm_daw/data/styles/ (the format is in its README).

A style says how a kind of music is played: tempo range and feel, meter, usual keys, General MIDI
programs per role, drum grooves at three energies and a fill, bass idioms, comping rhythms,
progressions, a mix preset, and the signature checks that tell its groove from others.

Patterns are sixteenth steps, one or more bars long (a two-bar pattern alternates). Drum and
harmony strings use 'X' accent, 'x' normal, 'o' ghost (soft), '-' hold the previous chord, '.' rest;
a harmony 'a' plays the next note of an arpeggio instead of the whole chord.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mtm_daw.errors import MtmError
from mtm_daw.score import gm
from mtm_daw.score.score import ROLES
from mtm_daw.score.theory import parse_key

STYLE_FOLDER = Path(__file__).resolve().parent.parent / "data" / "styles"
LEVELS = ("low", "mid", "high")
# The genres the shipped neural models were trained with; every style names one as its parent, so a
# model that predates a style hears it as its parent.
CORE_GENRES = ("pop", "rock", "electronic", "ambient", "cinematic", "jazz", "orchestral")
FAMILIES = ("rock & pop", "funk & soul", "hip hop", "electronic", "latin & caribbean", "blues & jazz",
            "country & folk", "ambient", "film & orchestral")
MIX_PRESETS = ("band", "heavy", "club", "beats", "spacious", "hall", "room", "acoustic")
METERS = ((4, 4), (3, 4), (6, 8))
# A feel: (the grid it swings, the delay of the swung steps in beats). Swing and shuffle delay the
# off-beat eighth to the last triplet; "swing16" delays every second sixteenth (lo-fi, boom bap).
FEELS = {"straight": (0, 0.0), "half-time": (0, 0.0), "swing": (4, 1 / 6), "shuffle": (4, 1 / 6),
         "swing16": (2, 0.06)}
BASS_TONES = "R3568bA"  # root, the chord's third, fifth, sixth, octave, flat seventh, approach to the next root
DRUM_VOICES = {
    "kick": gm.KICK, "side_stick": gm.SIDE_STICK, "snare": gm.SNARE, "clap": gm.CLAP, "floor_tom": gm.TIMPANI_LIKE_TOM,
    "low_tom": gm.LOW_TOM, "mid_tom": gm.MID_TOM, "high_tom": gm.HIGH_TOM, "closed_hat": gm.CLOSED_HAT,
    "pedal_hat": gm.PEDAL_HAT, "open_hat": gm.OPEN_HAT, "crash": gm.CRASH, "ride": gm.RIDE,
    "tambourine": gm.TAMBOURINE, "shaker": gm.SHAKER,
}


class StyleFileError(MtmError):
    """A style file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class BassStep:
    step: int  # sixteenth within the pattern
    length: int  # sixteenths
    tone: str  # one of BASS_TONES


@dataclass(frozen=True)
class MelodyStyle:
    low: int  # lowest MIDI pitch
    high: int  # highest MIDI pitch
    density: float  # chance of a note on each eighth at energy 1.0
    leap_chance: float  # chance of a leap (vs. a step) between notes
    sixteenths: bool = False  # allow sixteenth-note figures


@dataclass(frozen=True)
class Signature:
    """A groove check: in a bar, every 'x' step of `on` has one of the voices (on the straight grid), and
    no '!' step has any of them."""
    name: str
    voices: tuple[int, ...]
    on: str

    def holds(self, onsets: set[tuple[int, int]]) -> bool:
        """onsets: {(step in the bar, GM key)} of one bar."""
        for step, char in enumerate(self.on):
            present = any((step, voice) in onsets for voice in self.voices)
            if (char == "x" and not present) or (char == "!" and present):
                return False
        return True


@dataclass(frozen=True)
class Style:
    name: str
    title: str  # how a sentence says it: "drum and bass", "R&B"
    family: str
    parent: str  # one of CORE_GENRES
    summary: str  # its signature in words, for tables and tooltips
    aliases: tuple[str, ...]  # words that name this style ("dnb", "lofi")
    neighbours: tuple[str, ...]  # words for nearby music this style stands in for ("jungle"), said with a notice
    tempo_range: tuple[float, float]
    feel: str
    meter: tuple[int, int]
    keys: tuple[str, ...]
    programs: dict[str, int]
    drums: dict[str, dict[int, str]]  # level -> {GM drum key: pattern}
    fill: dict[int, str]  # {GM drum key: one-beat pattern} replacing those voices on a section's last beat
    bass: dict[str, tuple[BassStep, ...]]  # level -> steps; walking styles leave it empty
    bass_length: dict[str, int]  # level -> pattern length in steps
    harmony: dict[str, str]  # level -> chord rhythm
    melody: MelodyStyle
    progressions: dict[str, tuple[tuple[int, ...], ...]]  # mode -> scale-degree progressions; empty = by mood
    signatures: tuple[Signature, ...]
    mix: str
    sevenths: bool = False
    walking_bass: bool = False
    power_chords: bool = False
    velocity: int = 92

    @property
    def feel_text(self) -> str:
        """'straight', or 'straight, 3/4' outside 4/4."""
        return self.feel if self.meter == (4, 4) else f"{self.feel}, {self.meter[0]}/{self.meter[1]}"

    @property
    def tempo_text(self) -> str:
        return f"{self.tempo_range[0]:g}-{self.tempo_range[1]:g}"

    @property
    def default_tempo(self) -> float:
        return round(sum(self.tempo_range) / 2)

    def tempo_at(self, position: float) -> float:
        """A tempo inside the range: 0 its slow end, 1 its fast end."""
        low, high = self.tempo_range
        return float(round(low + (high - low) * min(1.0, max(0.0, position))))


# --- loading -----------------------------------------------------------------------------------

def _need(table: dict, name: str, kinds, where: str):
    if name not in table:
        raise StyleFileError(f"{where}: missing field '{name}'")
    value = table[name]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise StyleFileError(f"{where}: field '{name}' has the wrong type ({value!r})")
    if not isinstance(value, kinds):
        raise StyleFileError(f"{where}: field '{name}' has the wrong type ({value!r})")
    return value


def _pattern(text, allowed: str, where: str, length: int | None = None) -> str:
    if not isinstance(text, str) or not text:
        raise StyleFileError(f"{where}: a pattern must be a non-empty string")
    bad = set(text) - set(allowed)
    if bad:
        raise StyleFileError(f"{where}: pattern '{text}' has {''.join(sorted(bad))!r}; use only {allowed!r}")
    if length is not None and len(text) % length:
        raise StyleFileError(f"{where}: pattern '{text}' is {len(text)} steps; it must be a multiple of {length}")
    return text


def _drum_voices(table, where: str, steps: int | None) -> dict[int, str]:
    if not isinstance(table, dict) or not table:
        raise StyleFileError(f"{where}: needs at least one drum voice")
    voices = {}
    for name, pattern in table.items():
        if name not in DRUM_VOICES:
            raise StyleFileError(f"{where}: unknown drum voice '{name}' (one of: {', '.join(DRUM_VOICES)})")
        voices[DRUM_VOICES[name]] = _pattern(pattern, "Xxo.", f"{where}.{name}", steps)
    return voices


def bass_steps(rhythm: str, tones: str) -> tuple[BassStep, ...]:
    """'x---x-x-' rhythm + 'R5A' tones -> BassSteps (one tone per 'x', cycling)."""
    steps, tone_index = [], 0
    for step, char in enumerate(rhythm):
        if char == "x":
            length = 1
            while step + length < len(rhythm) and rhythm[step + length] == "-":
                length += 1
            steps.append(BassStep(step, length, tones[tone_index % len(tones)]))
            tone_index += 1
    return tuple(steps)


def parse_style(data: dict, where: str) -> Style:
    name = _need(data, "name", str, where)
    family = _need(data, "family", str, where)
    if family not in FAMILIES:
        raise StyleFileError(f"{where}: family '{family}' is not one of: {', '.join(FAMILIES)}")
    parent = _need(data, "parent", str, where)
    if parent not in CORE_GENRES:
        raise StyleFileError(f"{where}: parent '{parent}' is not one of: {', '.join(CORE_GENRES)}")
    tempo = _need(data, "tempo", list, where)
    if len(tempo) != 2 or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in tempo) \
            or not 30 <= tempo[0] <= tempo[1] <= 300:
        raise StyleFileError(f"{where}: tempo must be [slowest, fastest] BPM within 30-300, got {tempo!r}")
    feel = _need(data, "feel", str, where)
    if feel not in FEELS:
        raise StyleFileError(f"{where}: feel '{feel}' is not one of: {', '.join(FEELS)}")
    meter = tuple(_need(data, "meter", list, where))
    if meter not in METERS:
        raise StyleFileError(f"{where}: meter {list(meter)} is not one of: {', '.join(f'{a}/{b}' for a, b in METERS)}")
    steps = meter[0] * 16 // meter[1]
    keys = tuple(_need(data, "keys", list, where))
    for key in keys:
        try:
            parse_key(key)
        except (MtmError, TypeError, AttributeError):
            raise StyleFileError(f"{where}: keys: '{key}' is not a key such as 'A minor'") from None
    if not keys:
        raise StyleFileError(f"{where}: keys must name at least one key")
    programs = _need(data, "programs", dict, where)
    for role in ROLES:
        program = _need(programs, role, int, f"{where}: programs")
        if not 0 <= program <= 127:
            raise StyleFileError(f"{where}: programs.{role} = {program} is not a GM program (0-127)")
    if programs["drums"] not in gm.DRUM_KITS:
        kits = ", ".join(f"{number} {name}" for number, name in gm.DRUM_KITS.items())
        raise StyleFileError(f"{where}: programs.drums = {programs['drums']} is not a drum kit ({kits})")
    drums_table = _need(data, "drums", dict, where)
    drums = {level: _drum_voices(_need(drums_table, level, dict, f"{where}: drums"), f"{where}: drums.{level}",
                                 steps) for level in LEVELS}
    fill = _drum_voices(_need(drums_table, "fill", dict, f"{where}: drums"), f"{where}: drums.fill", None)
    for voice, pattern in fill.items():
        if len(pattern) != 4:
            raise StyleFileError(f"{where}: drums.fill patterns are one beat (4 steps), got '{pattern}'")
    walking = bool(data.get("walking_bass", False))
    bass_table = _need(data, "bass", dict, where)
    bass, bass_length = {}, {}
    for level in LEVELS:
        entry = _need(bass_table, level, list, f"{where}: bass")
        if len(entry) != 2:
            raise StyleFileError(f"{where}: bass.{level} must be [rhythm, tones]")
        rhythm = _pattern(entry[0], "x-.", f"{where}: bass.{level}", steps)
        tones = _pattern(entry[1], BASS_TONES, f"{where}: bass.{level} tones")
        bass[level], bass_length[level] = bass_steps(rhythm, tones), len(rhythm)
    harmony_table = _need(data, "harmony", dict, where)
    harmony = {level: _pattern(_need(harmony_table, level, str, f"{where}: harmony"), "Xxoa-.",
                               f"{where}: harmony.{level}", steps) for level in LEVELS}
    melody_table = _need(data, "melody", dict, where)
    low, high = _need(melody_table, "range", list, f"{where}: melody")
    if not 36 <= low < high - 7 <= 120:
        raise StyleFileError(f"{where}: melody.range [{low}, {high}] must span at least an octave within 36-127")
    density = float(_need(melody_table, "density", (int, float), f"{where}: melody"))
    leap = float(_need(melody_table, "leap", (int, float), f"{where}: melody"))
    if not (0 < density <= 1 and 0 <= leap <= 1):
        raise StyleFileError(f"{where}: melody density must be in (0, 1] and leap in [0, 1]")
    melody = MelodyStyle(low, high, density, leap, bool(melody_table.get("sixteenths", False)))
    progressions = {}
    for mode, rows in data.get("progressions", {}).items():
        if mode not in ("major", "minor") or not isinstance(rows, list) or not rows or not all(
                isinstance(r, list) and r and r[0] == 0 and all(isinstance(d, int) and 0 <= d < 7 for d in r)
                for r in rows):
            raise StyleFileError(f"{where}: progressions.{mode} must be lists of scale degrees 0-6 starting on 0")
        progressions[mode] = tuple(tuple(r) for r in rows)
    signatures = []
    for index, check in enumerate(_need(data, "signature", list, where)):
        place = f"{where}: signature[{index}]"
        voices = _need(check, "voices", list, place)
        if not voices or any(v not in DRUM_VOICES for v in voices):
            raise StyleFileError(f"{place}: voices must be drum voice names ({', '.join(DRUM_VOICES)})")
        on = _pattern(_need(check, "on", str, place), "x!.", place)
        if len(on) != steps:
            raise StyleFileError(f"{place}: 'on' is {len(on)} steps; a bar of {meter[0]}/{meter[1]} has {steps}")
        signatures.append(Signature(_need(check, "name", str, place), tuple(DRUM_VOICES[v] for v in voices), on))
    if not signatures:
        raise StyleFileError(f"{where}: needs at least one signature check")
    mix = _need(data, "mix", str, where)
    if mix not in MIX_PRESETS:
        raise StyleFileError(f"{where}: mix '{mix}' is not one of: {', '.join(MIX_PRESETS)}")
    velocity = int(data.get("velocity", 92))
    if not 30 <= velocity <= 120:
        raise StyleFileError(f"{where}: velocity must be 30-120, got {velocity}")
    words = {}
    for field in ("aliases", "neighbours"):
        values = data.get(field, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() == v and v for v in values):
            raise StyleFileError(f"{where}: {field} must be a list of words")
        words[field] = tuple(v.lower() for v in values)
    title = data.get("title", name.replace("-", " "))
    if not isinstance(title, str) or not title:
        raise StyleFileError(f"{where}: title must be text")
    return Style(name=name, title=title, family=family, parent=parent, summary=_need(data, "summary", str, where),
                 aliases=words["aliases"], neighbours=words["neighbours"],
                 tempo_range=(float(tempo[0]), float(tempo[1])), feel=feel, meter=meter, keys=keys,
                 programs={role: programs[role] for role in ROLES}, drums=drums, fill=fill, bass=bass,
                 bass_length=bass_length, harmony=harmony, melody=melody, progressions=progressions,
                 signatures=tuple(signatures), mix=mix, sevenths=bool(data.get("sevenths", False)),
                 walking_bass=walking, power_chords=bool(data.get("power_chords", False)), velocity=velocity)


def load_style_file(path: Path) -> Style:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise StyleFileError(f"{path}: cannot read ({error.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as error:
        raise StyleFileError(f"{path}: not valid TOML ({error})") from None
    style = parse_style(data, str(path.name))
    if style.name != path.stem:
        raise StyleFileError(f"{path.name}: name '{style.name}' must match the file name")
    return style


def load_styles(folder: Path = STYLE_FOLDER) -> dict[str, Style]:
    styles = {}
    for path in sorted(folder.glob("*.toml")):
        style = load_style_file(path)
        styles[style.name] = style
    owners: dict[str, str] = {}
    for style in styles.values():
        for word in (style.name, *style.aliases, *style.neighbours):
            if owners.setdefault(word, style.name) != style.name:
                raise StyleFileError(f"{style.name}.toml: the word '{word}' already names {owners[word]}")
    missing = [genre for genre in CORE_GENRES if genre not in styles]
    if missing:
        raise StyleFileError(f"{folder}: the style library lacks {', '.join(missing)}")
    # families in order, each led by the style the shipped models know by name
    return dict(sorted(styles.items(), key=lambda item: (FAMILIES.index(item[1].family),
                                                         item[0] not in CORE_GENRES, item[0])))


@functools.cache
def library() -> dict[str, Style]:
    """Every shipped style by name, in family order."""
    return load_styles()


STYLE_NAMES = tuple(library())


def style_for(name: str) -> Style:
    try:
        return library()[name]
    except KeyError:
        raise MtmError(f"unknown style '{name}' (choose one of: {', '.join(STYLE_NAMES)})") from None


def styles_by_family() -> dict[str, list[Style]]:
    grouped: dict[str, list[Style]] = {family: [] for family in FAMILIES}
    for style in library().values():
        grouped[style.family].append(style)
    return {family: styles for family, styles in grouped.items() if styles}


# --- feel and signatures on written notes ---------------------------------------------------------

def swung_onset(onset_in_bar: float, feel: str) -> float:
    """A straight onset (beats from the bar line) moved to the feel's place."""
    grid, delay = FEELS[feel]
    step = round(onset_in_bar * 4, 6)
    if grid and step == int(step) and int(step) % grid == grid // 2:
        return onset_in_bar + delay
    return onset_in_bar


def play_feel(notes, feel: str, unswung: set[float] = frozenset()) -> None:
    """Move straight notes (onsets in beats, bars starting on beats) to the feel's places, in place; notes
    starting at an `unswung` onset (a hit point on the picture) stay where they are."""
    if FEELS[feel][0]:
        for note in notes:
            if round(note.onset, 6) not in unswung:
                note.onset = round(swung_onset(note.onset, feel), 6)


def straight_step(onset_in_bar: float, feel: str) -> int:
    """The sixteenth a played onset belongs to, undoing the feel's delay where it explains the onset."""
    grid, delay = FEELS[feel]
    position = onset_in_bar * 4
    plain = round(position)
    if grid:
        unswung = round(position - delay * 4)
        if unswung % grid == grid // 2 and abs(position - delay * 4 - unswung) < abs(position - plain):
            return unswung
    return plain


def bar_onsets(notes, bar_start: float, beats_per_bar: float, feel: str) -> set[tuple[int, int]]:
    """{(sixteenth in the bar, GM key)} of the drum notes that start in one bar."""
    return {(straight_step(n.onset - bar_start, feel), n.pitch) for n in notes
            if bar_start - 0.05 <= n.onset < bar_start + beats_per_bar - 0.05}


def feel_heard(drum_notes, bar_start: float, beats_per_bar: float, feel: str) -> bool:
    """For a swung feel: the bar has notes on swung places and none on the straight places they replace."""
    grid, delay = FEELS[feel]
    if not grid:
        return True
    places = [(n.onset - bar_start) * 4 for n in drum_notes if bar_start - 0.05 <= n.onset < bar_start + beats_per_bar - 0.05]
    swung_steps = range(grid // 2, int(beats_per_bar * 4), grid)
    swung = any(abs(p - (step + delay * 4)) < 0.05 for p in places for step in swung_steps)
    straight = any(abs(p - step) < 0.05 for p in places for step in swung_steps)
    return swung and not straight


def bar_checks(drum_notes, style: Style, bar_start: float, beats_per_bar: float) -> list[bool]:
    """Which of a style's checks hold in one bar: each signature, then (for a swung style) its feel."""
    onsets = bar_onsets(drum_notes, bar_start, beats_per_bar, style.feel)
    checks = [check.holds(onsets) for check in style.signatures]
    if FEELS[style.feel][0]:
        checks.append(feel_heard(drum_notes, bar_start, beats_per_bar, style.feel))
    return checks


def signature_share(drum_notes, style: Style, bars: int, beats_per_bar: float) -> float:
    """The share of bars in which every signature check of the style holds, and its feel is heard."""
    if bars <= 0:
        return 0.0
    return sum(all(bar_checks(drum_notes, style, bar * beats_per_bar, beats_per_bar)) for bar in range(bars)) / bars


def groove_match(drum_notes, style: Style, bars: int, beats_per_bar: float) -> float:
    """How close drums come to a style's groove: the mean share of its checks (each signature, and the
    feel for a swung style) that hold in a bar. Unlike signature_share, near misses count."""
    if bars <= 0:
        return 0.0
    shares = (sum(checks) / len(checks) for checks in
              (bar_checks(drum_notes, style, bar * beats_per_bar, beats_per_bar) for bar in range(bars)))
    return sum(shares) / bars


def combine_votes(*votes: dict[str, float]) -> list[tuple[str, float]]:
    """Distributions over the styles (from several listeners or rules) averaged, best first; empty when
    none has voted."""
    votes = [vote for vote in votes if vote]
    if not votes:
        return []
    combined = {name: sum(vote.get(name, 0.0) for vote in votes) / len(votes) for name in STYLE_NAMES}
    return sorted(combined.items(), key=lambda item: -item[1])
