"""Key of an audio clip or a note histogram: correlation with major/minor key profiles.

The pitch-class weights (chroma summed over time, or note durations per pitch class) are
correlated with Temperley's major and minor profiles rotated to each of the 12 tonics; the best
of the 24 is the key. Temperley's profiles separated our synthetic cadences (with harmonics) by
a wider margin than Krumhansl-Kessler's or Albrecht-Shanahan's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mtm_daw.analysis._signal import ANALYSIS_RATE, check_mono
from mtm_daw.errors import MtmError
from mtm_daw.score.theory import Key

# Temperley (2007), Music and Probability, Kostka-Payne corpus; index 0 = tonic.
MAJOR_PROFILE = np.array([0.748, 0.060, 0.488, 0.082, 0.670, 0.460,
                          0.096, 0.715, 0.104, 0.366, 0.057, 0.400])
MINOR_PROFILE = np.array([0.712, 0.084, 0.474, 0.618, 0.049, 0.460,
                          0.105, 0.747, 0.404, 0.067, 0.133, 0.330])
_SOFTMAX_TEMPERATURE = 0.05  # correlation gap of 0.1 between the top two -> confidence ~0.88


@dataclass
class KeyEstimate:
    key: Key
    confidence: float  # 0..1, a softmax over the 24 correlations: low when keys are close
    scores: dict[str, float] = field(default_factory=dict)  # 'D minor' -> correlation, all 24

    @property
    def name(self) -> str:
        return self.key.name


def key_from_pitch_class_histogram(hist) -> KeyEstimate:
    """Key from 12 non-negative pitch-class weights (C first): chroma sums or note durations."""
    weights = np.asarray(hist, dtype=np.float64).reshape(-1)
    if weights.shape != (12,):
        raise MtmError(f"a pitch-class histogram needs 12 values (C to B), got {weights.size}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise MtmError("a pitch-class histogram needs finite, non-negative values")
    if weights.sum() <= 0:
        raise MtmError("the pitch-class histogram is empty (no notes or no pitched sound)")

    keys = [Key(tonic, mode) for mode in ("major", "minor") for tonic in range(12)]
    profiles = np.stack([np.roll(MAJOR_PROFILE if k.mode == "major" else MINOR_PROFILE, k.tonic)
                         for k in keys])  # (24, 12)
    correlations = _correlate(weights, profiles)  # (24,)
    best = int(np.argmax(correlations))
    logits = (correlations - correlations[best]) / _SOFTMAX_TEMPERATURE
    confidence = float(1.0 / np.exp(logits).sum())
    if np.ptp(weights) <= 1e-9 * weights.max():  # every pitch class equal: no key at all
        confidence = 0.0
    scores = {k.name: round(float(r), 4) for k, r in zip(keys, correlations)}
    return KeyEstimate(key=keys[best], confidence=confidence, scores=scores)


CHROMA_HOP = 512
CHROMA_CHUNK_FRAMES = 2600  # about a minute
CHROMA_CONTEXT_SECONDS = 4.0


def estimate_key(samples_mono: np.ndarray, sr: int) -> KeyEstimate:
    """Key of a mono signal from constant-Q chroma summed over time.

    Raises MtmError for silent or too short (< 0.5 s) audio.
    """
    import librosa  # slow to import; only analysis needs it

    y = check_mono(samples_mono, sr)
    if sr != ANALYSIS_RATE:
        y = librosa.resample(y, orig_sr=sr, target_sr=ANALYSIS_RATE)
    if len(y) < 0.5 * ANALYSIS_RATE:
        raise MtmError("the audio is too short to estimate a key (less than half a second)")
    if not np.any(np.abs(y) > 1e-4):
        raise MtmError("the audio is silent, so it has no key")
    # CQT chroma: log-spaced bins keep low notes apart; STFT chroma let harmonics pull toward V.
    return key_from_pitch_class_histogram(chroma_sum(y))


def chroma_sum(y: np.ndarray) -> np.ndarray:
    """librosa's constant-Q chroma of y (22.05 kHz) summed over time, computed a minute at a time with a
    few seconds of context either side (the longest CQT filter is about a second), so a long song never
    holds its whole CQT (430 MB for 7 minutes). Frames are normalised one by one and the context frames
    dropped; the tuning is estimated once, from the first minute (librosa estimates it from the whole clip,
    so clips up to a minute give exactly its figures)."""
    # deferred: only this path needs librosa
    import librosa

    tuning = librosa.estimate_tuning(y=y[:CHROMA_CHUNK_FRAMES * CHROMA_HOP], sr=ANALYSIS_RATE, bins_per_octave=36)
    frames = 1 + len(y) // CHROMA_HOP  # librosa's centred frame count
    context = int(np.ceil(CHROMA_CONTEXT_SECONDS * ANALYSIS_RATE / CHROMA_HOP))
    total = np.zeros(12)
    for first in range(0, frames, CHROMA_CHUNK_FRAMES):
        count = min(CHROMA_CHUNK_FRAMES, frames - first)
        start = max(0, first - context)
        stop = min(frames, first + count + context)
        piece = y[start * CHROMA_HOP:(stop - 1) * CHROMA_HOP + 1] if stop < frames else y[start * CHROMA_HOP:]
        chroma = librosa.feature.chroma_cqt(y=piece, sr=ANALYSIS_RATE, hop_length=CHROMA_HOP, tuning=tuning)
        total += chroma[:, first - start:first - start + count].sum(axis=1)
    return total


def _correlate(weights: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """Pearson correlation of one (12,) vector with each row of (k, 12); 0 for a flat vector."""
    w = weights - weights.mean()
    p = profiles - profiles.mean(axis=1, keepdims=True)
    denom = np.linalg.norm(w) * np.linalg.norm(p, axis=1)
    return np.divide(p @ w, denom, out=np.zeros(len(p)), where=denom > 0)
