"""Genre styles for the baseline composer: instruments, grooves and textures per energy level.

Patterns are written for one 4/4 bar of sixteenth steps. Drum and harmony strings use
'X' accent, 'x' normal, 'o' ghost (soft), '-' hold the previous chord, '.' rest; a harmony 'a'
plays the next note of an arpeggio instead of the whole chord. Other meters get a groove derived
from the meter's pulses (see baseline.generic_groove).
"""
from __future__ import annotations

from dataclasses import dataclass

from mtm_daw.score import gm

LEVELS = ("low", "mid", "high")


@dataclass(frozen=True)
class BassStep:
    step: int  # sixteenth within the bar
    length: int  # sixteenths
    tone: str  # "R" root, "5" fifth, "8" octave, "A" approach to the next chord's root


@dataclass(frozen=True)
class MelodyStyle:
    low: int  # lowest MIDI pitch
    high: int  # highest MIDI pitch
    density: float  # chance of a note on each eighth at energy 1.0
    leap_chance: float  # chance of a leap (vs. a step) between notes
    sixteenths: bool = False  # allow sixteenth-note figures


@dataclass(frozen=True)
class GenreStyle:
    name: str
    programs: dict[str, int]  # default GM program per role
    drums: dict[str, dict[int, str]]  # level -> {GM drum key: 16-step pattern}
    bass: dict[str, tuple[BassStep, ...]]  # level -> steps ("walk" styles use walking_bass)
    harmony: dict[str, str]  # level -> 16-step chord rhythm
    melody: MelodyStyle
    sevenths: bool = False  # seventh chords instead of triads
    swing: float = 0.0  # delay of off-beat eighths, in beats (1/6 = triplet swing)
    walking_bass: bool = False
    power_chords: bool = False  # root-fifth-octave voicings (distorted guitars)
    velocity: int = 92  # typical velocity at energy 0.6


def _bass(pattern: str, tones: str) -> tuple[BassStep, ...]:
    """'x---x-x-' rhythm + 'R5A' tones -> BassSteps (one tone per 'x', cycling)."""
    steps, tone_index = [], 0
    for step, char in enumerate(pattern):
        if char == "x":
            length = 1
            while step + length < len(pattern) and pattern[step + length] == "-":
                length += 1
            steps.append(BassStep(step, length, tones[tone_index % len(tones)]))
            tone_index += 1
    return tuple(steps)


