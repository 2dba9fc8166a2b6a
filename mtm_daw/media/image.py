"""Reading still images into small RGB arrays for visual analysis (colour, brightness, layout).

Every Pillow mode ends up as (H, W, 3) uint8 RGB: alpha is composited onto black (transparent
areas count as dark, as they look on a dark DAW panel), CMYK and palette images are converted,
16-bit and float greyscale are scaled to 8 bits, EXIF orientation is applied, animations give
their first frame, and the result is shrunk so its long side is at most `max_side` pixels.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps

from mtm_daw.errors import MtmError
from mtm_daw.media.paths import check_input_file

MAX_IMAGE_PIXELS = 100_000_000  # refuse larger sources (about 10000 x 10000) before decoding
ANALYSIS_SIDE = 512


@dataclass
class Image:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, long side <= max_side
    path: Path | None = None
    source_size: tuple[int, int] = (0, 0)  # (width, height) of the file, after EXIF rotation

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def load_image(path: str | os.PathLike, max_pixels: int = MAX_IMAGE_PIXELS,
               max_side: int = ANALYSIS_SIDE) -> Image:
    """Load an image file as (H, W, 3) uint8 RGB with its long side at most `max_side`.

    Raises MtmError naming the file for missing, empty, corrupt, unsupported or oversized
    (more than `max_pixels` source pixels) images.
    """
    p = check_input_file(path, "image")
    if max_side < 1:
        raise MtmError(f"max_side must be at least 1 pixel, got {max_side!r}")
    # Pillow's own bomb check warns above ~89 MP and raises above ~179 MP; we use max_pixels.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            im = PILImage.open(p)
        except PILImage.DecompressionBombError as exc:
            raise MtmError(f"{p.name}: the image is too large to analyse") from exc
        except Exception as exc:  # UnidentifiedImageError, OSError, SyntaxError...
            raise MtmError(f"{p.name}: not a readable image (corrupt or unsupported format)") from exc
        with im:
            width, height = im.size
            if width <= 0 or height <= 0:
                raise MtmError(f"{p.name}: the image has no pixels ({width} x {height})")
            if width * height > max_pixels:
                raise MtmError(f"{p.name}: {width} x {height} pixels is too large to analyse "
                               f"(limit {max_pixels / 1e6:.0f} megapixels)")
            try:
                im.seek(0)  # animated GIF/WebP/APNG: the first frame
                im.draft(None, (max_side, max_side))  # JPEG: decode at a reduced scale, cheaply
                im.load()
                stored_size = im.size
                im = _apply_orientation(im)
                turned = im.size != stored_size
                source_size = (height, width) if turned else (width, height)
                im = _to_rgb(im)
                im.thumbnail((max_side, max_side))
                pixels = np.asarray(im, dtype=np.uint8)
            except MtmError:
                raise
            except Exception as exc:  # truncated data, bad chunks, decoder errors
                raise MtmError(f"{p.name}: the image file is damaged or truncated "
                               f"({type(exc).__name__})") from exc
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise MtmError(f"{p.name}: could not convert the image to RGB")
    return Image(pixels=np.ascontiguousarray(pixels), path=p, source_size=source_size)


def _apply_orientation(im: PILImage.Image) -> PILImage.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # malformed EXIF is not a reason to refuse the picture; keep it as stored
        return im


def _to_rgb(im: PILImage.Image) -> PILImage.Image:
    """Any Pillow mode -> 'RGB'."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode == "P" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
        rgb = rgba[..., :3] * (rgba[..., 3:4] / 255.0)  # over black
        return PILImage.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")
    if mode.startswith("I") or mode == "F":  # 16/32-bit integer or float greyscale
        grey = _scale_to_8bit(np.asarray(im), sixteen_bit=mode.startswith("I;16"))
        return PILImage.fromarray(np.repeat(grey[..., None], 3, axis=2), "RGB")
    return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def _scale_to_8bit(values: np.ndarray, sixteen_bit: bool) -> np.ndarray:
    """Greyscale -> uint8; 'I' and 'F' images carry no range, so guess it from the values."""
    v = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(v.min()), float(v.max())
    if sixteen_bit:
        v = v / 257.0
    elif low >= 0 and high <= 1.0 and values.dtype.kind == "f":
        v = v * 255.0
    elif low >= 0 and high <= 255:
        pass
    elif low >= 0 and high <= 65535:
        v = v / 257.0
    else:
        v = (v - low) / max(high - low, 1e-12) * 255.0
    return np.clip(v + 0.5, 0, 255).astype(np.uint8)
