"""Chord symbols: parsing what a musician types ("Am F C G", "Bbmaj7 | Gm7 C7") and hearing chords in notes.

The generator reads a chord as its root relative to the key and one of four families (MODEL_FAMILIES):
what it needs to put the melody and bass on the chord. Richer qualities (7ths, 6ths, sus) are kept for
the sidecar and the baseline composer's voicings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.score.score import Score
from mtm_daw.score.theory import Key, parse_pitch_class, pitch_class_name

# quality -> semitones above the root
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8), "sus4": (0, 5, 7), "sus2": (0, 2, 7),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "m7": (0, 3, 7, 10), "m7b5": (0, 3, 6, 10), "dim7": (0, 3, 6, 9),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
}
MODEL_FAMILIES = ("major", "minor", "diminished", "other")
_FAMILY = {"maj": 0, "7": 0, "maj7": 0, "6": 0, "min": 1, "m7": 1, "m6": 1, "dim": 2, "m7b5": 2, "dim7": 2,
           "aug": 3, "sus4": 3, "sus2": 3}
CHORD_IDS = 1 + 12 * len(MODEL_FAMILIES)  # 0 = no chord
_SUFFIX = {"": "maj", "maj": "maj", "M": "maj", "m": "min", "min": "min", "-": "min", "dim": "dim", "°": "dim",
           "o": "dim", "aug": "aug", "+": "aug", "sus": "sus4", "sus4": "sus4", "sus2": "sus2", "7": "7",
           "9": "7", "13": "7", "maj7": "maj7", "M7": "maj7", "Δ": "maj7", "maj9": "maj7", "m7": "m7",
           "min7": "m7", "-7": "m7", "m9": "m7", "m7b5": "m7b5", "ø": "m7b5", "dim7": "dim7", "°7": "dim7",
           "o7": "dim7", "6": "6", "m6": "m6", "add9": "maj", "madd9": "min", "5": "maj"}
_CHORD_RE = re.compile(r"^([A-Ga-g][#♯b♭]?)(.*?)(?:/([A-Ga-g][#♯b♭]?))?$")


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class 0..11
    quality: str = "maj"  # a key of QUALITIES

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + step) % 12 for step in QUALITIES[self.quality])

    @property
    def family(self) -> int:
        return _FAMILY[self.quality]

    def name(self, key: Key | None = None) -> str:
        suffix = {"maj": "", "min": "m"}.get(self.quality, self.quality)
        return pitch_class_name(self.root, key.mode if key else "major") + suffix

    def model_id(self, tonic: int) -> int:
        """1 + 4 * (root above the tonic) + family: what the generator is conditioned on."""
        return 1 + ((self.root - tonic) % 12) * len(MODEL_FAMILIES) + self.family


def parse_chord(text: str) -> Chord:
    match = _CHORD_RE.match(text.strip())
    quality = _SUFFIX.get(match.group(2)) if match else None
    if quality is None:
        raise MtmError(f"chords: cannot read '{text}' (write chords like Am, F, C7, Bbmaj7, F#m7b5, Dsus4)")
    return Chord(parse_pitch_class(match.group(1))[0], quality)


def parse_progression(text: str) -> list[tuple[Chord, ...]]:
    """Bars of chords. 'Am F C G' is one chord a bar; with '|', 'Am F | C G' is two bars of two chords each."""
    if not isinstance(text, str) or not text.strip():
        raise MtmError("chords: the progression is empty (write chords like \"Am F C G\")")
    bars = [bar.split() for bar in text.split("|")] if "|" in text else [[word] for word in text.split()]
    if any(not bar for bar in bars):
        raise MtmError(f"chords: an empty bar between '|' in \"{text}\"")
    return [tuple(parse_chord(word) for word in bar) for bar in bars]


def diatonic_chord(key: Key, degree: int, seventh: bool = False) -> Chord:
    """The chord on a scale degree (0 = I); in minor the dominant is major (harmonic minor)."""
    pitch_classes = [key.degree_pitch(degree + 2 * i, 0) % 12 for i in range(4 if seventh else 3)]
    if key.mode == "minor" and degree % 7 == 4:
        pitch_classes[1] = (pitch_classes[1] + 1) % 12
    root = pitch_classes[0]
    intervals = tuple((pc - root) % 12 for pc in pitch_classes)
    quality = next(name for name, steps in QUALITIES.items() if steps == intervals)
    return Chord(root, quality)


def progression_chord(key: Key, degree: int, sevenths: bool) -> Chord:
    """A progression's chord on a scale degree, with its seventh where the style uses sevenths — but a minor
    tonic stays a triad: its seventh would spell the relative major's chord."""
    return diatonic_chord(key, degree, sevenths and not (key.mode == "minor" and degree == 0))


# --- hearing chords in notes ------------------------------------------------------------------
_TEMPLATE_QUALITIES = ("maj", "min", "dim", "7")


def _templates() -> tuple[np.ndarray, list[Chord]]:
    chords = [Chord(root, quality) for quality in _TEMPLATE_QUALITIES for root in range(12)]
    matrix = np.zeros((12, len(chords)), dtype=np.float32)
    for index, chord in enumerate(chords):
        matrix[list(chord.pitch_classes), index] = 1.0
    return matrix, chords


_TEMPLATE_MATRIX, _TEMPLATE_CHORDS = _templates()
_ROLE_WEIGHT = {"bass": 1.5, "harmony": 1.0, "melody": 0.5}


def pitch_class_weights(score: Score, span_beats: float = 1.0) -> np.ndarray:
    """(spans, 12) how long each pitch class sounds in each span of the score, bass counted more."""
    spans = max(1, int(np.ceil(score.length_beats / span_beats - 1e-9)))
    weights = np.zeros((spans, 12), dtype=np.float32)
    for role, track in score.tracks.items():
        if track.is_drum:
            continue
        weight = _ROLE_WEIGHT.get(role, 1.0)
        for note in track.notes:
            first, last = int(note.onset // span_beats), int(min(spans - 1, (note.end - 1e-6) // span_beats))
            for span in range(max(0, first), last + 1):
                overlap = min(note.end, (span + 1) * span_beats) - max(note.onset, span * span_beats)
                if overlap > 0:
                    weights[span, note.pitch % 12] += weight * overlap
    return weights


def chords_from_score(score: Score, span_beats: float = 1.0) -> list[Chord | None]:
    """The chord heard in each span of a score (None where nothing pitched sounds)."""
    return chords_from_weights(pitch_class_weights(score, span_beats))


def chords_from_weights(weights: np.ndarray) -> list[Chord | None]:
    """(spans, 12) pitch-class weights -> the best-matching triad or dominant seventh per span, scored as
    weight inside the chord minus half the weight outside it; None for a span with no weight."""
    inside = weights @ _TEMPLATE_MATRIX  # (spans, chords)
    outside = weights.sum(axis=1, keepdims=True) - inside
    sizes = _TEMPLATE_MATRIX.sum(axis=0)[None, :]
    score_matrix = inside - 0.5 * outside - 0.05 * sizes  # a 7th must earn its fourth note
    best = score_matrix.argmax(axis=1)
    return [_TEMPLATE_CHORDS[index] if weights[span].sum() > 0 else None for span, index in enumerate(best)]
