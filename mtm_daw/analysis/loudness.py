"""Integrated loudness (ITU-R BS.1770 / EBU R128, LUFS) and sample peak."""
from __future__ import annotations

import numpy as np
import pyloudnorm
import scipy.signal

from mtm_daw.errors import MtmError

BLOCK_SECONDS = 0.4  # the BS.1770 gating block
BLOCK_OVERLAP = 0.75
ABSOLUTE_GATE_LUFS = -70.0
CHANNEL_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.41, 1.41])  # L, R, C, Ls, Rs
STREAM_SECONDS = 10.0
SILENCE_LUFS = float("-inf")


def integrated_loudness(samples: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS of (channels, n) or (n,) samples.

    Silence (everything below the -70 LUFS gate) gives float('-inf'). Clips shorter than one
    400 ms gating block are looped to fill it, which measures them as if they were sustained.
    More than 5 channels (beyond BS.1770's weights) are measured as a mono downmix.
    pyloudnorm's K-weighting filters and gating blocks, streamed (see block_energies): a ten-minute
    file costs a few MB here where pyloudnorm's one call held ~180 MB of float64 copies.
    """
    x = _as_channels_first(samples, sr)
    if x.shape[0] > 5:
        x = x.mean(axis=0, keepdims=True)
    block = int(np.ceil(BLOCK_SECONDS * sr)) + 1
    if x.shape[1] < block:
        x = np.tile(x, (1, int(np.ceil(block / x.shape[1]))))
    energies = block_energies(x, sr)  # (channels, blocks): mean square of each K-weighted block
    weighted = CHANNEL_WEIGHTS[:x.shape[0]] @ energies
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10.0 * np.log10(weighted)
        above_absolute = blocks >= ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return SILENCE_LUFS
        relative = -0.691 + 10.0 * np.log10(weighted[above_absolute].mean()) - 10.0
        gated = (blocks > relative) & above_absolute
        if not gated.any():
            return SILENCE_LUFS
        lufs = float(-0.691 + 10.0 * np.log10(weighted[gated].mean()))
    return lufs if np.isfinite(lufs) else SILENCE_LUFS


def block_energies(x: np.ndarray, sr: int) -> np.ndarray:
    """The mean square of every 400 ms gating block (75 % overlap) of the K-weighted signal, per channel,
    with pyloudnorm's block bounds; the signal is filtered STREAM_SECONDS at a time (filter state carried
    over), and each block's sum read from a running sum at its two ends."""
    filters = [pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf"),
               pyloudnorm.IIRfilter(0.0, 0.5, 38.0, sr, "high_pass")]
    channels, length = x.shape
    step = BLOCK_SECONDS * (1.0 - BLOCK_OVERLAP)
    count = int(np.round((length / sr - BLOCK_SECONDS) / step)) + 1
    starts = np.array([int(BLOCK_SECONDS * (j * (1.0 - BLOCK_OVERLAP)) * sr) for j in range(count)])
    stops = np.array([int(BLOCK_SECONDS * (j * (1.0 - BLOCK_OVERLAP) + 1) * sr) for j in range(count)])
    stops = np.minimum(stops, length)
    bounds = np.union1d(starts, stops)  # where the running sum is read
    running = np.zeros((channels, len(bounds)))
    chunk = int(STREAM_SECONDS * sr)
    for channel in range(channels):
        states = [scipy.signal.lfilter_zi(f.b, f.a) * 0.0 for f in filters]
        total, at = 0.0, 0
        for first in range(0, length, chunk):
            y = x[channel, first:first + chunk].astype(np.float64)
            for index, f in enumerate(filters):
                y, states[index] = scipy.signal.lfilter(f.b, f.a, y, zi=states[index])
                y *= f.passband_gain
            sums = total + np.concatenate(([0.0], np.cumsum(np.square(y))))  # running sum at first + i
            while at < len(bounds) and bounds[at] <= first + len(y):
                running[channel, at] = sums[bounds[at] - first]
                at += 1
            total = sums[-1]
    start_at, stop_at = np.searchsorted(bounds, starts), np.searchsorted(bounds, stops)
    return (running[:, stop_at] - running[:, start_at]) / (BLOCK_SECONDS * sr)


def peak_dbfs(samples: np.ndarray) -> float:
    """Highest absolute sample in dB relative to full scale; float('-inf') for digital silence."""
    peak = float(np.max(np.abs(samples))) if np.size(samples) else 0.0
    return 20.0 * float(np.log10(peak)) if peak > 0 else float("-inf")


def _as_channels_first(samples: np.ndarray, sr: int) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] > 64:
        raise MtmError(f"expected samples of shape (channels, n), got shape {x.shape}")
    if x.shape[1] == 0:
        raise MtmError("the audio is empty (no samples), so it has no loudness")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise MtmError(f"sample rate must be a positive integer, got {sr!r}")
    if not np.all(np.isfinite(x)):
        raise MtmError("the audio contains invalid (NaN or infinite) samples")
    return x
