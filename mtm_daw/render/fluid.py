"""FluidSynth renderer: Tracks through a General MIDI SoundFont, offline, float output, one per synth at a time."""
from __future__ import annotations

import contextlib
import ctypes
import io
import queue
import threading
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import soxr

from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken
from mtm_daw.score.gm import DRUM_CHANNEL
from mtm_daw.score.grid import TempoGrid
from mtm_daw.score.score import Track, without_overlaps
from mtm_daw.spool import audio_buffer, blocks, let_go

BLOCK = 4096
FLUID_BLOCK = 64  # FluidSynth renders in blocks of this many samples and starts a note at the next block
POLYPHONY = 4096  # voices (FluidSynth allows up to 65535)
MAX_SYNTH_RATE = 96_000  # FluidSynth's ceiling: higher session rates are rendered at it and resampled


# FluidSynth logs to stderr by itself, a line per dropped note; its log goes here instead (counted, a
# bounded number of distinct lines) and each render sums it up in one line. FluidSynth logs on the thread
# that called it, so each thread keeps its own count: tracks rendered at once report their own messages.
_LOG_LEVELS = range(5)  # FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG
_MAX_DISTINCT_LINES = 64
_thread_logs = threading.local()
_log_captured: list[bool] = []  # the log function is set once per process
_import_lock = threading.Lock()  # redirect_stdout swaps sys.stdout for the whole process: one import at a time
_LogFunction = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _this_thread_log() -> Counter[str]:
    if not hasattr(_thread_logs, "lines"):
        _thread_logs.lines = Counter()
    return _thread_logs.lines


@_LogFunction
def _keep_log_line(level: int, message: bytes | None, data) -> None:
    line = (message or b"").decode("utf-8", "replace").strip()
    log = _this_thread_log()
    if line in log or len(log) < _MAX_DISTINCT_LINES:
        log[line] += 1
    else:
        log["(other messages)"] += 1


def _import_fluidsynth():
    # pyfluidsynth prints where it found the library to stdout whenever $CI is set,
    # which would corrupt our --json output; its import is kept silent.
    with _import_lock:
        if _log_captured:
            import fluidsynth  # already loaded: nothing printed

            return fluidsynth
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth  # loads libfluidsynth through ctypes
        set_log_function = fluidsynth.cfunc("fluid_set_log_function", ctypes.c_void_p, ("level", ctypes.c_int, 1),
                                            ("fun", _LogFunction, 1), ("data", ctypes.c_void_p, 1))
        for level in _LOG_LEVELS:
            set_log_function(level, _keep_log_line, None)
        _log_captured.append(True)
        return fluidsynth


def take_log() -> str | None:
    """One line summing up what FluidSynth logged on this thread since the last call (None if nothing), and
    forget it."""
    log = _this_thread_log()
    if not log:
        return None
    total = sum(log.values())
    line, count = log.most_common(1)[0]
    log.clear()
    return f"fluidsynth: {total} message{'s' if total > 1 else ''} while rendering, most often: {line} ({count}x)"


def fluidsynth_available() -> bool:
    try:
        _import_fluidsynth()
    except (ImportError, OSError):
        return False
    return True


