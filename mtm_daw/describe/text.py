"""Free text -> MusicDescription: vocabulary first, then the MiniLM sentence embedding for the rest.

"A gentle piano melody with soft strings, nostalgic, 72 bpm in A minor, 45 seconds" gives
genre/mood/instruments/tempo/key/duration from words; a genre or mood the vocabulary misses
("smoky late-night club") is matched zero-shot against label prompts in the embedding space.
The text itself is kept as the description's sentence.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from mtm_daw.describe.vocabulary import (A_CAPPELLA_PROGRAMS, A_CAPPELLA_WORDS, DEFAULT_TEMPO_BY_MOOD,
                                         INSTRUMENT_WORDS, MINOR_MOODS, MOOD_TEMPO_PLACE, MOOD_WORDS, ROLE_WORDS,
                                         TEMPO_WORDS)
from mtm_daw.description import MAX_DURATION_SECONDS, MOODS, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.score.gm import instrument_tag
from mtm_daw.score.score import ROLES, validate_time_signature
from mtm_daw.score.styles import STYLE_NAMES, Style, library, style_for
from mtm_daw.score.theory import parse_key

MAX_TEXT_CHARACTERS = 2000
DEFAULT_DURATION = 30.0
ZERO_SHOT_MARGIN = 0.03  # best label must beat the runner-up by this much cosine similarity
ZERO_SHOT_STYLE_FLOOR = 0.4  # below this a style "closest in meaning" is a guess: keep the default
MIN_BARE_TEMPO, MAX_BARE_TEMPO = 40, 250
GENERIC_INSTRUMENT_WORDS = ("guitar", "bass", "piano", "keys", "synth", "strings", "horns", "horn", "organ")

_BPM = re.compile(r"\b(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)\b", re.I)
_KEY = re.compile(r"\b([A-G])(#|b|♯|♭|-sharp|-flat| sharp| flat)?\s*(major|minor|maj|min|m)\b(?!\w)")
_KEY_OF = re.compile(r"\bkey of ([A-G](?:#|b)?)\b")
# "30 s", "30s", "45 seconds" — but not decades such as "80s" or "1980s"
_SECONDS = re.compile(r"\b(?!(?:1[89]|20)?\d0s\b)(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b", re.I)
_MINUTES = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:min|mins|minute|minutes)\b", re.I)
_CLOCK = re.compile(r"\b(\d{1,2}):([0-5]\d)\b")
_METER = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
# a number alone: not a time, count, decade, meter, key, percentage or part of a word ("808", "90s", "4/4")
_BARE_NUMBER = re.compile(r"(?<![\w./:#&'-])(\d{2,3}(?:\.\d+)?)(?![\w./:%'&-])"
                          r"(?!\s*(?:s|sec|secs|seconds?|mins?|minutes?|bars?|beats|hz|khz|db|x|%|times)\b)")
_ONLY = re.compile(r"\b(just|only|unaccompanied|alone)\b")
_SOLO = re.compile(r"\bsolo\s+([a-z][\w -]*)")  # "solo piano" (a "sax solo" is a lead in a band)
_WITHOUT = re.compile(r"\b(?:no|without|minus)\s+(drums|drum|beat|beats|percussion|bass|bassline|melody|lead|chords|"
                      r"harmony|pads)\b")
_METER_WORDS = re.compile(r"\b(waltz|in three|triple meter|compound|jig|in six)\b")
_RISING = re.compile(r"\b(build(?:s|ing)?(?: up)?|crescendo|rising|swell(?:s|ing)?|grows?)\b", re.I)
_FALLING = re.compile(r"\b(fad(?:e|es|ing) out|decrescendo|dying away|winds? down)\b", re.I)


@dataclass
class ParsedText:
    description: MusicDescription
    evidence: dict[str, str] = field(default_factory=dict)  # field -> how it was decided
    notices: list[str] = field(default_factory=list)  # one line each, for the user: a word read as a nearby style


def _find_words(text: str, table: dict[str, tuple[str, ...]]) -> list[tuple[int, str, str]]:
    """Every (position, label, word) where a table word appears as a whole word."""
    hits = []
    for label, words in table.items():
        for word in words:
            for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                hits.append((match.start(), label, word))
    return sorted(hits)


def _instruments(text: str) -> tuple[dict[str, int], dict[str, str]]:
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
    words_used: dict[str, str] = {}  # role -> the word that named its instrument
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
        words_used[role] = word
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


def _whole_word(word: str) -> str:
    return rf"(?<![\w-]){re.escape(word)}(?![\w-])"


def _style_mentions(text: str) -> list[tuple[int, str, str, bool]]:
    """(position, style, word, is a neighbour) for each style word in the text; a span of text belongs to
    its longest phrase ("lofi hip hop" beats "hip hop", "latin jazz" beats "jazz")."""
    phrases = sorted(((word, style.name, neighbour) for style in library().values()
                      for neighbour, words in ((False, (style.name, *style.aliases)), (True, style.neighbours))
                      for word in words), key=lambda phrase: -len(phrase[0]))
    taken: list[tuple[int, int]] = []
    found = []
    for word, name, neighbour in phrases:
        for match in re.finditer(_whole_word(word), text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), name, word, neighbour))
    return sorted(found)


def _bare_tempo(text: str) -> tuple[float, str] | None:
    """A number 40-250 standing alone ("drum and bass 174") is a tempo."""
    for match in _BARE_NUMBER.finditer(text):
        value = float(match.group(1))
        if MIN_BARE_TEMPO <= value <= MAX_BARE_TEMPO:
            return value, match.group(1)
    return None


def usual_key(style: Style, mood: str, seed_text: str) -> str:
    """A key the style is often played in, in the mood's mode, picked by the text (same text, same key)."""
    mode = "minor" if mood in MINOR_MOODS else "major"
    keys = [k for k in style.keys if parse_key(k).mode == mode]
    if not keys:  # e.g. a happy techno track: the style's usual tonics, in the mood's mode
        keys = [f"{parse_key(k).name.split()[0]} {mode}" for k in style.keys]
    return parse_key(keys[zlib.crc32(seed_text.encode("utf-8")) % len(keys)]).name


