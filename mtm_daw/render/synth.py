"""Built-in synthesiser: renders a Track with plain numpy when no GM SoundFont/FluidSynth is available.

Every note is synthesised as one numpy array (no per-sample Python loops) and added into the
track buffer at its onset. Identical notes are rendered once per call. Output is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken
from mtm_daw.score import gm
from mtm_daw.score.grid import TempoGrid
from mtm_daw.score.score import Track
from mtm_daw.spool import audio_buffer, blocks, let_go


@dataclass(frozen=True)
class Patch:
    """A pitched timbre; one per GM program family (program // 8)."""

    method: str  # "pluck", "mallet", "organ", "analog" or "pipe"
    attack: float  # seconds, linear rise (>= 2 ms so onsets do not click)
    decay: float  # seconds, time constant from peak towards sustain
    sustain: float  # level held until note end, 0..1
    release: float  # seconds of fade after note end (>= 20 ms)
    level: float = 0.2  # per-note peak at velocity 127; four voices stay below 1.0
    wave: str = "saw"  # analog oscillator: "saw", "square" or "mix"
    voices: int = 1  # analog: detuned oscillators per note
    detune: float = 0.0  # analog: cents between the outermost voices
    cutoff: float = 8.0  # analog: low-pass cutoff as a multiple of the fundamental
    max_cutoff: float = 6000.0  # analog: cutoff ceiling in Hz
    bright: float = 0.0  # analog: share of the filtered-out highs let through at the onset, then decaying
    tau: float = 1.0  # pluck/mallet: decay time constant of the fundamental at 220 Hz, seconds
    rolloff: float = 1.5  # pluck: harmonic k has amplitude 1 / k**rolloff


PIANO = Patch("pluck", 0.002, 10.0, 1.0, 0.08, tau=1.4, rolloff=1.6)
GUITAR = Patch("pluck", 0.002, 10.0, 1.0, 0.06, tau=0.8, rolloff=1.2)
MALLET = Patch("mallet", 0.002, 10.0, 1.0, 0.05, tau=0.6)
ORGAN = Patch("organ", 0.006, 1.0, 1.0, 0.05, level=0.18)
BASS = Patch("analog", 0.003, 0.35, 0.55, 0.04, level=0.3, cutoff=6.0, max_cutoff=900.0, bright=0.6)
STRINGS = Patch("analog", 0.12, 1.0, 1.0, 0.3, voices=3, detune=14.0, cutoff=7.0, max_cutoff=5000.0)
BRASS = Patch("analog", 0.04, 0.3, 0.8, 0.08, cutoff=5.0, max_cutoff=4000.0, bright=0.4)
REED = Patch("analog", 0.03, 0.5, 0.85, 0.06, wave="square", cutoff=5.0, max_cutoff=4000.0)
PIPE = Patch("pipe", 0.04, 1.0, 1.0, 0.08)
LEAD = Patch("analog", 0.005, 0.3, 0.8, 0.06, wave="mix", voices=2, detune=8.0, cutoff=10.0, max_cutoff=7000.0)
PAD = Patch("analog", 0.3, 1.0, 1.0, 0.4, voices=3, detune=18.0, cutoff=4.0, max_cutoff=3000.0)

FAMILY_PATCHES = (  # indexed by program // 8
    PIANO, MALLET, ORGAN, GUITAR, BASS, STRINGS, STRINGS, BRASS,
    REED, PIPE, LEAD, PAD, PAD, GUITAR, MALLET, PIPE,
)
ROLE_PAN = {"harmony": -0.2, "melody": 0.2}  # -1 left .. 1 right; other roles centre


MAX_HELD_SECONDS = 30.0  # a longer note (a drone) is held this long, then released: each note is one array
NOTE_CACHE_BYTES = 32 << 20  # rendered notes kept for reuse; an hour of varied notes would otherwise hold gigabytes


def render_track(track: Track, tempo: float, sample_rate: int, n_samples: int,
                 cancel: CancelToken | None = None) -> np.ndarray:
    """Render one Track (note onsets/durations in beats, quarter note = 1 beat at `tempo` BPM)
    to float32 stereo audio of shape (2, n_samples); `cancel` is checked every 256 notes."""
    if not tempo > 0 or not sample_rate > 0 or n_samples < 0:
        raise MtmError(f"cannot render with tempo {tempo!r} BPM, sample rate {sample_rate!r} Hz, "
                       f"length {n_samples!r} samples")
    samples_per_beat = TempoGrid(tempo).samples_per_beat(sample_rate)
    patch = FAMILY_PATCHES[min(max(int(track.program), 0), 127) // 8]
    mono = audio_buffer(n_samples, np.float64)
    cache: dict[tuple[int, int, int], np.ndarray] = {}
    cached_bytes = 0
    for index, note in enumerate(track.notes):
        if index % 256 == 255 and cancel is not None:
            cancel.check()
        if index % 1024 == 1023:
            let_go(mono)  # a long render's mixed notes wait on disk
        start = int(round(note.onset * samples_per_beat))
        if start >= n_samples:
            continue
        velocity = min(max(int(note.velocity), 1), 127)
        hold = 0 if track.is_drum else min(max(1, int(round(note.duration * samples_per_beat))),
                                           int(MAX_HELD_SECONDS * sample_rate))
        key = (int(note.pitch), hold, velocity)
        wave = cache.get(key)
        if wave is None:
            if cached_bytes > NOTE_CACHE_BYTES:
                cache.clear()
                cached_bytes = 0
            gain = (velocity / 127.0) ** 1.5
            if track.is_drum:
                wave = gain * drum_hit(key[0], sample_rate, velocity)
            else:
                wave = gain * pitched_note(patch, key[0], hold, sample_rate, velocity)
            cache[key] = wave
            cached_bytes += wave.nbytes
        skip = max(0, -start)  # a note starting before zero keeps only its audible part
        end = min(start + len(wave), n_samples)
        if end > start + skip:
            mono[start + skip:end] += wave[skip:end - start]
    pan = ROLE_PAN.get(track.role, 0.0)
    left, right = 1.0 - max(pan, 0.0), 1.0 + min(pan, 0.0)
    out = audio_buffer((2, n_samples))
    for start, stop in blocks(n_samples, mono, out):
        out[0, start:stop] = mono[start:stop] * left
        out[1, start:stop] = mono[start:stop] * right
    return out


# ---------------------------------------------------------------- pitched notes

def pitched_note(patch: Patch, pitch: int, hold: int, sr: int, velocity: int) -> np.ndarray:
    """One note: `hold` samples up to note-off plus the release tail, peak `patch.level`."""
    f = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    n = hold + max(1, int(round(patch.release * sr)))
    t = np.arange(n) / sr
    rng = np.random.default_rng(pitch * 1009 + velocity)
    if patch.method == "pluck":
        tone = _pluck(f, t, sr, patch)
    elif patch.method == "mallet":
        scale = patch.tau * (220.0 / f) ** 0.4
        tone = _partials(f, t, sr, ratios=(1.0, 3.93, 9.54), amps=(1.0, 0.35, 0.12),
                         taus=(scale, scale * 0.25, scale * 0.08))
    elif patch.method == "organ":
        tone = _partials(f, t, sr, ratios=(1, 2, 3, 4, 6, 8), amps=(1.0, 0.6, 0.4, 0.3, 0.2, 0.15))
    elif patch.method == "pipe":
        tone = _partials(f, t, sr, ratios=(1, 2, 3), amps=(1.0, 0.12, 0.05))
        breath = _filter(rng.standard_normal(n), "bandpass", (min(2 * f, 0.2 * sr), min(4 * f, 0.4 * sr)), sr)
        breath *= 0.04 + 0.25 * np.exp(-t / 0.06)  # a breathy chiff at the onset, then a little air
        tone = tone / np.max(np.abs(tone)) + breath / (np.max(np.abs(breath)) + 1e-12)
    else:
        tone = _analog(f, t, sr, patch, rng)
    tone /= np.max(np.abs(tone)) + 1e-12
    return patch.level * tone * _adsr(n, hold, sr, patch)


def _adsr(n: int, hold: int, sr: int, patch: Patch) -> np.ndarray:
    """Attack (linear), decay towards sustain (exponential), then a smooth release to exactly zero."""
    t = np.arange(hold) / sr
    attack = max(patch.attack, 0.002)
    env = np.where(t < attack, t / attack,
                   patch.sustain + (1.0 - patch.sustain) * np.exp(-(t - attack) / patch.decay))
    release = n - hold
    fade = env[-1] * 0.5 * (1.0 + np.cos(np.pi * np.arange(release) / release))
    return np.concatenate([env, fade])


def _partials(f: float, t: np.ndarray, sr: int, ratios, amps, taus=None) -> np.ndarray:
    """Sum of sines at f * ratio (those below Nyquist), optionally each decaying with its own tau."""
    out = np.zeros_like(t)
    for i, (ratio, amp) in enumerate(zip(ratios, amps)):
        if f * ratio >= 0.45 * sr and i > 0:
            break
        partial = amp * np.sin(2 * np.pi * f * ratio * t)
        out += partial if taus is None else partial * np.exp(-t / taus[i])
    return out


def _pluck(f: float, t: np.ndarray, sr: int, patch: Patch) -> np.ndarray:
    """Plucked/struck string: harmonics that fade faster the higher they are, slightly stretched."""
    n_harm = max(1, min(12, int(0.45 * sr / f)))
    k = np.arange(1, n_harm + 1)[:, None]  # (H, 1)
    tau = patch.tau * (220.0 / f) ** 0.5 / (1.0 + 0.6 * (k - 1))  # (H, 1)
    stretch = k * np.sqrt(1.0 + 0.0004 * k * k)  # piano-like inharmonicity
    stretch[stretch * f >= 0.48 * sr] = 0.0
    harmonics = np.sin(2 * np.pi * f * stretch * t) * np.exp(-t / tau) / k ** patch.rolloff  # (H, n)
    return harmonics.sum(axis=0)


def _analog(f: float, t: np.ndarray, sr: int, patch: Patch, rng: np.random.Generator) -> np.ndarray:
    """Detuned band-limited saw/square oscillators through a low-pass filter."""
    osc = np.zeros_like(t)
    cents = np.linspace(-patch.detune / 2, patch.detune / 2, patch.voices) if patch.voices > 1 else [0.0]
    for cent in cents:
        fv = f * 2.0 ** (cent / 1200.0)
        phase = fv * t + rng.random()  # cycles; random start so voices don't peak together
        dt = fv / sr
        if patch.wave == "saw":
            osc += _blep_saw(phase, dt)
        elif patch.wave == "square":
            osc += _blep_saw(phase, dt) - _blep_saw(phase + 0.5, dt)
        else:
            osc += _blep_saw(phase, dt) + 0.5 * (_blep_saw(phase, dt) - _blep_saw(phase + 0.5, dt))
    cutoff = min(patch.cutoff * f, patch.max_cutoff, 0.45 * sr)
    low = _filter(osc, "lowpass", cutoff, sr)
    if patch.bright:
        low += patch.bright * np.exp(-t / 0.08) * (osc - low)  # stands in for a filter envelope
    return low


def _blep_saw(phase: np.ndarray, dt: float) -> np.ndarray:
    """Sawtooth from a phase in cycles, with polyBLEP smoothing of the jump to limit aliasing."""
    p = phase % 1.0
    y = 2.0 * p - 1.0
    lo = p < dt
    x = p[lo] / dt
    y[lo] -= 2 * x - x * x - 1.0
    hi = p > 1.0 - dt
    x = (p[hi] - 1.0) / dt
    y[hi] -= x * x + 2 * x + 1.0
    return y


@lru_cache(maxsize=256)
def _sos(kind: str, cutoff: float | tuple[float, float], sr: int) -> np.ndarray:
    # deferred: scipy.signal takes ~0.8 s to import; a cue loads it while its score is written (pipeline.prefetch)
    from scipy.signal import butter

    return butter(2, cutoff, btype=kind, fs=sr, output="sos")


def _filter(x: np.ndarray, kind: str, cutoff: float | tuple[float, float], sr: int) -> np.ndarray:
    if isinstance(cutoff, tuple):
        cutoff = (float(min(cutoff[0], 0.4 * sr)), float(min(max(cutoff[1], cutoff[0] * 1.2), 0.45 * sr)))
    else:
        cutoff = float(min(cutoff, 0.45 * sr))
    # deferred: scipy.signal takes ~0.8 s to import; a cue loads it while its score is written (pipeline.prefetch)
    from scipy.signal import sosfilt

    return sosfilt(_sos(kind, cutoff, sr), x)


# ---------------------------------------------------------------- drums

def drum_hit(key: int, sr: int, velocity: int) -> np.ndarray:
    """One GM drum hit (a one-shot; note duration is ignored), peak about its level at velocity 127."""
    rng = np.random.default_rng(key * 131 + velocity)

    def env(tau: float, length: float) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(int(length * sr)) / sr
        return t, np.exp(-t / tau)

    def noise(n: int, kind: str, cutoff) -> np.ndarray:
        x = _filter(rng.standard_normal(n), kind, cutoff, sr)
        return x / (np.max(np.abs(x)) + 1e-12)

    def sweep(t: np.ndarray, f_end: float, f_start: float, tau: float) -> np.ndarray:
        freq = f_end + (f_start - f_end) * np.exp(-t / tau)
        return np.sin(2 * np.pi * np.cumsum(freq) / sr)

    if key == gm.KICK or key == 35:
        t, e = env(0.12, 0.8)
        hit = sweep(t, 48.0, 160.0, 0.03) * e + 0.3 * noise(len(t), "highpass", 3000.0) * np.exp(-t / 0.003)
        level = 0.5
    elif key in (gm.SNARE, 40):
        t, e = env(0.07, 0.5)
        body = (np.sin(2 * np.pi * 185 * t) + 0.5 * np.sin(2 * np.pi * 330 * t)) * np.exp(-t / 0.05)
        hit = 0.6 * body + noise(len(t), "highpass", 1500.0) * e * 1.2
        level = 0.4
    elif key == gm.CLAP:
        t, e = env(0.12, 0.6)
        bursts = sum(np.exp(-np.clip(t - d, 0, None) / 0.007) * (t >= d) for d in (0.0, 0.011, 0.022))
        hit = noise(len(t), "bandpass", (900.0, 2600.0)) * (bursts + 0.5 * e * (t >= 0.022))
        level = 0.35
    elif key in (gm.CLOSED_HAT, gm.PEDAL_HAT, gm.OPEN_HAT):
        tau = {gm.CLOSED_HAT: 0.025, gm.PEDAL_HAT: 0.04, gm.OPEN_HAT: 0.25}[key]
        t, e = env(tau, tau * 7)
        hit = noise(len(t), "highpass", 7000.0) * e
        level = 0.16
    elif key in (gm.CRASH, 57, 52, 55):
        t, e = env(0.8, 4.0)
        hit = noise(len(t), "highpass", 4000.0) * e
        level = 0.22
    elif key in (gm.RIDE, 59, 53):
        t, e = env(0.5, 3.0)
        bell = np.sin(2 * np.pi * 3100 * t) + 0.6 * np.sin(2 * np.pi * 4730 * t)
        hit = noise(len(t), "highpass", 5000.0) * e + 0.25 * bell * np.exp(-t / 0.3)
        level = 0.18
    elif key in (41, 43, 45, 47, 48, 50):  # toms, low floor .. high
        f = 70.0 * 2.0 ** ((key - 41) / 7.0)
        t, e = env(0.18, 1.0)
        hit = sweep(t, f, f * 1.6, 0.05) * e + 0.15 * noise(len(t), "bandpass", (f * 2, f * 8)) * np.exp(-t / 0.02)
        level = 0.4
    elif key in (gm.TAMBOURINE, gm.SHAKER, 69, 82):
        t, e = env(0.06 if key == gm.TAMBOURINE else 0.04, 0.4)
        rise = np.minimum(1.0, t / (0.002 if key == gm.TAMBOURINE else 0.012))
        hit = noise(len(t), "highpass", 6000.0 if key == gm.TAMBOURINE else 4500.0) * e * rise
        level = 0.15
    elif key == gm.SIDE_STICK:
        t, e = env(0.012, 0.1)
        hit = (np.sin(2 * np.pi * 1700 * t) + 0.7 * np.sin(2 * np.pi * 820 * t)) * e \
            + 0.5 * noise(len(t), "highpass", 2000.0) * np.exp(-t / 0.004)
        level = 0.28
    else:  # anything else in the kit: a short tuned click so the hit is never silent
        f = 200.0 * 2.0 ** ((key - 60) / 24.0)
        t, e = env(0.05, 0.35)
        hit = (np.sin(2 * np.pi * f * t) + noise(len(t), "bandpass", (1500.0, 5000.0))) * e
        level = 0.2
    fade = min(len(hit), int(0.005 * sr))
    hit[len(hit) - fade:] *= np.linspace(1.0, 0.0, fade)  # end at exactly zero: no click at the cut
    return level * hit / (np.max(np.abs(hit)) + 1e-12)
