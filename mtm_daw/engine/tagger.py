"""Music auto-tagging with musicnn's pre-trained taggers: genres, moods, instruments, eras.

    tagger = MusicTagger.default("msd")      # or "mtt"
    probabilities = tagger.tag_audio(samples_mono, sample_rate)   # {"rock": 0.61, "jazz": 0.02, ...}
    tagger.top_tags(samples_mono, sample_rate, k=5)               # [("rock", 0.61), ...]

Two models, both musicnn (Pons & Serra, "musicnn: pre-trained convolutional neural networks for music
audio tagging", ISMIR 2019 LBD; ISC licence, see weights/musicnn_LICENSE.txt), trained on real music:

    "mtt"  MagnaTagATune: 50 tags, many of them instruments and voices (guitar, piano, drums, strings,
           violin, synth, flute, harp, cello, sitar, vocals, choir...) and styles (classical, techno, rock...)
    "msd"  Million Song Dataset (last.fm tags): 50 tags, genres (rock, jazz, Hip-Hop, House, country,
           funk, metal, ambient...), moods (sad, happy, chill, Mellow...) and eras (60s..00s)

Each tag is an independent probability (sigmoid, not softmax): they do not add up to 1.

The front end is musicnn's own (musicnn/extractor.py), in numpy: 16 kHz mono, |STFT|^2 with a 512-point
periodic Hann window and a hop of 256 (centred frames, zero padding), 96 Slaney mel bands (librosa's
filterbank), stored as float16 as musicnn does, then log10(10000 * mel + 1). The file is cut into
non-overlapping patches of 187 frames (3 s); a clip shorter than one patch is repeated until it fills one
(musicnn's training "repeat-pad"); a long file is summarised by at most MAX_PATCHES patches spread evenly.
The model's sigmoid outputs are averaged over the patches.

Runtime only: numpy, scipy, onnxruntime, and librosa for its mel filterbank and (only when the audio is not
at 16 kHz) the project's usual soxr resampling. The ONNX files come from onnx_export/musicnn.py.
"""
from __future__ import annotations

import json
from typing import Callable

import numpy as np

from mtm_daw.engine.sessions import WEIGHTS_DIR, PerThreadCount, create_session, model_entry
from mtm_daw.errors import MtmError
from mtm_daw.progress import CancelToken

MODEL_NAMES = {"mtt": "musicnn_mtt", "msd": "musicnn_msd"}
REBUILD_HINT = "reinstall mtm_daw or re-run onnx_export/musicnn.py"

SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3 s) + 1, as musicnn's extractor computes it
PATCH_SECONDS = PATCH_FRAMES * HOP_LENGTH / SAMPLE_RATE  # 2.992 s
LOG_SCALE = 10000.0
MAX_PATCHES = 20  # a long file is summarised by at most this many evenly spaced patches
N_TAGS = 50
BATCH_SIZE = 2  # patches per run: onnxruntime keeps its largest batch's activations (8: ~340 MB a tagger, 2: ~100 MB; as fast)

# Everything the model expects of its input: written into each ONNX file ("frontend" metadata) and the
# manifest by the export, and checked against these constants when a model is loaded.
FRONTEND = {
    "sample_rate": SAMPLE_RATE,
    "mono": True,
    "n_fft": N_FFT,
    "hop_length": HOP_LENGTH,
    "window": "hann (periodic)",
    "center": True,
    "pad_mode": "constant",
    "power": 2.0,
    "n_mels": N_MELS,
    "fmin": 0.0,
    "fmax": SAMPLE_RATE / 2,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "patch_frames": PATCH_FRAMES,
    "patch_hop_frames": PATCH_FRAMES,
    "patch_seconds": PATCH_SECONDS,
    "log_compression": "log10(10000 * float16(mel_power) + 1)",
    "short_clip": "repeat-pad",
    "input": "log_mel (batch, 187, 96) float32, frames x mel bands",
    "output": "tag_probabilities (batch, 50) float32, sigmoid",
}

