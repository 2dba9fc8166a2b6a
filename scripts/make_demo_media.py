"""Write the bundled demo media (no downloads): a short video with known cuts and a still image.

    .venv/bin/python scripts/make_demo_media.py

demo_video.mp4: 9 s, 320x180, 24 fps, H.264 + a silent AAC track. Three shots with cuts at 3 s and 6 s:
  0-3 s dark blue night, slow drift; 3-6 s bright warm day, fast-moving shapes; 6-9 s grey, still.
demo_image.png: 640x360 warm sunset gradient with a dark horizon.
"""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

FOLDER = Path(__file__).resolve().parent.parent / "mtm_daw" / "data" / "demo"
WIDTH, HEIGHT, FPS, SECONDS = 320, 180, 24, 9


def frame_at(index: int) -> np.ndarray:
    t = index / FPS
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    if t < 3:  # night: dark blue, a soft moon drifting slowly
        image = np.stack([10 + 0 * x, 20 + 0.05 * y, 60 + 0.2 * y], axis=-1)
        cx, cy = 60 + 10 * t, 50
        moon = ((x - cx) ** 2 + (y - cy) ** 2) < 15 ** 2
        image[moon] = (200, 200, 180)
    elif t < 6:  # day: bright, saturated, fast-moving shapes
        image = np.stack([250 - 0.2 * y, 170 + 0.1 * x, 40 + 0 * x], axis=-1)
        for k in range(4):
            cx = (k * 80 + 180 * (t - 3) * (1 + k * 0.5)) % WIDTH
            cy = 40 + k * 35
            block = (np.abs(x - cx) < 18) & (np.abs(y - cy) < 14)
            image[block] = (30 + 50 * k, 120, 240 - 40 * k)
    else:  # grey and still
        image = np.stack([110 + 0.1 * x] * 3, axis=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_video(path: Path) -> None:
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "30", "preset": "veryslow", "g": str(FPS)}
        audio = container.add_stream("aac", rate=48000)
        audio.layout = "stereo"
        for index in range(FPS * SECONDS):
            frame = av.VideoFrame.from_ndarray(frame_at(index), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        silence = np.zeros((2, 1024), dtype=np.float32)
        for index in range(SECONDS * 48000 // 1024):
            frame = av.AudioFrame.from_ndarray(silence, format="fltp", layout="stereo")
            frame.sample_rate = 48000
            frame.pts = index * 1024
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)


def write_image(path: Path) -> None:
    y, x = np.mgrid[0:360, 0:640].astype(np.float32)
    sky = np.stack([255 - 0.15 * y, 120 + 0.25 * y, 60 + 0.1 * x / 6], axis=-1)
    sky[y > 270] = (25, 20, 35)  # horizon
    Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8)).save(path, optimize=True)


if __name__ == "__main__":
    FOLDER.mkdir(parents=True, exist_ok=True)
    write_video(FOLDER / "demo_video.mp4")
    write_image(FOLDER / "demo_image.png")
    for path in sorted(FOLDER.iterdir()):
        print(f"{path.relative_to(FOLDER.parent.parent.parent)}: {path.stat().st_size // 1024} KB")
