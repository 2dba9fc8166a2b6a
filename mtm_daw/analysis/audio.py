"""One call that tags an audio file: duration, tempo and beats, key, loudness, peak."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from mtm_daw.analysis._signal import ANALYSIS_RATE
from mtm_daw.analysis.key import estimate_key
from mtm_daw.analysis.loudness import integrated_loudness, peak_dbfs
from mtm_daw.analysis.tempo import estimate_tempo
from mtm_daw.errors import MtmError
from mtm_daw.media.audio import Audio, load_audio
from mtm_daw.progress import ProgressCallback, no_progress


@dataclass
class AudioAnalysis:
    duration: float  # seconds
    sample_rate: int  # of the source
    channels: int
    bpm: float  # 0.0 when no steady pulse was found
    beat_times: np.ndarray = field(repr=False)  # seconds
    tempo_confidence: float
    key: str | None  # 'D minor'; None for silent or unpitched audio
    key_confidence: float
    loudness_lufs: float  # float('-inf') for silence
    peak_dbfs: float  # float('-inf') for digital silence
    path: str | None = None

    def to_dict(self) -> dict:
        """JSON-friendly: lists instead of arrays, None instead of -inf."""
        def finite(value: float, digits: int) -> float | None:
            return round(value, digits) if math.isfinite(value) else None

        return {
            "path": self.path,
            "duration": round(self.duration, 4),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "bpm": round(self.bpm, 2),
            "beat_times": [round(float(t), 4) for t in self.beat_times],
            "tempo_confidence": round(self.tempo_confidence, 3),
            "key": self.key,
            "key_confidence": round(self.key_confidence, 3),
            "loudness_lufs": finite(self.loudness_lufs, 2),
            "peak_dbfs": finite(self.peak_dbfs, 2),
        }


def analyze_audio(source: str | os.PathLike | Audio, max_seconds: float | None = None,
                  progress: ProgressCallback = no_progress) -> AudioAnalysis:
    """Tag an audio file (or an already loaded Audio).

    Loudness and peak are measured on the file as it is; tempo and key on a 22.05 kHz mono mix.
    `max_seconds` analyses only the start of a file (see `load_audio`).
    """
    if isinstance(source, Audio):
        audio = source
    elif isinstance(source, (str, os.PathLike)):
        audio = load_audio(source, max_seconds=max_seconds)
    else:
        raise MtmError(f"expected an audio file path or Audio, got {type(source).__name__}")
    if audio.samples.ndim != 2 or audio.frames == 0:
        raise MtmError("the audio is empty (no samples)")
    progress("loudness", 0.0)
    loudness = integrated_loudness(audio.samples, audio.sample_rate)
    peak = peak_dbfs(audio.samples)

    progress("tempo", 0.2)
    mono = _analysis_mono(audio)
    tempo = estimate_tempo(mono, ANALYSIS_RATE)

    progress("key", 0.6)
    try:
        key = estimate_key(mono, ANALYSIS_RATE)
        key_name, key_confidence = key.key.name, key.confidence
    except MtmError:  # silent or very short: no key, but the rest of the tags still stand
        key_name, key_confidence = None, 0.0
    progress("done", 1.0)
    return AudioAnalysis(
        duration=audio.duration, sample_rate=audio.sample_rate, channels=audio.channels,
        bpm=tempo.bpm, beat_times=tempo.beat_times, tempo_confidence=tempo.confidence,
        key=key_name, key_confidence=key_confidence, loudness_lufs=loudness, peak_dbfs=peak,
        path=str(audio.path) if audio.path is not None else None)


def _analysis_mono(audio: Audio) -> np.ndarray:
    import librosa  # slow to import; only analysis needs it

    mono = audio.to_mono()
    if audio.sample_rate != ANALYSIS_RATE:
        mono = librosa.resample(mono, orig_sr=audio.sample_rate, target_sr=ANALYSIS_RATE)
    return np.ascontiguousarray(mono, dtype=np.float32)
