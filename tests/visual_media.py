"""Small synthetic videos and images with known properties, for checking the visual text bridge.

Plain generator functions (not tests), each writing one file with PyAV or Pillow and returning
its path (and, for videos with cuts, the true cut times):

    from visual_media import write_cut_video  # tests/ is on sys.path under pytest
    path, cuts = write_cut_video(folder / "cuts.mp4", cut_times=[1.5, 4.0], seconds=6)

Everything is tiny (160 x 90, 24 fps, a few seconds) so a whole test file stays fast. Shots are
textured (a gradient and a soft shape) rather than flat, like real pictures.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
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


def write_calm_then_moving_video(path: Path, calm_seconds: float = 6.0, moving_seconds: float = 6.0) -> Path:
    """One shot, no cut: shapes standing still, then racing across (an energy step at `calm_seconds`)."""
    background = textured(PALETTE[3])

    def frame_at(index: int, t: float) -> np.ndarray:
        return with_shapes(background, max(0.0, t - calm_seconds), 150.0, count=3, shade=1.8)

    return write_video(path, frame_at, calm_seconds + moving_seconds)


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


# --- edited footage ----------------------------------------------------------------------------
# Shots cut from larger procedural "locations" (smooth colour fields, texture, objects), framed
# by a camera that can hold, pan or zoom, joined by hard cuts, dissolves or fades through black,
# with flashes laid on top. Several shots can come from one location (another angle of the same
# place: similar colours, other pixels), the hard case for a colour-histogram cut detector.

SCENE_WIDTH, SCENE_HEIGHT = 480, 270


def location(seed: int) -> np.ndarray:
    """A (270, 480, 3) float32 picture: soft colour regions of one palette, texture and a few objects."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(30, 225, 3)
    coarse = base + rng.normal(0, 45, (4, 6, 3))
    field = np.asarray(Image.fromarray(np.clip(coarse, 0, 255).astype(np.uint8)).resize(
        (SCENE_WIDTH, SCENE_HEIGHT), Image.BICUBIC), np.float32)
    fine = rng.normal(0, 1, (SCENE_HEIGHT // 6, SCENE_WIDTH // 6)).astype(np.float32)
    fine = np.asarray(Image.fromarray(fine, "F").resize((SCENE_WIDTH, SCENE_HEIGHT), Image.BILINEAR))
    picture = field * (1.0 + 0.12 * fine[..., None])
    y, x = np.mgrid[0:SCENE_HEIGHT, 0:SCENE_WIDTH].astype(np.float32)
    for _ in range(6):
        cx, cy = rng.uniform(0, SCENE_WIDTH), rng.uniform(0, SCENE_HEIGHT)
        rx, ry = rng.uniform(15, 60), rng.uniform(15, 50)
        inside = np.clip(1.5 - np.hypot((x - cx) / rx, (y - cy) / ry), 0, 1)[..., None]
        picture = picture * (1 - inside) + rng.uniform(0, 255, 3).astype(np.float32) * inside
    return np.clip(picture, 0, 255)


@dataclass
class Shot:
    seconds: float
    place: int  # seed of the location
    camera: str = "hold"  # "hold", "pan" (across the location) or "zoom" (slowly in)
    start: tuple[float, float] = (0.5, 0.5)  # framing centre, fraction of the location
    transition: str = "cut"  # how this shot begins: "cut", "dissolve" or "fade" (through black)
    transition_seconds: float = 0.0


def framed(picture: np.ndarray, centre: tuple[float, float], zoom: float) -> np.ndarray:
    """The camera's view: a 16:9 window of the location around `centre` (fractions), `zoom` >= 1."""
    width = SCENE_WIDTH / 2 / zoom
    height = width * HEIGHT / WIDTH
    cx = float(np.clip(centre[0] * SCENE_WIDTH, width / 2, SCENE_WIDTH - width / 2))
    cy = float(np.clip(centre[1] * SCENE_HEIGHT, height / 2, SCENE_HEIGHT - height / 2))
    box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    return np.asarray(Image.fromarray(picture.astype(np.uint8)).resize((WIDTH, HEIGHT), Image.BILINEAR, box=box),
                      np.float32)


@dataclass
class Edit:
    """What an edited clip holds, in seconds: the truth a shot detector is measured against."""
    hard_cuts: list[float]  # first frame of each new shot
    soft: list[tuple[float, float]]  # (start, end) of each dissolve or fade
    flashes: list[float]  # first frame of each flash
    seconds: float


def write_montage(path: Path, shots: Sequence[Shot], flashes: Sequence[float] = (), fps: int = FPS,
                  flash_frames: int = 2, grain_amount: float = 3.0) -> tuple[Path, Edit]:
    """Encode an edit of `shots`; `flashes` are white frames (`flash_frames` long) laid over it."""
    places = {shot.place: location(shot.place) for shot in shots}
    starts = np.concatenate([[0.0], np.cumsum([shot.seconds for shot in shots])])
    total = float(starts[-1])
    frame_count = int(round(total * fps))
    flash_frames_at = {int(round(t * fps)) + k for t in flashes for k in range(flash_frames)}

    def view(index: int, t: float) -> np.ndarray:
        shot = shots[index]
        progress = (t - starts[index]) / shot.seconds
        centre, zoom = shot.start, 1.0
        if shot.camera == "pan":
            centre = (0.2 + 0.6 * progress, shot.start[1])
        elif shot.camera == "zoom":
            zoom = 1.0 + 0.6 * progress
        return framed(places[shot.place], centre, zoom)

    def frame_at(index: int, t: float) -> np.ndarray:
        k = min(int(np.searchsorted(starts, t, side="right")) - 1, len(shots) - 1)
        picture = view(k, t)
        shot = shots[k]
        into = t - starts[k]
        if shot.transition != "cut" and k > 0 and into < shot.transition_seconds:
            mix = into / shot.transition_seconds
            before = view(k - 1, t)
            if shot.transition == "dissolve":
                picture = (1 - mix) * before + mix * picture
            else:  # fade through black: out over the first half, in over the second
                picture = before * max(0.0, 1 - 2 * mix) if mix < 0.5 else picture * (2 * mix - 1)
        if index in flash_frames_at:
            picture = np.full_like(picture, 250.0)
        return grain(picture, index, grain_amount)

    written = write_video(path, frame_at, frame_count / fps, fps=fps)
    hard, soft = [], []
    for k in range(1, len(shots)):
        first = int(np.ceil(starts[k] * fps - 1e-6)) / fps
        if shots[k].transition == "cut":
            hard.append(first)
        else:
            soft.append((float(starts[k]), float(starts[k] + shots[k].transition_seconds)))
    return written, Edit(hard, soft, [int(round(t * fps)) / fps for t in flashes], frame_count / fps)


def random_montage(seed: int, seconds: float, shortest: float = 0.3, longest: float = 3.0,
                   places: int = 6, soft: float = 0.0) -> list[Shot]:
    """Shots of `shortest`..`longest` seconds from `places` locations, never the same framing
    twice in a row (cutting to another angle of the same place happens). A share `soft` of the
    shots of 2 s or more begin with a dissolve or a fade through black (0.5-1.5 s) instead of a cut."""
    rng = np.random.default_rng(seed)
    shots: list[Shot] = []
    total = 0.0
    previous = -1
    while total < seconds - shortest:
        length = float(min(rng.uniform(shortest, longest), seconds - total))
        place = int(rng.integers(places))
        framing = (float(rng.uniform(0.25, 0.75)), float(rng.uniform(0.3, 0.7)))
        if place == previous:  # another angle of the same place: far enough to be another picture
            framing = (1.0 - framing[0], framing[1])
        camera = str(rng.choice(["hold", "hold", "pan", "zoom"]))
        transition, transition_seconds = "cut", 0.0
        if shots and length >= 2.0 and shots[-1].seconds >= 2.0 and rng.random() < soft:
            transition, transition_seconds = str(rng.choice(["dissolve", "fade"])), float(rng.uniform(0.5, 1.5))
        shots.append(Shot(length, 100 + seed * 10 + place, camera, framing, transition, transition_seconds))
        total += length
        previous = place
    return shots


def write_frames(path: Path, pictures: Sequence[np.ndarray], times: Sequence[float] | None = None,
                 codec: str = "libx264", pix_fmt: str = "yuv420p", fps: int = FPS) -> Path:
    """Encode (H, W, 3) uint8 pictures in `pix_fmt` (10-bit, 4:4:4...), at `fps` or at their own `times`
    in seconds (a variable frame rate, timed to the millisecond)."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = pictures[0].shape[:2]
        stream.pix_fmt = pix_fmt
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for index, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if times is not None:
                frame.pts, frame.time_base = int(round(times[index] * 1000)), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def with_claimed_duration(path: Path, out: Path, seconds: float) -> Path:
    """A copy of an MP4 whose movie header claims `seconds` (a lying duration; the frames stay as they are)."""
    data = bytearray(Path(path).read_bytes())
    at = data.find(b"mvhd")
    version = data[at + 4]
    timescale_at = at + 4 + 4 + (16 if version == 1 else 8)
    timescale = int.from_bytes(data[timescale_at:timescale_at + 4], "big")
    if version == 1:
        data[timescale_at + 4:timescale_at + 12] = int(seconds * timescale).to_bytes(8, "big")
    else:
        data[timescale_at + 4:timescale_at + 8] = min(int(seconds * timescale), 2 ** 32 - 1).to_bytes(4, "big")
    Path(out).write_bytes(bytes(data))
    return Path(out)
