"""Words musicians use for genres, moods, instruments and tempi, mapped to description fields."""
from __future__ import annotations

GENRE_WORDS = {
    "pop": ("pop", "catchy", "radio", "indie pop", "synth-pop"),
    "rock": ("rock", "guitar-driven", "punk", "grunge", "metal", "indie rock", "garage"),
    "electronic": ("electronic", "edm", "techno", "house", "synthwave", "dance", "trance", "electro", "dubstep",
                   "club", "disco"),
    "ambient": ("ambient", "atmospheric", "drone", "soundscape", "lo-fi", "lofi", "chillout", "new age"),
    "cinematic": ("cinematic", "film score", "trailer", "soundtrack", "movie", "score", "hybrid"),
    "jazz": ("jazz", "swing", "bebop", "bossa", "lounge", "blues", "smooth jazz", "big band"),
    "orchestral": ("orchestral", "orchestra", "symphonic", "classical", "chamber", "baroque", "string quartet"),
}

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
    (("grand piano", "piano"), 0, "melody"),
    (("hammond", "organ"), 16, "harmony"),
    (("distorted guitar", "distortion guitar", "heavy guitar", "overdriven guitar"), 30, "harmony"),
    (("electric guitar",), 27, "harmony"),
    (("acoustic guitar", "nylon guitar", "guitar"), 25, "harmony"),
    (("synth bass", "808", "sub bass"), 38, "bass"),
    (("upright bass", "double bass", "acoustic bass", "walking bass"), 32, "bass"),
    (("fretless",), 35, "bass"),
    (("bass guitar", "electric bass", "bass"), 33, "bass"),
    (("string section", "strings", "string ensemble"), 48, "harmony"),
    (("violin", "fiddle"), 40, "melody"),
    (("viola",), 41, "melody"),
    (("cello",), 42, "melody"),
    (("harp",), 46, "harmony"),
    (("choir", "voices", "vocals"), 52, "harmony"),
    (("trumpet",), 56, "melody"),
    (("trombone",), 57, "melody"),
    (("french horn", "horns", "horn"), 60, "melody"),
    (("brass",), 61, "harmony"),
    (("saxophone", "sax"), 65, "melody"),
    (("oboe",), 68, "melody"),
    (("clarinet",), 71, "melody"),
    (("flute",), 73, "melody"),
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
    (("harmonica",), 22, "melody"),
    (("banjo",), 105, "harmony"),
    (("sitar",), 104, "melody"),
    (("kalimba",), 108, "melody"),
)

TEMPO_WORDS = (  # longer phrases first
    (("very slow", "glacial", "largo"), 60.0),
    (("very fast", "frantic", "breakneck", "presto"), 165.0),
    (("mid-tempo", "midtempo", "medium tempo", "moderate", "moderato", "walking pace"), 100.0),
    (("slow", "adagio", "ballad", "laid-back", "laid back"), 72.0),
    (("fast", "driving", "energetic", "allegro", "uptempo", "up-tempo", "rapid"), 135.0),
)

DEFAULT_TEMPO_BY_MOOD = {"happy": 118.0, "sad": 74.0, "calm": 80.0, "tense": 112.0, "dark": 88.0,
                         "epic": 100.0, "romantic": 84.0, "playful": 124.0}
MINOR_MOODS = ("sad", "tense", "dark")

# For sentences: an adjective before the genre and a pair of mood words after.
MOOD_ADJECTIVE = {"happy": "bright", "sad": "gentle", "calm": "soft", "tense": "restless", "dark": "brooding",
                  "epic": "soaring", "romantic": "warm", "playful": "bouncy"}
MOOD_PHRASE = {"happy": "joyful and uplifting", "sad": "tender and nostalgic", "calm": "calm and peaceful",
               "tense": "tense and suspenseful", "dark": "dark and ominous", "epic": "epic and triumphant",
               "romantic": "romantic and intimate", "playful": "playful and light"}
