"""Score -> one stereo audio buffer per role (a Stem), through a GM SoundFont or the built-in synth."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from mtm_daw.cue import Stem
from mtm_daw.errors import MtmError
from mtm_daw.export.wav import MAX_DATA_BYTES
from mtm_daw.render.builtin import BuiltinRenderer
from mtm_daw.render.fluid import FluidSynthRenderer, fluidsynth_available
from mtm_daw.render.soundfont import find_soundfont
from mtm_daw.score.score import Score

SAMPLE_RATE = 48000
TAIL_SECONDS = 2.0  # room for releases and reverb after the last bar


def make_renderer(soundfont: str | None = None, synth: str = "auto", sample_rate: int = SAMPLE_RATE,
                  warn: Callable[[str], None] = print, for_listening: bool = False):
    """synth: 'auto' (SoundFont when one is found, else built-in), 'soundfont' or 'builtin'. for_listening:
    a render only analysed (tagging, describing), never exported: the SoundFont's samples load on demand."""
    if synth == "builtin":
        return BuiltinRenderer(sample_rate)
    if synth not in ("auto", "soundfont"):
        raise MtmError(f"unknown synth '{synth}' (choose auto, soundfont or builtin)")
    path = find_soundfont(soundfont)
    if path is not None and fluidsynth_available():
        return FluidSynthRenderer(path, sample_rate, warn=warn, load_on_demand=for_listening)
    reason = ("the FluidSynth library (libfluidsynth) is not installed" if path is not None
              else "no General MIDI SoundFont was found (install fluid-soundfont-gm or pass --soundfont)")
    if synth == "soundfont" or soundfont:
        raise MtmError(f"cannot render with a SoundFont: {reason}")
    warn(f"note: {reason}; rendering with the built-in synthesiser instead")
    return BuiltinRenderer(sample_rate)


def listening_renderer(sample_rate: int):
    """A renderer for audio that is only analysed (tagging, describing), never exported: quiet about a
    missing SoundFont, its samples loaded on demand. Close it after use (a synth holds its SoundFont)."""
    return make_renderer(sample_rate=sample_rate, warn=lambda message: None, for_listening=True)


def render_score(score: Score, renderer, tail_seconds: float = TAIL_SECONDS,
                 progress: Callable[[float], None] = lambda fraction: None) -> dict[str, Stem]:
    """Every track rendered to the same length: the score's whole bars plus a release tail of whole
    beats (so the file is a whole number of beats long, as the WAV's tempo tag says)."""
    tail_beats = math.ceil(score.grid.beats(tail_seconds))
    n_samples = score.grid.sample(score.length_beats + tail_beats, renderer.sample_rate)
    if n_samples * 2 * 3 > MAX_DATA_BYTES:  # the stems are 24-bit stereo WAV files
        raise MtmError(f"{n_samples / renderer.sample_rate / 60:.0f} minutes at {renderer.sample_rate} Hz would make "
                       f"WAV files over 4 GB, the format's limit; choose a lower sample rate (192 kHz fits an hour)")
    stems = {}
    for index, (role, track) in enumerate(score.tracks.items()):
        audio = renderer.render_track(track, score.tempo, n_samples)
        stems[role] = Stem(role, audio, renderer.sample_rate, track.program)
        progress((index + 1) / len(score.tracks))
    return stems


def render_mono(score: Score, renderer, seconds: float | None = None) -> np.ndarray:
    """The whole score as one dry mono buffer (tracks summed, no mix chain): what the library embeds
    and tags. `seconds` cuts or pads it; default = the score's length plus the release tail."""
    if seconds is None:
        seconds = score.grid.seconds(score.length_beats + math.ceil(score.grid.beats(TAIL_SECONDS)))
    n_samples = max(1, int(round(seconds * renderer.sample_rate)))
    mix = np.zeros(n_samples, dtype=np.float32)
    for track in score.tracks.values():
        mix += renderer.render_track(track, score.tempo, n_samples, mono=True)
    return mix
