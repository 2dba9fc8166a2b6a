"""Keys, scales and chords: the small amount of music theory the composer and analysis share."""
from __future__ import annotations

import re
from dataclasses import dataclass

from mtm_daw.errors import MtmError

PITCH_CLASS_NAMES_SHARP = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
PITCH_CLASS_NAMES_FLAT = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

MODES = ("major", "minor")
SCALE_STEPS = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor; cadences raise the 7th
}

_NOTE_RE = re.compile(r"^\s*([A-Ga-g])\s*(#|♯|b|♭|sharp|flat|-sharp|-flat)?", re.IGNORECASE)
_MODE_WORDS = {
    "major": "major", "maj": "major", "ionian": "major", "": "major", "M": "major",
    "minor": "minor", "min": "minor", "m": "minor", "aeolian": "minor", "moll": "minor", "dur": "major",
}


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class 0..11, C = 0
    mode: str  # "major" | "minor"

    @property
    def name(self) -> str:
        """'D minor', 'Bb major'."""
        return f"{self.tonic_name} {self.mode}"

    @property
    def tonic_name(self) -> str:
        return pitch_class_name(self.tonic, self.mode)

    @property
    def tag(self) -> str:
        """Short form for file names: 'Dmin', 'Bbmaj'."""
        return f"{self.tonic_name}{'maj' if self.mode == 'major' else 'min'}"

    def scale_pitch_classes(self) -> list[int]:
        return [(self.tonic + step) % 12 for step in SCALE_STEPS[self.mode]]

    def degree_pitch(self, degree: int, octave_base: int) -> int:
        """MIDI pitch of scale degree (0-based, may exceed 6 or be negative) above octave_base."""
        steps = SCALE_STEPS[self.mode]
        octave, index = divmod(degree, 7)
        return octave_base + self.tonic + 12 * octave + steps[index]

    def fifths_signature(self) -> int:
        """Number of sharps (>0) or flats (<0) in the key signature."""
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        fifths = (major_tonic * 7) % 12  # position on the circle of fifths
        return fifths - 12 if fifths > 6 else fifths


def pitch_class_name(pitch_class: int, mode: str = "major") -> str:
    """Spell a tonic the way musicians do: flats for F, Bb, Eb... major and D, G, C... minor."""
    flat_major = {5, 10, 3, 8, 1}  # F Bb Eb Ab Db
    flat_minor = {2, 7, 0, 5, 10, 3}  # D G C F Bb Eb minor
    use_flats = pitch_class in (flat_major if mode == "major" else flat_minor)
    return (PITCH_CLASS_NAMES_FLAT if use_flats else PITCH_CLASS_NAMES_SHARP)[pitch_class % 12]


def parse_pitch_class(text: str) -> tuple[int, str]:
    """'F#' -> (6, rest of text). Raises MtmError for text that names no note."""
    match = _NOTE_RE.match(text)
    if not match:
        raise MtmError(f"'{text}' is not a note name (expected e.g. C, F#, Bb)")
    letter, accidental = match.group(1).upper(), (match.group(2) or "").lower()
    pitch_class = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[letter]
    if accidental in ("#", "♯", "sharp", "-sharp"):
        pitch_class += 1
    elif accidental in ("b", "♭", "flat", "-flat"):
        pitch_class -= 1
    return pitch_class % 12, text[match.end():]


def parse_key(text: str) -> Key:
    """Parse 'D minor', 'Dm', 'Dmin', 'f# minor', 'Bb', 'Eb major' into a Key."""
    if not isinstance(text, str) or not text.strip():
        raise MtmError("the key is empty (expected e.g. 'D minor' or 'Bb major')")
    tonic, rest = parse_pitch_class(text.strip())
    mode_word = rest.strip()
    mode = _MODE_WORDS.get(mode_word, _MODE_WORDS.get(mode_word.lower()))
    if mode is None:
        raise MtmError(f"'{text}' is not a key (expected e.g. 'D minor', 'F#m' or 'Bb major')")
    return Key(tonic, mode)


def midi_note_name(pitch: int) -> str:
    return f"{PITCH_CLASS_NAMES_SHARP[pitch % 12]}{pitch // 12 - 1}"
