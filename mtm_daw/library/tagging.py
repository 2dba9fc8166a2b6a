"""Auto-tagging on import, as the paper's MT-512K pipeline does: one file -> a LibraryItem + its embedding.

Audio: tempo and beats, key, loudness and duration (mtm_daw.analysis); notes through basic-pitch's
ONNX transcriber (kept as a small MIDI file in the library's notes folder); the joint-space embedding;
genre, mood and instrument tags by zero-shot match of the embedding against text prompts, with
confidences; a caption built from the tags.
MIDI: tempo, meter, key and instruments come from the file itself; it is rendered through the General
MIDI SoundFont (mono, dry) to be embedded and to get genre and mood.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtm_daw.analysis.audio import analyze_audio, listen_to_file
from mtm_daw.analysis.loudness import integrated_loudness
from mtm_daw.describe.listening import hear
from mtm_daw.describe.midi_style import midi_styles
from mtm_daw.description import MOOD_ADJECTIVE
from mtm_daw.engine.joint_embedding import SAMPLE_RATE, JointEmbedder, pooled
from mtm_daw.engine.sessions import sha256_file
from mtm_daw.engine.transcriber import Transcriber
from mtm_daw.errors import MtmError
from mtm_daw.library.item import LibraryItem
from mtm_daw.media import detect_kind
from mtm_daw.progress import CancelToken
from mtm_daw.render import listening_renderer, render_mono
from mtm_daw.score.gm import instrument_tag
from mtm_daw.score.score import Score
from mtm_daw.score.transcription import notes_to_score

MAX_IMPORT_SECONDS = 600.0  # longer files are tagged from their first ten minutes


@dataclass
class TaggedFile:
    item: LibraryItem
    embedding: np.ndarray  # (EMBEDDING_DIM,) unit vector: the mean of the windows'
    windows: np.ndarray  # (windows, EMBEDDING_DIM) unit vectors, one per 6 s window (re-ranking a search by sound)


def score_instrument_tags(score) -> list[str]:
    """The instrument tags of a score's tracks that play, in track order, each once."""
    return list(dict.fromkeys(instrument_tag(t.program, t.is_drum) for t in score.tracks.values() if t.notes))


def caption_for(genre: str, mood: str, instruments: list[str], bpm: float, key: str) -> str:
    """'brooding cinematic with strings, piano and drums, 92 BPM in D minor'."""
    words = [f"{MOOD_ADJECTIVE.get(mood, mood)} {genre}".strip()]
    if instruments:
        listed = instruments[0] if len(instruments) == 1 else ", ".join(instruments[:-1]) + " and " + instruments[-1]
        words.append(f"with {listed}")
    details = [f"{bpm:.0f} BPM" if bpm > 0 else "", f"in {key}" if key else ""]
    detail = " ".join(d for d in details if d)
    return " ".join(words) + (f", {detail}" if detail else "")


def heard_tags(mono: np.ndarray, sample_rate: int, embedder: JointEmbedder, embedding: np.ndarray, key: str,
               bpm: float, score: Score | None = None, cancel: CancelToken | None = None) -> dict:
    """Style, mood and instrument tags with confidences, as `mtm describe` hears the same sound
    (describe.listening: musicnn's taggers and the joint space); for a MIDI file (`score`), the style
    read from its notes votes too, as in describe_midi."""
    heard = hear(mono, sample_rate, key, bpm, embedding=embedding, embedder=embedder, cancel=cancel)
    style = heard.style
    if score is not None and score.note_count():
        name, confidence = midi_styles(score, dict(heard.styles))[0]
        style = (name, round(float(confidence), 3))
    return {"genre": style, "mood": heard.mood, "instruments": heard.instruments}


def tag_file(path: str | os.PathLike, kind: str, embedder: JointEmbedder, *, partition: str = "user",
             notes_dir: str | os.PathLike | None = None, transcribe: bool = True, renderer=None,
             file_hash: str | None = None, cancel: CancelToken | None = None) -> TaggedFile:
    """Tag one audio or MIDI file. Raises MtmError naming the file when it cannot be read."""
    path = Path(path)
    file_hash = file_hash or sha256_file(path)  # the item's identity: a moved or renamed file is not added twice
    if kind == "audio":
        fields, windows = _tag_audio(path, embedder, file_hash, notes_dir if transcribe else None, cancel)
    elif kind == "midi":
        fields, windows = _tag_midi(path, embedder, renderer, cancel)
    else:
        raise MtmError(f"{path}: only audio and MIDI files go into the library, not {kind}")
    genre, genre_confidence = fields.pop("genre")
    mood, mood_confidence = fields.pop("mood")
    now = time.time()
    item = LibraryItem(
        id=None, path=str(path.resolve()), content_hash=file_hash, kind=kind, genre=genre,
        genre_confidence=round(genre_confidence, 4), mood=mood, mood_confidence=round(mood_confidence, 4),
        caption=caption_for(genre, mood, fields["instruments"], fields["bpm"], fields["key"]),
        partition=partition, source=str(path), licence="", added_at=now, updated_at=now, **fields)
    return TaggedFile(item, pooled(windows), windows)


def embed_file(path: str | os.PathLike, kind: str, embedder: JointEmbedder, renderer=None,
               cancel: CancelToken | None = None) -> np.ndarray:
    """A file's joint-space window embeddings alone, (windows, dim) (a search by sound; `pooled` gives
    its one vector): no analysis, tags or transcription."""
    path = Path(path)
    if kind == "audio":
        listening = _listen(path)
        return embedder.embed_audio_windows(listening.mono, listening.mono_rate, cancel=cancel)
    if kind == "midi":
        _, mono, sample_rate = _render_midi(path, renderer)
        return embedder.embed_audio_windows(mono, sample_rate, cancel=cancel)
    raise MtmError(f"{path}: only audio and MIDI files can be searched by sound, not {kind}")