def _roles(text: str, instruments: dict[str, int]) -> tuple[tuple[str, ...], dict[str, int], str] | None:
    """Roles the words ask for: "solo piano", "just drums and bass", "no drums", "a cappella"."""
    if any(re.search(_whole_word(word), text) for word in A_CAPPELLA_WORDS):
        return ("harmony", "melody"), dict(A_CAPPELLA_PROGRAMS), "a cappella"
    named = {role for role, words in ROLE_WORDS.items() if any(re.search(_whole_word(w), text) for w in words)}
    named |= set(instruments)
    roles = None
    instrument_words = [word for words, _, _ in INSTRUMENT_WORDS for word in words]
    solo = any(match.group(1).startswith(tuple(instrument_words)) for match in _SOLO.finditer(text))
    if (_ONLY.search(text) or solo) and named:
        if named <= {"harmony", "melody"} and len(set(instruments.values())) <= 1 and instruments:
            program = next(iter(instruments.values()))  # one instrument alone plays both its chords and its line
            instruments = {"harmony": program, "melody": program}
            named = {"harmony", "melody"}
        roles = tuple(role for role in ROLES if role in named)
    dropped = {role for match in _WITHOUT.finditer(text) for role, words in ROLE_WORDS.items()
               if match.group(1) in words}
    if "drumless" in text:
        dropped.add("drums")
    if dropped:
        roles = tuple(role for role in (roles or ROLES) if role not in dropped)
    if roles is None:
        return None
    if not roles:
        raise MtmError("the text leaves no part to play (e.g. 'no drums' with 'just drums')")
    return roles, {role: p for role, p in instruments.items() if role in roles}, "the words " + ", ".join(
        sorted(named | {f"no {r}" for r in dropped}))


def zero_shot(text: str, labels: tuple[str, ...], prompts: list[str], encoder) -> tuple[str | None, float]:
    """The label whose prompt is nearest the text in the sentence embedding, if it stands out."""
    vectors = encoder.encode([text] + prompts)
    scores = vectors[1:] @ vectors[0]
    order = scores.argsort()[::-1]
    best, runner_up = float(scores[order[0]]), float(scores[order[1]])
    if best - runner_up < ZERO_SHOT_MARGIN:
        return None, best
    return labels[int(order[0])], best


def _style_prompts() -> list[str]:
    return [f"{style.title} music: {', '.join((style.name, *style.aliases[:4]))}; {style.summary}"
            for style in library().values()]


