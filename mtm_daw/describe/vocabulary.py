"""Words musicians use for moods, instruments, tempi and roles, mapped to description fields.

Style names, spellings and neighbours live in the style files (mtm_daw/data/styles/).
"""
from __future__ import annotations

MOOD_WORDS = {
    "happy": ("happy", "joyful", "cheerful", "upbeat", "uplifting", "sunny", "bright", "fun", "optimistic", "summer"),
    "sad": ("sad", "melancholic", "melancholy", "sorrowful", "nostalgic", "wistful", "lonely", "mournful", "grief",
            "heartbroken", "bittersweet"),
    "calm": ("calm", "peaceful", "relaxing", "relaxed", "gentle", "serene", "tranquil", "soothing", "meditative",
             "quiet", "chill", "dreamy"),
    "tense": ("tense", "suspense", "suspenseful", "anxious", "nervous", "thriller", "urgent", "uneasy", "chase"),
    "dark": ("dark", "ominous", "sinister", "gloomy", "brooding", "menacing", "eerie", "horror", "creepy", "night"),
    "epic": ("epic", "heroic", "triumphant", "powerful", "grand", "majestic", "victorious", "battle", "anthemic"),
    "romantic": ("romantic", "love", "tender", "intimate", "warm", "sweet", "passionate", "wedding"),
    "playful": ("playful", "quirky", "whimsical", "bouncy", "silly", "lighthearted", "light-hearted", "cartoon",
                "mischievous", "kids"),
}

# (words, GM program, usual role). The parser tries longer phrases first: "electric piano" beats "piano".
INSTRUMENT_WORDS: tuple[tuple[tuple[str, ...], int, str], ...] = (
    (("electric piano", "rhodes", "wurlitzer", "keys"), 4, "harmony"),  # longest phrase wins a span
    (("clavinet", "clav"), 7, "harmony"),
    (("harpsichord",), 6, "harmony"),
    (("honky-tonk piano", "saloon piano"), 3, "harmony"),
    (("grand piano", "piano"), 0, "melody"),
    (("hammond", "organ"), 16, "harmony"),
    (("distorted guitar", "distortion guitar", "heavy guitar", "overdriven guitar"), 30, "harmony"),
    (("electric guitar",), 27, "harmony"),
    (("nylon guitar", "nylon-string guitar", "nylon string guitar", "classical guitar", "nylon", "ukulele"), 24,
     "harmony"),
    (("pedal steel", "steel guitar", "lap steel", "slide guitar"), 27, "melody"),
    (("acoustic guitar", "steel-string guitar", "steel string guitar", "guitar", "mandolin", "dobro"), 25, "harmony"),
    (("synth bass", "808", "sub bass"), 38, "bass"),
    (("upright bass", "double bass", "acoustic bass", "walking bass"), 32, "bass"),
    (("fretless",), 35, "bass"),
    (("slap bass", "slap"), 36, "bass"),
    (("bass guitar", "electric bass", "bass"), 33, "bass"),
    (("tremolo strings",), 44, "harmony"),
    (("pizzicato", "pizz strings"), 45, "harmony"),
    (("string section", "strings", "string ensemble"), 48, "harmony"),
    (("violin", "fiddle"), 40, "melody"),
    (("viola",), 41, "melody"),
    (("cello",), 42, "melody"),
    (("harp",), 46, "harmony"),
    (("choir", "voices", "vocals"), 52, "harmony"),
    (("muted trumpet",), 59, "melody"),
    (("trumpet",), 56, "melody"),
    (("tuba",), 58, "bass"),
    (("trombone",), 57, "melody"),
    (("french horn", "horns", "horn"), 60, "melody"),
    (("synth brass",), 62, "harmony"),
    (("brass", "horn section"), 61, "harmony"),
    (("tenor sax", "tenor saxophone"), 66, "melody"),
    (("saxophone", "sax", "alto sax"), 65, "melody"),
    (("bassoon",), 70, "melody"),
    (("oboe",), 68, "melody"),
    (("clarinet",), 71, "melody"),
    (("flute",), 73, "melody"),
    (("piccolo",), 72, "melody"),
    (("recorder",), 74, "melody"),
    (("whistle",), 78, "melody"),
    (("ocarina",), 79, "melody"),
    (("pan flute", "panpipes"), 75, "melody"),
    (("synth lead", "lead synth", "lead"), 81, "melody"),
    (("synth pad", "pad", "pads"), 89, "harmony"),
    (("synth", "synthesizer", "synths"), 81, "melody"),
    (("music box",), 10, "melody"),
    (("glockenspiel", "bells", "chimes"), 9, "melody"),
    (("celesta",), 8, "melody"),
    (("vibraphone", "vibes"), 11, "melody"),
    (("marimba",), 12, "melody"),
    (("xylophone",), 13, "melody"),
    (("accordion",), 21, "melody"),
    (("bandoneon",), 23, "melody"),
    (("steel drums", "steel pan"), 114, "melody"),
    (("harmonica",), 22, "melody"),
    (("banjo",), 105, "harmony"),
    (("sitar",), 104, "melody"),
    (("kalimba",), 108, "melody"),
)

# (words, BPM without a style, place in a style's tempo range 0..1); longer phrases first
TEMPO_WORDS = (
    (("very slow", "glacial", "largo"), 60.0, 0.0),
    (("very fast", "frantic", "breakneck", "presto"), 165.0, 1.0),
    (("mid-tempo", "midtempo", "medium tempo", "moderate", "moderato", "walking pace"), 100.0, 0.5),
    (("slow", "adagio", "ballad", "laid-back", "laid back"), 72.0, 0.1),
    (("fast", "driving", "energetic", "allegro", "uptempo", "up-tempo", "rapid"), 135.0, 0.85),
)
# Where a mood sits in a style's tempo range when the text names no tempo.
MOOD_TEMPO_PLACE = {"happy": 0.6, "sad": 0.15, "calm": 0.25, "tense": 0.6, "dark": 0.4, "epic": 0.5,
                    "romantic": 0.3, "playful": 0.7}

# Role words: what "just drums and bass" or "no drums" name.
ROLE_WORDS = {"drums": ("drums", "drum", "beat", "beats", "percussion", "groove"), "bass": ("bass", "bassline"),
              "harmony": ("chords", "harmony", "pads", "comping"), "melody": ("melody", "lead", "tune", "topline")}
A_CAPPELLA_WORDS = ("a cappella", "a capella", "acapella", "acappella")
A_CAPPELLA_PROGRAMS = {"harmony": 52, "melody": 53}  # choir aahs under voice oohs

DEFAULT_TEMPO_BY_MOOD = {"happy": 118.0, "sad": 74.0, "calm": 80.0, "tense": 112.0, "dark": 88.0,
                         "epic": 100.0, "romantic": 84.0, "playful": 124.0}
MINOR_MOODS = ("sad", "tense", "dark")
