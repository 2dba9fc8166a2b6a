"""Score -> one stereo audio buffer per role (a Stem), through a GM SoundFont or the built-in synth."""
from __future__ import annotations

import math
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

from mtm_daw.cores import usable_cores
from mtm_daw.cue import Stem
from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken
from mtm_daw.export.wav import MAX_DATA_BYTES
from mtm_daw.render.builtin import BuiltinRenderer
from mtm_daw.render.fluid import FluidSynthRenderer, fluidsynth_available
from mtm_daw.render.soundfont import find_soundfont
from mtm_daw.score.score import Score
from mtm_daw.spool import spools

SAMPLE_RATE = 48000
TAIL_SECONDS = 2.0  # room for releases and reverb after the last bar
# Tracks a cue renders at once through the SoundFont, each on a synthesiser of its own (as many cores as the
# engine's two session threads: a DAW keeps the rest). A 30 s four-stem cue: 0.36 -> 0.21 s, the same samples.
CUE_SYNTHS = 2
CANCEL_POLL_SECONDS = 0.05  # how often a track's render is checked for a cancel while it is made


def make_renderer(soundfont: str | None = None, synth: str = "auto", sample_rate: int = SAMPLE_RATE,
                  warn: Callable[[str], None] = print, for_listening: bool = False, synths: int = 1):
    """synth: 'auto' (SoundFont when one is found, else built-in), 'soundfont' or 'builtin'. for_listening:
    a render only analysed (tagging, describing), never exported: the SoundFont's samples load on demand.
    synths: how many tracks render_score plays at once through the SoundFont (each a synthesiser of its own)."""
    if synth == "builtin":
        return BuiltinRenderer(sample_rate, warn)
    if synth not in ("auto", "soundfont"):
        raise MtmError(f"unknown synth '{synth}' (choose auto, soundfont or builtin)")
    path = find_soundfont(soundfont)
    if path is not None and fluidsynth_available():
        return FluidSynthRenderer(path, sample_rate, warn=warn, load_on_demand=for_listening, synths=synths)
    reason = ("the FluidSynth library (libfluidsynth) is not installed" if path is not None
              else "no General MIDI SoundFont was found (install fluid-soundfont-gm or pass --soundfont)")
    if synth == "soundfont" or soundfont:
        raise MtmError(f"cannot render with a SoundFont: {reason}")
    warn(f"note: {reason}; rendering with the built-in synthesiser instead")
    return BuiltinRenderer(sample_rate, warn)


_kept: dict[tuple, FluidSynthRenderer] = {}  # the last cue's loaded renderer, by SoundFont file and rate
_kept_lock = threading.Lock()


@contextmanager
def cue_renderer(soundfont: str | None = None, synth: str = "auto", sample_rate: int = SAMPLE_RATE,
                 warn: Callable[[str], None] = print) -> Iterator:
    """make_renderer for a cue, kept loaded for the next one: loading a GM SoundFont takes ~0.15 s, and every
    track starts on a synth reset to the same state, so a kept renderer plays it sample for sample as a new
    one. One idle renderer is kept, for the last SoundFont file (path, size, time) and rate; a second cue
    at once gets its own."""
    path = find_soundfont(soundfont) if synth != "builtin" else None
    key = None
    if path is not None:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, sample_rate)
    with _kept_lock:
        renderer = _kept.pop(key, None) if key else None
    if renderer is None:
        renderer = make_renderer(soundfont, synth, sample_rate, warn, synths=min(CUE_SYNTHS, usable_cores()))
    else:
        renderer.warn = warn
    try:
        yield renderer
        if not isinstance(renderer, FluidSynthRenderer) or key is None:
            renderer.close()
            return
        renderer.silence()  # the next cue's first track must not meet this one's ringing voices
    except BaseException:
        renderer.close()  # a render cut short (cancel, error) is not kept
        raise
    with _kept_lock:  # one kept at most: another SoundFont or rate takes its place
        replaced = list(_kept.values())
        _kept.clear()
        _kept[key] = renderer
    for other in replaced:
        other.close()


def keep_renderer_loaded(soundfont: str | None = None, synth: str = "auto", sample_rate: int = SAMPLE_RATE) -> None:
    """Load the renderer a cue with these settings will take (cue_renderer keeps it), ahead of that cue."""
    with cue_renderer(soundfont, synth, sample_rate, warn=lambda message: None):
        pass


def release_kept_renderers() -> None:
    """Close the renderers kept loaded between cues (their SoundFonts leave memory)."""
    with _kept_lock:
        kept = list(_kept.values())
        _kept.clear()
    for renderer in kept:
        renderer.close()


def listening_renderer(sample_rate: int, synths: int = 1):
    """A renderer for audio that is only analysed (tagging, describing), never exported: quiet about a
    missing SoundFont, its samples loaded on demand; `synths` threads can render on it at once. Close it
    after use (a synth holds its SoundFont)."""
    return make_renderer(sample_rate=sample_rate, warn=lambda message: None, for_listening=True, synths=synths)


def render_score(score: Score, renderer, tail_seconds: float = TAIL_SECONDS,
                 progress: Callable[[float], None] = lambda fraction: None) -> dict[str, Stem]:
    """Every track rendered to the same length: the score's whole bars plus a release tail of whole
    beats (so the file is a whole number of beats long, as the WAV's tempo tag says)."""
    tail_beats = math.ceil(score.grid.beats(tail_seconds))
    n_samples = score.grid.sample(score.length_beats + tail_beats, renderer.sample_rate)
    if n_samples * 2 * 3 > MAX_DATA_BYTES:  # the stems are 24-bit stereo WAV files
        raise MtmError(f"{n_samples / renderer.sample_rate / 60:.0f} minutes at {renderer.sample_rate} Hz would make "
                       f"WAV files over 4 GB, the format's limit; choose a lower sample rate (192 kHz fits an hour)")
    # a renderer with several synths plays that many tracks at once; a long cue's, written to disk as they
    # are made, go one at a time (two stems spooled at once kept the panel's UI thread waiting)
    at_once = 1 if spools((2, n_samples)) else renderer.tracks_at_once
    tracks = list(score.tracks.items())
    said: dict[str, list[str]] = {role: [] for role, _ in tracks}
    stop = CancelToken()  # ends the tracks still rendering when this ends early (a cancel, an error)
    stems = {}
    rendered = []
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="mtm-render") as pool:
        try:
            rendered += [pool.submit(renderer.render_track, track, score.tempo, n_samples, cancel=stop,
                                    warn=said[role].append) for role, track in tracks]
            # progress (and the cancel it checks) is called on this thread, in the tracks' order, also while a
            # long track renders; a track that fails ends the render at once, whichever it is
            for index, ((role, track), future) in enumerate(zip(tracks, rendered)):
                while not future.done():
                    for finished in rendered[index:]:
                        if finished.done() and finished.exception() is not None:
                            finished.result()
                    wait([other for other in rendered[index:] if not other.done()], CANCEL_POLL_SECONDS,
                         FIRST_COMPLETED)
                    progress(index / len(tracks))
                audio = future.result()
                for line in said[role]:  # on this thread: a warn callback need not be thread-safe
                    renderer.warn(line)
                stems[role] = Stem(role, audio, renderer.sample_rate, track.program)
                progress((index + 1) / len(tracks))
        finally:
            for future in rendered:  # none starts, then the running ones stop at their next block
                future.cancel()
            stop.cancel()
            pool.shutdown()
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
