"""Tempo and beats of an audio clip: librosa's beat tracker, then a least-squares BPM refinement.

librosa reports the tempo of the best autocorrelation lag, so it is quantised to whole onset
frames (steps of ~2.7 BPM near 120 BPM with hop 256 at 22.05 kHz). The beat times themselves are
finer, so a straight line through beat time vs beat index gives the tempo to a fraction of a BPM.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.analysis._signal import ANALYSIS_RATE, check_mono, melspectrogram

HOP_LENGTH = 256  # ~11.6 ms onset frames at 22.05 kHz
ONSET_N_FFT = 2048  # librosa's onset_strength default
TEMPO_WINDOW_SECONDS = 8.0  # librosa.feature.tempo's autocorrelation window (ac_size)
TEMPOGRAM_CHUNK = 2000  # tempogram frames at a time
MIN_SECONDS = 2.0  # shorter clips hold too few beats to say anything


@dataclass
class TempoEstimate:
    bpm: float  # 0.0 when no steady pulse was found
    beat_times: np.ndarray  # (n_beats,) seconds, as tracked (not snapped to the fitted grid)
    confidence: float  # 0..1: how regular the beats are and how clearly they stand out


def estimate_tempo(samples_mono: np.ndarray, sr: int) -> TempoEstimate:
    """Estimate the tempo (BPM) and beat times of a mono signal.

    Tempo octave (half/double time) follows librosa's prior around 120 BPM.
    """
    import librosa  # slow to import; only analysis needs it

    y = check_mono(samples_mono, sr)
    if sr != ANALYSIS_RATE:
        y = librosa.resample(y, orig_sr=sr, target_sr=ANALYSIS_RATE)
    no_pulse = TempoEstimate(bpm=0.0, beat_times=np.zeros(0), confidence=0.0)
    if len(y) < MIN_SECONDS * ANALYSIS_RATE or not np.any(np.abs(y) > 1e-5):
        return no_pulse

    # librosa's onset strength of y, from a mel spectrogram made a minute at a time (the same numbers;
    # 1.1 GB less for a 7-minute song)
    mel_db = librosa.power_to_db(melspectrogram(y, ANALYSIS_RATE, ONSET_N_FFT, HOP_LENGTH))
    envelope = librosa.onset.onset_strength(S=mel_db, sr=ANALYSIS_RATE, hop_length=HOP_LENGTH, n_fft=ONSET_N_FFT)
    if not np.any(envelope > 0):
        return no_pulse
    prior_bpm = librosa.feature.tempo(tg=mean_tempogram(envelope), sr=ANALYSIS_RATE, hop_length=HOP_LENGTH)[0]
    tempo, beat_frames = librosa.beat.beat_track(onset_envelope=envelope, sr=ANALYSIS_RATE,
                                                 hop_length=HOP_LENGTH, bpm=float(prior_bpm))
    raw_bpm = float(np.atleast_1d(tempo)[0])
    beat_times = librosa.frames_to_time(beat_frames, sr=ANALYSIS_RATE, hop_length=HOP_LENGTH)
    if len(beat_times) < 4:
        return TempoEstimate(bpm=raw_bpm, beat_times=beat_times, confidence=0.0)

    period, residual = fit_beat_period(beat_times)
    frames_per_second = ANALYSIS_RATE / HOP_LENGTH
    period = refine_period(envelope, period * frames_per_second) / frames_per_second
    bpm = 60.0 / period
    regularity = float(np.clip(1.0 - residual / (0.1 * period), 0.0, 1.0))  # 10% jitter -> 0
    at_beats = float(np.mean(envelope[np.clip(beat_frames, 0, len(envelope) - 1)]))
    salience = at_beats / (at_beats + float(np.mean(envelope)) + 1e-12)  # 0.5: beats are average
    confidence = regularity * float(np.clip(2.0 * salience - 1.0, 0.0, 1.0) ** 0.5)
    return TempoEstimate(bpm=bpm, beat_times=beat_times, confidence=confidence)


def mean_tempogram(envelope: np.ndarray) -> np.ndarray:
    """The mean over time of librosa's autocorrelation tempogram (the one librosa.feature.tempo makes, with
    its 8 s window), computed TEMPOGRAM_CHUNK frames at a time: the same tempo, without the whole song's
    tempogram (1.1 GB for 7 minutes). Shape (window, 1), as `tempo(tg=...)` takes it."""
    # deferred: only this path needs librosa
    import librosa

    window = int(librosa.time_to_frames(TEMPO_WINDOW_SECONDS, sr=ANALYSIS_RATE, hop_length=HOP_LENGTH))
    frames = len(envelope)
    padded = np.pad(envelope, window // 2, mode="linear_ramp", end_values=[0, 0])  # as center=True pads
    total = np.zeros(window)
    for first in range(0, frames, TEMPOGRAM_CHUNK):
        count = min(TEMPOGRAM_CHUNK, frames - first)
        total += librosa.feature.tempogram(onset_envelope=padded[first:first + count + window - 1], sr=ANALYSIS_RATE,
                                           hop_length=HOP_LENGTH, win_length=window, center=False).sum(axis=1)
    return (total / frames)[:, None]


def refine_period(envelope: np.ndarray, period_frames: float, spread: float = 0.04,
                  multiples: int = 8) -> float:
    """Sharpen a beat period (in onset frames) with the envelope's autocorrelation.

    The beat tracker's phase-locked beats lean towards its quantised period; the autocorrelation
    summed at several multiples of a candidate period peaks at the true one to a fraction of a frame.
    """
    e = envelope - envelope.mean()
    n = len(e)
    usable = int(min(multiples, (n // 2) // max(period_frames * (1 + spread), 1.0)))
    if usable < 2:
        return period_frames
    spectrum = np.fft.rfft(e, 2 * n)
    autocorrelation = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    autocorrelation /= n - np.arange(n)  # unbiased: longer lags overlap fewer frames
    candidates = period_frames * np.linspace(1 - spread, 1 + spread, 801)
    lags = candidates[:, None] * np.arange(1, usable + 1)[None, :]
    score = np.interp(lags, np.arange(n), autocorrelation).sum(axis=1)
    return float(candidates[int(np.argmax(score))])


def fit_beat_period(beat_times: np.ndarray) -> tuple[float, float]:
    """Seconds per beat from a line fit of time vs beat index, and the fit's RMS residual.

    Each interval counts as a whole number of median intervals, so a missed or doubled beat does not bend
    the line; counted interval by interval, so the median's rounding to onset frames does not add up over
    a long song (from the first beat, the indices slipped after a few dozen beats and the fit, and with it
    the confidence, fell apart).
    """
    times = np.asarray(beat_times, dtype=np.float64)
    period0 = float(np.median(np.diff(times)))
    steps = np.round(np.diff(times) / period0)
    index = np.concatenate([[0.0], np.cumsum(steps)])
    keep = np.concatenate([[True], steps > 0])  # two beats on one index: keep the first
    index, times = index[keep], times[keep]
    design = np.stack([index, np.ones_like(index)], axis=1)
    (slope, intercept), *_ = np.linalg.lstsq(design, times, rcond=None)
    residual = float(np.sqrt(np.mean((times - (slope * index + intercept)) ** 2)))
    return float(slope), residual

