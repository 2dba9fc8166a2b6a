"""Shared fixtures: short real renders, made once per test session."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mtm_daw.description import HitPoint, MusicDescription  # noqa: E402
from mtm_daw.pipeline import RenderSettings, compose_cue  # noqa: E402
from mtm_daw.render.fluid import fluidsynth_available  # noqa: E402
from mtm_daw.render.soundfont import find_soundfont  # noqa: E402

HAS_SOUNDFONT = fluidsynth_available() and find_soundfont() is not None
requires_soundfont = pytest.mark.skipif(not HAS_SOUNDFONT, reason="FluidSynth or a GM SoundFont is missing")


@pytest.fixture(scope="session")
def pop_cue():
    """A 16-bar pop cue at 120 BPM in D minor with a hit point, through the default renderer."""
    description = MusicDescription(genre="pop", mood="happy", tempo=120, key="D minor", duration=32,
                                   hit_points=[HitPoint(20.0)])
    return compose_cue(description, seed=3, warn=lambda message: None)


@pytest.fixture(scope="session")
def builtin_cue():
    description = MusicDescription(genre="rock", mood="tense", tempo=100, key="E minor", duration=12)
    return compose_cue(description, seed=1, settings=RenderSettings(synth="builtin"), warn=lambda message: None)
