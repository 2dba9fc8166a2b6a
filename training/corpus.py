"""Training pieces from the music21 corpus: Bach chorales and folk/fiddle tunes, as labelled Scores.

Training-only code: it imports music21 (the `train` extra); the runtime never imports this module.

Each piece becomes a Score on the sixteenth grid (roll.quantize_score) whose bar lines fall on multiples
of the bar length (a pickup is shifted right so that the first full bar starts at a bar boundary), with
labels the generator is conditioned on:

* Bach chorales (`chorale_pieces`): Soprano -> "melody" (flute), Alto + Tenor -> "harmony" (strings),
  Bass -> "bass" (cello); genre "orchestral", mood "calm" (major) or "sad" (minor).
* Folk tunes (`folk_pieces`): the Essen folksong collection, interleaved with Ryan's Mammoth Collection
  (fiddle tunes), melody only (flute); style "folk", mood "happy" (major) or "sad" (minor).

Keys are music21's analysed key (what stream.analyze('key') returns: Aarden-Essen key profiles), spelled
with our Key names ('Bb major').
The files carry no tempo, so each piece gets a fixed pseudo-random tempo drawn from a hash of its
source name (chorales 60-96 BPM, folk tunes 90-140 BPM): the same piece always gets the same tempo,
on every machine and Python version. All velocities are 80. Fermatas, dynamics, grace notes and chord
symbols are ignored; tied notes are merged; repeats are not expanded (the music as written, once).

Pieces are skipped (and counted in `skipped`, by reason) when they fail to parse, lack the expected
parts, change meter, use a meter the Score cannot hold, have bars that do not line up with the meter
(irregular or free-metre bars), or are shorter than four bars.

`build_corpus_cache` writes the pieces as JSON lines so training does not re-parse music21 files.
"""
from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mtm_daw.description import GENRES, MOODS
from training.grooves import groove_style
from mtm_daw.score.roll import quantize_score
from mtm_daw.score.score import Note, Score, Track
from mtm_daw.score.theory import Key

VELOCITY = 80
MIN_BARS = 4
PROGRAMS = {"melody": 73, "harmony": 48, "bass": 42}  # flute, string ensemble, cello
CHORALE_TEMPO = (60, 96)
FOLK_TEMPO = (90, 140)
# Folk tunes in the default cache: with every chorale (about 0.15 s each) and these (about 0.06 s each, skipped
# tunes included) the build takes about four minutes on one free core. folk_pieces(None) yields every usable
# tune (about 8,000).
DEFAULT_FOLK_LIMIT = 3000
# Essen files that only repeat one test tune in several encodings.
_ESSEN_EXCLUDE = {"test0", "test1", "testd", "teste"}
_EPS = 1e-6


@dataclass
class CorpusPiece:
    score: Score  # quantised to the sixteenth grid, starting at a downbeat
    genre: str  # a style (mtm_daw.description.GENRES)
    mood: str  # from MOODS
    source: str  # e.g. "bach/bwv66.6", "essenFolksong/erk10/5", "ryansMammoth/AcaciaReel"


class _Skip(Exception):
    """A piece that cannot be used; the message is the reason counted in `skipped`."""


HELD_OUT_SHARE = 0.1  # of every source: never trained or tuned on; the quality benchmark's human-written music


def is_held_out(source: str) -> bool:
    """Whether a piece is held out; a groove song ('tune+mma/Groove') follows its tune."""
    tune = source.split("+mma/")[0]
    return int.from_bytes(hashlib.sha256(tune.encode("utf-8")).digest()[:8], "big") / 2**64 < HELD_OUT_SHARE


# --- helpers -------------------------------------------------------------------------------
def deterministic_tempo(source: str, low: int, high: int) -> float:
    """A fixed pseudo-random whole BPM in [low, high] from the source name (stable across runs)."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return float(low + int.from_bytes(digest[:8], "big") % (high - low + 1))


def _key_of(stream) -> Key:
    """The key stream.analyze('key') finds (Aarden-Essen profiles), without building the 23 runner-up
    Key objects it attaches as alternatives: that made key finding half of a folk tune's parse time."""
    from music21.analysis.discrete import AardenEssen

    tonic, mode, _ = AardenEssen().process(stream)[0]
    return Key(tonic.pitchClass, mode if mode in ("major", "minor") else "major")


def _time_signature(score) -> tuple[int, int]:
    from music21 import meter

    signatures = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not signatures:
        raise _Skip("no time signature")
    first = signatures[0]
    if any(ts.ratioString != first.ratioString for ts in signatures[1:]):
        raise _Skip("meter change")
    numerator, denominator = int(first.numerator), int(first.denominator)
    if denominator not in (2, 4, 8, 16) or not 1 <= numerator <= 32:
        raise _Skip("unsupported meter")
    return numerator, denominator


