"""Time the visual analysis of a 3-minute 1080p H.264 video against plain decoding, in one run.

    .venv/bin/python benchmarks/bench_video_analysis.py [--repeats 1] [--naive] [--b-frames] [--cache DIR]

The test video (1920x1080, 30 fps, 180 s, ultrafast H.264, a cut every 2-9 s and blocks
moving at a different speed in each shot) is made once and cached (about a minute to encode).
Prints, for each row, the median wall time, the CPU time, and the speed as a multiple of real
time (video seconds / analysis seconds):

- decode every frame: PyAV's decoder alone at full resolution, no pixel conversion (the floor
  for any analysis that looks at every frame);
- decode + RGB every frame (--naive): what a straightforward "convert every frame" loop costs;
- analyze_video: 8 analysed frames per second at 160 pixels, colour + motion + cuts + beats.

--b-frames also makes (once) the same video with B-frames and deblocking, as cameras and
editors write it, and times analyze_video on it with and without `fast_decode` (skipping
non-reference frames and the loop filter). The load average is printed: on a shared machine
the wall times say more about the neighbours than about the code.

It also checks that the cuts found match the ones encoded (within one analysis frame).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import av
import numpy as np

from mtm_daw.describe.visual import analyze_video

WIDTH, HEIGHT, FPS, SECONDS = 1920, 1080, 30, 180
TARGET_SECONDS = 10.0  # analysis budget for this video on 2 cores


def default_cache() -> Path:
    try:
        from platformdirs import user_cache_dir
        return Path(user_cache_dir("mtm_daw")) / "bench"
    except ImportError:  # pragma: no cover
        import tempfile
        return Path(tempfile.gettempdir()) / "mtm_daw_bench"


def cut_frames(seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    cuts = [0]
    while True:
        step = int(rng.uniform(2.0, 9.0) * FPS)
        if cuts[-1] + step >= SECONDS * FPS:
            return cuts[1:]
        cuts.append(cuts[-1] + step)


def make_video(path: Path, b_frames: bool = False) -> None:
    """Encode the test video straight from YUV planes (no RGB conversion): quick to make."""
    rng = np.random.default_rng(1)
    cuts = set(cut_frames())
    tmp = path.with_suffix(".partial.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        if b_frames:  # ultrafast otherwise, but with what most real files have
            stream.options["x264-params"] = "bframes=3:b-pyramid=normal:deblock=1"
        for index in range(SECONDS * FPS):
            if index == 0 or index in cuts:
                level = int(rng.integers(40, 220))
                tilt = int(rng.integers(-40, 40))
                luma = np.clip(level + (np.arange(WIDTH) * tilt) // WIDTH, 0, 255).astype(np.uint8)
                base_y = np.tile(luma, (HEIGHT, 1))
                base_u = np.full((HEIGHT // 2, WIDTH // 2), int(rng.integers(60, 200)), np.uint8)
                base_v = np.full((HEIGHT // 2, WIDTH // 2), int(rng.integers(60, 200)), np.uint8)
                speed = float(rng.uniform(2.0, 25.0))  # pixels per frame
            y, u, v = base_y.copy(), base_u.copy(), base_v.copy()
            for k in range(3):  # three blocks sliding right
                x0 = int((200 + 500 * k + speed * (k + 1) * index) % (WIDTH - 200))
                y0 = 200 + 250 * k
                y[y0:y0 + 160, x0:x0 + 200] = (80 * k + 30) % 256
                u[y0 // 2:y0 // 2 + 80, x0 // 2:x0 // 2 + 100] = 80 + 40 * k
            planes = np.concatenate([y, u.reshape(-1, WIDTH), v.reshape(-1, WIDTH)])  # (H * 3/2, W)
            for packet in stream.encode(av.VideoFrame.from_ndarray(planes, format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def cached_video(cache: Path, b_frames: bool) -> Path:
    path = cache / f"bench_{WIDTH}x{HEIGHT}_{FPS}fps_{SECONDS}s{'_bframes' if b_frames else ''}.mp4"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"making {path} (once) ...", flush=True)
        start = time.perf_counter()
        make_video(path, b_frames)
        print(f"  encoded in {time.perf_counter() - start:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    return path


def decode_every_frame(path: Path, convert: bool = False) -> int:
    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if convert:
                frame.to_ndarray(format="rgb24")
            count += 1
    return count


def timed(function, repeats: int):
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--naive", action="store_true", help="also time decode + full-size RGB of every frame")
    parser.add_argument("--b-frames", action="store_true", help="also time a B-frame video, fast_decode on/off")
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()

    path = cached_video(args.cache, b_frames=False)
    print(f"video: {WIDTH}x{HEIGHT}, {FPS} fps, {SECONDS} s, H.264 ultrafast; {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f} before the run")

    rows = []
    wall, cpu, frames = timed(lambda: decode_every_frame(path), args.repeats)
    rows.append((f"decode every frame ({frames}, full size)", wall, cpu))
    if args.naive:
        wall, cpu, _ = timed(lambda: decode_every_frame(path, convert=True), args.repeats)
        rows.append(("decode + RGB every frame (full size)", wall, cpu))
    wall, cpu, analysis = timed(lambda: analyze_video(path), args.repeats)
    rows.append((f"analyze_video ({analysis.frame_count} frames at 8 fps)", wall, cpu))
    if args.b_frames:
        b_path = cached_video(args.cache, b_frames=True)
        wall, cpu, frames = timed(lambda: decode_every_frame(b_path), args.repeats)
        rows.append((f"B-frames: decode every frame ({frames})", wall, cpu))
        wall, cpu, _ = timed(lambda: analyze_video(b_path, fast_decode=False), args.repeats)
        rows.append(("B-frames: analyze_video, fast_decode off", wall, cpu))
        wall, cpu, _ = timed(lambda: analyze_video(b_path, fast_decode=True), args.repeats)
        rows.append(("B-frames: analyze_video, fast_decode on", wall, cpu))

    print(f"{'':46s} {'wall s':>8s} {'CPU s':>8s} {'x real time':>12s}")
    for name, wall, cpu in rows:
        print(f"{name:46s} {wall:8.2f} {cpu:8.2f} {SECONDS / wall:12.1f}")
    analysis_wall = rows[2 if args.naive else 1][1]
    verdict = "within" if analysis_wall <= TARGET_SECONDS else "OVER"
    print(f"analysis: {analysis_wall:.2f} s for {SECONDS} s of video, {verdict} the {TARGET_SECONDS:g} s target; "
          f"{analysis_wall / rows[0][1]:.2f} x the cost of decoding alone; load average now {os.getloadavg()[0]:.1f}")

    true_cuts = [f / FPS for f in cut_frames()]
    tolerance = 1.0 / analysis.analysis_fps + 1e-6
    hits = sum(any(abs(t - c) <= tolerance for c in analysis.cuts) for t in true_cuts)
    extra = sum(not any(abs(t - c) <= tolerance for t in true_cuts) for c in analysis.cuts)
    print(f"cuts: {hits}/{len(true_cuts)} found within one analysis frame, {extra} extra; "
          f"{len(analysis.visual_beats)} visual beats, mean motion {analysis.mean_motion:.4f}")


if __name__ == "__main__":
    main()
