"""Integrated loudness (ITU-R BS.1770 / EBU R128, LUFS) and sample peak."""
from __future__ import annotations

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.spool import blocks

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
    """
    x = _as_channels_first(samples, sr)
    meter = LoudnessMeter(sr, x.shape[0])
    for first, stop in blocks(x.shape[1], x, size=int(STREAM_SECONDS * sr)):
        chunk = x[:, first:stop]
        if not np.isfinite(chunk).all():  # checked a chunk at a time: an hour's mix may wait on disk
            raise MtmError("the audio contains invalid (NaN or infinite) samples")
        meter.add(chunk)
    return meter.lufs()


class LoudnessMeter:
    """BS.1770 integrated loudness of a signal given a chunk at a time (a file read as a stream).

    pyloudnorm's K-weighting filters and gating blocks: the filter state is carried from chunk to
    chunk, and the running sum of the squared K-weighted signal is kept only where a 400 ms block
    (75 % overlap, pyloudnorm's bounds) starts or stops, so a ten-minute file costs a few kB here."""

    def __init__(self, sr: int, channels: int) -> None:
        if not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise MtmError(f"sample rate must be a positive integer, got {sr!r}")
        self.sr = int(sr)
        self.downmix = channels > len(CHANNEL_WEIGHTS)
        self.channels = 1 if self.downmix else channels
        # deferred: pyloudnorm imports scipy.signal (~0.8 s); a cue loads it while its score is written
        # (pipeline.prefetch)
        import pyloudnorm

        filters = [pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf"),
                   pyloudnorm.IIRfilter(0.0, 0.5, 38.0, sr, "high_pass")]
        # both K-weighting stages as one cascade of second-order sections (a third of two lfilter calls' time)
        self.sos = np.array([np.concatenate([f.b * f.passband_gain, f.a]) for f in filters])
        self.state = np.zeros((len(filters), self.channels, 2))
        self.length = 0
        self.total = np.zeros(self.channels)
        self.block = int(np.ceil(BLOCK_SECONDS * sr)) + 1
        self.head: list[np.ndarray] = []  # the signal itself until it fills one block (a short clip is looped)
        self.sums: dict[int, np.ndarray] = {0: np.zeros(self.channels)}  # running sum at block bounds
        self.next_block = 0  # the first block whose stop is not yet recorded

    def _bounds(self, j: int) -> tuple[int, int]:
        """Where gating block j starts and stops, in samples (pyloudnorm's arithmetic, to the sample)."""
        return (int(BLOCK_SECONDS * (j * (1.0 - BLOCK_OVERLAP)) * self.sr),
                int(BLOCK_SECONDS * (j * (1.0 - BLOCK_OVERLAP) + 1) * self.sr))

    def add(self, chunk: np.ndarray) -> None:
        """Measure (channels, n) more samples."""
        x = np.asarray(chunk, dtype=np.float64)
        if self.downmix:
            x = x.mean(axis=0, keepdims=True)
        if self.head is not None:
            self.head.append(x)
            if sum(part.shape[1] for part in self.head) < self.block:
                return
            x, self.head = np.concatenate(self.head, axis=1), None
        self._filter(x)

    def _filter(self, x: np.ndarray) -> None:
        first, n = self.length, x.shape[1]
        # deferred: scipy.signal takes ~0.8 s to import (pyloudnorm, above, has loaded it by now)
        from scipy.signal import sosfilt

        y, self.state = sosfilt(self.sos, x, axis=1, zi=self.state)
        squared = np.square(y, out=y)
        bounds = []  # every block bound inside this chunk
        j = self.next_block
        while True:
            start, stop = self._bounds(j)
            if start > first + n:
                break
            bounds += [bound for bound in (start, stop) if first <= bound <= first + n]
            j += 1
        inner = sorted({bound - first for bound in bounds if first < bound < first + n})
        # sums of the squared signal between the bounds, accumulated: the running sum at each bound
        running = np.cumsum(np.add.reduceat(squared, [0] + inner, axis=1), axis=1) if n else np.zeros((self.channels, 1))
        for index, offset in enumerate(inner):
            self.sums[first + offset] = self.total + running[:, index]
        if first in bounds:
            self.sums[first] = self.total.copy()
        self.total = self.total + running[:, -1]
        if first + n in bounds:
            self.sums[first + n] = self.total.copy()
        while self._bounds(self.next_block)[1] <= first + n:  # blocks whose both bounds are recorded
            self.next_block += 1
        self.length += n

    def lufs(self) -> float:
        """Integrated loudness of everything added; float('-inf') for silence."""
        if self.head is not None:  # shorter than one block: looped to fill it
            if not self.head or sum(part.shape[1] for part in self.head) == 0:
                raise MtmError("the audio is empty (no samples), so it has no loudness")
            x = np.concatenate(self.head, axis=1)
            self.head = None
            self._filter(np.tile(x, (1, int(np.ceil(self.block / x.shape[1])))))
        length = self.length
        count = int(np.round((length / self.sr - BLOCK_SECONDS) / (BLOCK_SECONDS * (1.0 - BLOCK_OVERLAP)))) + 1
        self.sums[length] = self.total
        energies = np.empty((self.channels, max(count, 0)))
        for j in range(count):
            start, stop = self._bounds(j)
            stop = min(stop, length)
            energies[:, j] = (self.sums[stop] - self.sums[start]) / (BLOCK_SECONDS * self.sr)
        weighted = CHANNEL_WEIGHTS[:self.channels] @ energies
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
    return x
