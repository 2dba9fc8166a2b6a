"""MusicDescription: what the text bridge writes and the composer/generator follow."""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.plan.chords import parse_progression
from mtm_daw.plan.plan import check_chords_fit_key, parse_form
from mtm_daw.score.gm import program_from_name, program_name, short_name
from mtm_daw.score.grid import TempoGrid
from mtm_daw.score.score import ROLES, validate_tempo, validate_time_signature
from mtm_daw.score.styles import STYLE_NAMES, style_for
from mtm_daw.score.theory import parse_key

SCHEMA_VERSION = 1
GENRES = STYLE_NAMES  # a description's "genre" is a style of the style library
MOODS = ("happy", "sad", "calm", "tense", "dark", "epic", "romantic", "playful")

# A sentence's mood words: an adjective before the genre and a pair after.
MOOD_ADJECTIVE = {"happy": "bright", "sad": "gentle", "calm": "soft", "tense": "restless", "dark": "brooding",
                  "epic": "soaring", "romantic": "warm", "playful": "bouncy"}
MOOD_PHRASE = {"happy": "joyful and uplifting", "sad": "tender and nostalgic", "calm": "calm and peaceful",
               "tense": "tense and suspenseful", "dark": "dark and ominous", "epic": "epic and triumphant",
               "romantic": "romantic and intimate", "playful": "playful and light"}

MAX_DURATION_SECONDS = 3600.0  # cues and renders from MIDI stream to disk (mtm_daw.spool): an hour fits
TEMPO_STEP = 0.1  # BPM between the tempi a picture's hit points are fitted at
START_PHASES = 200  # starts tried within a beat
OFF_GRID_COST = 0.15  # of music starting inside the picture and ending mid-bar, in beats of mean miss
MAX_JSON_BYTES = 16 * 1024 * 1024  # descriptions and sidecars are kilobytes; refuse a stray huge file unread
_SENTENCE_TEMPO = re.compile(r"\b(\d{2,3}(?:\.\d+)?)\s*bpm\b", re.I)
_SENTENCE_KEY = re.compile(r"\b([A-G])([#b]?)\s+([Mm]ajor|[Mm]inor)\b")  # capital tonic: "a major hit" is no key


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"time signature parts must be whole numbers, got {value!r}")
    return value


def _instrument(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"an instrument is a GM program number or name, got {value!r}")
    return value


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass
class Section:
    name: str  # "intro", "verse", "chorus", ...
    start: float  # seconds
    end: float  # seconds
    energy: float = 0.5  # 0..1, scales density and loudness


@dataclass
class HitPoint:
    time: float  # seconds; the composer puts an accent (and a fill before it) here
    strength: float = 1.0  # 0..1


CUT_KINDS = ("hard", "dissolve", "fade")


@dataclass
class Cut:
    """A change of shot in the picture the music is for."""
    time: float  # seconds: the first frame of the new shot, or the middle of a dissolve or fade
    kind: str = "hard"  # one of CUT_KINDS
    strength: float = 1.0  # 0..1, how much the picture changes
    seconds: float = 0.0  # how long a dissolve or fade takes; 0 for a hard cut


