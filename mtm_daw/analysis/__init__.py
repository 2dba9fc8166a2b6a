"""Tagging audio: tempo and beats, key, loudness, and all of them at once."""
from mtm_daw.analysis.audio import AudioAnalysis, analyze_audio
from mtm_daw.analysis.key import KeyEstimate, estimate_key, key_from_pitch_class_histogram
from mtm_daw.analysis.loudness import integrated_loudness, peak_dbfs
from mtm_daw.analysis.tempo import TempoEstimate, estimate_tempo

__all__ = ["AudioAnalysis", "analyze_audio", "KeyEstimate", "estimate_key",
           "key_from_pitch_class_histogram", "integrated_loudness", "peak_dbfs",
           "TempoEstimate", "estimate_tempo"]