def query_embedding(query: str, embedder: JointEmbedder) -> tuple[np.ndarray, np.ndarray | None]:
    """(vector, window vectors or None) for a library search: the sound of an existing file (audio or
    MIDI; its windows re-rank the nearest items, see library.search), else the words."""
    path = Path(query.strip()).expanduser()
    if query.strip() and path.is_file():
        windows = embed_file(path, detect_kind(path), embedder)
        return pooled(windows), windows
    return embedder.embed_text([query])[0], None


def _listen(path: Path):
    """The file read once (analysis.audio.listen_to_file); MtmError for digital silence."""
    listening = listen_to_file(path, max_seconds=MAX_IMPORT_SECONDS)
    if not np.isfinite(listening.peak_dbfs):
        raise MtmError(f"{path}: the audio is silent, nothing to tag")
    return listening


def _render_midi(path: Path, renderer) -> tuple:
    """(score, dry mono render, its sample rate) of a MIDI file, at most MAX_IMPORT_SECONDS long."""
    # deferred: only this path needs mido
    from mtm_daw.score.midi import load_midi_score

    score = load_midi_score(path)
    if score.note_count() == 0:
        raise MtmError(f"{path}: the MIDI file has no notes")
    seconds = min(score.length_seconds + 1.0, MAX_IMPORT_SECONDS)
    if renderer is None:  # one of its own, closed after (a SoundFont is ~50 MB a synth)
        with contextlib.closing(listening_renderer(SAMPLE_RATE)) as own:
            return score, render_mono(score, own, seconds), own.sample_rate
    return score, render_mono(score, renderer, seconds), renderer.sample_rate


def _tag_audio(path: Path, embedder: JointEmbedder, file_hash: str, notes_dir, cancel) -> tuple[dict, np.ndarray]:
    """(item fields, window embeddings) of an audio file."""
    listening = _listen(path)
    if cancel is not None:
        cancel.check()
    analysis = analyze_audio(listening)
    if cancel is not None:
        cancel.check()
    mono, rate = listening.mono, listening.mono_rate
    windows = embedder.embed_audio_windows(mono, rate, cancel=cancel)  # resampled to the tower's rate there
    tags = heard_tags(mono, rate, embedder, pooled(windows), analysis.key or "", analysis.bpm, cancel=cancel)
    notes_path = ""
    if notes_dir is not None:
        notes_path = str(_transcribe_to_midi(mono, rate, analysis.bpm, Path(notes_dir), file_hash, cancel))
    fields = {
        "duration": float(listening.duration), "bpm": float(round(analysis.bpm, 2)),
        "beat_times": [round(float(t), 4) for t in analysis.beat_times], "key": analysis.key or "",
        "loudness": float(analysis.loudness_lufs) if np.isfinite(analysis.loudness_lufs) else -70.0,
        "genre": tags["genre"], "mood": tags["mood"], "instruments": tags["instruments"],
        "notes_path": notes_path,
    }
    return fields, windows


def _transcribe_to_midi(mono: np.ndarray, sample_rate: int, bpm: float, notes_dir: Path, file_hash: str,
                        cancel: CancelToken | None = None) -> Path:
    """Notes of the audio as a MIDI file named by the content hash (re-used when it already exists)."""
    # deferred: only this path needs mido
    from mtm_daw.score.midi import score_to_midi

    target = notes_dir / f"{file_hash[:32]}.mid"
    if target.is_file():
        return target
    notes = Transcriber.default().transcribe(mono, sample_rate, cancel=cancel)
    score = notes_to_score(notes, bpm if bpm > 0 else 120.0)
    notes_dir.mkdir(parents=True, exist_ok=True)
    fd, staged = tempfile.mkstemp(prefix=".notes-", suffix=".mid", dir=notes_dir)
    os.close(fd)
    try:
        score_to_midi(score, title=f"notes of {file_hash[:12]}").save(staged)
        os.replace(staged, target)
    finally:
        if os.path.exists(staged):
            os.unlink(staged)
    return target


def _tag_midi(path: Path, embedder: JointEmbedder, renderer, cancel) -> tuple[dict, np.ndarray]:
    score, mono, sample_rate = _render_midi(path, renderer)
    if cancel is not None:
        cancel.check()
    windows = embedder.embed_audio_windows(mono, sample_rate, cancel=cancel)
    tags = heard_tags(mono, sample_rate, embedder, pooled(windows), score.key, score.tempo, score, cancel)
    instruments = score_instrument_tags(score)
    tagged_beats = min(score.length_beats, score.grid.beats(MAX_IMPORT_SECONDS))  # a damaged length: hours
    beats = score.grid.seconds(np.arange(0.0, tagged_beats, 1.0))
    loudness = integrated_loudness(mono[None, :], sample_rate)
    fields = {
        "duration": float(score.length_seconds), "bpm": float(round(score.tempo, 2)),
        "beat_times": [round(float(t), 4) for t in beats if t < MAX_IMPORT_SECONDS], "key": score.key or "",
        "loudness": float(loudness) if np.isfinite(loudness) else -70.0,
        "genre": tags["genre"], "mood": tags["mood"], "instruments": instruments[:6],
        "notes_path": str(path.resolve()),
    }
    return fields, windows
