"""One call that tags an audio file: duration, tempo and beats, key, loudness, peak.

A file is read once, a chunk at a time (`listen_to_file`): loudness and peak are measured at the
file's own rate on the way, and what the analyses hear is kept as one mono mix at ANALYSIS_RATE,
so a ten-minute stereo song costs 53 MB of samples rather than 212 MB and its copies.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from mtm_daw.analysis._signal import ANALYSIS_RATE, release_freed_memory
from mtm_daw.analysis.key import estimate_key
from mtm_daw.analysis.loudness import LoudnessMeter, integrated_loudness, peak_dbfs
from mtm_daw.analysis.tempo import estimate_tempo
from mtm_daw.errors import MtmError
from mtm_daw.media.audio import Audio, open_audio
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


@dataclass
class Listening:
    """An audio file as everything that listens to it needs it, read in one pass."""
    mono: np.ndarray = field(repr=False)  # (n,) float32, the channels mixed, at ANALYSIS_RATE
    duration: float  # seconds read
    sample_rate: int  # of the file
    channels: int
    loudness_lufs: float  # at the file's own rate; float('-inf') for silence
    peak_dbfs: float  # float('-inf') for digital silence
    path: Path | None = None

    @property
    def mono_rate(self) -> int:
        return ANALYSIS_RATE


def listen_to_file(path: str | os.PathLike, max_seconds: float | None = None) -> Listening:
    """Read an audio file a chunk at a time (the reader policy of `load_audio`): loudness and peak of the
    file as it is, and a mono mix resampled to ANALYSIS_RATE (soxr, high quality) for tempo, key, the
    taggers, the joint space and the transcriber."""
    with open_audio(path, max_seconds=max_seconds) as source:
        meter = LoudnessMeter(source.sample_rate, source.channels)
        resampler = (soxr.ResampleStream(source.sample_rate, ANALYSIS_RATE, 1, dtype="float32", quality="HQ")
                     if source.sample_rate != ANALYSIS_RATE else None)
        mono = np.empty(int(math.ceil(source.frames * ANALYSIS_RATE / source.sample_rate)) + 1024, np.float32)
        got = read = 0
        peak = 0.0
        for chunk in source.chunks():
            meter.add(chunk)
            peak = max(peak, float(np.max(np.abs(chunk))))
            mixed = chunk.mean(axis=0, dtype=np.float32)
            out = resampler.resample_chunk(mixed) if resampler is not None else mixed
            mono, got = _put(mono, got, out)
            read += chunk.shape[1]
        if resampler is not None:
            mono, got = _put(mono, got, resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        return Listening(mono=mono[:got], duration=read / source.sample_rate, sample_rate=source.sample_rate,
                         channels=source.channels, loudness_lufs=meter.lufs(),
                         peak_dbfs=peak_dbfs(np.array([peak])), path=source.path)


def _put(buffer: np.ndarray, at: int, samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Write samples into the buffer at `at` (growing it when a length estimate fell short)."""
    if at + len(samples) > len(buffer):
        buffer = np.concatenate([buffer[:at], np.empty(max(len(samples), len(buffer) // 4), np.float32)])
    buffer[at:at + len(samples)] = samples
    return buffer, at + len(samples)


def analyze_audio(source: str | os.PathLike | Audio | Listening, max_seconds: float | None = None,
                  progress: ProgressCallback = no_progress) -> AudioAnalysis:
    """Tag an audio file (read with listen_to_file), or audio already loaded or listened to.

    Loudness and peak are measured on the file as it is; tempo and key on a 22.05 kHz mono mix.
    `max_seconds` analyses only the start of a file (see `load_audio`).
    """
    if isinstance(source, (str, os.PathLike)):
        source = listen_to_file(source, max_seconds=max_seconds)
    if isinstance(source, Audio):
        if source.samples.ndim != 2 or source.frames == 0:
            raise MtmError("the audio is empty (no samples)")
        progress("loudness", 0.0)
        listening = Listening(mono=_analysis_mono(source), duration=source.duration, sample_rate=source.sample_rate,
                              channels=source.channels, loudness_lufs=integrated_loudness(source.samples,
                                                                                          source.sample_rate),
                              peak_dbfs=peak_dbfs(source.samples), path=source.path)
    elif isinstance(source, Listening):
        listening = source
    else:
        raise MtmError(f"expected an audio file path or Audio, got {type(source).__name__}")
    if listening.mono.size == 0:
        raise MtmError("the audio is empty (no samples)")

    progress("tempo", 0.2)
    tempo = estimate_tempo(listening.mono, ANALYSIS_RATE)

    progress("key", 0.6)
    try:
        key = estimate_key(listening.mono, ANALYSIS_RATE)
        key_name, key_confidence = key.key.name, key.confidence
    except MtmError:  # silent or very short: no key, but the rest of the tags still stand
        key_name, key_confidence = None, 0.0
    release_freed_memory()
    progress("done", 1.0)
    return AudioAnalysis(
        duration=listening.duration, sample_rate=listening.sample_rate, channels=listening.channels,
        bpm=tempo.bpm, beat_times=tempo.beat_times, tempo_confidence=tempo.confidence,
        key=key_name, key_confidence=key_confidence, loudness_lufs=listening.loudness_lufs,
        peak_dbfs=listening.peak_dbfs, path=str(listening.path) if listening.path is not None else None)


def _analysis_mono(audio: Audio) -> np.ndarray:
    import librosa  # slow to import; only analysis needs it

    mono = audio.to_mono()
    if audio.sample_rate != ANALYSIS_RATE:
        mono = librosa.resample(mono, orig_sr=audio.sample_rate, target_sr=ANALYSIS_RATE)
    return np.ascontiguousarray(mono, dtype=np.float32)
