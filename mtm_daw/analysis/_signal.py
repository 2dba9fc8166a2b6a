"""Input checks and memory habits shared by the analysers."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np

from mtm_daw.errors import MtmError

ANALYSIS_RATE = 22050  # every analyser works on mono at this rate


def check_mono(samples: np.ndarray, sr: int) -> np.ndarray:
    """(n,) or (1, n) finite samples -> contiguous float32 (n,); MtmError otherwise."""
    y = np.asarray(samples)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1:
        raise MtmError(f"expected mono samples of shape (n,), got shape {y.shape}")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise MtmError(f"sample rate must be a positive integer, got {sr!r}")
    if not np.all(np.isfinite(y)):
        raise MtmError("the audio contains invalid (NaN or infinite) samples")
    return np.ascontiguousarray(y, dtype=np.float32)


CHUNK_FRAMES = 3000  # spectrogram frames computed at a time (about a minute at the analysers' hops)


def melspectrogram(y: np.ndarray, sr: int, n_fft: int, hop_length: int, **mel_options) -> np.ndarray:
    """librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, center=True, ...) with
    the same numbers, computed CHUNK_FRAMES at a time from the padded signal, so a long clip never holds
    its whole complex spectrogram (300 MB for 7 minutes at 22.05 kHz with a 2048-point FFT)."""
    import librosa  # slow to import; only analysis needs it

    padded = np.pad(y, n_fft // 2)  # what center=True does (pad_mode "constant")
    frames = 1 + (len(padded) - n_fft) // hop_length
    parts = []
    for first in range(0, frames, CHUNK_FRAMES):
        count = min(CHUNK_FRAMES, frames - first)
        piece = padded[first * hop_length:first * hop_length + (count - 1) * hop_length + n_fft]
        parts.append(librosa.feature.melspectrogram(y=piece, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                                    center=False, **mel_options))
    return np.concatenate(parts, axis=1)


@functools.lru_cache(maxsize=1)
def _glibc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Hand memory the analysis freed back to the system (glibc's malloc_trim; nothing elsewhere).

    Chunked analysis allocates and frees arrays of a few MB again and again; once glibc has raised its
    mmap threshold they come from its heap, which keeps the freed pages: after a ten-minute song about
    85 MB stayed resident, there for the models that load next."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