@dataclass
class MusicDescription:
    genre: str = "pop"
    mood: str = "happy"
    tempo: float = 120.0  # BPM
    key: str = "C major"
    time_signature: tuple[int, int] = (4, 4)
    instruments: dict[str, int] = field(default_factory=dict)  # role -> GM program; empty = genre default
    duration: float = 30.0  # seconds
    sections: list[Section] = field(default_factory=list)  # empty = a form chosen by length
    energy: list[tuple[float, float]] = field(default_factory=list)  # (seconds, level 0..1); empty = by section
    hit_points: list[HitPoint] = field(default_factory=list)  # where the music accents the picture
    cuts: list[Cut] = field(default_factory=list)  # the picture's shot changes; those not hit points are soft hits
    roles: tuple[str, ...] = ROLES  # which stems to write
    chords: str = ""  # e.g. "Am F C G": one chord a bar, or "Am F | C G" with '|' between bars; "" = planned
    form: str = ""  # e.g. "AABA": equal sections, a letter seen before returns as the same music; "" = planned
    start: float = 0.0  # seconds of picture before the music's first beat (under a bar): beats fall at start + k * 60 / tempo
    sentence: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        self.time_signature = tuple(self.time_signature)  # type: ignore[assignment]
        self.roles = tuple(self.roles)

    # --- checks -------------------------------------------------------------------------
    def validate(self) -> "MusicDescription":
        """Raise MtmError naming the first bad field; return self for chaining. A sentence that names
        another tempo or key than the fields (left over from before an edit) is re-rendered from them."""
        if self.genre not in GENRES:
            raise MtmError(f"unknown style '{self.genre}' (choose one of: {', '.join(GENRES)}; `mtm styles` lists them)")
        if self.mood not in MOODS:
            raise MtmError(f"unknown mood '{self.mood}' (choose one of: {', '.join(MOODS)})")
        validate_tempo(self.tempo)
        parse_key(self.key)
        validate_time_signature(self.time_signature)
        if not isinstance(self.duration, (int, float)) or math.isnan(self.duration) or self.duration <= 0:
            raise MtmError(f"duration must be a positive number of seconds, got {self.duration!r}")
        if self.duration > MAX_DURATION_SECONDS:
            raise MtmError(f"duration {self.duration:g} s is above the maximum of {MAX_DURATION_SECONDS:g} s")
        if isinstance(self.start, bool) or not isinstance(self.start, (int, float)) \
                or not 0 <= self.start < min(self.duration, self.bar_seconds):
            raise MtmError(f"start {self.start!r} s must be at least 0 and under one bar "
                           f"({self.bar_seconds:.3f} s) and the duration")
        for role, program in self.instruments.items():
            if role not in ROLES:
                raise MtmError(f"instrument for unknown role '{role}' (roles are: {', '.join(ROLES)})")
            program_name(program)
        if not self.roles:
            raise MtmError("no roles requested: ask for at least one of drums, bass, harmony, melody")
        for role in self.roles:
            if role not in ROLES:
                raise MtmError(f"unknown role '{role}' (roles are: {', '.join(ROLES)})")
        for section in self.sections:
            if not 0 <= section.start < section.end:
                raise MtmError(f"section '{section.name}' has start {section.start} and end {section.end}")
            if not 0 <= section.energy <= 1:
                raise MtmError(f"section '{section.name}' has energy {section.energy}; it must be in 0..1")
        for time, level in self.energy:
            if not time >= 0 or not 0 <= level <= 1:  # NaN fails both
                raise MtmError(f"energy point ({time}, {level}) must have time >= 0 and level in 0..1")
        if self.chords:
            check_chords_fit_key(parse_progression(self.chords), parse_key(self.key))
        if self.form and len(parse_form(self.form)) > self.bars:
            raise MtmError(f"form: {self.form} has {len(parse_form(self.form))} sections but the cue has only "
                           f"{self.bars} bars")
        for hit in self.hit_points:
            if not 0 <= hit.time <= self.duration:
                raise MtmError(f"hit point at {hit.time} s lies outside the cue (0-{self.duration:g} s)")
            if not 0 <= hit.strength <= 1:
                raise MtmError(f"hit point at {hit.time} s has strength {hit.strength}; it must be in 0..1")
        for cut in self.cuts:
            if cut.kind not in CUT_KINDS:
                raise MtmError(f"cut at {cut.time} s has kind '{cut.kind}' (kinds are: {', '.join(CUT_KINDS)})")
            if not 0 <= cut.time <= self.duration:
                raise MtmError(f"cut at {cut.time} s lies outside the cue (0-{self.duration:g} s)")
            if not 0 <= cut.strength <= 1 or not cut.seconds >= 0:
                raise MtmError(f"cut at {cut.time} s has strength {cut.strength} and length {cut.seconds} s; "
                               "strength must be in 0..1 and length at least 0")
        if self.sentence_is_stale():
            self.sentence = self.to_sentence()
        return self

    def sentence_is_stale(self) -> bool:
        """The sentence names a tempo or a key the fields no longer hold ("72 bpm in A minor" after an edit
        to 140 BPM in E major); words that name neither are the user's own and stay."""
        tempi = [float(t) for t in _SENTENCE_TEMPO.findall(self.sentence)]
        if any(abs(tempo - self.tempo) > 0.5 for tempo in tempi):
            return True
        key = parse_key(self.key).name
        for tonic, accidental, mode in _SENTENCE_KEY.findall(self.sentence):
            try:
                if parse_key(f"{tonic}{accidental} {mode.lower()}").name != key:
                    return True
            except MtmError:
                continue
        return False

    # --- derived values -----------------------------------------------------------------
    @property
    def grid(self) -> TempoGrid:
        """The music's clock on the picture's time: beat 0 falls `start` seconds in."""
        return TempoGrid(self.tempo, tuple(self.time_signature), self.start)

    def seconds_to_beats(self, seconds: float) -> float:
        """Beats of the music at a time of the picture (negative before the music's first beat)."""
        return self.grid.beats(seconds)

    def beats_to_seconds(self, beats: float) -> float:
        """The time of the picture at a beat of the music."""
        return self.grid.seconds(beats)

    @property
    def bar_seconds(self) -> float:
        return self.grid.bar_seconds

    @property
    def beats_per_bar(self) -> float:
        return self.grid.beats_per_bar

    @property
    def bars(self) -> int:
        """Whole bars covering the duration (a hair over a bar line, from rounding, does not add a bar)."""
        return max(1, math.ceil(self.seconds_to_beats(self.duration) / self.beats_per_bar - 0.01))

    def from_first_beat(self) -> "MusicDescription":
        """The description in the music's own time, its first beat at 0: what the composer and the
        generator follow when the music starts `start` seconds into the picture (itself when it starts
        with the picture). Hit points and cuts before the first beat are left out."""
        if not self.start:
            return self

        def moved(seconds: float) -> float:
            return round(max(0.0, seconds - self.start), 3)

        energy = [(0.0, self.energy_at(self.start))] + [(moved(t), e) for t, e in self.energy if t > self.start]
        return replace(
            self, start=0.0, duration=round(self.duration - self.start, 3),
            sections=[replace(s, start=moved(s.start), end=moved(s.end)) for s in self.sections if moved(s.end) > 0],
            energy=energy if self.energy else [],
            hit_points=[replace(h, time=moved(h.time)) for h in self.hit_points if h.time >= self.start],
            cuts=[replace(c, time=moved(c.time)) for c in self.cuts if c.time >= self.start])

    def hit_point_beats(self) -> list[float]:
        """Hit points on the beat grid (quarter-note beats from the start)."""
        return [self.seconds_to_beats(hit.time) for hit in self.hit_points]

    def energy_at(self, seconds: float) -> float:
        """Energy curve at a time: linear between points; else the section's energy; else 0.6."""
        if self.energy:
            points = sorted(self.energy)
            if seconds <= points[0][0]:
                return points[0][1]
            for (t0, e0), (t1, e1) in zip(points, points[1:]):
                if t0 <= seconds <= t1:
                    return e0 + (e1 - e0) * (seconds - t0) / max(t1 - t0, 1e-9)
            return points[-1][1]
        for section in self.sections:
            if section.start <= seconds < section.end:
                return section.energy
        return 0.6

    def to_sentence(self) -> str:
        """A plain-language line like the paper's captions, re-rendered whenever a field changes:
        'A gentle pop cue with a flute melody over piano, bass and drums, tender and nostalgic, 72 BPM in A minor.'
        """
        defaults = style_for(self.genre).programs

        def instrument(role: str) -> str:
            return short_name(self.instruments.get(role, defaults[role]))

        adjective = MOOD_ADJECTIVE[self.mood]
        article = "An" if adjective[0] in "aeiou" else "A"
        backing = [instrument(r) for r in ("harmony", "bass") if r in self.roles]
        backing += ["drums"] if "drums" in self.roles else []
        if "melody" in self.roles:
            melody = instrument("melody")
            lead = f" with {'an' if melody[0] in 'aeiou' else 'a'} {melody} melody"
            lead += f" over {_join(backing)}" if backing else ""
        else:
            lead = f" for {_join(backing)}" if backing else ""
        numerator, denominator = self.time_signature
        meter = "" if (numerator, denominator) == (4, 4) else f" in {numerator}/{denominator}"
        return (f"{article} {adjective} {style_for(self.genre).title} cue{lead}, {MOOD_PHRASE[self.mood]}, "
                f"{self.tempo:g} BPM in {parse_key(self.key).name}{meter}.")

    # --- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = asdict(self)
        data["time_signature"] = list(self.time_signature)
        data["roles"] = list(self.roles)
        data["energy"] = [list(point) for point in self.energy]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "MusicDescription":
        if not isinstance(data, dict):
            raise MtmError("a music description must be a JSON object")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or isinstance(version, bool):
            raise MtmError(f"schema_version must be a whole number, got {version!r}")
        if version < 1:
            raise MtmError(f"schema_version must be 1 or more, got {version}")
        if version > SCHEMA_VERSION:
            raise MtmError(f"this description was written by a newer mtm_daw (schema {version}); please update")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise MtmError(f"unknown field(s) in description: {', '.join(sorted(unknown))}")
        values = dict(data)
        try:
            for name in ("genre", "mood", "key", "sentence", "chords", "form"):
                if name in data and not isinstance(data[name], str):
                    raise TypeError(f"{name} must be text, got {data[name]!r}")
            for name in ("tempo", "duration", "start"):
                if name in data:
                    values[name] = _number(data[name], name)
            if "time_signature" in data:
                if not isinstance(data["time_signature"], (list, tuple)) or len(data["time_signature"]) != 2:
                    raise TypeError(f"time_signature must be [numerator, denominator], got {data['time_signature']!r}")
                numerator, denominator = data["time_signature"]
                values["time_signature"] = validate_time_signature((_whole(numerator), _whole(denominator)))
            if "roles" in data:
                if not isinstance(data["roles"], (list, tuple)) or not all(isinstance(r, str) for r in data["roles"]):
                    raise TypeError(f"roles must be a list of role names, got {data['roles']!r}")
            values["sections"] = [Section(str(s["name"]), _number(s["start"], "section start"),
                                          _number(s["end"], "section end"), _number(s.get("energy", 0.5), "energy"))
                                  for s in data.get("sections", [])]
            values["hit_points"] = [HitPoint(_number(h["time"], "hit time"), _number(h.get("strength", 1.0), "strength"))
                                    for h in data.get("hit_points", [])]
            values["cuts"] = [Cut(_number(c["time"], "cut time"), str(c.get("kind", "hard")),
                                  _number(c.get("strength", 1.0), "strength"), _number(c.get("seconds", 0.0), "cut length"))
                              for c in data.get("cuts", [])]
            values["energy"] = [(_number(t, "energy time"), _number(e, "energy level")) for t, e in data.get("energy", [])]
            values["instruments"] = {str(role): program_from_name(_instrument(p))
                                     for role, p in data.get("instruments", {}).items()}
        except KeyError as error:
            raise MtmError(f"malformed description: a section, hit point or cut lacks its {error} field") from None
        except (TypeError, ValueError, AttributeError, OverflowError) as error:
            raise MtmError(f"malformed description: {error}") from None
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "MusicDescription":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, a 5000-digit number, [[[[... nesting
            raise MtmError(f"description is not valid JSON: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "MusicDescription":
        path = Path(path)
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise MtmError(f"{path}: {path.stat().st_size // 1024 // 1024} MB is too large for a description")
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError) as error:  # ValueError: bad UTF-8, a NUL character in the path
            raise MtmError(f"{path}: cannot read description ({error.__class__.__name__})") from None
        try:
            return cls.from_json(text)
        except MtmError as error:
            raise MtmError(f"{path}: {error}") from None


def fit_tempo_to_duration(description: MusicDescription, max_change: float = 0.12) -> MusicDescription:
    """Pick a tempo near the requested one, and where it helps a start a little into the picture, at
    which the hit points fall on beats.

    Two kinds of candidate, every tempo within max_change of the request:
    1. whole bars: the picture is a whole number of bars long, the music starting and ending with it;
    2. free (TEMPO_STEP apart): the music starts up to a beat into the picture, at the offset that puts
       the hit points nearest beats, and ends with the picture mid-bar (faded there). This costs
       OFF_GRID_COST (0.15 beat of mean miss), so it is taken only where no whole-bar tempo puts the
       hits near beats. Without hit points only the request itself is free, when no tempo is whole.
    Each is scored by how far its hit points miss a beat (the strength-weighted mean, in beats), plus a
    cost per percent of change. `describe` fits a video's description once, so the tempo and start it shows are
    the ones a score of the clip plays.
    """
    request = description.tempo
    times = np.array([hit.time for hit in description.hit_points], dtype=np.float64)
    weights = np.array([hit.strength for hit in description.hit_points], dtype=np.float64)

    def misses(tempo: float, starts: np.ndarray) -> np.ndarray:
        """The strength-weighted mean of the beats by which the hits miss the grid, for each start; a hit
        before the music starts misses by half a beat."""
        beats = (times[None, :] - starts[:, None]) * tempo / 60.0
        off = np.where(beats < -1e-9, 0.5, np.abs(beats - np.round(beats)))
        return off @ weights / max(float(weights.sum()), 1e-9)

    candidates: list[tuple[float, float, float]] = []  # (cost, tempo, start)
    beats_per_bar = description.beats_per_bar
    nearest = description.duration * request / 60.0 / beats_per_bar
    for bars in range(max(1, int(nearest * (1 - max_change))), int(nearest * (1 + max_change)) + 2):
        tempo = round(bars * beats_per_bar * 60.0 / description.duration, 2)
        change = abs(tempo / request - 1.0)
        if change <= max_change and 20 <= tempo <= 400:
            candidates.append((float(misses(tempo, np.zeros(1))[0]) + 2.0 * change, tempo, 0.0))
    steps = int(request * max_change / TEMPO_STEP)
    free = [round(request + TEMPO_STEP * k, 2) for k in range(-steps, steps + 1)] if times.size else \
        [] if candidates else [request]
    for tempo in sorted(free, key=lambda t: abs(t - request)):
        if not 20 <= tempo <= 400:
            continue
        starts = np.arange(START_PHASES) / START_PHASES * 60.0 / tempo
        starts = starts[starts < description.duration - 1e-3]
        on_grid = float(starts[int(np.argmin(misses(tempo, starts)))])  # ties: the earliest start
        tried = [math.floor(on_grid * 1000) / 1000]  # to the millisecond, never past a hit
        beats = (times - on_grid) * tempo / 60.0
        heard = beats >= -1e-9
        if heard.any():  # moved by the weighted median miss of the hits heard, which minimises their mean miss
            residual, weight = (beats - np.round(beats))[heard], weights[heard]
            order = np.argsort(residual)
            middle = order[min(int(np.searchsorted(np.cumsum(weight[order]), 0.5 * weight.sum())), order.size - 1)]
            moved = min(max(0.0, on_grid + float(residual[middle]) * 60.0 / tempo), float(starts[-1]))
            tried.append(math.floor(moved * 1000) / 1000)
        costs = misses(tempo, np.array(tried))
        start = tried[int(np.argmin(costs))]
        candidates.append((float(costs.min()) + 2.0 * abs(tempo / request - 1.0) + OFF_GRID_COST, tempo, start))
    cost, tempo, start = min(candidates, key=lambda c: c[0])  # ties: whole bars, then the smallest change
    if (tempo, start) == (request, description.start):
        return description
    return replace(description, tempo=tempo, start=start, sentence="")
