"""Stem and Cue: rendered audio at the seams between render, mix and export."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mtm_daw.description import MusicDescription
from mtm_daw.score.score import Score


@dataclass
class Stem:
    role: str
    audio: np.ndarray  # float32, (2, samples), starts at the cue's time 0
    sample_rate: int
    program: int  # GM program it was rendered with (0 for drums)

    @property
    def duration(self) -> float:
        return self.audio.shape[1] / self.sample_rate


@dataclass
class Cue:
    description: MusicDescription
    score: Score
    stems: dict[str, Stem]  # by role, all the same length
    mix: np.ndarray  # float32, (2, samples)
    sample_rate: int
    renderer: str  # what made the audio, e.g. "fluidsynth:FluidR3_GM.sf2" or "builtin"
    engine: str = "baseline"
    seed: int = 0
    loudness_lufs: float = float("nan")  # measured on the mix
    parameters: dict = field(default_factory=dict)  # everything else that shaped the render
    loop_bars: int = 0  # > 0: a seamless loop of this many bars (every buffer exactly that long)