_mel_basis: np.ndarray | None = None
_window: np.ndarray | None = None
_defaults: PerThreadCount[MusicTagger] = PerThreadCount()  # by dataset and thread count


def _filters() -> tuple[np.ndarray, np.ndarray]:
    """The 96 x 257 Slaney mel filterbank (librosa's, float32) and the periodic Hann window (float64)."""
    global _mel_basis, _window
    if _mel_basis is None:
        from librosa.filters import mel  # slow to import; only the filterbank is used
        from scipy.signal import get_window

        _window = get_window("hann", N_FFT, fftbins=True).astype(np.float64)
        _mel_basis = mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32)
    return _mel_basis, _window


def to_model_rate(samples_mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """(n,) or (1, n) finite samples at any rate -> (n',) float32 at 16 kHz (soxr, as librosa.load does)."""
    y = np.asarray(samples_mono)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1:
        raise MtmError(f"the tagger takes mono samples of shape (n,), got shape {y.shape}: "
                       "mix the channels down first (e.g. samples.mean(axis=0))")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise MtmError(f"sample rate must be a positive integer, got {sample_rate!r}")
    if not np.all(np.isfinite(y)):
        raise MtmError("the audio contains invalid (NaN or infinite) samples")
    y = y.astype(np.float32, copy=False)
    if sample_rate != SAMPLE_RATE and len(y):
        import librosa  # slow to import; only needed when resampling

        y = librosa.resample(y, orig_sr=int(sample_rate), target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def log_mel(samples_16k: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) float32: musicnn's log-compressed mel spectrogram of 16 kHz mono samples."""
    return _log_mel_of_padded(_centred(samples_16k))


def _centred(samples_16k: np.ndarray) -> np.ndarray:
    """The samples padded as centred frames need them (frame t covers padded[t * HOP : t * HOP + N_FFT])."""
    y = np.asarray(samples_16k, dtype=np.float32)
    if y.ndim != 1:
        raise MtmError(f"log_mel wants mono samples, got shape {y.shape}")
    if len(y) == 0:
        raise MtmError("the audio is empty")
    padded = np.pad(y, N_FFT // 2, mode="constant")
    if len(padded) < N_FFT:  # fewer samples than half a window: zero-pad to one frame
        padded = np.pad(padded, (0, N_FFT - len(padded)))
    return padded


def _log_mel_of_padded(padded: np.ndarray) -> np.ndarray:
    mel_basis, window = _filters()
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]  # (T, N_FFT) float32
    spectrum = np.fft.rfft(frames * window, axis=-1).astype(np.complex64)  # float64 FFT, stored as librosa does
    power = np.abs(spectrum) ** 2  # (T, 257) float32
    # (T, 96), summed in float64: a float32 product's last bit hangs on how BLAS blocks the rows, so one patch
    # alone and the whole file disagreed on a CPU with AVX2 only; rounded to float32 the sums agree
    mel = (power.astype(np.float64) @ mel_basis.T.astype(np.float64)).astype(np.float32)
    mel = mel.astype(np.float16).astype(np.float32)  # musicnn stores the spectrogram as float16
    return np.log10(np.float32(LOG_SCALE) * mel + np.float32(1.0)).astype(np.float32)


def patch_starts(frames: int, max_patches: int = MAX_PATCHES) -> np.ndarray:
    """The first frame of each patch: non-overlapping, thinned evenly to at most max_patches."""
    starts = np.arange(0, frames - PATCH_FRAMES + 1, PATCH_FRAMES)
    if len(starts) > max_patches:
        starts = starts[np.linspace(0, len(starts) - 1, max_patches).round().astype(int)]
    return starts


def patches(mel: np.ndarray, max_patches: int = MAX_PATCHES) -> np.ndarray:
    """(patches, PATCH_FRAMES, N_MELS): non-overlapping 3 s patches (musicnn's batching), a short clip
    repeated to fill one, a long one thinned evenly to at most max_patches."""
    mel = np.asarray(mel, dtype=np.float32)
    frames = mel.shape[0]
    if frames == 0:
        raise MtmError("the audio is empty")
    if frames < PATCH_FRAMES:
        mel = np.tile(mel, (int(np.ceil(PATCH_FRAMES / frames)), 1))[:PATCH_FRAMES]
        frames = PATCH_FRAMES
    starts = patch_starts(frames, max_patches)
    return np.ascontiguousarray(np.stack([mel[s:s + PATCH_FRAMES] for s in starts]), dtype=np.float32)


def log_mel_patches(samples_mono: np.ndarray, sample_rate: int, max_patches: int = MAX_PATCHES) -> np.ndarray:
    """Mono audio at any rate -> the model's input, (patches, PATCH_FRAMES, N_MELS) float32; the same as
    patches(log_mel(...)), but only the chosen patches' spectra are computed, so a long file costs no
    more memory than max_patches patches."""
    y = to_model_rate(samples_mono, sample_rate)
    half = N_FFT // 2
    frames = 1 + (len(y) + 2 * half - N_FFT) // HOP_LENGTH  # of the centred (padded) signal
    if frames < PATCH_FRAMES:
        return patches(_log_mel_of_padded(_centred(y)), max_patches)
    span = (PATCH_FRAMES - 1) * HOP_LENGTH + N_FFT  # the padded samples one patch's frames cover

    def padded_slice(first: int) -> np.ndarray:  # _centred(y)[first:first + span], without padding all of y
        piece = np.zeros(span, dtype=np.float32)
        low, high = max(0, first - half), min(len(y), first - half + span)
        piece[low - (first - half):high - (first - half)] = y[low:high]
        return piece

    return np.stack([_log_mel_of_padded(padded_slice(s * HOP_LENGTH)) for s in patch_starts(frames, max_patches)])


class MusicTagger:
    """Audio -> {tag: probability} with one of musicnn's taggers (see the module docstring)."""

    def __init__(self, model_path, sha256: str | None = None, tags: list[str] | None = None,
                 dataset: str = "") -> None:
        self.model_path = model_path
        self.dataset = dataset
        self.session = create_session(model_path, sha256, hint=REBUILD_HINT, memory_arena=False)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if (len(inputs) != 1 or list(inputs[0].shape[1:]) != [PATCH_FRAMES, N_MELS]
                or len(outputs) != 1 or list(outputs[0].shape[1:]) != [N_TAGS]):
            raise MtmError(f"{model_path}: not a musicnn tagger for ({PATCH_FRAMES}, {N_MELS}) log-mel patches "
                           f"(inputs {[i.shape for i in inputs]}, outputs {[o.shape for o in outputs]}) — "
                           f"{REBUILD_HINT}")
        self._input, self._output = inputs[0].name, outputs[0].name
        metadata = self.session.get_modelmeta().custom_metadata_map
        try:
            model_tags = json.loads(metadata["tags"])
            frontend = json.loads(metadata["frontend"])
        except (KeyError, ValueError) as exc:
            raise MtmError(f"{model_path}: the tagger has no tag names or front-end settings — "
                           f"{REBUILD_HINT}") from exc
        if (not isinstance(model_tags, list) or len(model_tags) != N_TAGS
                or not all(isinstance(t, str) for t in model_tags)):
            raise MtmError(f"{model_path}: the tagger's tag list is damaged — {REBUILD_HINT}")
        if tags is not None and list(tags) != model_tags:
            raise MtmError(f"{model_path}: the tags in the manifest and in the model differ — {REBUILD_HINT}")
        mismatched = [key for key in ("sample_rate", "n_fft", "hop_length", "n_mels", "patch_frames", "log_compression")
                      if frontend.get(key) != FRONTEND[key]]
        if mismatched:
            raise MtmError(f"{model_path}: the tagger expects another front end ({', '.join(mismatched)} differ) — "
                           f"{REBUILD_HINT}")
        self.tags: list[str] = model_tags

    @classmethod
    def default(cls, dataset: str = "msd") -> MusicTagger:
        """The shipped tagger for `dataset` ("mtt" or "msd"), checked against the manifest, created once per process
        and thread count (sessions.session_threads)."""
        key = str(dataset).strip().lower()
        if key not in MODEL_NAMES:
            raise MtmError(f"unknown tagger {dataset!r}: choose one of {', '.join(sorted(MODEL_NAMES))}")
        def make() -> MusicTagger:
            entry = model_entry(MODEL_NAMES[key])
            return cls(WEIGHTS_DIR / entry["file"], sha256=entry.get("sha256"), tags=entry.get("tags"), dataset=key)

        return _defaults.get(make, key)

    def predict_patches(self, batch: np.ndarray, cancel: CancelToken | None = None,
                        progress: Callable[[float], None] | None = None) -> np.ndarray:
        """(patches, PATCH_FRAMES, N_MELS) log-mel -> (patches, N_TAGS) probabilities."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 3 or batch.shape[1:] != (PATCH_FRAMES, N_MELS):
            raise MtmError(f"expected log-mel patches of shape (n, {PATCH_FRAMES}, {N_MELS}), got {batch.shape}")
        parts = []
        for start in range(0, len(batch), BATCH_SIZE):
            if cancel is not None:
                cancel.check()
            parts.append(self.session.run([self._output], {self._input: batch[start:start + BATCH_SIZE]})[0])
            if progress is not None:
                progress(min(start + BATCH_SIZE, len(batch)) / len(batch))
        if not parts:
            return np.zeros((0, N_TAGS), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32)

    def taggram(self, samples_mono: np.ndarray, sample_rate: int, max_patches: int = MAX_PATCHES,
                cancel: CancelToken | None = None) -> np.ndarray:
        """(patches, N_TAGS): the probabilities of each 3 s patch (at most max_patches, evenly spread)."""
        return self.predict_patches(log_mel_patches(samples_mono, sample_rate, max_patches), cancel=cancel)

    def tag_audio(self, samples_mono: np.ndarray, sample_rate: int, max_patches: int = MAX_PATCHES,
                  cancel: CancelToken | None = None) -> dict[str, float]:
        """{tag: probability} for a clip: each tag's probability averaged over the clip's patches."""
        return self.tag_patches(log_mel_patches(samples_mono, sample_rate, max_patches), cancel)

    def tag_patches(self, batch: np.ndarray, cancel: CancelToken | None = None) -> dict[str, float]:
        """{tag: probability} averaged over log-mel patches already made (both taggers share one front end)."""
        mean = self.predict_patches(batch, cancel=cancel).mean(axis=0)
        return {tag: float(p) for tag, p in zip(self.tags, mean)}

    def tag_file(self, path, max_patches: int = MAX_PATCHES, cancel: CancelToken | None = None) -> dict[str, float]:
        """{tag: probability} for an audio file (WAV, FLAC, MP3, ...), mixed down to mono, resampled to 16 kHz."""
        # deferred: only this path needs pedalboard, PyAV, Pillow
        from mtm_daw.media.audio import load_audio

        audio = load_audio(path, mono=True)
        return self.tag_audio(audio.samples[0], audio.sample_rate, max_patches, cancel)

    def top_tags(self, samples_mono: np.ndarray, sample_rate: int, k: int = 5,
                 cancel: CancelToken | None = None) -> list[tuple[str, float]]:
        """The k most probable tags, most probable first."""
        return top(self.tag_audio(samples_mono, sample_rate, cancel=cancel), k)


def top(probabilities: dict[str, float], k: int = 5) -> list[tuple[str, float]]:
    """The k highest entries of a {tag: probability} dict, highest first."""
    return sorted(probabilities.items(), key=lambda item: -item[1])[:max(0, int(k))]
