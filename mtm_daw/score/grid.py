"""TempoGrid: one constant tempo's clock, the single place beats, bars, seconds and samples convert.

    grid = TempoGrid(120, (3, 4), start=0.5)      # a waltz whose first beat is half a second into the picture
    grid.seconds(6)                               # 3.5: the picture's time at beat 6 (the third bar)
    grid.beats(3.5)                               # 6.0
    grid.sample(6, 48000)                         # 168000: the sample where beat 6 falls
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TempoGrid:
    """`tempo` in beats (quarter notes) per minute; `start` is the seconds before beat 0 (a picture's lead-in;
    a score's own grid starts at 0). Times may be floats or numpy arrays."""

    tempo: float
    time_signature: tuple[int, int] = (4, 4)
    start: float = 0.0

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo

    @property
    def beats_per_bar(self) -> float:
        numerator, denominator = self.time_signature
        return numerator * 4.0 / denominator

    @property
    def bar_seconds(self) -> float:
        return self.beats_per_bar * self.seconds_per_beat

    def seconds(self, beats: float | np.ndarray) -> float | np.ndarray:
        """The time at a beat (negative beats fall in the lead-in)."""
        return self.start + beats * 60.0 / self.tempo

    def beats(self, seconds: float | np.ndarray) -> float | np.ndarray:
        """The beat at a time (negative before the first beat)."""
        return (seconds - self.start) * self.tempo / 60.0

    def bar_beats(self, bars: float) -> float:
        return bars * self.beats_per_bar

    def samples_per_beat(self, sample_rate: int) -> float:
        return self.seconds_per_beat * sample_rate

    def sample(self, beats: float, sample_rate: int) -> int:
        """The sample a beat falls on, to the nearest sample (a length in beats is a count of samples)."""
        return int(round(self.seconds(beats) * sample_rate))
