"""The shared sentence encoder (all-MiniLM-L6-v2, ONNX): text -> unit-length 384-d vectors.

    encoder = TextEncoder.default()
    vectors = encoder.encode(["a sad slow piano ballad", "aggressive fast heavy metal drums"])  # (2, 384)
    similarity = vectors @ vectors.T  # cosine: the vectors have unit length

The description conditioners and the retrieval library both embed text with it. Runtime only:
numpy, onnxruntime and tokenizers. The files come from `python -m onnx_export.text_encoder`.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from tokenizers import Tokenizer

from mtm_daw.engine.sessions import WEIGHTS_DIR, create_session, model_entry, verify_file
from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken

MODEL_NAME = "text_encoder"
REBUILD_HINT = "reinstall mtm_daw or re-run python -m onnx_export.text_encoder"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2

_default: TextEncoder | None = None
_default_lock = threading.Lock()


class TextEncoder:
    """Sentences -> L2-normalised float32 embeddings, through an ONNX model and its tokenizer.json."""

    def __init__(self, model_path: str | os.PathLike, tokenizer_path: str | os.PathLike,
                 sha256: str | None = None, *, tokenizer_sha256: str | None = None,
                 max_tokens: int = MAX_TOKENS):
        self.session = create_session(model_path, sha256, hint=REBUILD_HINT, memory_arena=False)
        self.model_path = Path(model_path)
        self.tokenizer = _load_tokenizer(tokenizer_path, tokenizer_sha256, max_tokens)
        self.max_tokens = max_tokens
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self.input_names = [i.name for i in self.session.get_inputs()]
        unknown = set(self.input_names) - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown or "input_ids" not in self.input_names:
            raise MtmError(f"{self.model_path}: not a text encoder (inputs {self.input_names}) — {REBUILD_HINT}")
        self.output_name = self.session.get_outputs()[0].name
        width = self.session.get_outputs()[0].shape[-1]
        self._dim = width if isinstance(width, int) else None

    @classmethod
    def default(cls) -> TextEncoder:
        """The shipped encoder (mtm_daw/weights, checked against the manifest), created once per process."""
        global _default
        with _default_lock:
            if _default is None:
                entry = model_entry(MODEL_NAME)
                tokenizer = entry.get("tokenizer", {})
                _default = cls(WEIGHTS_DIR / entry["file"], WEIGHTS_DIR / tokenizer.get("file", "missing"),
                               sha256=entry.get("sha256"), tokenizer_sha256=tokenizer.get("sha256"),
                               max_tokens=int(entry.get("config", {}).get("max_tokens", MAX_TOKENS)))
            return _default

    @property
    def dim(self) -> int:
        """Embedding width (384 for all-MiniLM-L6-v2)."""
        if self._dim is None:
            self._dim = int(self.encode([""]).shape[1])
        return self._dim

    def encode(self, texts: list[str] | str, batch_size: int = 32, *,
               progress: Callable[[float], None] | None = None, cancel: CancelToken | None = None) -> np.ndarray:
        """Embed `texts` (one string or a list): (n, dim) float32, each row of unit length.

        Texts longer than max_tokens word pieces are truncated; an empty string is allowed.
        Similar-length texts are batched together; the rows come back in the input order.
        """
        texts = _check_texts(texts)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise MtmError(f"batch_size must be a whole number of 1 or more, got {batch_size!r}")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)

        # 1. tokenise everything (truncated, unpadded) and order by length to keep padding small
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out: np.ndarray | None = None

        # 2. one session.run per batch, padded to the batch's longest text
        for start in range(0, len(texts), batch_size):
            if cancel is not None:
                cancel.check()
            rows = order[start:start + batch_size]
            length = max(len(encodings[i].ids) for i in rows)
            feeds = {name: np.zeros((len(rows), length), dtype=np.int64) for name in self.input_names}
            if "input_ids" in feeds:
                feeds["input_ids"][:] = self.pad_id
            for row, i in enumerate(rows):
                n = len(encodings[i].ids)
                feeds["input_ids"][row, :n] = encodings[i].ids
                if "attention_mask" in feeds:
                    feeds["attention_mask"][row, :n] = 1
                if "token_type_ids" in feeds:
                    feeds["token_type_ids"][row, :n] = encodings[i].type_ids
            vectors = self.session.run([self.output_name], feeds)[0]  # (B, D)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            if progress is not None:
                progress(min(start + batch_size, len(texts)) / len(texts))
        return out


def _load_tokenizer(path: str | os.PathLike, sha256: str | None, max_tokens: int) -> Tokenizer:
    if not isinstance(path, (str, os.PathLike)):
        raise MtmError(f"expected a tokenizer file path, got {type(path).__name__}")
    path = Path(path).expanduser()
    if sha256:
        verify_file(path, sha256, hint=REBUILD_HINT)
    elif not path.is_file():
        raise MtmError(f"{path}: tokenizer file not found — {REBUILD_HINT}")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for malformed JSON
        raise MtmError(f"{path}: not a usable tokenizer.json ({str(exc)[:200]}) — {REBUILD_HINT}") from exc
    tokenizer.no_padding()  # the file may ask for fixed-length padding; encode() pads per batch
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, (list, tuple)):
        raise MtmError(f"text to encode must be a string or a list of strings, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise MtmError(f"text to encode #{i + 1} is a {type(text).__name__}, not a string")
    return list(texts)