def _pickup_shift(part, bar_length: float) -> float:
    """Beats to add to every onset so that bar lines fall on multiples of bar_length; raises _Skip when a
    complete bar does not start on a bar line (an irregular bar earlier in the piece, free metre)."""
    from music21 import stream

    measures = list(part.getElementsByClass(stream.Measure))
    if len(measures) < 2:
        return 0.0
    first_length = float(measures[1].offset) - float(measures[0].offset)
    shift = bar_length - first_length if 0 < first_length < bar_length - _EPS else 0.0
    for measure in measures[1:]:
        # A complete bar must start on a bar line; incomplete ones may pair up (a bar split at a repeat sign).
        if abs(float(measure.duration.quarterLength) - bar_length) > _EPS:
            continue
        position = (float(measure.offset) + shift) / bar_length
        if abs(position - round(position)) > _EPS:
            raise _Skip("irregular bars")
    return shift


def _part_notes(part, shift: float) -> list[Note]:
    from music21 import harmony

    notes = []
    for element in part.flatten().notes:
        if isinstance(element, harmony.ChordSymbol):
            continue
        duration = float(element.quarterLength)
        if duration <= 0:  # grace notes
            continue
        onset = float(element.offset) + shift
        for pitch in getattr(element, "pitches", ()):
            notes.append(Note(onset, duration, int(pitch.midi), VELOCITY))
    notes.sort(key=lambda n: (n.onset, n.pitch))
    return notes


def _make_score(m21_score, roles: dict[str, list], key: Key, tempo: float) -> Score:
    """roles: role -> the music21 parts merged into it (ties already stripped)."""
    time_signature = _time_signature(m21_score)
    bar_length = time_signature[0] * 4.0 / time_signature[1]
    reference = next(iter(roles.values()))[0]
    shift = _pickup_shift(reference, bar_length)
    tracks = {}
    for role, parts in roles.items():
        notes = [note for part in parts for note in _part_notes(part, shift)]
        if not notes:
            raise _Skip(f"empty {role}")
        notes.sort(key=lambda n: (n.onset, n.pitch))
        tracks[role] = Track(role, PROGRAMS[role], notes)
    end = max(track.end for track in tracks.values())
    bars = max(1, math.ceil(end / bar_length - _EPS))
    if bars < MIN_BARS:
        raise _Skip("shorter than 4 bars")
    score = Score(tempo, time_signature, key.name, tracks, bars * bar_length)
    return quantize_score(score)


# --- chorales ------------------------------------------------------------------------------
def chorale_sources() -> list[str]:
    """The Riemenschneider chorales in music21's corpus, e.g. 'bach/bwv66.6', without duplicates."""
    from music21.corpus import chorales

    return list(dict.fromkeys(chorales.Iterator(returnType="filename")))


def chorale_piece(source: str) -> CorpusPiece:
    """One chorale as a CorpusPiece; raises _Skip (or any music21 error) when it cannot be used."""
    from music21 import corpus

    m21_score = corpus.parse(source, forceSource=True)  # no pickle: a one-off parse is faster without
    parts = list(m21_score.parts)
    if len(parts) != 4:
        raise _Skip("not 4 parts")
    key = _key_of(m21_score)
    for part in parts:
        part.stripTies(inPlace=True)
    soprano, alto, tenor, bass = parts
    score = _make_score(m21_score, {"melody": [soprano], "harmony": [alto, tenor], "bass": [bass]}, key,
                        deterministic_tempo(source, *CHORALE_TEMPO))
    return CorpusPiece(score, "orchestral", "calm" if key.mode == "major" else "sad", source)


def chorale_pieces(limit: int | None = None, *, skipped: Counter | None = None,
                   workers: int = 1) -> Iterator[CorpusPiece]:
    """Bach chorales (about 350), in corpus order; `skipped` counts unusable ones by reason."""
    return _pieces(chorale_sources(), chorale_piece, limit, skipped, workers)


# --- multi-part vocal music ----------------------------------------------------------------
MULTIPART_TEMPO = (60, 90)
DEFAULT_MULTIPART_LIMIT = 500


def multipart_sources() -> list[str]:
    """Palestrina's masses and Monteverdi's madrigals in music21's corpus (3 to 8 voices each)."""
    root = _corpus_dir()
    palestrina = sorted(str(p.relative_to(root)) for p in (root / "palestrina").glob("*.krn"))
    monteverdi = sorted(str(p.relative_to(root)) for p in (root / "monteverdi").glob("*.mxl") if "_old" not in p.stem)
    return monteverdi + palestrina