def parse_text(text: str, zero_shot_encoder="default") -> ParsedText:
    """Parse a text idea. zero_shot_encoder: "default" (the shipped MiniLM), an encoder object, or None."""
    if not isinstance(text, str) or not text.strip():
        raise MtmError("the text idea is empty: describe the music, e.g. 'calm piano, 80 bpm, A minor'")
    if len(text) > MAX_TEXT_CHARACTERS:
        raise MtmError(f"the text idea is {len(text)} characters long; keep it under {MAX_TEXT_CHARACTERS}")
    lowered = text.lower()
    evidence: dict[str, str] = {}
    notices: list[str] = []
    description = MusicDescription(sentence=text.strip())

    style_hits = _style_mentions(lowered)
    mood_hits = _find_words(lowered, MOOD_WORDS)
    encoder = None
    if zero_shot_encoder == "default" and (not style_hits or not mood_hits):
        # deferred: only this path needs onnxruntime, tokenizers
        from mtm_daw.engine.text_encoder import TextEncoder

        encoder = TextEncoder.default()
    elif zero_shot_encoder not in ("default", None):
        encoder = zero_shot_encoder

    if style_hits:
        _, name, word, neighbour = style_hits[0]
        description.genre = name
        evidence["genre"] = f"the word '{word}'"
        if neighbour:
            notices.append(f"'{word}' is not in the style library; playing the nearest style, {name}")
            evidence["genre"] += " (a nearby style)"
    elif encoder is not None:
        label, score = zero_shot(text, STYLE_NAMES, _style_prompts(), encoder)
        if label is not None and score >= ZERO_SHOT_STYLE_FLOOR:
            description.genre = label
            evidence["genre"] = f"closest in meaning (similarity {score:.2f})"
            notices.append(f"no style named in the text; the closest in meaning is {label} (similarity {score:.2f})")
    evidence.setdefault("genre", "default")
    if mood_hits:
        description.mood = mood_hits[0][1]
        evidence["mood"] = f"the word '{mood_hits[0][2]}'"
    elif encoder is not None:
        prompts = [f"{label} music: {', '.join(MOOD_WORDS[label][:6])}" for label in MOODS]
        label, score = zero_shot(text, MOODS, prompts, encoder)
        if label is not None:
            description.mood = label
            evidence["mood"] = f"closest in meaning (similarity {score:.2f})"
    evidence.setdefault("mood", "default")
    style = style_for(description.genre)
    named_style = evidence["genre"] != "default"

    masked = lowered  # "drum and bass" names a style, not a bass
    for position, _, word, neighbour in style_hits:
        if neighbour:  # "pedal steel" stands in for country and is an instrument too
            continue
        masked = masked[:position] + " " * len(word) + masked[position + len(word):]
    instruments, words = _instruments(masked)
    # a plain "guitar" in a bossa nova is its nylon guitar: a word naming the style's own kind of instrument
    # keeps the style's instrument
    instruments = {role: program for role, program in instruments.items()
                   if words[role] not in GENERIC_INSTRUMENT_WORDS
                   or instrument_tag(program) != instrument_tag(style.programs[role])}
    description.instruments = instruments
    if words:
        evidence["instruments"] = "the words " + ", ".join(f"'{w}'" for w in words.values())
    asked = _roles(lowered, instruments)
    if asked is not None:
        description.roles, description.instruments, evidence["roles"] = asked

    bare = _bare_tempo(lowered)
    if match := _BPM.search(text):
        description.tempo = float(match.group(1))
        evidence["tempo"] = f"'{match.group(0)}'"
    elif bare is not None:
        description.tempo, word = bare
        evidence["tempo"] = f"the number {word}"
    else:
        tempo_hits = [(lowered.find(w), w, bpm, place) for words, bpm, place in TEMPO_WORDS for w in words
                      if re.search(_whole_word(w), lowered)]
        if tempo_hits:
            _, word, bpm, place = min(tempo_hits)
            description.tempo = style.tempo_at(place) if named_style else bpm
            evidence["tempo"] = f"the word '{word}'" + (f" in {style.name}'s range" if named_style else "")
        elif named_style:
            description.tempo = style.tempo_at(MOOD_TEMPO_PLACE[description.mood])
            evidence["tempo"] = f"usual for {description.mood} {style.name}"
        else:
            description.tempo = DEFAULT_TEMPO_BY_MOOD[description.mood]
            evidence["tempo"] = f"usual for a {description.mood} mood"

    key = _key(text)
    if key:
        description.key = key
        evidence["key"] = f"'{key}' in the text"
    else:
        description.key = usual_key(style, description.mood, lowered)
        evidence["key"] = f"a usual {style.name} key for a {description.mood} mood"

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
    elif match := _METER_WORDS.search(lowered):
        word = match.group(0)
        description.time_signature = (6, 8) if word in ("compound", "jig", "in six") else (3, 4)
        evidence["time_signature"] = f"the word '{word}'"
    elif named_style and style.meter != (4, 4):
        description.time_signature = style.meter
        evidence["time_signature"] = f"{style.name}'s meter"

    if _RISING.search(text):
        description.energy = [(0.0, 0.25), (description.duration, 0.95)]
        evidence["energy"] = "builds up"
    elif _FALLING.search(text):
        description.energy = [(0.0, 0.8), (description.duration, 0.2)]
        evidence["energy"] = "fades out"
    return ParsedText(description.validate(), evidence, notices)
