"""Reading video files (MP4, MOV, MKV, WebM, AVI...) for visual analysis with PyAV.

Frames are decoded as a stream and only those at the analysis rate are kept, each shrunk to a
few hundred pixels at most, so a long 4K video costs decoding time but not memory. Frames are
chosen by timestamp, which also handles variable frame rate. Rotation metadata (phone videos)
is applied, and `VideoInfo.width/height` are the displayed (rotated) size.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.media.paths import check_input_file


@dataclass
class VideoInfo:
    path: Path
    duration: float  # seconds (0.0 when the file does not say and has no timestamps)
    fps: float  # average frame rate
    width: int  # displayed size, after rotation
    height: int
    has_audio: bool
    frame_count: int  # from the header when present, else duration * fps
    rotation: int  # degrees counter-clockwise applied for display: 0, 90, 180 or -90
    codec: str


@dataclass
class VideoFrame:
    time: float  # seconds from the start of the video stream
    rgb: np.ndarray  # (H, W, 3) uint8, displayed orientation


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a video's duration, frame rate, size, rotation and whether it has sound.

    Decodes the first frame to check that the video is readable and to get its rotation.
    """
    p = check_input_file(path, "video")
    container = _open(p)
    with container:
        stream = _video_stream(container, p)
        fps = _frame_rate(stream)
        duration = stream_duration(container, stream)
        first = _first_frame(container, stream, p)
        rotation = _rotation(first)
        width, height = first.width, first.height
        if rotation in (90, -90):
            width, height = height, width
        frame_count = int(stream.frames or 0)
        if frame_count <= 0:
            frame_count = int(round(duration * fps))
        has_audio = any(s.type == "audio" for s in container.streams)
        return VideoInfo(path=p, duration=duration, fps=fps, width=width, height=height,
                         has_audio=has_audio, frame_count=frame_count, rotation=rotation,
                         codec=stream.codec_context.name)


def iter_frames(path: str | os.PathLike, analysis_fps: float = 4.0, max_side: int = 160,
                max_seconds: float | None = None, fast_decode: bool = False) -> Iterator[VideoFrame]:
    """Yield about `analysis_fps` frames per second, each at most `max_side` pixels on its long side.

    The file is checked before the first frame is asked for, so bad input raises here, not
    halfway through a loop.

    `fast_decode` skips decoding work that cannot show at analysis size: the deblocking loop
    filter, and (when the video has at least 3 frames per analysed frame) non-reference frames,
    for as long as the frames still decoded reach every analysis slot; after the first missed
    slot every frame is decoded again. About 2-3x less decoding for H.264 with B-frames.
    """
    if not analysis_fps > 0 or analysis_fps > 240:
        raise MtmError(f"analysis_fps must be in (0, 240], got {analysis_fps!r}")
    if max_side < 8:
        raise MtmError(f"max_side must be at least 8 pixels, got {max_side!r}")
    info = probe_video(path)
    return _frames(info.path, float(analysis_fps), int(max_side), max_seconds, fast_decode)


def _frames(p: Path, analysis_fps: float, max_side: int,
            max_seconds: float | None, fast_decode: bool = False) -> Iterator[VideoFrame]:
    container = _open(p)
    with container:
        stream = _video_stream(container, p)
        stream.thread_type = "AUTO"
        fps = _frame_rate(stream)
        skipping = fast_decode and fps >= 3 * analysis_fps
        if fast_decode:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        if skipping:
            stream.codec_context.skip_frame = "NONREF"
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        last_slot = -1
        decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                if frame.time is not None:
                    t = max(0.0, float(frame.time) - start)
                else:  # no timestamps (some raw streams): count frames instead
                    t = (decoded - 1) / fps
                if max_seconds is not None and t >= max_seconds:
                    break
                slot = int(np.floor(t * analysis_fps + 1e-6))
                if skipping and last_slot >= 0 and slot > last_slot + 1:  # a slot went without a frame
                    stream.codec_context.skip_frame = "DEFAULT"
                    skipping = False
                if slot <= last_slot:
                    continue
                last_slot = slot
                yield VideoFrame(time=t, rgb=_small_rgb(frame, max_side))
        except av.FFmpegError as exc:
            raise MtmError(f"{p.name}: the video is damaged (decoding failed "
                           f"after {decoded} frames)") from exc


SOUND_LEVEL_RATE = 8000  # Hz: enough to hear how loud a scene is, cheap to decode into


def sound_levels(path: str | os.PathLike, hop_seconds: float = 0.125,
                 max_seconds: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """How loud the clip's own sound is: (times, RMS in dBFS) every `hop_seconds`, from its first
    audio stream decoded as a stream (mono, SOUND_LEVEL_RATE), or None when it has no sound.

    Damaged sound gives the levels read until the damage; a clip whose sound cannot be read at all
    gives None (the picture is still scored)."""
    p = check_input_file(path, "video")
    container = _open(p)
    hop = max(1, int(round(hop_seconds * SOUND_LEVEL_RATE)))
    levels: list[float] = []
    carry = np.zeros(0, dtype=np.float32)
    with container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SOUND_LEVEL_RATE)
        try:
            for frame in container.decode(container.streams.audio[0]):
                for converted in resampler.resample(frame):
                    carry = np.concatenate([carry, converted.to_ndarray().reshape(-1)])
                    whole = carry.size // hop * hop
                    if whole:
                        blocks = carry[:whole].reshape(-1, hop).astype(np.float64)
                        levels += list(10 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-10))
                        carry = carry[whole:]
                if max_seconds is not None and len(levels) * hop_seconds >= max_seconds:
                    break
        except (av.FFmpegError, ValueError):
            pass  # keep what was read
    if not levels:
        return None
    return (np.arange(len(levels)) + 0.5) * hop / SOUND_LEVEL_RATE, np.asarray(levels)