def multipart_piece(source: str) -> CorpusPiece:
    """Highest voice -> melody, lowest -> bass, the rest -> harmony. Pieces in half-note metres (4/2,
    3/2, 2/2) are read in quarter notes (4/4, 3/4, 2/4), the way a modern edition would print them."""
    from music21 import corpus

    m21_score = corpus.parse(source, forceSource=True)
    parts = [part for part in m21_score.parts if part.recurse().notes]
    if not 3 <= len(parts) <= 8:
        raise _Skip("not 3-8 voices")
    key = _key_of(m21_score)
    for part in parts:
        part.stripTies(inPlace=True)
    parts.sort(key=lambda part: -statistics.median(p.midi for n in part.recurse().notes for p in n.pitches))
    score = _make_score(m21_score, {"melody": parts[:1], "harmony": parts[1:-1], "bass": parts[-1:]}, key,
                        deterministic_tempo(source, *MULTIPART_TEMPO))
    numerator, denominator = score.time_signature
    if denominator == 2:
        tracks = {role: Track(role, track.program, [Note(n.onset / 2, n.duration / 2, n.pitch, n.velocity)
                                                    for n in track.notes]) for role, track in score.tracks.items()}
        score = quantize_score(Score(score.tempo, (numerator, 4), score.key, tracks, score.length_beats / 2))
    return CorpusPiece(score, "orchestral", "calm" if key.mode == "major" else "sad", source)


def multipart_pieces(limit: int | None = None, *, skipped: Counter | None = None,
                     workers: int = 1) -> Iterator[CorpusPiece]:
    return _pieces(multipart_sources(), multipart_piece, limit, skipped, workers)


# --- folk tunes ----------------------------------------------------------------------------
def _corpus_dir() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def _split_abc(text: str) -> list[tuple[str, str]]:
    """(reference number, tune text) for each X: tune, with the file header in front of each."""
    chunks = re.split(r"(?m)^(?=X:)", text)
    header, tunes = chunks[0], []
    for chunk in chunks[1:]:
        number = chunk[2:chunk.find("\n")].strip() if "\n" in chunk else chunk[2:].strip()
        tunes.append((number, header + chunk))
    return tunes


def folk_sources() -> list[tuple[str, str]]:
    """(source name, ABC text) of every folk tune, interleaved across the collections (each Essen
    file is one collection, Ryan's Mammoth another) so that any prefix mixes regions and styles."""
    root = _corpus_dir()
    collections: list[list[tuple[str, str]]] = []
    for path in sorted((root / "essenFolksong").glob("*.abc")):
        if path.stem in _ESSEN_EXCLUDE:
            continue
        tunes = _split_abc(path.read_bytes().decode("latin-1"))
        collections.append([(f"essenFolksong/{path.stem}/{number}", text) for number, text in tunes])
    ryans = []
    for path in sorted((root / "ryansMammoth").glob("*.abc")):
        for number, text in _split_abc(path.read_bytes().decode("latin-1")):
            ryans.append((f"ryansMammoth/{path.stem}" + (f"/{number}" if number != "1" else ""), text))
    if ryans:
        collections.append(ryans)
    interleaved = []
    for index in range(max((len(c) for c in collections), default=0)):
        interleaved.extend(c[index] for c in collections if index < len(c))
    return interleaved


def folk_piece(item: tuple[str, str]) -> CorpusPiece:
    """One folk tune, given (source name, ABC text); raises _Skip (or any music21 error) if unusable."""
    from music21 import converter, stream

    source, text = item
    parsed = converter.parseData(text, format="abc")
    if isinstance(parsed, stream.Opus):
        parsed = parsed.scores[0]
    parts = list(parsed.parts) or [parsed]
    melody = parts[0]
    if not melody.recurse().notes:
        raise _Skip("empty melody")
    key = _key_of(melody)
    melody.stripTies(inPlace=True)
    score = _make_score(parsed, {"melody": [melody]}, key, deterministic_tempo(source, *FOLK_TEMPO))
    return CorpusPiece(score, "folk", "happy" if key.mode == "major" else "sad", source)


def folk_pieces(limit: int | None = None, *, skipped: Counter | None = None,
                workers: int = 1) -> Iterator[CorpusPiece]:
    """Essen folksongs and Ryan's Mammoth fiddle tunes, interleaved; `skipped` counts unusable ones."""
    return _pieces(folk_sources(), folk_piece, limit, skipped, workers)


# --- driving -------------------------------------------------------------------------------
def _attempt(function: Callable, item) -> CorpusPiece | str:
    try:
        return function(item)
    except _Skip as skip:
        return str(skip)
    except Exception as error:  # noqa: BLE001 - music21 raises many kinds on odd files: count, go on
        return f"parse error ({type(error).__name__})"


class _Attempt:
    """Picklable callable for the worker pool."""

    def __init__(self, function: Callable):
        self.function = function

    def __call__(self, item):
        return _attempt(self.function, item)


