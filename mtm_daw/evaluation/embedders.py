"""Pluggable embedders for the distribution metrics (FD, KL) and the CLAP-style score.

    embedder = load_embedder("joint")               # default: our joint text-audio space (onnxruntime)
    embedder = load_embedder("clap:/models/clap")   # a CLAP checkpoint folder the user already has
    vector = embedder.embed_audio(mono, sample_rate)  # (dim,) unit vector
    score = clap_score(embedder.embed_text(["calm piano"])[0], vector)   # 100 x cosine

An embedder has `name`, `embed_audio(mono, sample_rate)` and, when it has a text tower, `embed_text(texts)`
(else None). External checkpoints load from a local folder only (never downloaded) and need the train
extra (torch + transformers); PaSST, OpenL3 or ImageBind can be added the same way, as one small class.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mtm_daw.engine.local_checkpoint import require_safetensors
from mtm_daw.engine.sessions import model_entry
from mtm_daw.errors import MtmError

EMBEDDERS = ("joint", "clap:PATH")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt")


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def clap_score(text_embedding: np.ndarray, audio_embedding: np.ndarray) -> float:
    """CLAPScore as papers report it: 100 x the cosine between a text and an audio embedding."""
    text, audio = _unit(text_embedding), _unit(audio_embedding)
    if text.shape != audio.shape or text.ndim != 1:
        raise MtmError(f"a CLAP score needs two vectors of one size, got {text.shape} and {audio.shape}")
    return float(100.0 * np.dot(text, audio))


class JointSpaceEmbedder:
    """Our joint text-audio space (mtm_daw.engine.joint_embedding), the library's own embedder."""

    def __init__(self, joint=None) -> None:
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.engine.joint_embedding import JointEmbedder

        self.joint = joint or JointEmbedder.default()
        self.name = f"joint:{model_entry('joint_embedding')['sha256'][:12]}"

    def embed_audio(self, mono: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.joint.embed_audio(np.asarray(mono, dtype=np.float32), sample_rate)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        return self.joint.embed_text(list(texts))

    def label_probabilities(self, audio_embedding: np.ndarray, labels: list[str]) -> np.ndarray:
        """Zero-shot probabilities of `labels` (in their order) for an audio embedding."""
        ranked = dict(self.joint.zero_shot(audio_embedding, list(labels)))
        return np.array([ranked[label] for label in labels], dtype=np.float64)


class ClapFolderEmbedder:
    """A CLAP checkpoint in transformers' format (config.json, weights, preprocessor_config.json and,
    for text, the tokenizer files) from a local folder. Audio longer than the model's window is cut into
    windows whose embeddings are averaged."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder).expanduser()
        if not (folder / "config.json").is_file():
            raise MtmError(f"{folder}: not a CLAP model folder (no config.json); give the folder of a "
                           "checkpoint saved with transformers")
        try:
            import torch  # noqa: F401
            from transformers import AutoTokenizer, ClapFeatureExtractor, ClapModel
        except ImportError as error:
            raise MtmError(f"a CLAP embedder needs torch and transformers ({error}); "
                           "install them with: pip install 'mtm_daw[train]'") from None
        require_safetensors(folder, "CLAP model")
        try:
            self.model = ClapModel.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
            self.features = ClapFeatureExtractor.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as error:
            raise MtmError(f"{folder}: the CLAP model cannot be loaded ({error})") from None
        self.tokenizer = None  # audio only: FD and KL work, the CLAP score needs a text tower
        if any((folder / name).is_file() for name in TOKENIZER_FILES):  # else transformers makes an empty one
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            except (OSError, ValueError, TypeError):
                pass
        self.name = f"clap:{folder.name}"
        self.sample_rate = int(self.features.sampling_rate)
        self.window = int(self.features.nb_max_samples)

    @staticmethod
    def _pooled(output):
        return getattr(output, "pooler_output", output)  # transformers 5 returns an output object

    def embed_audio(self, mono: np.ndarray, sample_rate: int) -> np.ndarray:
        # deferred: only this path needs torch, librosa
        import librosa
        import torch

        y = np.asarray(mono, dtype=np.float32)
        if sample_rate != self.sample_rate:
            y = librosa.resample(y, orig_sr=sample_rate, target_sr=self.sample_rate)
        windows = [y[start:start + self.window] for start in range(0, max(len(y), 1), self.window)]
        windows = [w for w in windows if len(w) >= self.sample_rate // 4] or windows[:1]  # drop a short tail
        inputs = self.features(windows, sampling_rate=self.sample_rate, return_tensors="pt")
        with torch.no_grad():
            vectors = self._pooled(self.model.get_audio_features(**inputs)).numpy()
        return _unit(_unit(vectors).mean(axis=0))

    def embed_text(self, texts: list[str]) -> np.ndarray | None:
        if self.tokenizer is None:
            return None
        # deferred: only this path needs torch
        import torch

        inputs = self.tokenizer(list(texts), padding=True, return_tensors="pt")
        with torch.no_grad():
            vectors = self._pooled(self.model.get_text_features(input_ids=inputs["input_ids"],
                                                                attention_mask=inputs["attention_mask"]))
        return _unit(vectors.numpy())


def load_embedder(spec: str = "joint"):
    """'joint' (default) or 'clap:FOLDER'."""
    kind, _, path = spec.partition(":")
    if kind == "joint" and not path:
        return JointSpaceEmbedder()
    if kind == "clap" and path:
        return ClapFolderEmbedder(path)
    raise MtmError(f"unknown embedder '{spec}' (choose {' or '.join(EMBEDDERS)})")
