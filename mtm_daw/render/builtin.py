"""The built-in synthesiser behind the same small interface as the FluidSynth renderer."""
from __future__ import annotations

from typing import Callable

import numpy as np

from mtm_daw.progress import CancelToken
from mtm_daw.render.synth import render_track
from mtm_daw.score.score import Track


class BuiltinRenderer:
    name = "builtin"
    tracks_at_once = 1

    def __init__(self, sample_rate: int = 48000, warn: Callable[[str], None] = print) -> None:
        self.sample_rate = sample_rate
        self.warn = warn  # as FluidSynthRenderer's: this synthesiser has nothing to say yet

    def render_track(self, track: Track, tempo: float, n_samples: int, mono: bool = False,
                     cancel: CancelToken | None = None, warn: Callable[[str], None] | None = None) -> np.ndarray:
        """As FluidSynthRenderer.render_track (this synthesiser has nothing to warn about)."""
        audio = render_track(track, tempo, self.sample_rate, n_samples, cancel)
        return audio.mean(axis=0) if mono else audio

    def close(self) -> None:
        pass
