"""The joint text–audio space (CLAP-style) that the library indexes and queries.

    embedder = JointEmbedder.default()
    songs = embedder.embed_audio(samples, sample_rate)          # (128,) unit vector
    query = embedder.embed_text(["dark cinematic strings"])     # (1, 128) unit vectors
    similarity = query @ songs                                    # cosine

Text goes through the shared sentence encoder (MiniLM) and a small trained head; audio through a
small convolutional tower on log-mel windows (`log_mel`). Both towers were trained together so a
caption and the music it describes land close (models/train_joint.py), and so that the same piece
played faster, slower or in another key lands close to itself. Runtime only: numpy, librosa and
onnxruntime. The files come from `python -m onnx_export.joint_embedding`.

The fixed prompts the product asks the space about (styles, instruments) ship already embedded
(joint_prompts.npz, in the manifest), and MiniLM loads only when other words are embedded: hearing a
song then needs no text model (about 160 MB less).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from mtm_daw.analysis._signal import melspectrogram
from mtm_daw.engine.sessions import WEIGHTS_DIR, PerThreadCount, create_session, model_entry, verify_file
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken
from mtm_daw.score.styles import CORE_GENRES, style_for

MODEL_NAME = "joint_embedding"
REBUILD_HINT = "reinstall mtm_daw or re-run python -m onnx_export.joint_embedding"

SAMPLE_RATE = 16000
N_FFT = 1024
HOP_LENGTH = 320  # 20 ms frames
N_MELS = 64
WINDOW_SECONDS = 6.0
WINDOW_FRAMES = int(WINDOW_SECONDS * SAMPLE_RATE / HOP_LENGTH)  # 300
MAX_WINDOWS = 16  # a long file is summarised by at most this many evenly spaced windows
EMBEDDING_DIM = 128

_defaults: PerThreadCount[JointEmbedder] = PerThreadCount()


def load_prompt_table(path: str | os.PathLike, sha256: str | None = None) -> dict[str, np.ndarray]:
    """{prompt: its (EMBEDDING_DIM,) unit vector} from an .npz of `texts` and `vectors` (checked against
    `sha256` when given), as `onnx_export.joint_embedding` writes it."""
    path = verify_file(path, sha256, hint=REBUILD_HINT) if sha256 else Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            texts, vectors = [str(t) for t in data["texts"]], np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, KeyError, ValueError) as error:
        raise MtmError(f"{path}: not a prompt table ({error.__class__.__name__}) — {REBUILD_HINT}") from None
    if vectors.shape != (len(texts), EMBEDDING_DIM):
        raise MtmError(f"{path}: {vectors.shape} vectors for {len(texts)} prompts — {REBUILD_HINT}")
    return dict(zip(texts, vectors))


def style_prompt(genre: str) -> str:
    """How a caption (and a zero-shot query) names a style: "drum and bass music"."""
    return f"{style_for(genre).title} music"


def log_mel(samples_mono: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(N_MELS, frames) float32 in about -1..1: dB below the clip's own peak, so gain does not matter."""
    # deferred: only this path needs librosa
    import librosa

    y = np.asarray(samples_mono, dtype=np.float32)
    if y.ndim != 1:
        raise MtmError(f"log_mel wants mono samples, got shape {y.shape}")
    if sample_rate != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    if not np.all(np.isfinite(y)):
        raise MtmError("the audio holds NaN or infinite samples")
    power = melspectrogram(y, SAMPLE_RATE, N_FFT, HOP_LENGTH, n_mels=N_MELS, fmin=30.0, fmax=SAMPLE_RATE / 2,
                           power=2.0)  # a minute at a time: 150 MB less for a ten-minute clip
    db = librosa.power_to_db(power, ref=max(float(power.max()), 1e-10), top_db=80.0)
    return ((db + 40.0) / 40.0).astype(np.float32)


def mel_windows(mel: np.ndarray, max_windows: int = MAX_WINDOWS) -> np.ndarray:
    """(windows, 1, N_MELS, WINDOW_FRAMES): a short clip is looped to one window; a long one gives
    windows half-overlapping, thinned evenly to at most max_windows."""
    frames = mel.shape[1]
    if frames == 0:
        raise MtmError("the audio is empty")
    if frames < WINDOW_FRAMES:
        mel = np.tile(mel, (1, int(np.ceil(WINDOW_FRAMES / frames))))
        frames = mel.shape[1]
    hop = WINDOW_FRAMES // 2
    starts = np.arange(0, frames - WINDOW_FRAMES + 1, hop)
    if len(starts) > max_windows:
        starts = starts[np.linspace(0, len(starts) - 1, max_windows).round().astype(int)]
    return np.stack([mel[None, :, s:s + WINDOW_FRAMES] for s in starts]).astype(np.float32)


def pooled(windows: np.ndarray) -> np.ndarray:
    """A clip's one embedding from its windows' (windows, dim): their mean, made unit length."""
    return _unit(np.asarray(windows, dtype=np.float32).mean(axis=0))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


