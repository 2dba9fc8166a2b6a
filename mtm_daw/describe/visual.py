"""Offline visual analysis for the text bridge: colour, motion, shot cuts and visual beats.

The MTM paper's MMDM (a fine-tuned vision-language model) is replaced here by measurements a
musician can check by eye. Per analysed video frame (about `analysis_fps` per second, each
shrunk to at most 160 pixels by `mtm_daw.media.iter_frames`):

- brightness      mean luma (Rec. 601), 0..1
- saturation      mean HSV saturation (max - min) / max, 0..1
- hue             saturation-weighted circular mean of the hue angle, degrees 0..360, with
                  `hue_strength` (0..1, how much colour points one way; ~0 for grey frames)
- colourfulness   Hasler & Süsstrunk (2003) M = sigma_rgyb + 0.3 mu_rgyb on the 0..255 scale
                  (about 15 "slightly", 33 "moderately", 59 "quite", 82 "highly", 109 "extremely")
- motion          mean absolute difference of consecutive small grey frames (0..1), scaled to
                  one analysis interval, with the values at shot cuts replaced by their neighbours'
- cut_score       colour-histogram distance to the previous frame (half L1 over softly binned 8x8x8
                  RGB bins of the thumbnail, 0..1)
- change          mean absolute RGB difference of the thumbnail to the previous frame's (0..1)

Shots (hard cuts, dissolves, fades) are found by `shots.find_shots` from each frame's 40 x 22
colour thumbnail and its colour histogram; a hard cut's time is that of the first
analysed frame of the new shot, so it is exact to one analysis frame. Visual beats are peaks of
the motion-onset curve (rise of motion over the previous two frames) with a minimum spacing.

Memory stays bounded for long videos: per frame, scalars, a 512-bin histogram and a 40 x 22
colour thumbnail (about 5 KB; 23 MB for a 10-minute video) are kept.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from mtm_daw.describe.shots import FrameMeasures, find_shots
from mtm_daw.description import Cut
from mtm_daw.errors import MtmError
from mtm_daw.media.image import load_image
from mtm_daw.media.video import iter_frames, probe_video, sound_levels
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress

ANALYSIS_MAX_SIDE = 160  # pixels on the long side of each analysed frame
IMAGE_MAX_SIDE = 256  # pixels on the long side of an analysed still image
HIST_LEVELS = 8  # per RGB channel -> 512-bin colour histogram for cut detection
THUMBNAIL_BLOCK = 4  # pixels per side of a thumbnail pixel: 160 x 90 -> 40 x 22, kept for shot detection

# Visual beats
BEAT_MIN_SPACING = 0.35  # seconds between visual beats (about one beat at 170 BPM)
BEAT_K = 3.0  # onset peaks above median + BEAT_K robust sigma within +-BEAT_WINDOW seconds
BEAT_WINDOW_SECONDS = 3.0
BEAT_FLOOR = 0.004  # minimum onset (mean abs grey difference), ignores compression noise
BEAT_RELATIVE = 0.3  # ... and at least this fraction of the largest onset within +-BEAT_WINDOW_SECONDS


@dataclass
class ColourFeatures:
    brightness: float  # mean luma, 0..1
    saturation: float  # mean HSV saturation, 0..1
    hue: float  # degrees 0..360, saturation-weighted circular mean
    hue_strength: float  # 0..1: length of the saturation-weighted mean hue vector
    colourfulness: float  # Hasler & Süsstrunk M, 0..~150 (0..255 pixel scale)


@dataclass
class VideoAnalysis:
    path: str
    duration: float  # seconds, of the whole video
    analysis_fps: float  # frames per second actually analysed (requested rate, at most the video's)
    times: np.ndarray  # (N,) seconds of each analysed frame
    brightness: np.ndarray  # (N,) 0..1
    saturation: np.ndarray  # (N,) 0..1
    hue: np.ndarray  # (N,) degrees
    hue_strength: np.ndarray  # (N,) 0..1
    colourfulness: np.ndarray  # (N,) Hasler & Süsstrunk M
    motion: np.ndarray  # (N,) 0..1 per analysis interval, cut transitions replaced by neighbours
    cut_score: np.ndarray  # (N,) histogram distance to the previous frame, 0..1
    change: np.ndarray  # (N,) mean abs RGB difference of the thumbnail to the previous frame's, 0..1
    motion_onset: np.ndarray  # (N,) rise of motion, the curve visual beats are picked from
    loudness: np.ndarray | None = None  # (N,) dBFS of the clip's own sound at each frame; None without sound
    transitions: list[Cut] = field(default_factory=list)  # every shot change: hard cuts, dissolves, fades
    cuts: list[float] = field(default_factory=list)  # seconds, first frame of each new shot after a hard cut
    cut_strengths: list[float] = field(default_factory=list)  # how much the picture changes at each, 0..1
    visual_beats: list[float] = field(default_factory=list)  # seconds, middle of the frame interval where motion rose
    beat_strengths: list[float] = field(default_factory=list)  # onset at each beat, >= 0
    # summary
    mean_brightness: float = 0.0
    mean_saturation: float = 0.0
    mean_colourfulness: float = 0.0
    mean_motion: float = 0.0
    dominant_hue: float = 0.0  # degrees
    hue_strength_overall: float = 0.0  # 0..1
    cuts_per_minute: float = 0.0

    @property
    def frame_count(self) -> int:
        return int(self.times.size)

    def cut_indices(self) -> list[int]:
        return [int(np.searchsorted(self.times, t)) for t in self.cuts]


@dataclass
class ImageAnalysis:
    path: str
    width: int  # analysed size (long side <= IMAGE_MAX_SIDE)
    height: int
    brightness: float
    saturation: float
    hue: float
    hue_strength: float
    colourfulness: float
    contrast: float  # RMS contrast: standard deviation of luma, 0..0.5
    edge_density: float  # fraction of pixels on an edge (Sobel magnitude above a fixed level), 0..1


# --- per-frame features ----------------------------------------------------------------------

def colour_features(rgb: np.ndarray) -> tuple[ColourFeatures, np.ndarray]:
    """Colour statistics of an (H, W, 3) uint8 RGB array, and its luma plane (H, W) 0..1."""
    height, width = rgb.shape[:2]
    n = float(height * width)
    planar = rgb.reshape(-1, 3).T  # (3, N) view
    r, g, b = (planar[k].astype(np.float32) * np.float32(1 / 255) for k in range(3))  # (N,) each, 0..1
    luma = 0.299 * r + 0.587 * g + 0.114 * b  # (N,)
    high = np.maximum(np.maximum(r, g), b)
    low = np.minimum(np.minimum(r, g), b)
    sat = (high - low) / np.maximum(high, np.float32(1e-6))  # HSV saturation, 0 for black
    # Hue on the opponent-colour plane (the circular form of HSV's hexagonal hue).
    alpha = r - 0.5 * (g + b)
    beta = np.float32(0.8660254) * (g - b)
    chroma = np.sqrt(alpha * alpha + beta * beta)
    weight = sat / np.maximum(chroma, np.float32(1e-6))  # sat * (cos h, sin h) = weight * (alpha, beta)
    hx = float(np.dot(weight, alpha)) / n
    hy = float(np.dot(weight, beta)) / n
    mean_sat = float(sat.sum(dtype=np.float64)) / n
    hue = math.degrees(math.atan2(hy, hx)) % 360.0
    hue_strength = math.hypot(hx, hy) / mean_sat if mean_sat > 1e-6 else 0.0
    # Hasler & Süsstrunk colourfulness on the 0..255 scale.
    rg = r - g
    yb = 0.5 * (r + g) - b
    mean_rg, mean_yb = float(rg.sum(dtype=np.float64)) / n, float(yb.sum(dtype=np.float64)) / n
    var_rg = max(0.0, float(np.dot(rg, rg)) / n - mean_rg ** 2)
    var_yb = max(0.0, float(np.dot(yb, yb)) / n - mean_yb ** 2)
    colourfulness = 255.0 * (math.sqrt(var_rg + var_yb) + 0.3 * math.hypot(mean_rg, mean_yb))
    features = ColourFeatures(brightness=float(luma.sum(dtype=np.float64)) / n, saturation=mean_sat, hue=hue,
                              hue_strength=min(1.0, hue_strength), colourfulness=colourfulness)
    return features, luma.reshape(height, width)


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """Normalised 8x8x8 RGB histogram (512,) float64 of an (H, W, 3) uint8 array, softly binned: each
    pixel is shared between the two nearest bins of each channel (trilinear weights), so a colour moving
    steadily moves the histogram steadily instead of jumping from bin to bin."""
    position = rgb.reshape(-1, 3).astype(np.float32) * np.float32(HIST_LEVELS / 256) - np.float32(0.5)
    low = np.floor(position)
    upper = position - low  # weight of the upper bin
    low = low.astype(np.int64)
    counts = np.zeros(HIST_LEVELS ** 3)
    for corner in range(8):
        index, weight = 0, np.float32(1.0)
        for channel in range(3):
            take_upper = (corner >> channel) & 1
            bins = np.clip(low[:, channel] + take_upper, 0, HIST_LEVELS - 1)
            index = index * HIST_LEVELS + bins
            weight = weight * (upper[:, channel] if take_upper else 1 - upper[:, channel])
        counts += np.bincount(index, weights=weight, minlength=HIST_LEVELS ** 3)
    return counts / max(1, rgb.shape[0] * rgb.shape[1])


def _thumbnail(rgb: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    """4 x 4 block means of an RGB frame (about 40 x 22 x 3, uint8), at `shape` when given (frames
    that change size)."""
    height, width = rgb.shape[0] // THUMBNAIL_BLOCK, rgb.shape[1] // THUMBNAIL_BLOCK
    if height == 0 or width == 0:
        small = rgb
    else:
        blocks = rgb[:height * THUMBNAIL_BLOCK, :width * THUMBNAIL_BLOCK].reshape(
            height, THUMBNAIL_BLOCK, width, THUMBNAIL_BLOCK, 3)
        small = blocks.mean(axis=(1, 3)).round().astype(np.uint8)
    if shape is None or small.shape == shape:
        return small
    rows = np.minimum(np.arange(shape[0]) * small.shape[0] // shape[0], small.shape[0] - 1)
    columns = np.minimum(np.arange(shape[1]) * small.shape[1] // shape[1], small.shape[1] - 1)
    return small[np.ix_(rows, columns)]


def _small_grey(luma: np.ndarray) -> np.ndarray:
    """Halve the luma plane by 2x2 block means (less noise for frame differences)."""
    h, w = (luma.shape[0] // 2) * 2, (luma.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return luma
    x = luma[:h, :w]
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


# --- video -----------------------------------------------------------------------------------

def analyze_video(path: str | os.PathLike, analysis_fps: float = 8.0,
                  progress: ProgressCallback = no_progress,
                  cancel: CancelToken | None = None, fast_decode: bool = True) -> VideoAnalysis:
    """Measure colour, motion, shot cuts and visual beats of a video, streaming its frames.

    `fast_decode` lets the decoder skip work invisible at analysis size (deblocking, and
    non-reference frames while every analysis slot still gets a frame; see `iter_frames`).

    Raises MtmError naming the file for missing, empty, corrupt or audio-only input, and
    Cancelled when `cancel` is set (checked after every progress report).
    """
    if not isinstance(analysis_fps, (int, float)) or not 0.5 <= analysis_fps <= 60:
        raise MtmError(f"analysis_fps must be between 0.5 and 60 frames per second, got {analysis_fps!r}")
    info = probe_video(path)
    rate = float(min(analysis_fps, info.fps)) if info.fps > 0 else float(analysis_fps)
    frames = iter_frames(info.path, analysis_fps=rate, max_side=ANALYSIS_MAX_SIDE, fast_decode=fast_decode)

    columns: dict[str, list[float]] = {k: [] for k in (
        "time", "brightness", "saturation", "hue", "hue_strength", "hx", "hy", "colourfulness",
        "motion")}
    histograms: list[np.ndarray] = []
    thumbnails: list[np.ndarray] = []
    previous_grey = None
    previous_time = 0.0
    stage = "analysing video"
    progress(stage, 0.0)
    if cancel is not None:
        cancel.check()
    try:
        for frame in frames:
            features, luma = colour_features(frame.rgb)
            grey = _small_grey(luma)
            if previous_grey is not None and previous_grey.shape == grey.shape:
                difference = float(np.abs(grey - previous_grey).mean())
                # Per analysis interval, so uneven frame picking (30 fps -> 8 fps) does not wobble.
                interval = max(frame.time - previous_time, 0.5 / rate)
                motion = difference / (interval * rate)
            else:
                motion = 0.0
            radians = math.radians(features.hue)
            for key, value in (("time", frame.time), ("brightness", features.brightness),
                               ("saturation", features.saturation), ("hue", features.hue),
                               ("hue_strength", features.hue_strength),
                               ("hx", features.saturation * features.hue_strength * math.cos(radians)),
                               ("hy", features.saturation * features.hue_strength * math.sin(radians)),
                               ("colourfulness", features.colourfulness), ("motion", motion)):
                columns[key].append(value)
            thumbnails.append(_thumbnail(frame.rgb, thumbnails[0].shape if thumbnails else None))
            histograms.append(colour_histogram(thumbnails[-1]).astype(np.float32))  # 4x4 block colours: 16x cheaper
            previous_grey, previous_time = grey, frame.time
            if info.duration > 0:
                progress(stage, min(frame.time / info.duration, 1.0))
            if cancel is not None:
                cancel.check()
    finally:
        frames.close()

    times = np.asarray(columns["time"], dtype=np.float64)
    if times.size == 0:
        raise MtmError(f"{info.path.name}: no frames could be decoded from the video")
    duration = info.duration if info.duration > 0 else float(times[-1] + 1.0 / rate)
    measures = FrameMeasures(times=times, histograms=np.stack(histograms), thumbnails=np.stack(thumbnails),
                             brightness=np.asarray(columns["brightness"]), rate=rate)
    del histograms, thumbnails
    change, cut_score = measures.steps()
    transitions = [cut for cut in find_shots(measures) if cut.time < duration]
    hard = [cut for cut in transitions if cut.kind == "hard"]
    cut_index = [int(np.abs(times - cut.time).argmin()) for cut in hard]  # cut times are rounded to the ms
    motion = _motion_without_cuts(np.asarray(columns["motion"]), cut_index)
    onset = motion_onset(motion, cut_index)
    beat_index = pick_peaks(onset, times, rate, BEAT_MIN_SPACING, BEAT_K, BEAT_WINDOW_SECONDS, BEAT_FLOOR,
                            BEAT_RELATIVE)
    sound = sound_levels(info.path, max_seconds=duration) if info.has_audio else None
    loudness = np.interp(times, *sound) if sound is not None else None
    hx, hy = float(np.mean(columns["hx"])), float(np.mean(columns["hy"]))
    mean_saturation = float(np.mean(columns["saturation"]))
    progress(stage, 1.0)
    return VideoAnalysis(
        path=str(info.path), duration=float(duration), analysis_fps=rate, times=times,
        brightness=np.asarray(columns["brightness"]), saturation=np.asarray(columns["saturation"]),
        hue=np.asarray(columns["hue"]), hue_strength=np.asarray(columns["hue_strength"]),
        colourfulness=np.asarray(columns["colourfulness"]), motion=motion, cut_score=cut_score, change=change,
        motion_onset=onset, loudness=loudness,
        transitions=transitions, cuts=[float(times[i]) for i in cut_index],
        cut_strengths=[cut.strength for cut in hard],
        visual_beats=[float(0.5 * (times[i - 1] + times[i])) for i in beat_index],  # mid-interval of the rise
        beat_strengths=[float(onset[i]) for i in beat_index],
        mean_brightness=float(np.mean(columns["brightness"])), mean_saturation=mean_saturation,
        mean_colourfulness=float(np.mean(columns["colourfulness"])), mean_motion=float(motion.mean()),
        dominant_hue=math.degrees(math.atan2(hy, hx)) % 360.0,
        hue_strength_overall=min(1.0, math.hypot(hx, hy) / mean_saturation) if mean_saturation > 1e-6 else 0.0,
        cuts_per_minute=60.0 * len(transitions) / duration if duration > 0 else 0.0,
    )


def _robust_level(values: np.ndarray) -> tuple[float, float]:
    """(median, robust standard deviation = 1.4826 * MAD) of a 1-D array."""
    if values.size == 0:
        return 0.0, 0.0
    median = float(np.median(values))
    return median, 1.4826 * float(np.median(np.abs(values - median)))


def _motion_without_cuts(motion: np.ndarray, cut_index: list[int]) -> np.ndarray:
    """Replace the frame difference across each cut (a change of shot, not motion) by the new
    shot's motion over its next interval (the old shot's when the new one is a single frame);
    the first frame, which has no predecessor, copies the second."""
    m = motion.astype(np.float64).copy()
    cuts = set(cut_index)
    for i in sorted(cuts | {0}, reverse=True):
        if i + 1 < m.size and i + 1 not in cuts:
            m[i] = m[i + 1]
        elif i > 0:
            m[i] = m[i - 1]
    return m


def motion_onset(motion: np.ndarray, cut_index: list[int]) -> np.ndarray:
    """Rise of motion over the mean of the two frames before, half-wave rectified; zero at cuts
    and the frame after each (the neighbours there belong to another shot)."""
    onset = np.zeros_like(motion)
    for i in range(1, motion.size):
        before = motion[max(0, i - 2):i].mean()
        onset[i] = max(0.0, motion[i] - before)
    for i in cut_index:
        onset[i:i + 2] = 0.0
    return onset


def pick_peaks(curve: np.ndarray, times: np.ndarray, rate: float, min_spacing: float, k: float,
               window_seconds: float, floor: float, relative: float = 0.0) -> list[int]:
    """Local maxima of `curve` above max(floor, local median + k robust sigma, relative x the
    local maximum), at least `min_spacing` seconds apart (stronger peaks first)."""
    n = curve.size
    window = max(2, int(round(window_seconds * rate)))
    candidates = []
    for i in range(1, n):
        c = curve[i]
        if c < floor or c < curve[i - 1] or (i + 1 < n and c <= curve[i + 1]):
            continue
        around = np.concatenate([curve[max(0, i - window):i], curve[i + 1:i + 1 + window]])
        median, sigma = _robust_level(around)
        if c >= max(floor, median + k * sigma, relative * float(around.max(initial=0.0))):
            candidates.append(i)
    chosen: list[int] = []
    for i in sorted(candidates, key=lambda j: -curve[j]):
        if all(abs(times[i] - times[j]) >= min_spacing - 1e-9 for j in chosen):
            chosen.append(i)
    return sorted(chosen)


# --- still image -----------------------------------------------------------------------------

EDGE_LEVEL = 0.1  # Sobel magnitude (luma 0..1, kernel normalised by 4) that counts as an edge


def analyze_image(path: str | os.PathLike) -> ImageAnalysis:
    """Colour statistics and a composition measure (contrast, edge density) of a still image.

    Raises MtmError naming the file for missing, empty, corrupt or unsupported images.
    """
    image = load_image(path, max_side=IMAGE_MAX_SIDE)
    features, luma = colour_features(image.pixels)
    return ImageAnalysis(path=str(image.path), width=image.width, height=image.height,
                         brightness=features.brightness, saturation=features.saturation,
                         hue=features.hue, hue_strength=features.hue_strength,
                         colourfulness=features.colourfulness, contrast=float(luma.std()),
                         edge_density=edge_density(luma))


def edge_density(luma: np.ndarray) -> float:
    """Fraction of interior pixels whose Sobel gradient magnitude exceeds EDGE_LEVEL."""
    if luma.shape[0] < 3 or luma.shape[1] < 3:
        return 0.0
    p = luma
    gx = ((p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])) / 4.0
    gy = ((p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])) / 4.0
    return float(np.mean(np.hypot(gx, gy) > EDGE_LEVEL))
