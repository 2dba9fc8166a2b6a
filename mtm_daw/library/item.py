"""What the music library holds and what a search asks for and returns, as plain dataclasses.

    item = LibraryItem(path="/loops/groove.wav", content_hash=sha256_hex, kind="audio", duration=8.0,
                       bpm=96.0, key="A minor", genre="funk", mood="playful")
    filters = SearchFilters(genre="funk", bpm_min=80, bpm_max=100)
    references = search(store, query_vector, filters, k=5)  # -> list[Reference]

The tags a search filters on (genre, mood, key) are kept in one canonical spelling — genre and mood
lower-case, the key as `parse_key` names it ("A minor", "Bb major") — so "Funk", "Am" and "a minor"
find the same items. `canonical_tag` and `canonical_key` are the only places that spelling is decided.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, fields

from mtm_daw.errors import MtmError
from mtm_daw.score.theory import MODES, parse_key

KINDS = ("audio", "midi")
TRACKS = ("broad", "targeted")
DEFAULT_PARTITION = "user"
STARTER_PARTITION = "starter"
MAX_BPM = 999.0
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_PARTITION_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_RANGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|–|—|\.\.|to)\s*(\d+(?:\.\d+)?)\s*$")


def canonical_tag(text: str) -> str:
    """The stored and compared spelling of a genre or mood: trimmed, lower-case."""
    return text.strip().lower()


@functools.lru_cache(maxsize=512)
def canonical_key(text: str) -> str:
    """'am', 'A minor', 'a min' -> 'A minor'; '' stays '' (key unknown). Raises MtmError for a non-key."""
    return parse_key(text).name if text.strip() else ""


@functools.lru_cache(maxsize=512)
def key_mode(key: str) -> str:
    """'major', 'minor', or '' when the key is unknown."""
    return parse_key(key).mode if key.strip() else ""


def check_partition(partition: str) -> str:
    """A partition is a short label (letters, digits, '-', '_'), e.g. 'user' or 'starter'."""
    if not isinstance(partition, str) or not _PARTITION_RE.match(partition):
        raise MtmError(f"library partition {partition!r} is not a short label "
                       f"(letters, digits, '-' or '_', e.g. 'user' or 'starter')")
    return partition


def _finite(value: object, what: str, minimum: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MtmError(f"{what} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise MtmError(f"{what} must be at least {minimum:g}, got {value!r}")


def _strings(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise MtmError(f"{what} must be text, got {type(value).__name__}")


@dataclass
class LibraryItem:
    """One audio or MIDI file in the library, with the tags the importer measured or the user set."""

    path: str  # where the file is (the importer decides absolute or package-relative)
    content_hash: str  # SHA-256 hex of the file's bytes: the same file imported twice is one item
    kind: str  # "audio" | "midi"
    duration: float  # seconds
    bpm: float = 0.0  # 0 = unknown
    beat_times: list[float] = field(default_factory=list)  # seconds
    key: str = ""  # "A minor", "Bb major"; "" = unknown
    loudness: float = 0.0  # integrated LUFS; 0.0 when not measured (MIDI)
    genre: str = ""
    genre_confidence: float = 0.0  # 0..1; 1.0 once the user set the tag
    mood: str = ""
    mood_confidence: float = 0.0
    instruments: list[str] = field(default_factory=list)
    caption: str = ""  # a sentence in the style of the text bridge
    partition: str = DEFAULT_PARTITION  # "user" for your files, "starter" for the bundled set
    source: str = ""  # where it came from (user-editable)
    licence: str = ""  # terms of use (user-editable)
    notes_path: str = ""  # cached transcription (MIDI) of an audio item; "" = none yet
    added_at: float = 0.0  # unix seconds; the store fills it in
    updated_at: float = 0.0
    id: int | None = None  # set by the store

    @property
    def mode(self) -> str:
        """'major' | 'minor' | '' (key unknown)."""
        return key_mode(self.key)

    @property
    def tonic(self) -> str:
        """The key's tonic as spelled in `key` ('A' for 'A minor'); '' when the key is unknown."""
        return self.key.split()[0] if self.key.strip() else ""

    def validate(self) -> "LibraryItem":
        """Raise MtmError naming the first bad field; return self for chaining."""
        for name in ("path", "content_hash", "kind", "key", "genre", "mood", "caption", "partition",
                     "source", "licence", "notes_path"):
            _strings(getattr(self, name), name)
        if not self.path.strip():
            raise MtmError("a library item needs the path of its file")
        if not _HASH_RE.match(self.content_hash):
            raise MtmError(f"{self.path}: content_hash must be a SHA-256 hex digest "
                           f"(64 lower-case hex digits), got {self.content_hash!r}")
        if self.kind not in KINDS:
            raise MtmError(f"{self.path}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        _finite(self.duration, f"{self.path}: duration", 0.0)
        _finite(self.bpm, f"{self.path}: bpm", 0.0)
        if self.bpm > MAX_BPM:
            raise MtmError(f"{self.path}: bpm {self.bpm:g} is above {MAX_BPM:g}")
        _finite(self.loudness, f"{self.path}: loudness")
        for name in ("genre_confidence", "mood_confidence"):
            value = getattr(self, name)
            _finite(value, f"{self.path}: {name}", 0.0)
            if value > 1.0:
                raise MtmError(f"{self.path}: {name} must lie in 0..1, got {value!r}")
        if not isinstance(self.beat_times, list):
            raise MtmError(f"{self.path}: beat_times must be a list of seconds")
        for time in self.beat_times:
            _finite(time, f"{self.path}: a beat time", 0.0)
        if not isinstance(self.instruments, list):
            raise MtmError(f"{self.path}: instruments must be a list of names")
        for name in self.instruments:
            _strings(name, f"{self.path}: an instrument")
        try:
            canonical_key(self.key)
        except MtmError as exc:
            raise MtmError(f"{self.path}: key: {exc}") from exc
        check_partition(self.partition)
        _finite(self.added_at, "added_at", 0.0)
        _finite(self.updated_at, "updated_at", 0.0)
        return self


@dataclass
class Reference:
    """One search result: the item, its cosine similarity to the query, and which filters it met."""

    item: LibraryItem
    score: float  # cosine similarity, -1..1 (higher is closer)
    matched: tuple[str, ...] = ()  # filter attributes the item satisfies, e.g. ("genre", "bpm")
    track: str = "broad"  # "broad" (no filters) | "targeted"


@dataclass
class SearchFilters:
    """Targeted search: every field that is set must hold for a result (all are optional)."""

    genre: str | None = None
    mood: str | None = None
    bpm_min: float | None = None  # inclusive
    bpm_max: float | None = None  # inclusive
    key: str | None = None  # "A minor", "Am", ...
    mode: str | None = None  # "major" | "minor"
    partition: str | None = None  # "user" | "starter" | ...
    duration_min: float | None = None  # seconds, inclusive
    duration_max: float | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attribute names this filter constrains, in a fixed order ('bpm' once for min and max)."""
        names = []
        for name, set_ in (("genre", self.genre), ("mood", self.mood),
                           ("bpm", self.bpm_min is not None or self.bpm_max is not None),
                           ("key", self.key), ("mode", self.mode), ("partition", self.partition),
                           ("duration", self.duration_min is not None or self.duration_max is not None)):
            if set_ is not None and set_ is not False:
                names.append(name)
        return tuple(names)

    def canonical(self) -> "SearchFilters":
        """A checked copy in the stored spelling (see module docstring). Raises MtmError on bad values."""
        for name in ("genre", "mood", "key", "mode", "partition"):
            value = getattr(self, name)
            if value is not None:
                _strings(value, f"the {name} filter")
                if not value.strip():
                    raise MtmError(f"the {name} filter is empty (leave it unset to search every {name})")
        for name in ("bpm_min", "bpm_max", "duration_min", "duration_max"):
            value = getattr(self, name)
            if value is not None:
                _finite(value, f"the {name} filter", 0.0)
        for low, high, what in ((self.bpm_min, self.bpm_max, "BPM"),
                                (self.duration_min, self.duration_max, "duration")):
            if low is not None and high is not None and low > high:
                raise MtmError(f"the {what} range {low:g}-{high:g} is empty (the minimum is above the maximum)")
        mode = None if self.mode is None else self.mode.strip().lower()
        if mode is not None and mode not in MODES:
            raise MtmError(f"the mode filter must be one of {', '.join(MODES)}, got {self.mode!r}")
        key = None if self.key is None else canonical_key(self.key)
        if key is not None and mode is not None and key_mode(key) != mode:
            raise MtmError(f"the key filter {key} is not in {mode}: ask for one or the other")
        return SearchFilters(
            genre=None if self.genre is None else canonical_tag(self.genre),
            mood=None if self.mood is None else canonical_tag(self.mood),
            bpm_min=None if self.bpm_min is None else float(self.bpm_min),
            bpm_max=None if self.bpm_max is None else float(self.bpm_max),
            key=key, mode=mode,
            partition=None if self.partition is None else check_partition(self.partition.strip()),
            duration_min=None if self.duration_min is None else float(self.duration_min),
            duration_max=None if self.duration_max is None else float(self.duration_max))

    def matched(self, item: LibraryItem) -> tuple[str, ...]:
        """Which of this filter's attributes the item satisfies (call on a canonical() copy)."""
        checks = {
            "genre": lambda: canonical_tag(item.genre) == self.genre,
            "mood": lambda: canonical_tag(item.mood) == self.mood,
            "bpm": lambda: _within(item.bpm, self.bpm_min, self.bpm_max),
            "key": lambda: item.key == self.key,
            "mode": lambda: item.mode == self.mode,
            "partition": lambda: item.partition == self.partition,
            "duration": lambda: _within(item.duration, self.duration_min, self.duration_max),
        }
        return tuple(name for name in self.attributes if checks[name]())


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def parse_bpm_range(text: str) -> tuple[float, float]:
    """'80-100' (also '80–100', '80..100', '80 to 100') -> (80.0, 100.0). Raises MtmError otherwise."""
    match = _RANGE_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise MtmError(f"{text!r} is not a BPM range (write it as low-high, e.g. 80-100)")
    low, high = float(match.group(1)), float(match.group(2))
    if low > high:
        raise MtmError(f"the BPM range {text.strip()} runs backwards (write the lower tempo first)")
    if low <= 0 or high > MAX_BPM:
        raise MtmError(f"the BPM range {text.strip()} is outside 1-{MAX_BPM:g} BPM")
    return low, high
