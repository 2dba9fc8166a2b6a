"""Bar-exact seamless loops.

An N-bar loop is composed one bar longer (so it does not end on a final cadence) and cut to N bars.
Its render's release tail is wrapped (added) into the start, as a loop playing on would sound; the
effect chains and the master bus then run round the loop until reverb, echo and compressors have
settled, and the last pass is kept. Every stem and the mix are exactly N bars of samples, and the
last sample runs into the first as any two neighbouring samples do.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import numpy as np

from mtm_daw.cue import Stem
from mtm_daw.description import MusicDescription, Section
from mtm_daw.errors import MtmError
from mtm_daw.score.score import Score

LOOP_TAIL_SECONDS = 4.0  # rendered past the loop's end for releases, then wrapped into its start
TAIL_FADE_SECONDS = 0.05  # the very end of that tail fades out, so nothing is cut off mid-wave
SETTLE_SECONDS = 8.0  # how long the effects run round the loop before the pass that is kept
MAX_LOOP_SECONDS = 600.0  # a loop's effects run round it in memory (settle_and_mix), so loops stay shorter than cues


def check_loop_bars(bars: int, description: MusicDescription) -> int:
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise MtmError(f"--loop needs a whole number of bars (1 or more), got {bars!r}")
    seconds = loop_seconds(description, bars + 1)
    if seconds > MAX_LOOP_SECONDS:
        raise MtmError(f"a {bars}-bar loop at {description.tempo:g} BPM is {seconds:.0f} s, above the "
                       f"{MAX_LOOP_SECONDS:g} s maximum")
    return bars


def loop_seconds(description: MusicDescription, bars: int) -> float:
    return bars * description.bar_seconds


def loop_description(description: MusicDescription, bars: int) -> MusicDescription:
    """What the engine composes for an N-bar loop: N + 1 bars (the last is cut off, so the loop does
    not end on a final chord), all one section unless the description brings its own."""
    check_loop_bars(bars, description)
    seconds = loop_seconds(description, bars + 1)
    sections = description.sections or [Section("loop", 0.0, seconds, 0.6)]
    return replace(description, duration=seconds, sections=sections,
                   hit_points=[hit for hit in description.hit_points if hit.time <= seconds])


def looped_description(description: MusicDescription, bars: int) -> MusicDescription:
    """The description of the finished loop: exactly N bars long."""
    seconds = loop_seconds(description, bars)
    return replace(description, duration=seconds, hit_points=[hit for hit in description.hit_points
                                                              if hit.time <= seconds])


def cut_to_bars(score: Score, bars: int) -> Score:
    """The score's first N bars: later notes dropped, notes still sounding at the end cut there."""
    return score.until(bars * score.beats_per_bar)


def loop_samples(score: Score, sample_rate: int) -> int:
    """The loop's length in samples: its bars at its tempo, to the nearest sample."""
    return score.grid.sample(score.length_beats, sample_rate)


def wrap_tail(audio: np.ndarray, period: int, fade_seconds: float = TAIL_FADE_SECONDS,
              sample_rate: int = 48000) -> np.ndarray:
    """(channels, n) -> (channels, period): every sample past the loop's end added back onto its
    start (and again, for tails longer than the loop), the last `fade_seconds` faded out first."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.shape[1] < period:
        raise MtmError(f"internal: a {audio.shape[1]}-sample render is shorter than its {period}-sample loop")
    tail = audio[:, period:].copy()
    fade = min(tail.shape[1], int(round(fade_seconds * sample_rate)))
    if fade:
        tail[:, -fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    out = audio[:, :period].copy()
    for start in range(0, tail.shape[1], period):
        piece = tail[:, start:start + period]
        out[:, :piece.shape[1]] += piece
    return out


def settle_and_mix(stems: dict[str, Stem], period: int, mix: Callable[[dict[str, Stem]], tuple],
                   settle_seconds: float = SETTLE_SECONDS):
    """Run `mix` (stems -> (stems, mix, loudness, gains)) over the wrapped loop played round several
    times, and keep the last pass: what the chains and the master bus give once they have settled."""
    sample_rate = next(iter(stems.values())).sample_rate
    passes = 1 + math.ceil(settle_seconds * sample_rate / period)
    played = {role: Stem(role, np.tile(stem.audio, (1, passes)), stem.sample_rate, stem.program)
              for role, stem in stems.items()}
    mixed, mix_audio, loudness, gains = mix(played)
    last = slice((passes - 1) * period, passes * period)
    kept = {role: Stem(role, np.ascontiguousarray(stem.audio[:, last]), stem.sample_rate, stem.program)
            for role, stem in mixed.items()}
    return kept, np.ascontiguousarray(mix_audio[:, last]), loudness, gains


SEAM_NEIGHBOURHOOD = 32  # samples either side of a loop's seam whose steps a seamless seam may match


def seam_discontinuity(audio: np.ndarray) -> tuple[float, float]:
    """(the step from the last sample to the first, the steps the audio itself takes: the 99th percentile
    of neighbouring samples' steps, or the largest within SEAM_NEIGHBOURHOOD samples of the seam, where an
    attack on the downbeat is steep): a seamless loop's first is no larger than the second."""
    steps = np.abs(np.diff(audio, axis=1))
    seam = float(np.max(np.abs(audio[:, 0] - audio[:, -1])))
    near = np.concatenate([steps[:, :SEAM_NEIGHBOURHOOD], steps[:, -SEAM_NEIGHBOURHOOD:]], axis=1)
    return seam, max(float(np.percentile(steps, 99)), float(near.max()))
