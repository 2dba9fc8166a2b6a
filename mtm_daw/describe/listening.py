"""Audio heard as music: style, mood and instruments with confidences (the paper's Music2Description).

Two listeners vote on the style. musicnn's taggers were trained on real music (the Million Song
Dataset's genre and mood tags, MagnaTagATune's instruments): each genre tag names one or more styles of
the library, and a tag that names several ("electronic", "Hip-Hop") goes to those whose tempo range
holds the music's tempo. The joint text-audio space was trained on renders of every style: its
zero-shot match against "<style> music" is a distribution over the styles it knows. The answer is the
mean of the two distributions. The mood comes from musicnn's mood tags when they speak clearly, else
from mode and tempo; the instruments from MagnaTagATune's tags, else from the joint space.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.describe.affect import mood_from_key_and_tempo
from mtm_daw.engine.joint_embedding import JointEmbedder, style_prompt
from mtm_daw.engine.tagger import MusicTagger, log_mel_patches
from mtm_daw.progress import CancelToken
from mtm_daw.score.gm import INSTRUMENT_TAGS
from mtm_daw.score.styles import STYLE_NAMES, combine_votes, style_for

# Million Song Dataset tag -> the styles it names
MSD_STYLES = {
    "rock": ("rock",), "classic rock": ("rock",), "hard rock": ("rock", "metal"), "alternative rock": ("rock",),
    "indie rock": ("rock",), "punk": ("rock",), "Progressive rock": ("rock",), "alternative": ("rock", "pop"),
    "pop": ("pop",), "indie pop": ("pop",), "catchy": ("pop",), "metal": ("metal",), "heavy metal": ("metal",),
    "electronic": ("electronic", "house", "techno", "drum-and-bass", "synthwave", "trap"),
    "electronica": ("electronic", "ambient", "synthwave"), "electro": ("electronic", "house", "techno"),
    "dance": ("house", "disco", "electronic"), "House": ("house",), "party": ("disco", "house"),
    "80s": ("synthwave", "disco", "pop"), "70s": ("disco", "funk", "rock"), "60s": ("rock", "rnb"),
    "jazz": ("jazz", "bossa-nova"), "easy listening": ("bossa-nova", "jazz"), "soul": ("rnb",), "rnb": ("rnb",),
    "funk": ("funk",), "blues": ("blues",), "Hip-Hop": ("boom-bap", "trap", "lo-fi"), "country": ("country",),
    "folk": ("folk",), "acoustic": ("folk", "country"), "ambient": ("ambient",), "chillout": ("ambient", "lo-fi"),
    "chill": ("lo-fi", "ambient"), "instrumental": ("cinematic", "orchestral"),
}
MSD_MOODS = {"sad": "sad", "happy": "happy", "Mellow": "calm", "chill": "calm", "party": "playful", "sexy": "romantic",
             "beautiful": "romantic"}
MTT_INSTRUMENTS = {"guitar": "acoustic guitar", "piano": "piano", "strings": "strings", "violin": "strings",
                   "cello": "strings", "drums": "drums", "beat": "drums", "beats": "drums", "synth": "synth lead",
                   "flute": "flute", "harp": "harp", "sitar": "world plucked", "harpsichord": "keys",
                   "choir": "choir", "choral": "choir"}
INSTRUMENT_CHOICES = tuple(t for t in INSTRUMENT_TAGS if t not in ("sound effects", "synth fx", "orchestra hit"))
MOOD_TAG_FLOOR = 0.15  # a mood tag below this does not speak clearly enough: mode and tempo decide
INSTRUMENT_FLOOR = 0.12
MAX_INSTRUMENTS = 3
RULE_CONFIDENCE = 0.5  # a tag set by a rule (mood from mode and tempo), not measured
assert set(MTT_INSTRUMENTS.values()) <= set(INSTRUMENT_TAGS)


def zero_shot_prompts(embedder: JointEmbedder) -> list[str]:
    """Every prompt `hear` asks the joint space about: shipped already embedded (onnx_export.joint_embedding),
    so hearing a file never loads the text model."""
    return [style_prompt(genre) for genre in embedder.genres] + list(INSTRUMENT_CHOICES)


@dataclass
class Heard:
    styles: list[tuple[str, float]]  # best first, confidences summing to 1
    mood: tuple[str, float]
    instruments: list[str]
    listeners: list[str]  # which models voted ("musicnn", "joint space")

    @property
    def style(self) -> tuple[str, float]:
        return self.styles[0]


def styles_from_tags(tags: dict[str, float], bpm: float) -> dict[str, float]:
    """musicnn's genre tags as a distribution over styles: a tag naming several styles goes to those
    that play at this tempo (all of them when none does)."""
    scores = dict.fromkeys(STYLE_NAMES, 0.0)
    for tag, names in MSD_STYLES.items():
        fitting = [n for n in names if bpm <= 0 or style_for(n).tempo_range[0] <= bpm <= style_for(n).tempo_range[1]]
        for name in fitting or names:
            scores[name] += tags.get(tag, 0.0) / len(fitting or names)
    total = sum(scores.values())
    return {name: score / total for name, score in scores.items()} if total > 0 else {}


def hear(samples_mono: np.ndarray, sample_rate: int, key: str, bpm: float,
         embedding: np.ndarray | None = None, embedder: JointEmbedder | None = None,
         tagger: MusicTagger | None = None, instrument_tagger: MusicTagger | None = None,
         cancel: CancelToken | None = None) -> Heard:
    """What the audio sounds like. `embedding`: its joint-space embedding when the caller has it."""
    embedder = embedder or JointEmbedder.default()
    tagger = tagger or MusicTagger.default("msd")
    instrument_tagger = instrument_tagger or MusicTagger.default("mtt")
    if embedding is None:
        embedding = embedder.embed_audio(samples_mono, sample_rate)
    joint = dict(embedder.zero_shot(embedding, list(embedder.genres), prompt=style_prompt))
    patches = log_mel_patches(samples_mono, sample_rate)  # one front end serves both taggers
    genre_tags = tagger.tag_patches(patches, cancel=cancel)
    tagged = styles_from_tags(genre_tags, bpm)
    styles = combine_votes(joint, tagged)

    moods = {mood: 0.0 for mood in MSD_MOODS.values()}
    for tag, mood in MSD_MOODS.items():
        moods[mood] += genre_tags.get(tag, 0.0)
    best_mood = max(moods.items(), key=lambda item: item[1])
    if best_mood[1] < MOOD_TAG_FLOOR:
        best_mood = (mood_from_key_and_tempo(key, bpm if bpm > 0 else 100.0) if key else "calm", RULE_CONFIDENCE)

    instrument_tags = instrument_tagger.tag_patches(patches, cancel=cancel)
    ranked = sorted(((p, MTT_INSTRUMENTS[t]) for t, p in instrument_tags.items() if t in MTT_INSTRUMENTS),
                    reverse=True)
    instruments = list(dict.fromkeys(name for p, name in ranked if p >= INSTRUMENT_FLOOR))[:MAX_INSTRUMENTS]
    if not instruments:
        instruments = [embedder.zero_shot(embedding, list(INSTRUMENT_CHOICES), prompt=str)[0][0]]
    return Heard(styles, (best_mood[0], round(float(best_mood[1]), 3)), instruments, ["musicnn", "joint space"])