class FluidSynthRenderer:
    """Load the SoundFont once; render each track on a reset synth so tracks never bleed.

    synths: how many tracks can render at once, on as many threads (render_score's); each is a synthesiser of
    its own, sharing the SoundFont's samples through FluidSynth's sample cache (a second one: 0.06 s and
    ~55 MB, against 0.22 s and ~210 MB for the first, measured with the GM SoundFont)."""

    def __init__(self, soundfont: Path, sample_rate: int = 48000, gain: float = 0.5,
                 warn: Callable[[str], None] = print, load_on_demand: bool = False, synths: int = 1) -> None:
        fluidsynth = _import_fluidsynth()
        self.warn = warn  # where a track's FluidSynth messages go (a renderer kept loaded is given the next cue's)
        self.sample_rate = sample_rate
        self._synth_rate = min(sample_rate, MAX_SYNTH_RATE)
        self.soundfont = soundfont
        self.name = f"fluidsynth:{soundfont.name}"
        self._synths: list[_Synth] = []
        try:
            for _ in range(max(1, synths)):
                self._synths.append(_Synth(fluidsynth, soundfont, self._synth_rate, gain, load_on_demand))
        except BaseException:
            self.close()
            raise
        self._free: queue.SimpleQueue[_Synth] = queue.SimpleQueue()
        for synth in self._synths:
            self._free.put(synth)

    @property
    def tracks_at_once(self) -> int:
        return len(self._synths)

    def close(self) -> None:
        for synth in self._synths:
            synth.close()

    def silence(self) -> None:
        """Stop every voice still sounding (a pad's long release after the last track), so the next track
        rendered on these synths, in another cue, starts as on a new one: what a renderer kept between cues needs."""
        for synth in self._synths:
            synth.silence()

    def render_track(self, track: Track, tempo: float, n_samples: int, mono: bool = False,
                     cancel: CancelToken | None = None, warn: Callable[[str], None] | None = None) -> np.ndarray:
        """(2, n_samples) float32, or (n_samples,) with `mono` (half the memory of a long render), on the
        first free synth (any gives the same samples: each track starts on a synth reset to one state).
        cancel: checked every block of samples; warn: where this track's FluidSynth summary goes (default:
        the renderer's warn)."""
        synth = self._free.get()
        try:
            if self._synth_rate == self.sample_rate:
                return self._render_on(synth, track, tempo, n_samples, mono, cancel, warn or self.warn)
            synth_samples = int(np.ceil(n_samples * self._synth_rate / self.sample_rate))
            audio = self._render_on(synth, track, tempo, synth_samples, mono, cancel, warn or self.warn)
        finally:
            self._free.put(synth)
        out = audio_buffer(n_samples if mono else (2, n_samples))
        # resampled a block at a time (the same samples as soxr.resample over the whole render)
        stream = soxr.ResampleStream(self._synth_rate, self.sample_rate, 1 if mono else 2, dtype="float32",
                                     quality="HQ")
        written = 0
        for start, stop in blocks(synth_samples, audio):
            if cancel is not None:
                cancel.check()
            chunk = stream.resample_chunk(np.ascontiguousarray(audio[..., start:stop].T),
                                          last=stop == synth_samples).T
            count = min(chunk.shape[-1], n_samples - written)
            out[..., written:written + count] = chunk[..., :count]
            let_go(out, written, written + count)
            written += count
        return out

    def _render_on(self, synth: _Synth, track: Track, tempo: float, n_samples: int, mono: bool,
                   cancel: CancelToken | None, warn: Callable[[str], None]) -> np.ndarray:
        events = note_events(track, TempoGrid(tempo).samples_per_beat(self._synth_rate))
        synth.start_clean(max_sounding(events))
        channel = DRUM_CHANNEL if track.is_drum else 0
        synth.select(channel, (128 if track.is_drum else 0), track.program)
        take_log()  # not this track's news: what a cancelled render left, a missing preset handled just above
        out = audio_buffer(n_samples if mono else (2, n_samples))
        position = 0
        for sample, is_on, pitch, velocity in events:
            sample = min(max(sample, 0), n_samples)
            synth.write(out, position, sample, cancel)
            position = sample
            if is_on:
                synth.synth.noteon(channel, pitch, velocity)
            else:
                synth.synth.noteoff(channel, pitch)
        synth.write(out, position, n_samples, cancel)
        if (summary := take_log()) is not None:
            warn(f"{track.role}: {summary}")
        return out


