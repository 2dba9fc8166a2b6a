"""Small synthetic videos and images with known properties, for checking the visual text bridge.

Plain generator functions (not tests), each writing one file with PyAV or Pillow and returning
its path (and, for videos with cuts, the true cut times):

    from visual_media import write_cut_video  # tests/ is on sys.path under pytest
    path, cuts = write_cut_video(folder / "cuts.mp4", cut_times=[1.5, 4.0], seconds=6)

Everything is tiny (160 x 90, 24 fps, a few seconds) so a whole test file stays fast. Shots are
textured (a gradient and a soft shape) rather than flat, like real pictures.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import av
import numpy as np
from PIL import Image

WIDTH, HEIGHT, FPS = 160, 90, 24
RGB = tuple[int, int, int]

BRIGHT_SATURATED: RGB = (250, 200, 40)  # sunny yellow-orange
BRIGHT_GREY: RGB = (215, 215, 215)
MID_SATURATED: RGB = (200, 40, 40)  # red, luma ~ 0.34 ...
MID_GREY: RGB = (87, 87, 87)  # ... the same luma, no colour
DARK_GREY: RGB = (38, 38, 42)
PALETTE: tuple[RGB, ...] = ((200, 60, 50), (40, 120, 200), (230, 210, 80), (60, 170, 90), (150, 70, 180),
                            (120, 120, 120))

FrameFunction = Callable[[int, float], np.ndarray]  # (frame index, seconds) -> (H, W, 3) uint8


# --- writing ---------------------------------------------------------------------------------

def write_video(path: Path, frame_at: FrameFunction, seconds: float, fps: int = FPS,
                with_audio: bool = False, b_frames: int = 0, b_pyramid: bool = True,
                sound: Callable[[np.ndarray], np.ndarray] | None = None) -> Path:
    """Encode frame_at(i, t) for every frame as H.264 (MPEG-4 part 2 where libx264 is missing).

    `with_audio` adds an AAC track: silent, or `sound(t)` (mono samples at the times t, 44.1 kHz).

    `b_frames` > 0 writes that many B-frames between P-frames (x264's "veryfast" preset), as
    cameras and editors often do, with some of them kept as references when `b_pyramid`;
    0 writes none (the "ultrafast" preset).
    """
    path = Path(path)
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        first = frame_at(0, 0.0)
        stream.height, stream.width = first.shape[:2]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264" and b_frames:
            pyramid = "normal" if b_pyramid else "none"
            stream.options = {"preset": "veryfast", "crf": "18",
                              "x264-params": f"bframes={b_frames}:b-adapt=0:b-pyramid={pyramid}"}
        elif codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "18"}
        else:
            stream.bit_rate = 2_000_000
            stream.codec_context.max_b_frames = b_frames
        track = container.add_stream("aac", rate=44100) if with_audio else None  # before the header is written
        for index in range(int(round(seconds * fps))):
            rgb = first if index == 0 else frame_at(index, index / fps)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if track is not None:
            _write_sound(container, track, seconds, sound)
    return path


def _write_sound(container, stream, seconds: float, sound: Callable[[np.ndarray], np.ndarray] | None) -> None:
    for k in range(int(44100 * seconds / 1024)):
        times = (k * 1024 + np.arange(1024)) / 44100
        samples = np.zeros(1024, np.float32) if sound is None else np.asarray(sound(times), np.float32)
        frame = av.AudioFrame.from_ndarray(samples[None], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, k * 1024
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


# --- pictures --------------------------------------------------------------------------------

_Y, _X = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)


def textured(colour: RGB, variation: float = 0.15) -> np.ndarray:
    """A colour field with a gentle diagonal gradient (+-variation of the colour), (H, W, 3) float."""
    shade = 1.0 + variation * ((_X / WIDTH) - 0.5 + 0.5 * ((_Y / HEIGHT) - 0.5))
    return np.asarray(colour, np.float32)[None, None, :] * shade[..., None]


def with_shapes(background: np.ndarray, t: float, speed: float, count: int = 2,
                shade: float = 1.35) -> np.ndarray:
    """Soft-edged blocks (lighter than the background) sliding right at `speed` pixels per second."""
    image = background.copy()
    for k in range(count):
        cx = (30 + 60 * k + speed * t * (1 + 0.3 * k)) % (WIDTH + 40) - 20
        cy = HEIGHT * (k + 1) / (count + 1)
        inside = np.clip(1.0 - np.maximum(np.abs(_X - cx) / 14, np.abs(_Y - cy) / 10) ** 4, 0, 1)
        image = image * (1 - inside[..., None]) + np.clip(background * shade + 25, 0, 255) * inside[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def grain(image: np.ndarray, index: int, amount: float = 4.0) -> np.ndarray:
    """Add sensor-like noise that changes every frame (deterministic per frame index)."""
    noise = np.random.default_rng(index).normal(0.0, amount, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


# --- videos ----------------------------------------------------------------------------------

def write_colour_video(path: Path, colour: RGB, seconds: float = 4.0, speed: float = 8.0,
                       noise: float = 0.0, with_audio: bool = False,
                       sound: Callable[[np.ndarray], np.ndarray] | None = None) -> Path:
    """One shot of a colour, with shapes drifting at `speed` pixels per second."""
    background = textured(colour)

    def frame_at(index: int, t: float) -> np.ndarray:
        image = with_shapes(background, t, speed)
        return grain(image, index, noise) if noise else image

    return write_video(path, frame_at, seconds, with_audio=with_audio, sound=sound)


def write_cut_video(path: Path, cut_times: Sequence[float], seconds: float,
                    colours: Sequence[RGB] = PALETTE, speed: float = 8.0, fps: int = FPS,
                    b_frames: int = 0, b_pyramid: bool = True) -> tuple[Path, list[float]]:
    """Shots cycling through `colours`, cut at `cut_times` (seconds; each lands on a frame).

    Returns the path and the true cut times, i.e. the time of the first frame of each new shot.
    """
    cut_frames = [int(np.ceil(t * fps - 1e-6)) for t in cut_times]
    backgrounds = [textured(c) for c in colours]

    def frame_at(index: int, t: float) -> np.ndarray:
        shot = sum(index >= f for f in cut_frames)
        return with_shapes(backgrounds[shot % len(backgrounds)], t, speed)

    written = write_video(path, frame_at, seconds, fps=fps, b_frames=b_frames, b_pyramid=b_pyramid)
    return written, [f / fps for f in cut_frames]


def write_alternating_cut_video(path: Path, shot_seconds: float, seconds: float = 8.0) -> tuple[Path, list[float]]:
    """Two looks (red and blue) alternating every `shot_seconds`, so fast and slow cutting
    videos have the same colours on average."""
    cuts = [k * shot_seconds for k in range(1, int(seconds / shot_seconds - 1e-9) + 1) if k * shot_seconds < seconds]
    return write_cut_video(path, cuts, seconds, colours=(PALETTE[0], PALETTE[1]))


def write_motion_video(path: Path, moving: bool, seconds: float = 6.0, colour: RGB = PALETTE[3]) -> Path:
    """Large shapes racing across (`moving`) or standing still, same colours either way."""
    background = textured(colour)

    def frame_at(index: int, t: float) -> np.ndarray:
        return with_shapes(background, t, 150.0 if moving else 0.0, count=3, shade=1.8)

    return write_video(path, frame_at, seconds)


def write_burst_video(path: Path, burst_times: Sequence[float], seconds: float = 8.0,
                      burst_seconds: float = 0.5) -> tuple[Path, list[float]]:
    """A still scene whose shapes jump into fast motion at `burst_times` for `burst_seconds`
    each: visual beats (motion onsets) at known times."""
    background = textured(PALETTE[1])

    def position(t: float) -> float:  # seconds of motion so far
        return sum(min(max(t - b, 0.0), burst_seconds) for b in burst_times)

    def frame_at(index: int, t: float) -> np.ndarray:
        return with_shapes(background, position(t), 200.0, count=3, shade=1.8)

    return write_video(path, frame_at, seconds), list(burst_times)


def write_fade_video(path: Path, seconds: float = 6.0, colour: RGB = (60, 140, 220)) -> Path:
    """One shot fading from dark to bright over its length (no cut anywhere)."""
    background = textured(colour, variation=0.05)

    def frame_at(index: int, t: float) -> np.ndarray:
        return with_shapes(background * (0.25 + 0.75 * t / seconds), t, 5.0)

    return write_video(path, frame_at, seconds)


# --- bad files -------------------------------------------------------------------------------

def write_corrupt_video(path: Path) -> Path:
    """Bytes that start like an MP4 box header but hold noise."""
    noise = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    Path(path).write_bytes(b"\x00\x00\x00\x18ftypisom" + noise)
    return Path(path)


def write_empty_file(path: Path) -> Path:
    Path(path).write_bytes(b"")
    return Path(path)


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 (.m4a) with one AAC track and no pictures."""
    with av.open(str(path), "w", format="mp4") as container:
        _write_sound(container, container.add_stream("aac", rate=44100), seconds, None)
    return Path(path)


# --- images ----------------------------------------------------------------------------------

def image_pixels(colour: RGB, size: tuple[int, int] = (WIDTH, HEIGHT)) -> np.ndarray:
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 1.0 + 0.15 * (x / width - 0.5)
    image = np.asarray(colour, np.float32)[None, None, :] * shade[..., None]
    image[height // 3: height // 3 + height // 4, width // 3: width // 3 + width // 5] *= 1.3  # a brighter block
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image(path: Path, colour: RGB, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Path:
    Image.fromarray(image_pixels(colour, size)).save(path)
    return Path(path)


def write_alpha_png(path: Path) -> Path:
    rgba = np.dstack([image_pixels(BRIGHT_SATURATED), np.tile(np.linspace(0, 255, WIDTH, dtype=np.uint8), (HEIGHT, 1))])
    Image.fromarray(rgba, "RGBA").save(path)
    return Path(path)


def write_cmyk_jpeg(path: Path) -> Path:
    Image.fromarray(image_pixels(MID_SATURATED)).convert("CMYK").save(path, "JPEG", quality=90)
    return Path(path)


def write_16bit_png(path: Path) -> Path:
    ramp = np.tile(np.linspace(0, 65535, WIDTH), (HEIGHT, 1)).astype(np.uint16)
    Image.fromarray(ramp).save(path)  # mode "I;16"
    return Path(path)


def write_animated_gif(path: Path, frames: int = 4) -> Path:
    pictures = [Image.fromarray(image_pixels(PALETTE[k % len(PALETTE)])).convert("P") for k in range(frames)]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=100, loop=0)
    return Path(path)
