"""Shots of a video: hard cuts, dissolves and fades, found in per-frame measurements.

`visual.analyze_video` measures each analysed frame (about 8 a second) and keeps, per frame, a
40 x 22 colour thumbnail and its colour histogram; `find_shots` reads those and returns the edit:

- **hard cut** at frame i: the picture jumps between frames i-1 and i while it holds on both
  sides. The jump is measured twice, as mean pixel change (which sees a cut to another angle of
  the same place, colours alike) and as colour-histogram distance (which sees a cut while the
  camera moves); either must stand SPIKE times above the same measure on the frames either side.
  A camera move changes every frame alike, so it never spikes; a flash (a frame or two that
  come back to the look before) is not a cut. Shots down to MIN_SHOT_SECONDS are kept, so a
  montage of 0.3 s shots is found cut by cut, each to the analysed frame.
- **dissolve**: over a window of 2k frames the picture goes from one look to another while the
  middle frame is the mix of the two ends (a cross-fade is linear in pixels; a pan or a zoom is
  not), and the picture holds before and after the window (a step, not a slow drift).
- **fade** through black: the brightness dips near black between two brighter pictures,
  gradually on both sides (a hard cut to black and back is two hard cuts).

Each transition's strength (0..1) is how much the picture changes across it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtm_daw.description import Cut

# hard cuts
CUT_CHANGE_FLOOR = 0.03  # mean abs difference of the thumbnails (RGB, 0..1) a cut must reach
CUT_FLOOR = 0.2  # histogram distance (0..1) a colour-only cut must reach
SPIKE = 3.0  # a cut's change stands this many times above the frames' on either side
COLOUR_SPIKE = 2.0  # ... for the histogram distance, which motion moves less,
CHANGE_RISE = 1.2  # ... while the pixels change more than on one side (colours crossing histogram bins in a fade do not)
FLASH_BRIGHTNESS = 0.15  # a flash is this much brighter (or darker) than the pictures either side (luma 0..1)
FLASH_SECONDS = 0.375  # ... and lasts at most this long
FLASH_WHITE, FLASH_BLACK = 0.8, 0.05  # longer than a frame, or between unlike pictures, a flash is this white (black)
MIN_SHOT_SECONDS = 0.25  # no two cuts closer than this (the stronger wins)
CHANGE_FOR_FULL_STRENGTH = 0.25  # thumbnail difference of a cut between unrelated pictures

# dissolves
DISSOLVE_HALF_SECONDS = (0.25, 0.375, 0.5, 0.75, 1.0)  # half-lengths tried: dissolves of 0.5-2 s
DISSOLVE_FLOOR = 0.04  # mean abs thumbnail change across the dissolve (RGB, 0..1)
DISSOLVE_LINEARITY = 0.35  # the middle frame's distance from the ends' mix, relative to the change
DISSOLVE_STEP = 3.0  # the change across stands this many times above the change before and after

# fades through black
FADE_BLACK = 0.08  # mean luma of the darkest frame of a fade
FADE_DEPTH = 0.3  # ... at most this fraction of the pictures either side
FADE_SECONDS = 1.5  # how far either side the brighter pictures are looked for


@dataclass
class FrameMeasures:
    """What shot detection needs of each analysed frame (N frames)."""
    times: np.ndarray  # (N,) seconds
    histograms: np.ndarray  # (N, 512) normalised colour histograms
    thumbnails: np.ndarray  # (N, h, w, 3) uint8 RGB, small enough to keep for a whole video
    brightness: np.ndarray  # (N,) mean luma 0..1
    rate: float  # analysed frames per second

    def steps(self, frames: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """From each of `frames` (indices, default all) to the next: (mean abs thumbnail difference,
        half-L1 histogram distance), each (len(frames),) with 0 for the first."""
        frames = np.arange(self.times.size) if frames is None else frames
        thumbs = self.thumbnails.reshape(self.times.size, -1)[frames].astype(np.float32) / 255.0
        change = np.concatenate([[0.0], np.abs(np.diff(thumbs, axis=0)).mean(axis=1)])
        colour = np.concatenate([[0.0], 0.5 * np.abs(np.diff(self.histograms[frames], axis=0)).sum(axis=1)])
        return change, colour


def find_shots(frames: FrameMeasures) -> list[Cut]:
    """Every transition between shots, in time order: hard cuts, dissolves and fades."""
    hard = hard_cuts(frames)
    fades = fades_through_black(frames, hard)
    taken = [(c.time - c.seconds / 2, c.time + c.seconds / 2) for c in hard + fades]
    dissolves = [d for d in find_dissolves(frames)
                 if not any(a - 1e-9 <= d.time + d.seconds / 2 and d.time - d.seconds / 2 <= b + 1e-9 for a, b in taken)]
    return sorted(hard + fades + dissolves, key=lambda c: c.time)


# --- hard cuts -------------------------------------------------------------------------------

def hard_cuts(frames: FrameMeasures) -> list[Cut]:
    times = frames.times
    kept = np.flatnonzero(~flash_frames(frames))  # a flash's frames are stepped over: the picture before meets the one after
    if kept.size < 2:
        return []
    change, colour = frames.steps(kept)
    m = kept.size
    candidates = []
    for i in range(1, m):
        if change[i] < CUT_CHANGE_FLOOR:
            continue
        before_change, after_change = (change[i - 1] if i > 1 else 0.0), (change[i + 1] if i + 1 < m else 0.0)
        before_colour, after_colour = (colour[i - 1] if i > 1 else 0.0), (colour[i + 1] if i + 1 < m else 0.0)
        jumps = change[i] >= SPIKE * max(before_change, after_change)
        recolours = (colour[i] >= max(CUT_FLOOR, COLOUR_SPIKE * max(before_colour, after_colour))
                     and change[i] >= CHANGE_RISE * min(before_change, after_change))
        if jumps or recolours:
            candidates.append(i)
    strength = {i: float(min(1.0, max(colour[i], change[i] / CHANGE_FOR_FULL_STRENGTH))) for i in candidates}
    chosen: list[int] = []
    for i in sorted(candidates, key=lambda k: -strength[k]):
        t = times[kept[i]]
        if t < MIN_SHOT_SECONDS - 1e-9:
            continue
        if all(abs(t - times[kept[j]]) >= MIN_SHOT_SECONDS - 1e-9 for j in chosen):
            chosen.append(i)
    # a cut under a flash happens where the flash begins
    return [Cut(round(float(times[kept[i - 1] + 1]), 3), "hard", round(strength[i], 3)) for i in sorted(chosen)]


def flash_frames(frames: FrameMeasures) -> np.ndarray:
    """(N,) bool: frames of a flash, much brighter (or darker) than the frames either side of it: one
    analysed frame between two about as bright as each other, or a run of at most FLASH_SECONDS that is
    white (or black), as a flash on a cut is."""
    light = frames.brightness
    n = light.size
    reach = max(1, int(round(FLASH_SECONDS * frames.rate)))
    flags = np.zeros(n, dtype=bool)
    for first in range(1, n - 1):
        for last in range(first, min(first + reach, n - 1)):
            run = light[first:last + 1]
            sides = (light[first - 1], light[last + 1])
            # one frame over one scene, or white (black) over anything: a short bright shot is still a shot
            plain = last == first and abs(sides[0] - sides[1]) < FLASH_BRIGHTNESS
            bright = run.min() >= max(sides) + FLASH_BRIGHTNESS and (plain or run.min() >= FLASH_WHITE)
            dark = run.max() <= min(sides) - FLASH_BRIGHTNESS and (plain or run.max() <= FLASH_BLACK)
            if bright or dark:
                flags[first:last + 1] = True
                break
    return flags


def _histogram_distance(frames: FrameMeasures, a: int, b: int) -> float:
    return 0.5 * float(np.abs(frames.histograms[a] - frames.histograms[b]).sum())


# --- dissolves -------------------------------------------------------------------------------

def find_dissolves(frames: FrameMeasures) -> list[Cut]:
    """Cross-fades of 0.5-2 s: the strongest linear step at each place (see the module text)."""
    n = frames.times.size
    flat = frames.thumbnails.reshape(n, -1).astype(np.float32) / 255.0
    best_score = np.zeros(n)
    best_half = np.zeros(n, dtype=np.int64)
    for half in sorted({max(1, int(round(s * frames.rate))) for s in DISSOLVE_HALF_SECONDS}):
        if n < 4 * half + 1:
            continue
        middle = np.arange(2 * half, n - 2 * half)
        start, end = flat[middle - half], flat[middle + half]
        across = np.abs(end - start).mean(axis=1)
        residual = np.abs(flat[middle] - 0.5 * (start + end)).mean(axis=1)
        before = np.abs(start - flat[middle - 2 * half]).mean(axis=1)
        after = np.abs(flat[middle + 2 * half] - end).mean(axis=1)
        found = ((across >= DISSOLVE_FLOOR) & (residual <= DISSOLVE_LINEARITY * across)
                 & (across >= DISSOLVE_STEP * np.maximum(before, after)))
        score = np.where(found, across - residual, 0.0)
        better = score > best_score[middle]
        best_score[middle[better]] = score[better]
        best_half[middle[better]] = half
    dissolves: list[tuple[int, int]] = []
    for i in np.argsort(-best_score, kind="stable"):
        if best_score[i] <= 0:
            break
        half = int(best_half[i])
        if all(abs(int(i) - j) > half + k for j, k in dissolves):
            dissolves.append((int(i), half))
    return [Cut(round(float(frames.times[i]), 3), "dissolve",
                round(min(1.0, _histogram_distance(frames, i - k, i + k)), 3),
                round(float(frames.times[i + k] - frames.times[i - k]), 3))
            for i, k in sorted(dissolves)]


# --- fades through black ---------------------------------------------------------------------

def fades_through_black(frames: FrameMeasures, hard: list[Cut]) -> list[Cut]:
    """Dips to near black between brighter pictures, reached gradually from both sides."""
    times, light = frames.times, frames.brightness
    n = times.size
    reach = max(2, int(round(FADE_SECONDS * frames.rate)))
    cut_frames = {int(np.abs(times - c.time).argmin()) for c in hard}
    fades = []
    i = 0
    while i < n:
        if light[i] >= FADE_BLACK:
            i += 1
            continue
        run_end = i
        while run_end + 1 < n and light[run_end + 1] < FADE_BLACK:
            run_end += 1
        darkest = i + int(np.argmin(light[i:run_end + 1]))
        first, last = max(0, i - reach), min(n, run_end + 1 + reach)
        if i > 0 and run_end + 1 < n:
            before, after = i - 1, run_end + 1  # walk out along the ramps while the light keeps rising
            while before > first and light[before - 1] > light[before]:
                before -= 1
            while after < last - 1 and light[after + 1] > light[after]:
                after += 1
            deep = light[darkest] <= FADE_DEPTH * min(light[before], light[after])
            gradual = not any(before < k <= after for k in cut_frames) and i - before >= 2 and after - run_end >= 2
            if deep and gradual:
                fades.append(Cut(round(float(times[darkest]), 3), "fade",
                                 round(min(1.0, _histogram_distance(frames, before, after)), 3),
                                 round(float(times[after] - times[before]), 3)))
        i = run_end + 1
    return fades
