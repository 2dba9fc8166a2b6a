"""Score: a multi-track, beat-based arrangement (what the composer and the generator produce)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from mtm_daw.errors import MtmError
from mtm_daw.score.grid import TempoGrid
from mtm_daw.score.theory import Key, parse_key

SCHEMA_VERSION = 1
ROLES = ("drums", "bass", "harmony", "melody")


@dataclass
class Note:
    onset: float  # beats (quarter notes) from the start
    duration: float  # beats
    pitch: int  # MIDI note number; GM drum key for drums
    velocity: int  # 1..127

    @property
    def end(self) -> float:
        return self.onset + self.duration


def without_overlaps(notes: list[Note]) -> list[Note]:
    """The notes sorted, as a keyboard plays them: of notes struck together on one key the loudest, and a
    sounding note cut short where its key is struck again. Copies; the notes given are not changed."""
    result: list[Note] = []
    last_by_pitch: dict[int, Note] = {}
    for note in sorted(notes, key=lambda n: (n.onset, n.pitch, -n.velocity)):
        previous = last_by_pitch.get(note.pitch)
        if previous is not None and previous.onset == note.onset:
            continue
        if previous is not None and previous.end > note.onset:
            previous.duration = round(note.onset - previous.onset, 6)
        note = replace(note)
        result.append(note)
        last_by_pitch[note.pitch] = note
    return result


@dataclass
class Track:
    role: str  # "drums", "bass", "harmony", "melody", or any extra role name
    program: int  # GM program (ignored for drums, which use the standard kit)
    notes: list[Note] = field(default_factory=list)
    is_drum: bool = False

    @property
    def end(self) -> float:
        return max((note.end for note in self.notes), default=0.0)


@dataclass
class Score:
    tempo: float  # BPM, quarter note = one beat
    time_signature: tuple[int, int]  # (numerator, denominator)
    key: str  # 'D minor'
    tracks: dict[str, Track]  # by role, in play order
    length_beats: float  # the arrangement's length; audio is rendered to this plus a release tail
    schema_version: int = SCHEMA_VERSION

    @property
    def parsed_key(self) -> Key:
        return parse_key(self.key)

    @property
    def grid(self) -> TempoGrid:
        """The score's clock: beat 0 at 0 s."""
        return TempoGrid(self.tempo, tuple(self.time_signature))

    @property
    def beats_per_bar(self) -> float:
        return self.grid.beats_per_bar

    @property
    def seconds_per_beat(self) -> float:
        return self.grid.seconds_per_beat

    @property
    def length_seconds(self) -> float:
        return self.grid.seconds(self.length_beats)

    @property
    def bars(self) -> int:
        return int(math.ceil(self.length_beats / self.beats_per_bar - 1e-9))

    def beats_to_seconds(self, beats: float) -> float:
        return self.grid.seconds(beats)

    def note_count(self) -> int:
        return sum(len(track.notes) for track in self.tracks.values())

    def transposed(self, semitones: int) -> "Score":
        """The same score moved by `semitones` (drums stay where they are), its key renamed to match."""
        key = self.parsed_key
        moved_key = Key((key.tonic + semitones) % 12, key.mode).name
        tracks = {role: Track(t.role, t.program, [n if t.is_drum else Note(n.onset, n.duration,
                                                                          min(127, max(0, n.pitch + semitones)),
                                                                          n.velocity) for n in t.notes], t.is_drum)
                  for role, t in self.tracks.items()}
        return Score(self.tempo, self.time_signature, moved_key, tracks, self.length_beats)

    def delayed(self, beats: float) -> "Score":
        """The score starting `beats` later, silent before (itself for 0): music whose first beat comes
        a little into the picture, on the picture's clock."""
        if not beats:
            return self
        tracks = {role: replace(t, notes=[replace(n, onset=n.onset + beats) for n in t.notes])
                  for role, t in self.tracks.items()}
        return replace(self, tracks=tracks, length_beats=self.length_beats + beats)

    def until(self, beats: float) -> "Score":
        """The score's first `beats`: later notes dropped, notes still sounding there cut there."""
        tracks = {role: replace(t, notes=[replace(n, duration=round(min(n.duration, beats - n.onset), 6))
                                          for n in t.notes if n.onset < beats - 1e-9])
                  for role, t in self.tracks.items()}
        return replace(self, tracks=tracks, length_beats=beats)

    def to_dict(self) -> dict:
        return {
            "schema_version": self.schema_version,
            "tempo": self.tempo,
            "time_signature": list(self.time_signature),
            "key": self.key,
            "length_beats": self.length_beats,
            "tracks": [
                {"role": t.role, "program": t.program, "is_drum": t.is_drum,
                 "notes": [[n.onset, n.duration, n.pitch, n.velocity] for n in t.notes]}
                for t in self.tracks.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Score":
        version = data.get("schema_version", 0)
        if version > SCHEMA_VERSION:
            raise MtmError(f"this score was written by a newer mtm_daw (schema {version}); please update")
        tracks = {}
        for t in data["tracks"]:
            notes = [Note(float(o), float(d), int(p), int(v)) for o, d, p, v in t["notes"]]
            tracks[t["role"]] = Track(t["role"], int(t["program"]), notes, bool(t["is_drum"]))
        return cls(float(data["tempo"]), tuple(data["time_signature"]), data["key"], tracks,
                   float(data["length_beats"]))


def validate_tempo(tempo: float) -> float:
    if not isinstance(tempo, (int, float)) or math.isnan(tempo) or not 20 <= tempo <= 400:
        raise MtmError(f"tempo {tempo!r} BPM is outside the usable range 20-400 BPM")
    return float(tempo)


def validate_time_signature(time_signature: tuple[int, int]) -> tuple[int, int]:
    numerator, denominator = time_signature
    if not (1 <= int(numerator) <= 32) or int(denominator) not in (2, 4, 8, 16):
        raise MtmError(f"time signature {numerator}/{denominator} is not supported "
                       "(numerator 1-32, denominator 2, 4, 8 or 16)")
    return int(numerator), int(denominator)


def parse_time_signature(text: str) -> tuple[int, int]:
    try:
        numerator, denominator = (int(part) for part in text.strip().split("/"))
    except (ValueError, AttributeError):
        raise MtmError(f"'{text}' is not a time signature (expected e.g. 4/4, 3/4, 6/8)") from None
    return validate_time_signature((numerator, denominator))
