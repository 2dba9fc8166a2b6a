"""FluidSynth renderer: one Track at a time through a General MIDI SoundFont, offline, float output."""
from __future__ import annotations

import contextlib
import ctypes
import io
from pathlib import Path

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.score.gm import DRUM_CHANNEL
from mtm_daw.score.score import Track

BLOCK = 4096
POLYPHONY = 4096  # voices (FluidSynth allows up to 65535)


def _import_fluidsynth():
    # pyfluidsynth prints where it found the library to stdout whenever $CI is set,
    # which would corrupt our --json output; its import is kept silent.
    with contextlib.redirect_stdout(io.StringIO()):
        import fluidsynth  # loads libfluidsynth through ctypes
    return fluidsynth


def fluidsynth_available() -> bool:
    try:
        _import_fluidsynth()
    except (ImportError, OSError):
        return False
    return True


class FluidSynthRenderer:
    """Load the SoundFont once; render each track on a reset synth so tracks never bleed."""

    def __init__(self, soundfont: Path, sample_rate: int = 48000, gain: float = 0.5) -> None:
        fluidsynth = _import_fluidsynth()
        self._fluidsynth = fluidsynth
        self.sample_rate = sample_rate
        self.soundfont = soundfont
        self.name = f"fluidsynth:{soundfont.name}"
        # Reverb and chorus are left to the mix stage so every stem stays dry and editable. FluidSynth's
        # default 256 voices (and the event queue sized from them) drop notes of dense parts, fast
        # power chords or a long release under sixteenths, with a warning per note; voices are only
        # allocated as they sound, so a high ceiling costs nothing on sparse parts.
        self._synth = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate),
                                       **{"synth.reverb.active": 0, "synth.chorus.active": 0,
                                          "synth.polyphony": POLYPHONY})
        self._sfid = self._synth.sfload(str(soundfont))
        if self._sfid < 0:
            self._synth.delete()
            raise MtmError(f"{soundfont}: FluidSynth could not load this SoundFont")
        self._write_float = fluidsynth.cfunc(
            "fluid_synth_write_float", ctypes.c_int,
            ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1))

    def close(self) -> None:
        self._synth.delete()

    def _write(self, out: np.ndarray, start: int, stop: int) -> None:
        """Synthesise samples [start, stop) into out (2, n), in blocks."""
        position = start
        while position < stop:
            count = min(BLOCK, stop - position)
            buffer = np.zeros(2 * count, dtype=np.float32)
            pointer = buffer.ctypes.data_as(ctypes.c_void_p)
            self._write_float(self._synth.synth, count, pointer, 0, 2, pointer, 1, 2)
            out[0, position:position + count] = buffer[0::2]
            out[1, position:position + count] = buffer[1::2]
            position += count

    def render_track(self, track: Track, tempo: float, n_samples: int) -> np.ndarray:
        synth = self._synth
        synth.system_reset()
        channel = DRUM_CHANNEL if track.is_drum else 0
        bank, preset = (128, track.program) if track.is_drum else (0, track.program)
        if synth.program_select(channel, self._sfid, bank, preset) != 0:
            fallback = (128, 0) if track.is_drum else (0, 0)  # the SoundFont lacks it: its standard kit or piano
            synth.program_select(channel, self._sfid, *fallback)
        samples_per_beat = 60.0 / tempo * self.sample_rate
        events = []  # (sample, 0 = off before 1 = on, pitch, velocity)
        for note in track.notes:
            start = int(round(note.onset * samples_per_beat))
            stop = max(start + 1, int(round(note.end * samples_per_beat)))
            events.append((start, 1, note.pitch, note.velocity))
            events.append((stop, 0, note.pitch, 0))
        events.sort()
        out = np.zeros((2, n_samples), dtype=np.float32)
        position = 0
        for sample, is_on, pitch, velocity in events:
            sample = min(max(sample, 0), n_samples)
            self._write(out, position, sample)
            position = sample
            if is_on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        self._write(out, position, n_samples)
        return out