# 8-bit 4:2:0 planar formats read straight from their planes, with whether their range is full (JPEG).
_PLANAR_420 = {"yuv420p": False, "yuvj420p": True}
# Y'CbCr -> R'G'B' (Kr, Kb) for BT.709 (AVCOL_SPC_BT709 = 1) and BT.601 (the rest, as swscale assumes).
_LUMA_WEIGHTS = {1: (0.2126, 0.0722)}
_BT601 = (0.299, 0.114)
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


def _small_rgb(frame: av.VideoFrame, max_side: int) -> np.ndarray:
    scale = min(1.0, max_side / max(frame.width, frame.height))
    width = max(1, int(round(frame.width * scale)))
    height = max(1, int(round(frame.height * scale)))
    if frame.format.name in _PLANAR_420 and frame.width >= 4 * width and frame.height >= 4 * height:
        rgb = _sampled_rgb(frame, width, height)
    else:
        # AREA averages the source pixels (no aliasing on big reductions) and is swscale's fastest here.
        rgb = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
    quarter_turns = (_rotation(frame) // 90) % 4
    if quarter_turns:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))  # rot90 turns counter-clockwise
    return rgb


def _sampled_rgb(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB from a 4:2:0 frame's planes: each output pixel is the mean of four
    points spread over its source block (a 2x2 grid at the block's quarter points) in Y, U and V.

    At 1080p -> 160 pixels this reads 4 of every 144 source pixels: about 0.7 ms a frame where
    swscale's area filter takes 2-6 ms, and for colour and motion statistics the two agree within a
    few levels (a frame's mean within about 2 levels; see tests/test_media.py)."""
    def sampled(plane_index: int, divisor: int) -> np.ndarray:
        plane = frame.planes[plane_index]
        points = _sample_points(frame.height // divisor, frame.width // divisor, plane.line_size, height, width)
        return np.take(np.frombuffer(plane, np.uint8), points).sum(axis=0, dtype=np.float32) * np.float32(0.25)

    y, u, v = sampled(0, 1), sampled(1, 2) - 128.0, sampled(2, 2) - 128.0
    full_range = _PLANAR_420[frame.format.name] or getattr(frame, "color_range", 0) == _FULL_RANGE
    if not full_range:  # limited ("TV") range: Y 16..235, chroma 16..240
        y = (y - 16.0) * np.float32(255 / 219)
        u, v = u * np.float32(255 / 224), v * np.float32(255 / 224)
    kr, kb = _LUMA_WEIGHTS.get(int(getattr(frame, "colorspace", 2) or 2), _BT601)
    kg = 1.0 - kr - kb
    red = y + np.float32(2 * (1 - kr)) * v
    blue = y + np.float32(2 * (1 - kb)) * u
    green = y - np.float32(2 * kb * (1 - kb) / kg) * u - np.float32(2 * kr * (1 - kr) / kg) * v
    rgb = np.stack([red, green, blue], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _sample_points(rows: int, columns: int, line_size: int, height: int, width: int) -> np.ndarray:
    """(4, height, width) flat indices into a plane of rows x columns pixels (line_size bytes a row):
    a 2x2 grid at the quarter points of each output pixel's source block."""
    def quarter_points(source: int, target: int) -> np.ndarray:
        block = source / target
        starts = np.arange(target) * block
        return np.stack([starts + 0.25 * block, starts + 0.75 * block]).astype(np.int64).clip(0, source - 1)

    ys, xs = quarter_points(rows, height), quarter_points(columns, width)
    return np.stack([y[:, None] * line_size + x[None, :] for y in ys for x in xs])


def _open(p: Path) -> av.container.InputContainer:
    try:
        return av.open(str(p), mode="r")
    except Exception as exc:  # InvalidDataError, OSError, etc.
        raise MtmError(f"{p.name}: not a readable video file (corrupt or unsupported format)") from exc


def _video_stream(container, p: Path):
    streams = [s for s in container.streams.video
               if not s.disposition & av.stream.Disposition.attached_pic]  # skip cover art
    if not streams:
        what = "an audio-only file" if container.streams.audio else "no playable streams"
        raise MtmError(f"{p.name}: has no video stream ({what})")
    return streams[0]


def _first_frame(container, stream, p: Path) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as exc:
        raise MtmError(f"{p.name}: the video is damaged (the first frame cannot be decoded)") from exc
    raise MtmError(f"{p.name}: the video stream contains no frames")


def _frame_rate(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0 and float(rate) < 1000:
            return float(rate)
    return 25.0  # nothing usable in the header: the common PAL rate, used only for estimates


def stream_duration(container, stream) -> float:
    """Seconds of a stream, from its own header or else the container's; 0.0 when neither says."""
    if stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    if container.duration:
        return container.duration / 1_000_000.0  # microseconds (av.time_base)
    return 0.0


def _rotation(frame) -> int:
    """Counter-clockwise display rotation, rounded to a quarter turn; 0 where PyAV cannot tell."""
    try:
        degrees = float(getattr(frame, "rotation", 0) or 0)
    except Exception:
        return 0
    quarter = int(round(degrees / 90.0)) % 4
    return {0: 0, 1: 90, 2: 180, 3: -90}[quarter]
