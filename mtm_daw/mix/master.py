"""The master bus: sum the stems, glue compression, loudness to a LUFS target, limiter ceiling."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pedalboard import Compressor, Limiter, Pedalboard

from mtm_daw.analysis.loudness import STREAM_SECONDS, LoudnessMeter
from mtm_daw.analysis.loudness import integrated_loudness as measure_lufs
from mtm_daw.errors import MtmError
from mtm_daw.spool import audio_buffer, blocks, let_go

TARGET_LUFS = -14.0
MIN_TARGET_LUFS, MAX_TARGET_LUFS = -40.0, -5.0
CEILING_DBFS = -1.0


def master_bus(ceiling_dbfs: float = CEILING_DBFS) -> Pedalboard:
    return Pedalboard([Compressor(threshold_db=-12, ratio=2, attack_ms=20, release_ms=200),
                       Limiter(threshold_db=ceiling_dbfs, release_ms=80)])


SEARCH_RATE = 6000  # Hz: the search for the master's gain hears every n-th sample, at about this rate
SEARCH_TOLERANCE_LU = 0.05  # the search stops this close to the target
TOLERANCE_LU = 0.2  # the full-rate pass may land this far off; further, it is corrected (up to FULL_PASSES)
FULL_PASSES = 4
MAX_BOOST_DB = 18.0  # above the plain gain to the target: a target the limiter cannot reach must not run the gain away


def master(mix: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS,
           ceiling_dbfs: float = CEILING_DBFS) -> tuple[np.ndarray, float, float]:
    """Return (mastered audio, gain in dB applied before the bus, its loudness in LUFS).

    The limiter pulls loudness down a little, so the input gain is searched over a few passes of the bus
    over every n-th sample of the mix (about SEARCH_RATE Hz: an eighth of a pass at 48 kHz each), whose
    loudness is the mix's less a constant offset read before; then one pass at the full rate makes the
    audio, corrected by another where it still lands more than TOLERANCE_LU away (on 16 cues of 8 styles at
    -23, -14 and -9 LUFS the one full-rate pass landed within 0.09 LU, against three or four full passes
    before). A final hard ceiling catches the limiter's overshoot.
    """
    if not MIN_TARGET_LUFS <= target_lufs <= MAX_TARGET_LUFS:
        raise MtmError(f"loudness target {target_lufs} LUFS is outside {MIN_TARGET_LUFS:g}..{MAX_TARGET_LUFS:g} LUFS")
    loudness = measure_lufs(mix, sample_rate)
    if not np.isfinite(loudness):  # below the gate: passed through, at 0 dB
        return _copy(mix), 0.0, loudness
    highest = target_lufs - loudness + MAX_BOOST_DB
    gain_db = _searched_gain(mix, sample_rate, target_lufs, ceiling_dbfs, loudness)
    out = audio_buffer(mix.shape)  # a correcting pass writes over the last one's audio
    for attempt in range(FULL_PASSES):
        measured = _bus_at_gain(mix, sample_rate, gain_db, ceiling_dbfs, out)
        error = target_lufs - measured
        corrected = min(gain_db + min(error, 6.0), highest)
        if abs(error) < TOLERANCE_LU or attempt == FULL_PASSES - 1 or corrected == gain_db:
            break
        gain_db = corrected
    return out, gain_db, measured


def _searched_gain(mix: np.ndarray, sample_rate: int, target_lufs: float, ceiling_dbfs: float,
                   loudness: float) -> float:
    """The input gain that brings the bus's output to the target, searched on every n-th sample of the mix
    (at most MAX_BOOST_DB above the plain gain to the target); that plain gain where those samples cannot
    stand in for the mix (silent once thinned, or silent out of the bus)."""
    plain = target_lufs - loudness
    step = max(1, sample_rate // SEARCH_RATE)
    if step == 1:
        return plain
    thinned, rate = _every_nth(mix, step), sample_rate // step
    offset = loudness - measure_lufs(thinned, rate)  # what the thinned mix lacks, in LU, before the bus
    if not np.isfinite(offset):
        return plain
    out = audio_buffer(thinned.shape)
    gain_db, previous = plain, None
    for _ in range(8):
        measured = _bus_at_gain(thinned, rate, gain_db, ceiling_dbfs, out) + offset
        if not np.isfinite(measured):
            return plain
        error = target_lufs - measured
        if abs(error) < SEARCH_TOLERANCE_LU:
            break
        # the loudness rises slower than the gain where the limiter works (a slope from the last two passes)
        slope = 1.0 if previous is None else (measured - previous[1]) / (gain_db - previous[0])
        previous = gain_db, measured
        following = min(gain_db + min(error / min(max(slope, 0.25), 1.0), 6.0), plain + MAX_BOOST_DB)
        if following == gain_db:  # at the highest gain allowed and still short of the target
            break
        gain_db = following
    return gain_db


def _every_nth(mix: np.ndarray, step: int) -> np.ndarray:
    """Every `step`-th sample of (channels, n) audio, into a new buffer (a long mix's on disk, as it is)."""
    length = -(-mix.shape[1] // step)
    thinned = audio_buffer((mix.shape[0], length))
    for start, stop in blocks(length, thinned):
        thinned[:, start:stop] = mix[:, start * step:stop * step:step]
        let_go(mix, start * step, min(stop * step, mix.shape[1]))
    return thinned


def master_at_gain(mix: np.ndarray, sample_rate: int, gain_db: float,
                   ceiling_dbfs: float = CEILING_DBFS) -> tuple[np.ndarray, float]:
    """The master bus at a given input gain (no search for a loudness target): (audio, its LUFS).

    The same pass `master` makes, so a cue redone with the gain `master` chose comes out the same; a mix
    below the gate at 0 dB is passed through, as `master` passes it."""
    if gain_db == 0.0:
        loudness = measure_lufs(mix, sample_rate)
        if not np.isfinite(loudness):
            return _copy(mix), loudness
    out = audio_buffer(mix.shape)
    return out, _bus_at_gain(mix, sample_rate, gain_db, ceiling_dbfs, out)


def _copy(mix: np.ndarray) -> np.ndarray:
    copied = audio_buffer(mix.shape)
    for start, stop in blocks(mix.shape[1], mix, copied):
        copied[:, start:stop] = mix[:, start:stop]
    return copied


def _bus_at_gain(mix: np.ndarray, sample_rate: int, gain_db: float, ceiling_dbfs: float, out: np.ndarray) -> float:
    """Gain, bus compression and limiting, then a hard ceiling, into `out` (float32, the mix's shape), a
    block at a time with the loudness measured as it goes; returns that loudness in LUFS."""
    ceiling = 10 ** (ceiling_dbfs / 20)
    bus = master_bus(ceiling_dbfs)
    gain = np.float32(10 ** (gain_db / 20))
    meter = LoudnessMeter(sample_rate, mix.shape[0])
    measuring = None  # the meter reads one block while the bus makes the next (both let go of the GIL)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtm-meter") as meter_thread:
        for start, stop in blocks(mix.shape[1], mix, size=int(STREAM_SECONDS * sample_rate)):  # as measure_lufs
            block = np.clip(bus(mix[:, start:stop] * gain, sample_rate, reset=start == 0), -ceiling, ceiling)
            out[:, start:stop] = block
            let_go(out, start, stop)  # written: a long cue's mastered audio waits on disk
            if measuring is not None:
                measuring.result()
            measuring = meter_thread.submit(meter.add, block)
        if measuring is not None:
            measuring.result()
    return meter.lufs()