class _Synth:
    """One FluidSynth synthesiser with the SoundFont loaded, and how many samples it has written."""

    def __init__(self, fluidsynth, soundfont: Path, rate: int, gain: float, load_on_demand: bool) -> None:
        # Reverb and chorus are left to the mix stage so every stem stays dry and editable. FluidSynth's
        # default 256 voices (and the event queue sized from them) drop notes of dense parts, fast
        # power chords or a long release under sixteenths, with a warning per note; voices are only
        # allocated as they sound, so a high ceiling costs nothing on sparse parts.
        # load_on_demand reads only the samples of the presets played (~130 MB less for a GM SoundFont); a
        # voice's tail can then end a little differently (4.6e-4 at most, measured), so cues, which must
        # come out the same every time, load the whole SoundFont; listening renders need not.
        self.synth = fluidsynth.Synth(gain=gain, samplerate=float(rate),
                                      **{"synth.reverb.active": 0, "synth.chorus.active": 0,
                                         "synth.polyphony": POLYPHONY,
                                         "synth.dynamic-sample-loading": int(load_on_demand)})
        self.samples_written = 0
        self.sfid = self.synth.sfload(str(soundfont))
        if self.sfid < 0:
            self.synth.delete()
            take_log()
            raise MtmError(f"{soundfont}: FluidSynth could not load this SoundFont")
        take_log()  # what loading said (e.g. a SoundFont's harmless chunk notes)
        if self.synth.get_setting("synth.sample-rate") != float(rate):
            self.synth.delete()
            raise MtmError(f"FluidSynth cannot render at {rate} Hz")
        self._write_float = fluidsynth.cfunc(
            "fluid_synth_write_float", ctypes.c_int,
            ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1))

    def close(self) -> None:
        self.synth.delete()

    def select(self, channel: int, bank: int, preset: int) -> None:
        if self.synth.program_select(channel, self.sfid, bank, preset) != 0:
            fallback = (128, 0) if bank == 128 else (0, 0)  # the SoundFont lacks it: its standard kit or piano
            self.synth.program_select(channel, self.sfid, *fallback)

    def silence(self) -> None:
        """Stop every voice still sounding, so start_clean's warm-up chord then finds every voice free."""
        for midi_channel in range(16):
            self.synth.all_sounds_off(midi_channel)
        self.write(np.zeros((2, FLUID_BLOCK), dtype=np.float32), 0, FLUID_BLOCK)
        take_log()

    def start_clean(self, voices: int = 128) -> None:
        """The synth as if nothing had been rendered on it, so a track sounds the same sample for sample
        whatever was rendered before it (which `mtm extend` relies on: the old bars of a longer cue).

        Three things would carry over: voices still sounding (system_reset lets a cymbal ring on; they are
        silenced channel by channel), the state a voice keeps from the last note it played (its first
        samples differ by up to 2e-4: every voice slot a track of `voices` notes at once can use is played
        once on a fixed chord, at least 128 keys and 4 a note of the track, spread over the channels), and
        FluidSynth's 64-sample blocks (a note starts at the next one, so a stem moved by up to 63 samples
        with the length of those before it: each track starts on a block)."""
        synth = self.synth
        scratch = np.zeros((2, 2 * FLUID_BLOCK), dtype=np.float32)
        synth.system_reset()
        for key in range(min(16 * 128, max(128, 4 * voices))):
            synth.noteon(key // 128, key % 128, 100)
        self.write(scratch, 0, FLUID_BLOCK)
        for midi_channel in range(16):
            synth.all_sounds_off(midi_channel)
        self.write(scratch, 0, FLUID_BLOCK + -self.samples_written % FLUID_BLOCK)
        synth.system_reset()

    def write(self, out: np.ndarray, start: int, stop: int, cancel: CancelToken | None = None) -> None:
        """Synthesise samples [start, stop) into out, (2, n) or (n,) for the mean of left and right, in blocks
        (`cancel` checked before each)."""
        position = start
        while position < stop:
            if cancel is not None:
                cancel.check()
            count = min(BLOCK, stop - position)
            buffer = np.zeros(2 * count, dtype=np.float32)
            pointer = buffer.ctypes.data_as(ctypes.c_void_p)
            self._write_float(self.synth.synth, count, pointer, 0, 2, pointer, 1, 2)
            self.samples_written += count
            if out.ndim == 1:
                out[position:position + count] = 0.5 * (buffer[0::2] + buffer[1::2])
            else:
                out[0, position:position + count] = buffer[0::2]
                out[1, position:position + count] = buffer[1::2]
            let_go(out, position, position + count)  # a long render's written samples wait on disk
            position += count


def max_sounding(events: list[tuple[int, int, int, int]]) -> int:
    """The most notes sounding at once in note_events' events."""
    sounding = most = 0
    for _, is_on, _, _ in events:
        sounding += 1 if is_on else -1
        most = max(most, sounding)
    return most


def note_events(track: Track, samples_per_beat: float) -> list[tuple[int, int, int, int]]:
    """(sample, 0 = off / 1 = on, pitch, velocity), sorted, offs before ons at one sample, for the notes as
    a keyboard plays them (score.without_overlaps). So a track never holds more than 128 keys at a time,
    and the densest file stays inside FluidSynth's voices and event queue (stacked notes were dropped
    there, with a warning each)."""
    events = []
    for note in without_overlaps(track.notes):
        start = int(round(note.onset * samples_per_beat))
        stop = max(start + 1, int(round(note.end * samples_per_beat)))
        events.append((start, 1, note.pitch, note.velocity))
        events.append((stop, 0, note.pitch, 0))
    events.sort()
    return events
