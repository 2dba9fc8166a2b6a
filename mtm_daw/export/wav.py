"""24-bit WAV writing through pedalboard.io."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile


def write_wav(path: Path, audio: np.ndarray, sample_rate: int, bit_depth: int = 24) -> None:
    """audio: float (channels, samples) in -1..1; values beyond are clipped, not wrapped."""
    audio = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    with AudioFile(str(path), "w", samplerate=sample_rate, num_channels=audio.shape[0],
                   bit_depth=bit_depth) as handle:
        handle.write(audio)