def _pieces(items: list, function: Callable, limit: int | None, skipped: Counter | None,
            workers: int) -> Iterator[CorpusPiece]:
    if limit is not None and limit <= 0:
        return
    count = 0
    pool = None
    if workers > 1:
        pool = multiprocessing.get_context("fork").Pool(workers)
        results: Iterable = pool.imap(_Attempt(function), items, chunksize=4)
    else:
        results = (_attempt(function, item) for item in items)
    try:
        for result in results:
            if isinstance(result, str):
                if skipped is not None:
                    skipped[result] += 1
                continue
            yield result
            count += 1
            if limit is not None and count >= limit:
                return
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _piece_to_json(piece: CorpusPiece) -> str:
    return json.dumps({"source": piece.source, "genre": piece.genre, "mood": piece.mood,
                       "score": piece.score.to_dict()}, separators=(",", ":"))


def _mood(mode: str, tempo: float) -> str:
    if mode == "major":
        return "calm" if tempo < 90 else "happy"
    return "sad" if tempo < 110 else "tense"


def _groove_pieces(tunes: list[CorpusPiece]) -> Iterator[CorpusPiece]:
    from training.grooves import groove_songs, mma_available

    if not mma_available():
        raise RuntimeError("the corpus needs Debian's mma for its groove songs: apt-get install mma")
    for score, genre, source in groove_songs([(t.score, t.source) for t in tunes]):
        yield CorpusPiece(score, genre, _mood(score.parsed_key.mode, score.tempo), source)


def build_corpus_cache(path: Path, chorale_limit: int | None = None, folk_limit: int | None = DEFAULT_FOLK_LIMIT,
                       progress: Callable[[str], None] = print, *, workers: int = 1,
                       multipart_limit: int | None = DEFAULT_MULTIPART_LIMIT, grooves: bool = True) -> int:
    """Parse chorales, multi-part vocal music and folk tunes, and render the folk tunes over mma grooves,
    into a JSON-lines cache (one piece a line); return the piece count.

    Limits of None take every usable piece. The defaults build in about six minutes on two cores;
    workers > 1 parses in that many processes. The file is written to a temporary name and moved into
    place, so a reader never sees half a cache.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tunes: list[CorpusPiece] = []
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=path.name + ".",
                                         suffix=".tmp", delete=False)
    sources = [("chorales", lambda skipped: chorale_pieces(chorale_limit, skipped=skipped, workers=workers)),
               ("multi-part", lambda skipped: multipart_pieces(multipart_limit, skipped=skipped, workers=workers)),
               ("folk tunes", lambda skipped: folk_pieces(folk_limit, skipped=skipped, workers=workers))]
    if grooves:
        sources.append(("groove songs", lambda skipped: _groove_pieces(tunes)))
    try:
        with handle:
            for name, pieces_of in sources:
                skipped: Counter = Counter()
                start, made, bars = time.monotonic(), 0, 0
                for piece in pieces_of(skipped):
                    handle.write(_piece_to_json(piece) + "\n")
                    if name == "folk tunes":
                        tunes.append(piece)
                    made += 1
                    bars += piece.score.bars
                    if made % 250 == 0:
                        progress(f"  {name}: {made} pieces ({time.monotonic() - start:.0f} s)")
                reasons = ", ".join(f"{reason} {n}" for reason, n in skipped.most_common()) or "none"
                progress(f"{name}: {made} pieces, {bars} bars in {time.monotonic() - start:.1f} s; "
                         f"skipped {sum(skipped.values())} ({reasons})")
                count += made
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)  # NamedTemporaryFile makes it private (0600)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


def load_corpus_cache(path: Path) -> list[CorpusPiece]:
    """The pieces build_corpus_cache wrote, in order."""
    pieces = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            data = json.loads(line)
            if data["genre"] not in GENRES or data["mood"] not in MOODS:
                raise ValueError(f"{path}:{line_number}: unknown genre or mood in the corpus cache")
            genre = groove_style(data["source"]) or data["genre"]  # the groove table decides, as it is now
            pieces.append(CorpusPiece(Score.from_dict(data["score"]), genre, data["mood"], data["source"]))
    return pieces


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the music21 training corpus cache (JSON lines).")
    parser.add_argument("--out", type=Path, default=Path("build/corpus.jsonl"))
    parser.add_argument("--folk-limit", type=int, default=DEFAULT_FOLK_LIMIT)
    parser.add_argument("--multipart-limit", type=int, default=DEFAULT_MULTIPART_LIMIT)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    build_corpus_cache(arguments.out, folk_limit=arguments.folk_limit, multipart_limit=arguments.multipart_limit,
                       workers=arguments.workers)
