"""Free text -> MusicDescription: vocabulary first, then the MiniLM sentence embedding for the rest.

"A gentle piano melody with soft strings, nostalgic, 72 bpm in A minor, 45 seconds" gives
genre/mood/instruments/tempo/key/duration from words; a genre or mood the vocabulary misses
("smoky late-night club") is matched zero-shot against label prompts in the embedding space.
The text itself is kept as the description's sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from mtm_daw.description import GENRES, MAX_DURATION_SECONDS, MOODS, MusicDescription
from mtm_daw.describe.vocabulary import (DEFAULT_TEMPO_BY_MOOD, GENRE_WORDS, INSTRUMENT_WORDS, MINOR_MOODS,
                                         MOOD_WORDS, TEMPO_WORDS)
from mtm_daw.errors import MtmError
from mtm_daw.score.score import validate_time_signature
from mtm_daw.score.theory import parse_key

MAX_TEXT_CHARACTERS = 2000
DEFAULT_DURATION = 30.0
ZERO_SHOT_MARGIN = 0.03  # best label must beat the runner-up by this much cosine similarity

_BPM = re.compile(r"\b(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)\b", re.I)
_KEY = re.compile(r"\b([A-G])(#|b|♯|♭|-sharp|-flat| sharp| flat)?\s*(major|minor|maj|min|m)\b(?!\w)")
_KEY_OF = re.compile(r"\bkey of ([A-G](?:#|b)?)\b")
# "30 s", "30s", "45 seconds" — but not decades such as "80s" or "1980s"
_SECONDS = re.compile(r"\b(?!(?:1[89]|20)?\d0s\b)(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b", re.I)
_MINUTES = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:min|mins|minute|minutes)\b", re.I)
_CLOCK = re.compile(r"\b(\d{1,2}):([0-5]\d)\b")
_METER = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
_RISING = re.compile(r"\b(build(?:s|ing)?(?: up)?|crescendo|rising|swell(?:s|ing)?|grows?)\b", re.I)
_FALLING = re.compile(r"\b(fad(?:e|es|ing) out|decrescendo|dying away|winds? down)\b", re.I)


@dataclass
class ParsedText:
    description: MusicDescription
    evidence: dict[str, str] = field(default_factory=dict)  # field -> how it was decided


def _find_words(text: str, table: dict[str, tuple[str, ...]]) -> list[tuple[int, str, str]]:
    """Every (position, label, word) where a table word appears as a whole word."""
    hits = []
    for label, words in table.items():
        for word in words:
            for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                hits.append((match.start(), label, word))
    return sorted(hits)


def _instruments(text: str) -> tuple[dict[str, int], list[str]]:
    """Instruments by role in order of mention; each span of text is claimed by its longest phrase."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, str, str]] = []  # (position, program, usual role, word)
    phrases = sorted(((word, program, role) for words, program, role in INSTRUMENT_WORDS for word in words),
                     key=lambda phrase: -len(phrase[0]))
    for word, program, role in phrases:
        for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            span = (match.start(), match.end())
            if any(start < span[1] and span[0] < end for start, end in taken):
                continue
            taken.append(span)
            found.append((match.start(), program, role, word))
    instruments: dict[str, int] = {}
    words_used = []
    for position, program, role, word in sorted(found):
        following = text[position + len(word):position + len(word) + 12]
        if re.match(r"\s*(melody|lead|solo|line|theme)", following) and "melody" not in instruments:
            role = "melody"
        elif re.match(r"\s*(chords|pads?|comping|harmony|accompaniment)", following) and "harmony" not in instruments:
            role = "harmony"
        if role in instruments:
            role = next((r for r in ("melody", "harmony") if r not in instruments), None)
            if role is None:
                continue
        instruments[role] = program
        words_used.append(word)
    return instruments, words_used


def _duration(text: str) -> float | None:
    if match := _CLOCK.search(text):
        return int(match.group(1)) * 60 + int(match.group(2))
    total, found = 0.0, False
    if match := _MINUTES.search(text):
        total, found = total + float(match.group(1)) * 60, True
    if match := _SECONDS.search(text):
        total, found = total + float(match.group(1)), True
    return total if found else None


def _key(text: str) -> str | None:
    if match := _KEY.search(text):
        tonic, accidental, mode = match.groups()
        accidental = {"♯": "#", "♭": "b", "-sharp": "#", " sharp": "#", "-flat": "b", " flat": "b"}.get(
            accidental or "", accidental or "")
        return parse_key(f"{tonic}{accidental} {'minor' if mode in ('minor', 'min', 'm') else 'major'}").name
    if match := _KEY_OF.search(text):
        return parse_key(match.group(1) + " major").name
    return None


