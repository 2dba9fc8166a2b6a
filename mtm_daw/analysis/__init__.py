"""Tagging audio: tempo and beats, key, loudness, and all of them at once."""
import numpy as np

from mtm_daw.analysis._signal import ANALYSIS_RATE
from mtm_daw.analysis.audio import AudioAnalysis, analyze_audio
from mtm_daw.analysis.key import KeyEstimate, estimate_key, key_from_pitch_class_histogram
from mtm_daw.analysis.loudness import integrated_loudness, peak_dbfs
from mtm_daw.analysis.tempo import TempoEstimate, estimate_tempo

__all__ = ["AudioAnalysis", "analyze_audio", "KeyEstimate", "estimate_key",
           "key_from_pitch_class_histogram", "integrated_loudness", "peak_dbfs",
           "TempoEstimate", "estimate_tempo", "build_numba_cache"]


def build_numba_cache() -> None:
    """Estimate tempo and key once on 12 s of clicks: librosa's numba functions compile on a fresh install's
    first analysis (25 s measured here) and numba keeps them beside librosa, so setup does this once."""
    clicks = np.zeros(12 * ANALYSIS_RATE, dtype=np.float32)
    clicks[::ANALYSIS_RATE // 2] = 1.0
    estimate_tempo(clicks, ANALYSIS_RATE)
    estimate_key(clicks + 0.01 * np.sin(np.arange(clicks.size) * 2 * np.pi * 440 / ANALYSIS_RATE,
                                            dtype=np.float32), ANALYSIS_RATE)
