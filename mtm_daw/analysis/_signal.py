"""Input checks shared by the analysers."""
from __future__ import annotations

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
