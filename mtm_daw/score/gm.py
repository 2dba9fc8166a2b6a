"""General MIDI program and drum names, and the GM drum notes the composer writes."""
from __future__ import annotations

from mtm_daw.errors import MtmError

GM_PROGRAMS = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion", "Harmonica",
    "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass", "Slap Bass 1",
    "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs", "Voice Oohs",
    "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)", "Pad 6 (metallic)",
    "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter", "Applause",
    "Gunshot",
)
assert len(GM_PROGRAMS) == 128

DRUM_CHANNEL = 9  # MIDI channel 10, counted from zero

# GM percussion key map (channel 10), the subset the composer plays.
KICK = 36
SIDE_STICK = 37
SNARE = 38
CLAP = 39
LOW_TOM = 45
MID_TOM = 47
HIGH_TOM = 50
CLOSED_HAT = 42
PEDAL_HAT = 44
OPEN_HAT = 46
CRASH = 49
RIDE = 51
TAMBOURINE = 54
SHAKER = 70  # maracas
TIMPANI_LIKE_TOM = 41  # low floor tom, used for cinematic hits

DRUM_NAMES = {
    KICK: "Kick", SIDE_STICK: "Side Stick", SNARE: "Snare", CLAP: "Clap", LOW_TOM: "Low Tom",
    MID_TOM: "Mid Tom", HIGH_TOM: "High Tom", CLOSED_HAT: "Closed Hat", PEDAL_HAT: "Pedal Hat",
    OPEN_HAT: "Open Hat", CRASH: "Crash", RIDE: "Ride", TAMBOURINE: "Tambourine", SHAKER: "Shaker",
    TIMPANI_LIKE_TOM: "Floor Tom",
}


# GS / GM2 drum kits: the program on the drum channel picks one (SoundFonts keep them in bank 128)
DRUM_KITS = {0: "Standard Drum Kit", 8: "Room Kit", 16: "Power Kit", 24: "Electronic Kit", 25: "TR-808 Kit",
             32: "Jazz Kit", 40: "Brush Kit", 48: "Orchestra Kit"}


def kit_name(program: int) -> str:
    """The drum kit a program on the drum channel selects (an unknown one plays the standard kit)."""
    return DRUM_KITS.get(program, DRUM_KITS[0])


def program_name(program: int) -> str:
    if not 0 <= program <= 127:
        raise MtmError(f"GM program {program} is out of range (0-127)")
    return GM_PROGRAMS[program]


def program_from_name(name: str | int) -> int:
    """A GM program number from its number or (part of) its name: 'flute', 'String Ensemble 1', 33."""
    if isinstance(name, int) or (isinstance(name, str) and name.strip().isdigit()):
        program = int(name)
        program_name(program)
        return program
    wanted = name.strip().lower()
    for number, gm_name in enumerate(GM_PROGRAMS):
        if gm_name.lower() == wanted:
            return number
    for number, gm_name in enumerate(GM_PROGRAMS):
        if wanted and wanted in gm_name.lower():
            return number
    raise MtmError(f"'{name}' is not a General MIDI instrument name")

SHORT_NAMES = {
    0: "piano", 1: "bright piano", 4: "electric piano", 5: "electric piano", 24: "nylon guitar",
    25: "acoustic guitar", 26: "jazz guitar", 27: "clean electric guitar", 29: "overdriven guitar",
    30: "distorted guitar", 32: "upright bass", 33: "electric bass", 34: "picked bass", 35: "fretless bass",
    38: "synth bass", 39: "synth bass", 46: "harp", 48: "strings", 49: "soft strings", 50: "synth strings",
    51: "synth strings", 52: "choir", 53: "voices", 61: "brass section", 62: "synth brass", 63: "synth brass",
    65: "alto sax", 66: "tenor sax", 80: "square lead", 81: "synth lead", 88: "new age pad", 89: "warm pad",
    90: "polysynth pad", 91: "choir pad", 92: "bowed pad", 95: "sweep pad",
}


def short_name(program: int) -> str:
    """How a musician would say it in a sentence: 'warm pad', 'electric bass', 'flute'."""
    if program in SHORT_NAMES:
        return SHORT_NAMES[program]
    name = program_name(program)
    base, _, detail = name.partition(" (")
    base = base.rstrip(" 0123456789").lower()
    return f"{detail.rstrip(')').lower()} {base}" if detail else base


# Instrument tags a library item can carry: GM programs grouped the way a producer searches.
# (first program of the range, tag); a range runs to the next entry's first program.
_FAMILY_STARTS = (
    (0, "piano"), (4, "electric piano"), (6, "keys"), (8, "mallets"), (16, "organ"), (21, "accordion"),
    (24, "acoustic guitar"), (26, "electric guitar"), (29, "distorted guitar"), (32, "bass"), (38, "synth bass"),
    (40, "strings"), (45, "harp"), (47, "percussion"), (48, "strings"), (50, "synth strings"), (52, "choir"),
    (55, "orchestra hit"), (56, "brass"), (64, "saxophone"), (68, "woodwinds"), (72, "flute"),
    (80, "synth lead"), (88, "synth pad"), (96, "synth fx"), (104, "world plucked"), (109, "world winds"),
    (112, "percussion"), (120, "sound effects"),
)
DRUMS_TAG = "drums"
INSTRUMENT_TAGS = tuple(dict.fromkeys(tag for _, tag in _FAMILY_STARTS)) + (DRUMS_TAG,)


def instrument_tag(program: int, is_drum: bool = False) -> str:
    """The tag a producer would search for: 'electric piano', 'strings', 'synth pad', 'drums'."""
    if is_drum:
        return DRUMS_TAG
    program_name(program)
    tag = _FAMILY_STARTS[0][1]
    for first, family in _FAMILY_STARTS:
        if program >= first:
            tag = family
    return tag