def zero_shot(text: str, labels: tuple[str, ...], table: dict[str, tuple[str, ...]], what: str,
              encoder) -> tuple[str | None, float]:
    """The label whose prompt is nearest the text in the sentence embedding, if it stands out."""
    prompts = [f"{label} music: {', '.join(table[label][:6])}" for label in labels]
    vectors = encoder.encode([text] + prompts)
    scores = vectors[1:] @ vectors[0]
    order = scores.argsort()[::-1]
    best, runner_up = float(scores[order[0]]), float(scores[order[1]])
    if best - runner_up < ZERO_SHOT_MARGIN:
        return None, best
    return labels[int(order[0])], best


def parse_text(text: str, zero_shot_encoder="default") -> ParsedText:
    """Parse a text idea. zero_shot_encoder: "default" (the shipped MiniLM), an encoder object, or None."""
    if not isinstance(text, str) or not text.strip():
        raise MtmError("the text idea is empty: describe the music, e.g. 'calm piano, 80 bpm, A minor'")
    if len(text) > MAX_TEXT_CHARACTERS:
        raise MtmError(f"the text idea is {len(text)} characters long; keep it under {MAX_TEXT_CHARACTERS}")
    lowered = text.lower()
    evidence: dict[str, str] = {}
    description = MusicDescription(sentence=text.strip())

    genre_hits = _find_words(lowered, GENRE_WORDS)
    mood_hits = _find_words(lowered, MOOD_WORDS)
    encoder = None
    if zero_shot_encoder == "default" and (not genre_hits or not mood_hits):
        from mtm_daw.engine.text_encoder import TextEncoder

        encoder = TextEncoder.default()
    elif zero_shot_encoder not in ("default", None):
        encoder = zero_shot_encoder

    for name, hits, labels, table in (("genre", genre_hits, GENRES, GENRE_WORDS),
                                      ("mood", mood_hits, MOODS, MOOD_WORDS)):
        if hits:
            setattr(description, name, hits[0][1])
            evidence[name] = f"the word '{hits[0][2]}'"
        elif encoder is not None:
            label, score = zero_shot(text, labels, table, name, encoder)
            if label is not None:
                setattr(description, name, label)
                evidence[name] = f"closest in meaning (similarity {score:.2f})"
        if name not in evidence:
            evidence[name] = "default"

    description.instruments, words = _instruments(lowered)
    if words:
        evidence["instruments"] = "the words " + ", ".join(f"'{w}'" for w in words)

    if match := _BPM.search(text):
        description.tempo = float(match.group(1))
        evidence["tempo"] = f"'{match.group(0)}'"
    else:
        tempo_hits = [(lowered.find(w), w, bpm) for words, bpm in TEMPO_WORDS for w in words
                      if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", lowered)]
        if tempo_hits:
            _, word, bpm = min(tempo_hits)
            description.tempo = bpm
            evidence["tempo"] = f"the word '{word}'"
        else:
            description.tempo = DEFAULT_TEMPO_BY_MOOD[description.mood]
            evidence["tempo"] = f"usual for a {description.mood} mood"

    key = _key(text)
    if key:
        description.key = key
        evidence["key"] = f"'{key}' in the text"
    else:
        description.key = "A minor" if description.mood in MINOR_MOODS else "C major"
        evidence["key"] = f"usual for a {description.mood} mood"

    duration = _duration(text)
    if duration is not None:
        if not 0 < duration <= MAX_DURATION_SECONDS:
            raise MtmError(f"the text asks for {duration:g} s; durations run from 1 s to {MAX_DURATION_SECONDS:g} s")
        description.duration = duration
        evidence["duration"] = f"{duration:g} s in the text"
    else:
        description.duration = DEFAULT_DURATION

    if match := _METER.search(text):
        description.time_signature = validate_time_signature((int(match.group(1)), int(match.group(2))))
        evidence["time_signature"] = f"'{match.group(0)}'"
    elif "waltz" in lowered:
        description.time_signature = (3, 4)
        evidence["time_signature"] = "the word 'waltz'"

    if _RISING.search(text):
        description.energy = [(0.0, 0.25), (description.duration, 0.95)]
        evidence["energy"] = "builds up"
    elif _FALLING.search(text):
        description.energy = [(0.0, 0.8), (description.duration, 0.2)]
        evidence["energy"] = "fades out"
    return ParsedText(description.validate(), evidence)