STYLES: dict[str, GenreStyle] = {
    "pop": GenreStyle(
        name="pop",
        programs={"drums": 0, "bass": 33, "harmony": 0, "melody": 80},
        drums={
            "low": {gm.KICK: "x.......x.......", gm.CLOSED_HAT: "x...x...x...x...", gm.SIDE_STICK: "....o.......o..."},
            "mid": {gm.KICK: "x.......x.x.....", gm.SNARE: "....x.......x...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            "high": {gm.KICK: "x.....x.x.x.....", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "xoxoxoxoxoxoxoxo",
                     gm.TAMBOURINE: "....x.......x..."},
        },
        bass={"low": _bass("x-------x-------", "R5"), "mid": _bass("x-----x-x-----x-", "RR5A"),
              "high": _bass("x-x-x-x-x-x-x-x-", "RRR8RR5A")},
        harmony={"low": "x---------------", "mid": "x---x---x---x---", "high": "x-x-x-x-x-x-x-x-"},
        melody=MelodyStyle(64, 81, 0.55, 0.2),
    ),
    "rock": GenreStyle(
        name="rock",
        programs={"drums": 0, "bass": 34, "harmony": 29, "melody": 30},
        drums={
            "low": {gm.KICK: "x.......x.......", gm.SNARE: "....o.......o...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            "mid": {gm.KICK: "x.....x.x.......", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
            "high": {gm.KICK: "x.x...x.x.x.....", gm.SNARE: "....X.......X...", gm.RIDE: "x.x.x.x.x.x.x.x."},
        },
        bass={"low": _bass("x-------x-------", "RR"), "mid": _bass("x-x-x-x-x-x-x-x-", "R"),
              "high": _bass("x-x-x-x-x-x-x-x-", "RRRRRR5A")},
        harmony={"low": "x-------x-------", "mid": "x-x-x-x-x-x-x-x-", "high": "x-x-x-x-x-x-x-x-"},
        melody=MelodyStyle(62, 79, 0.5, 0.25),
        power_chords=True,
        velocity=100,
    ),
    "electronic": GenreStyle(
        name="electronic",
        programs={"drums": 0, "bass": 38, "harmony": 90, "melody": 81},
        drums={
            "low": {gm.KICK: "x...x...x...x...", gm.OPEN_HAT: "..x...x...x...x."},
            "mid": {gm.KICK: "x...x...x...x...", gm.CLAP: "....x.......x...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x.",
                    gm.OPEN_HAT: "..x...x...x...x."},
            "high": {gm.KICK: "X...X...X...X...", gm.CLAP: "....X.......X...", gm.CLOSED_HAT: "xoxoxoxoxoxoxoxo",
                     gm.OPEN_HAT: "..x...x...x...x."},
        },
        bass={"low": _bass("x---------------", "R"), "mid": _bass("..x-..x-..x-..x-", "R"),
              "high": _bass("x-xxx-xxx-xxx-xx", "R8RR8RR8RR5")},
        harmony={"low": "x---------------", "mid": "x-------x-------", "high": "..x...x...x..x.."},
        melody=MelodyStyle(67, 86, 0.6, 0.3, sixteenths=True),
        sevenths=True,
        velocity=96,
    ),
    "ambient": GenreStyle(
        name="ambient",
        programs={"drums": 0, "bass": 38, "harmony": 89, "melody": 11},
        drums={
            "low": {gm.KICK: "x.......x.......", gm.SHAKER: "x.o.x.o.x.o.x.o."},
            "mid": {gm.KICK: "x.......x.......", gm.SHAKER: "xoxoxoxoxoxoxoxo", gm.SIDE_STICK: "....o.......o..."},
            "high": {gm.KICK: "x.....x.x.......", gm.SNARE: "....x.......x...", gm.SHAKER: "xoxoxoxoxoxoxoxo"},
        },
        bass={"low": _bass("x---------------", "R"), "mid": _bass("x-------x-------", "R5"),
              "high": _bass("x-------x---x---", "R55")},
        harmony={"low": "x---------------", "mid": "x---------------", "high": "x-------x-------"},
        melody=MelodyStyle(67, 84, 0.3, 0.35),
        sevenths=True,
        velocity=76,
    ),
    "cinematic": GenreStyle(
        name="cinematic",
        programs={"drums": 0, "bass": 43, "harmony": 48, "melody": 60},
        drums={
            "low": {gm.TIMPANI_LIKE_TOM: "x.......x.......", gm.SHAKER: "x.x.x.x.x.x.x.x."},
            "mid": {gm.TIMPANI_LIKE_TOM: "x..x..x.x..x..x.", gm.LOW_TOM: "....x.......x..."},
            "high": {gm.KICK: "x..x..x.x..x..x.", gm.SNARE: "....X.......X...", gm.TIMPANI_LIKE_TOM: "x.x.x.x.x.x.x.x.",
                     gm.CLOSED_HAT: "xoxoxoxoxoxoxoxo"},
        },
        bass={"low": _bass("x---------------", "R"), "mid": _bass("x-x-x-x-x-x-x-x-", "R"),
              "high": _bass("x-x-x-x-x-x-x-x-", "RRRR8888")},
        harmony={"low": "x---------------", "mid": "aaaaaaaaaaaaaaaa", "high": "aaaaaaaaaaaaaaaa"},
        melody=MelodyStyle(60, 79, 0.35, 0.3),
        velocity=90,
    ),
    "jazz": GenreStyle(
        name="jazz",
        programs={"drums": 0, "bass": 32, "harmony": 4, "melody": 65},
        drums={
            "low": {gm.RIDE: "x...x.x.x...x.x.", gm.PEDAL_HAT: "....x.......x..."},
            "mid": {gm.RIDE: "x...x.x.x...x.x.", gm.PEDAL_HAT: "....x.......x...", gm.KICK: "o...o...o...o..."},
            "high": {gm.RIDE: "X...x.x.X...x.x.", gm.PEDAL_HAT: "....x.......x...", gm.KICK: "o...o...o...o...",
                     gm.SNARE: "......o.....o.o."},
        },
        bass={level: () for level in LEVELS},
        harmony={"low": "x-------x-------", "mid": "..x-....x-....x-", "high": "x-.x....x-.x..x-"},
        melody=MelodyStyle(62, 81, 0.6, 0.35),
        sevenths=True,
        swing=1 / 6,
        walking_bass=True,
        velocity=84,
    ),
    "orchestral": GenreStyle(
        name="orchestral",
        programs={"drums": 0, "bass": 42, "harmony": 48, "melody": 73},
        drums={
            "low": {gm.TIMPANI_LIKE_TOM: "x.......x......."},
            "mid": {gm.TIMPANI_LIKE_TOM: "x...x...x...x...", gm.SNARE: "o.......o......."},
            "high": {gm.TIMPANI_LIKE_TOM: "x...x...x...x...", gm.SNARE: "x.o.x.o.x.o.x.o.", gm.CRASH: "x..............."},
        },
        bass={"low": _bass("x-------x-------", "R5"), "mid": _bass("x---x---x---x---", "R5R5"),
              "high": _bass("x-x-x-x-x-x-x-x-", "RR55RR5A")},
        harmony={"low": "x---------------", "mid": "x-------x-------", "high": "aaaaaaaaaaaaaaaa"},
        melody=MelodyStyle(65, 86, 0.45, 0.25),
        velocity=86,
    ),
}


def style_for(genre: str) -> GenreStyle:
    return STYLES[genre]
