"""Audio -> notes: basic-pitch's ONNX model (note and onset maps), then our own note extraction.

    transcriber = Transcriber.default()
    notes = transcriber.transcribe_file("loop.wav")   # [TranscribedNote(start_s, end_s, pitch, velocity, confidence)]
    notes = transcriber.transcribe(samples_mono, sr)  # the same from a (n,) float array

The model (Bittner et al., ICASSP 2022, shipped by basic-pitch 0.4.0, Apache-2.0) reads mono audio
at 22050 Hz in windows of 43844 samples and gives, per 256-sample frame (86.13 frames/s) and per
piano key A0..C8, a *note* map (is this pitch sounding?) and an *onset* map (does it start here?).
Windows overlap: each keeps only its middle 141 frames (the edges see less context), and the
window hop is exactly those 141 frames, so the stitched maps lie on one even 256-sample grid.
Long audio streams through a few windows at a time; only the two maps (88 columns each) are kept.
A window whose peak is below -60 dBFS is not run: the model normalises its input level, so it
would read notes into faint noise.

Note extraction (NoteSettings; thresholds as basic-pitch publishes them, the rest tuned on our
SoundFont renders of the baseline composer's parts):
  1. onsets: local peaks in time of the onset map, at least `onset_threshold` (0.5)
  2. each onset starts a note at its pitch, held while the note map stays at or above
     `frame_threshold` (0.3); dips of up to `gap_frames` (3 frames, ~35 ms) are bridged.
     The next onset at the same pitch ends it, unless the note is still sounding there and that
     onset peak is below `restrike_threshold` (0.65): the model often fires weak onsets inside a
     held note when other notes start (on our chord renders: precision 0.63 -> 0.71, recall 0.81 -> 0.77)
  3. notes shorter than `min_note_s` (0.058 s = 5 frames) are dropped
  4. optional (`extra_notes`, off): notes without a detected onset (legato, slurs) from what is
     left of the note map: runs above `frame_threshold` that peak at `extra_threshold` (0.7) or
     more, away from notes found already (their pitch and its two neighbours are masked). It helps
     bowed and sung lines a little and costs precision elsewhere, so it is opt-in.
velocity = 127 x mean note-map value over the note (the model's activation, not a loudness meter);
confidence = that mean times the onset peak (step 4's notes: the mean alone).

Runtime only: numpy, onnxruntime, librosa (for resampling).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from mtm_daw.engine.sessions import WEIGHTS_DIR, PerThreadCount, create_session, model_entry
from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken

MODEL_NAME = "transcriber"
REBUILD_HINT = "reinstall mtm_daw or re-run python -m onnx_export.basic_pitch"
SAMPLE_RATE = 22050  # Hz: what the model reads
WINDOW = 43844  # samples per model call (2 s less one hop)
FRAME_HOP = 256  # samples per output frame
FRAME_RATE = SAMPLE_RATE / FRAME_HOP  # 86.13 frames per second
FRAMES_PER_WINDOW = 172
EDGE = 15  # frames dropped at the start of each window (and 16 at its end)
KEPT = 141  # frames kept per window = the hop between windows, in frames
LOWEST_PITCH = 21  # MIDI A0: map column 0
PITCHES = 88
BATCH = 4  # windows per session.run: memory stays a few MB whatever the audio's length
SILENCE = 1e-3  # a window peaking below -60 dBFS holds no notes (the model would normalise its noise up)

_defaults: PerThreadCount[Transcriber] = PerThreadCount()


@dataclass
class TranscribedNote:
    start_s: float  # seconds from the start of the audio
    end_s: float
    pitch: int  # MIDI note number, 21..108
    velocity: int  # 1..127
    confidence: float  # 0..1

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class NoteSettings:
    onset_threshold: float = 0.5  # an onset-map peak at least this high starts a note
    frame_threshold: float = 0.3  # a note lasts while the note map is at least this high
    min_note_s: float = 0.058  # shorter notes are dropped (5 frames)
    gap_frames: int = 3  # dips below frame_threshold this short (~35 ms) do not end a note
    restrike_threshold: float = 0.65  # a new onset while this pitch still sounds must reach this
    extra_notes: bool = False  # also notes without an onset peak, from the rest of the note map
    extra_threshold: float = 0.7  # such a note must reach this in the note map

    def __post_init__(self) -> None:
        for name in ("onset_threshold", "frame_threshold", "restrike_threshold", "extra_threshold"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise MtmError(f"{name} must be between 0 and 1, got {value!r}")
        if not 0.0 <= self.min_note_s <= 10.0:
            raise MtmError(f"min_note_s must be between 0 and 10 seconds, got {self.min_note_s!r}")
        if not 0 <= int(self.gap_frames) <= 100:
            raise MtmError(f"gap_frames must be between 0 and 100, got {self.gap_frames!r}")


@dataclass
class Activations:
    note: np.ndarray  # (frames, 88) float32 in 0..1: pitch LOWEST_PITCH + column sounds
    onset: np.ndarray  # (frames, 88) float32 in 0..1: it starts in this frame
    frame_rate: float = FRAME_RATE  # frame i is at i / frame_rate seconds


class Transcriber:
    """basic-pitch's model through onnxruntime, with our own note extraction."""

    def __init__(self, model_path: str | os.PathLike, sha256: str | None = None,
                 settings: NoteSettings | None = None):
        self.model_path = Path(model_path)
        self.session = create_session(model_path, sha256, hint=REBUILD_HINT, memory_arena=False)
        self.settings = settings or NoteSettings()
        inputs = self.session.get_inputs()
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        self._input = inputs[0].name
        # basic-pitch's names: :1 note, :2 onset (each (batch, 172, 88)), :0 contour (not used here)
        self._outputs = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2"]
        if (len(inputs) != 1 or list(inputs[0].shape[1:]) != [WINDOW, 1]
                or any(list(outputs.get(name, [])[1:]) != [FRAMES_PER_WINDOW, PITCHES] for name in self._outputs)):
            raise MtmError(f"{self.model_path}: not basic-pitch's transcription model "
                           f"(inputs {[i.shape for i in inputs]}, outputs {outputs}) — {REBUILD_HINT}")

    @classmethod
    def default(cls) -> Transcriber:
        """The shipped model (mtm_daw/weights, checked against the manifest), created once per process and
        thread count (sessions.session_threads)."""
        def make() -> Transcriber:
            entry = model_entry(MODEL_NAME)
            return cls(WEIGHTS_DIR / entry["file"], sha256=entry.get("sha256"))

        return _defaults.get(make)

    def activations(self, samples_mono: np.ndarray, sr: int, *, progress: Callable[[float], None] | None = None,
                    cancel: CancelToken | None = None) -> Activations:
        """The model's note and onset maps for a mono signal, on one even grid of 86.13 frames/s."""
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.analysis._signal import check_mono

        shape = np.shape(samples_mono)
        if len(shape) == 2 and shape[0] != 1:
            raise MtmError(f"the transcriber takes mono samples of shape (n,), got shape {shape}: "
                           "mix the channels down first (e.g. samples.mean(axis=0))")
        y = check_mono(samples_mono, sr)
        if sr != SAMPLE_RATE and len(y):
            import librosa  # slow to import; only needed when resampling

            y = librosa.resample(y, orig_sr=int(sr), target_sr=SAMPLE_RATE, res_type="soxr_hq").astype(np.float32)
        n_frames = -(-len(y) // FRAME_HOP)  # ceil: a partial last frame still counts
        note = np.zeros((n_frames, PITCHES), dtype=np.float32)
        onset = np.zeros((n_frames, PITCHES), dtype=np.float32)
        if n_frames == 0 or np.max(np.abs(y)) < SILENCE:
            if progress is not None:
                progress(1.0)
            return Activations(note, onset)

        # Window w starts EDGE frames before frame w*KEPT; its frames EDGE..EDGE+KEPT-1 are frames
        # w*KEPT .. w*KEPT+KEPT-1 of the whole signal. Windows are cut as they are needed.
        n_windows = -(-n_frames // KEPT)
        for first in range(0, n_windows, BATCH):
            if cancel is not None:
                cancel.check()
            cut = {w: _window(y, (w * KEPT - EDGE) * FRAME_HOP) for w in range(first, min(first + BATCH, n_windows))}
            windows = [w for w, samples in cut.items() if np.max(np.abs(samples)) >= SILENCE]  # others stay 0
            if windows:
                batch = np.stack([cut[w] for w in windows])[:, :, None]  # (B, WINDOW, 1)
                note_out, onset_out = self.session.run(self._outputs, {self._input: batch})  # (B, 172, 88) each
                for w, note_w, onset_w in zip(windows, note_out, onset_out):
                    width = min(KEPT, n_frames - w * KEPT)
                    note[w * KEPT:w * KEPT + width] = note_w[EDGE:EDGE + width]
                    onset[w * KEPT:w * KEPT + width] = onset_w[EDGE:EDGE + width]
            if progress is not None:
                progress(min(first + BATCH, n_windows) / n_windows)
        return Activations(note, onset)

    def transcribe(self, samples_mono: np.ndarray, sr: int, progress: Callable[[float], None] | None = None,
                   cancel: CancelToken | None = None) -> list[TranscribedNote]:
        """Notes of a mono signal (shape (n,) or (1, n), any rate; mix stereo down first), by start time."""
        maps = self.activations(samples_mono, sr, progress=progress, cancel=cancel)
        return extract_notes(maps, self.settings)

    def transcribe_file(self, path: str | os.PathLike, progress: Callable[[float], None] | None = None,
                        cancel: CancelToken | None = None, max_seconds: float | None = None) -> list[TranscribedNote]:
        """Notes of an audio file (mixed to mono, resampled to 22050 Hz on the way in)."""
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.media import load_audio

        audio = load_audio(path, sample_rate=SAMPLE_RATE, mono=True, max_seconds=max_seconds)
        return self.transcribe(audio.samples[0], SAMPLE_RATE, progress=progress, cancel=cancel)


def extract_notes(maps: Activations, settings: NoteSettings | None = None) -> list[TranscribedNote]:
    """Notes from the model's maps (see the module docstring for the steps), sorted by start and pitch."""
    settings = settings or NoteSettings()
    note, onset = maps.note, maps.onset  # (T, 88)
    n_frames = len(note)
    min_frames = max(1, int(round(settings.min_note_s * maps.frame_rate)))
    sounding = note >= settings.frame_threshold  # (T, 88)
    found: list[tuple[int, int, int, float, float]] = []  # (start, stop, column, mean note, onset peak)

    # 1. onset peaks: higher than the frame before, at least as high as the one after
    before = np.vstack([np.zeros((1, PITCHES), np.float32), onset[:-1]])
    after = np.vstack([onset[1:], np.zeros((1, PITCHES), np.float32)])
    peaks = (onset >= settings.onset_threshold) & (onset > before) & (onset >= after)
    for column in range(PITCHES):
        starts = np.flatnonzero(peaks[:, column])
        k = 0
        while k < len(starts):
            # 2. hold while sounding (bridging short dips), up to the next onset at this pitch; a weak
            # onset while the note still sounds is the model hearing the same note again: carry on
            start, held_from = starts[k], starts[k]
            k += 1
            while True:
                limit = starts[k] if k < len(starts) else n_frames
                stop, held = _hold(sounding[:, column], held_from, limit, settings.gap_frames)
                if not (held and k < len(starts) and onset[limit, column] < settings.restrike_threshold):
                    break
                held_from, k = limit, k + 1
            if stop - start >= min_frames:  # 3. long enough
                found.append((start, stop, column, float(note[start:stop, column].mean()),
                              float(onset[start, column])))

    # 4. notes without an onset peak, from the rest of the note map
    if settings.extra_notes:
        left = sounding.copy()
        for start, stop, column, _, _ in found:
            left[start:stop, max(0, column - 1):column + 2] = False
        for column in range(PITCHES):
            for start, stop in _runs(left[:, column], settings.gap_frames):
                if stop - start >= min_frames and note[start:stop, column].max() >= settings.extra_threshold:
                    found.append((start, stop, column, float(note[start:stop, column].mean()), 1.0))

    notes = [TranscribedNote(start_s=float(start / maps.frame_rate), end_s=float(stop / maps.frame_rate),
                             pitch=int(LOWEST_PITCH + column), velocity=int(np.clip(round(127 * mean), 1, 127)),
                             confidence=round(float(mean * peak), 4))
             for start, stop, column, mean, peak in found]
    notes.sort(key=lambda n: (n.start_s, n.pitch))
    return notes


def _window(y: np.ndarray, start: int) -> np.ndarray:
    """WINDOW samples of y from `start` (which may be negative), zero outside the signal."""
    out = np.zeros(WINDOW, dtype=np.float32)
    lo, hi = max(0, start), min(len(y), start + WINDOW)
    if hi > lo:
        out[lo - start:hi - start] = y[lo:hi]
    return out


def _hold(sounding: np.ndarray, start: int, limit: int, gap: int) -> tuple[int, bool]:
    """End frame (exclusive) of a note starting at `start`: the last sounding frame before a
    silence longer than `gap` frames, or `limit`; and whether it was still sounding at `limit`.
    The onset frame itself always counts."""
    stop = start + 1
    quiet = 0
    for i in range(start + 1, limit):
        if sounding[i]:
            stop, quiet = i + 1, 0
        else:
            quiet += 1
            if quiet > gap:
                return stop, False
    return stop, True


def _runs(active: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[start, stop) runs of True, joining runs separated by at most `gap` False frames."""
    edges = np.flatnonzero(np.diff(np.r_[0, active.astype(np.int8), 0]))
    runs: list[tuple[int, int]] = []
    for start, stop in zip(edges[::2], edges[1::2]):
        if runs and start - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], int(stop))
        else:
            runs.append((int(start), int(stop)))
    return runs