class JointEmbedder:
    """Text and audio -> unit vectors in one EMBEDDING_DIM space (cosine = dot product)."""

    def __init__(self, audio_model_path, text_head_path, text_encoder: TextEncoder | Callable[[], TextEncoder],
                 audio_sha256: str | None = None, text_head_sha256: str | None = None,
                 genres: tuple[str, ...] = CORE_GENRES, prompt_table: dict[str, np.ndarray] | None = None) -> None:
        """`text_encoder`: the encoder, or a function that makes it when words first need embedding;
        `prompt_table`: prompts already in the joint space (see load_prompt_table)."""
        self.audio_session = create_session(audio_model_path, audio_sha256, hint=REBUILD_HINT, memory_arena=False)
        self.text_head_session = create_session(text_head_path, text_head_sha256, hint=REBUILD_HINT, memory_arena=False)
        self._text_encoder = text_encoder if isinstance(text_encoder, TextEncoder) else None
        self._make_text_encoder = text_encoder
        self._text_lock = threading.Lock()
        self._prompt_table = prompt_table or {}
        inputs = self.audio_session.get_inputs()
        if len(inputs) != 1 or inputs[0].shape[1:3] != [1, N_MELS]:
            raise MtmError(f"{audio_model_path}: not an audio tower for {N_MELS}-band log-mel — {REBUILD_HINT}")
        self._audio_input = inputs[0].name
        self._text_input = self.text_head_session.get_inputs()[0].name
        self._prompt_cache: dict[tuple[str, ...], np.ndarray] = {}
        self._genres = genres

    @property
    def text_encoder(self) -> TextEncoder:
        """The sentence encoder, loaded the first time words are embedded."""
        with self._text_lock:
            if self._text_encoder is None:
                self._text_encoder = self._make_text_encoder()
            return self._text_encoder

    @property
    def text_encoder_loaded(self) -> bool:
        return self._text_encoder is not None

    @property
    def genres(self) -> tuple[str, ...]:
        """The styles the joint space was trained to tell apart (older models: the seven core styles)."""
        return self._genres

    @classmethod
    def from_dir(cls, weights_dir: str | os.PathLike) -> JointEmbedder:
        """The towers a weights folder's manifest names (checked against it): the shipped ones, or a
        candidate exported elsewhere by `onnx_export.joint_embedding --out-dir`."""
        weights_dir = Path(weights_dir)
        entry = model_entry(MODEL_NAME, weights_dir)
        head = entry.get("text_head", {})
        table = entry.get("prompts")
        prompts = load_prompt_table(weights_dir / table["file"], table.get("sha256")) if table else None
        return cls(weights_dir / entry["file"], weights_dir / head.get("file", "missing"), TextEncoder.default,
                   audio_sha256=entry.get("sha256"), text_head_sha256=head.get("sha256"),
                   genres=tuple(entry.get("genres", CORE_GENRES)), prompt_table=prompts)

    @classmethod
    def default(cls) -> JointEmbedder:
        """The shipped towers (checked against the manifest), created once per process and thread count
        (sessions.session_threads)."""
        return _defaults.get(lambda: cls.from_dir(WEIGHTS_DIR))

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM

    def embed_text(self, texts: list[str] | str) -> np.ndarray:
        """(len(texts), EMBEDDING_DIM) unit vectors."""
        sentences = self.text_encoder.encode(texts)
        if len(sentences) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        return self.text_from_sentence_embeddings(sentences)

    def text_from_sentence_embeddings(self, sentences: np.ndarray) -> np.ndarray:
        """MiniLM sentence embeddings (n, 384) -> the joint space; a MusicDescription's sentence
        embedding (already computed for the generator) need not be encoded twice."""
        sentences = np.atleast_2d(np.asarray(sentences, dtype=np.float32))
        out = self.text_head_session.run(None, {self._text_input: sentences})[0]
        return _unit(out.astype(np.float32))

    def embed_mel_windows(self, windows: np.ndarray, batch_size: int = 8,
                          cancel: CancelToken | None = None) -> np.ndarray:
        """(windows, 1, N_MELS, WINDOW_FRAMES) -> (windows, EMBEDDING_DIM) unit vectors."""
        parts = []
        for start in range(0, len(windows), batch_size):
            if cancel is not None:
                cancel.check()
            parts.append(self.audio_session.run(None, {self._audio_input: windows[start:start + batch_size]})[0])
        return _unit(np.concatenate(parts).astype(np.float32))

    def embed_audio(self, samples_mono: np.ndarray, sample_rate: int,
                    cancel: CancelToken | None = None) -> np.ndarray:
        """One (EMBEDDING_DIM,) unit vector for a clip: the mean of its windows' embeddings."""
        return pooled(self.embed_audio_windows(samples_mono, sample_rate, cancel))

    def embed_audio_windows(self, samples_mono: np.ndarray, sample_rate: int,
                            cancel: CancelToken | None = None) -> np.ndarray:
        """(windows, EMBEDDING_DIM) unit vectors, one per 6 s window of the clip (see mel_windows)."""
        return self.embed_mel_windows(mel_windows(log_mel(samples_mono, sample_rate)), cancel=cancel)

    def zero_shot(self, audio_embedding: np.ndarray, labels: list[str],
                  prompt: Callable[[str], str] = "{} music".format,
                  temperature: float = 0.05) -> list[tuple[str, float]]:
        """Labels ranked by how well `prompt(label)` matches the audio, with softmax confidences."""
        texts = tuple(prompt(label) for label in labels)
        prompts = self._prompt_cache.get(texts)
        if prompts is None:
            if all(text in self._prompt_table for text in texts):
                prompts = np.stack([self._prompt_table[text] for text in texts])
            else:
                prompts = self.embed_text(list(texts))
            self._prompt_cache[texts] = prompts
        logits = prompts @ np.asarray(audio_embedding, dtype=np.float32) / temperature
        weights = np.exp(logits - logits.max())
        confidences = weights / weights.sum()
        order = np.argsort(-confidences)
        return [(labels[i], float(confidences[i])) for i in order]
