"""Video or image -> MusicDescription: the visual half of the text bridge, offline.

    from mtm_daw.describe.from_visual import describe_video, describe_image
    description = describe_video("clip.mp4")          # duration, sections, energy, hit points
    description = describe_image("photo.jpg", 45.0)   # mood, genre, tempo, key for a 45 s cue

Steps for a video: 1. measure colour, motion, cuts and visual beats (`visual.analyze_video`);
2. turn them into mood, mode, tempo, genre and tonic (`affect.video_affect`); 3. sections from
the shots (short shots merged across their weaker cut, long ones split), each with its own
energy; 4. an energy curve about once a second; 5. hit points: the hard cuts, strongest first,
as many as the tempo allows (one a beat), then real motion onsets; the description keeps every
shot change in `cuts`, so the cuts that got no accent stay on record as soft hits.
Instruments stay empty (genre defaults) and the sentence stays "" (rendered elsewhere).
"""
from __future__ import annotations

import math
import os

import numpy as np

from mtm_daw.describe.affect import (Affect, energy_curve, energy_levels, image_affect,
                                     video_affect)
from mtm_daw.describe.visual import VideoAnalysis, analyze_image, analyze_video
from mtm_daw.description import (MAX_DURATION_SECONDS, HitPoint, MusicDescription, Section,
                                  fit_tempo_to_duration)
from mtm_daw.errors import MtmError
from mtm_daw.media.video import probe_video
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress
from mtm_daw.score.grid import TempoGrid

MIN_VIDEO_SECONDS = 1.0  # shorter clips (a single frame) are refused: a still is scored as an image
MIN_SECTION_SECONDS = 4.0  # shots shorter than this join a neighbour (less for short videos, see below)
SHORTEST_SECTION_SECONDS = 2.0  # ... but never below this, even for very short videos
MAX_PICTURE_SECONDS = 600.0  # the scored copy mixes the cue with the clip's own sound in memory (export.mux)
MAX_SECTION_SECONDS = 32.0  # longer shots are split into equal sections
ENERGY_STEP = 0.2  # a shot whose mean energy steps by this much (over MIN_SECTION_SECONDS a side) is split there
SAME_LOOK = 0.15  # feature distance under which two sections share a letter (A ... A)
MOTION_HIT_SECONDS = 2.0  # at most one motion hit per this many seconds of picture ...
MOTION_HIT_SPACING = 1.0  # ... and this many seconds apart
MOTION_HIT_FLOOR = 0.01  # a motion hit's onset (mean abs grey difference) at least this ...
MOTION_HIT_STILLNESS = 0.25  # ... out of a scene this still: motion before at most this share of after
MOTION_HIT_FRAMES = 3  # analysed frames before and after an onset compared
HIT_EDGE = 0.25  # no hit points in the first / last quarter second


def describe_video(path: str | os.PathLike, progress: ProgressCallback = no_progress,
                   cancel: CancelToken | None = None, analysis_fps: float = 8.0) -> MusicDescription:
    """Describe the music for a video: its length, mood, tempo, key, sections, energy and hit points."""
    # 1. check the input and measure the pictures
    info = probe_video(path)
    _check_length(info.path.name, info.duration)  # from the header, before decoding it all
    analysis = analyze_video(info.path, analysis_fps=analysis_fps, progress=progress, cancel=cancel)
    _check_length(info.path.name, analysis.duration)  # headers can be missing or wrong
    duration = round(analysis.duration, 3)
    if duration < MIN_VIDEO_SECONDS:
        raise MtmError(f"{info.path.name}: the video is {duration:.2f} s long ({analysis.frame_count} frame"
                       f"{'s' if analysis.frame_count != 1 else ''} analysed); a cue needs at least "
                       f"{MIN_VIDEO_SECONDS:g} s of picture (save a frame as an image to score it as a still)")
    # 2. musical choices for the whole video
    affect = video_affect(analysis)
    # 3.-5. time structure: a tempo (and a start) with the cuts near beats, then the accents
    levels = energy_levels(analysis)
    sections = shot_sections(analysis, levels)
    energy = [(t, e) for t, e in energy_curve(analysis, levels=levels) if t <= duration]
    description = MusicDescription(
        genre=affect.genre, mood=affect.mood, tempo=affect.tempo, key=affect.key, time_signature=(4, 4),
        instruments={}, duration=duration, sections=sections, energy=energy,
        hit_points=hit_points(analysis, affect.tempo, duration),
        cuts=[cut for cut in analysis.transitions if cut.time <= duration], sentence="")
    description = fit_tempo_to_duration(description)
    description.hit_points = hit_points(analysis, description.tempo, duration, description.start)
    return description.validate()


def describe_image(path: str | os.PathLike, duration: float = 30.0) -> MusicDescription:
    """Describe the music for a still image: mood, genre, tempo and key for a cue of `duration` seconds."""
    if (isinstance(duration, bool) or not isinstance(duration, (int, float)) or math.isnan(duration)
            or not 0 < duration <= MAX_DURATION_SECONDS):
        raise MtmError(f"duration must be between 0 and {MAX_DURATION_SECONDS:g} seconds, got {duration!r}")
    affect: Affect = image_affect(analyze_image(path))
    description = MusicDescription(genre=affect.genre, mood=affect.mood, tempo=affect.tempo, key=affect.key,
                                   time_signature=(4, 4), instruments={}, duration=float(duration),
                                   sentence="")
    return description.validate()


# --- sections --------------------------------------------------------------------------------

def shot_sections(analysis: VideoAnalysis, levels: np.ndarray | None = None,
                  min_section: float | None = None) -> list[Section]:
    """Sections that follow the shots and the steps of energy.

    Shots shorter than `min_section` (default MIN_SECTION_SECONDS, or a quarter of a short
    video but at least SHORTEST_SECTION_SECONDS) join the neighbour across the weaker cut; a shot
    whose energy steps (ENERGY_STEP) is split at the step; sections longer than MAX_SECTION_SECONDS
    are split evenly. Each section's energy is the mean
    frame energy inside it. Names: letters by look (similar brightness, colour and energy share
    a letter), with "intro"/"outro" for a short, calmer first/last section when there are three
    or more.
    """
    duration = round(analysis.duration, 3)
    if levels is None:
        levels = energy_levels(analysis)
    if min_section is None:
        min_section = min(MIN_SECTION_SECONDS, max(SHORTEST_SECTION_SECONDS, duration / 4))
    inner = [(cut.time, cut.strength) for cut in analysis.transitions if 0 < cut.time < duration]
    bounds = [0.0] + [t for t, _ in inner] + [duration]
    strength = [math.inf] + [s for _, s in inner] + [math.inf]  # of each boundary
    # merge the shortest shot into a neighbour until every shot is long enough
    while len(bounds) > 2:
        lengths = np.diff(bounds)
        i = int(np.argmin(lengths))
        if lengths[i] >= min_section:
            break
        drop = i if strength[i] <= strength[i + 1] else i + 1  # the weaker of the shot's two cuts
        del bounds[drop], strength[drop]
    spans = []
    for start, end in _energy_steps(list(zip(bounds, bounds[1:])), analysis.times, levels, min_section):
        parts = max(1, math.ceil((end - start) / MAX_SECTION_SECONDS - 1e-9))
        edges = np.linspace(start, end, parts + 1)
        spans += [(round(float(a), 3), round(float(b), 3)) for a, b in zip(edges, edges[1:])]

    features, energies = [], []
    for start, end in spans:
        inside = (analysis.times >= start) & (analysis.times < end)
        if not inside.any():  # a span between two analysed frames: the nearest frame
            inside = np.zeros_like(analysis.times, dtype=bool)
            inside[min(int(np.searchsorted(analysis.times, start)), analysis.times.size - 1)] = True
        energy = float(np.clip(levels[inside].mean(), 0.0, 1.0)) if levels.size else 0.5
        saturation = float(analysis.saturation[inside].mean())
        radians = np.radians(analysis.hue[inside])
        weight = analysis.saturation[inside] * analysis.hue_strength[inside]
        features.append(np.array([float(analysis.brightness[inside].mean()), saturation, energy,
                                  0.5 * float(np.mean(weight * np.cos(radians))),
                                  0.5 * float(np.mean(weight * np.sin(radians)))]))
        energies.append(round(energy, 3))
    names = _section_names(spans, features, energies, duration)
    return [Section(name, start, end, energy) for name, (start, end), energy in zip(names, spans, energies)]


def _energy_steps(spans: list[tuple[float, float]], times: np.ndarray, levels: np.ndarray,
                  min_section: float) -> list[tuple[float, float]]:
    """The spans split where the energy steps inside one shot (a still opening that bursts into motion):
    at the time that best parts a calmer side from a livelier one, when their mean levels differ by at
    least ENERGY_STEP and both sides are at least `min_section` long; again inside each side."""
    result = []
    pending = list(reversed(spans))
    while pending:
        start, end = pending.pop()
        inside = np.flatnonzero((times >= start) & (times < end))
        best, best_step = None, ENERGY_STEP
        if levels.size == times.size and inside.size >= 2:
            values = levels[inside]
            totals = np.cumsum(values)
            for k in range(1, inside.size):
                split = float(times[inside[k]])
                if split - start < min_section or end - split < min_section:
                    continue
                step = abs(totals[k - 1] / k - (totals[-1] - totals[k - 1]) / (inside.size - k))
                if step >= best_step:
                    best, best_step = round(split, 3), step
        if best is None:
            result.append((start, end))
        else:
            pending += [(best, end), (start, best)]
    return result


def _section_names(spans, features, energies, duration) -> list[str]:
    n = len(spans)
    names: list[str | None] = [None] * n
    if n >= 3:
        median = float(np.median(energies))
        for index, label in ((0, "intro"), (n - 1, "outro")):
            start, end = spans[index]
            if end - start <= 0.25 * duration and energies[index] <= median:
                names[index] = label
    prototypes: list[tuple[str, np.ndarray]] = []
    for index in range(n):
        if names[index] is not None:
            continue
        distances = [float(np.linalg.norm(features[index] - f)) for _, f in prototypes]
        if distances and min(distances) < SAME_LOOK:
            names[index] = prototypes[int(np.argmin(distances))][0]
        else:
            letter = _letter(len(prototypes))
            prototypes.append((letter, features[index]))
            names[index] = letter
    return [str(name) for name in names]


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"S{index + 1}"


# --- hit points ------------------------------------------------------------------------------

def hit_points(analysis: VideoAnalysis, tempo: float, duration: float | None = None,
               start: float = 0.0) -> list[HitPoint]:
    """Accents for the picture, at most one on each beat of `tempo` (the beat a time rounds to, the
    first beat at `start`), and none within half a beat of another or before the music starts.

    Hard cuts first, strongest first (strength 0.6..1 from how much the picture changes), each
    on a beat no accent holds yet; then motion onsets out of a still scene (0.3..0.6), at most one
    per MOTION_HIT_SECONDS of picture: a camera that keeps moving gives none."""
    duration = analysis.duration if duration is None else duration
    chosen: list[tuple[float, float]] = []
    beat = TempoGrid(tempo).seconds_per_beat

    def beat_is_free(t: float) -> bool:
        return (max(HIT_EDGE, start) <= t <= duration - HIT_EDGE
                and all(round((t - start) / beat) != round((u - start) / beat) and abs(t - u) >= 0.5 * beat
                        for u, _ in chosen))

    for t, strength in sorted(zip(analysis.cuts, analysis.cut_strengths), key=lambda c: -c[1]):
        if beat_is_free(t):
            chosen.append((round(t, 3), round(0.6 + 0.4 * min(1.0, strength), 3)))
    onsets = real_motion_onsets(analysis)
    top = max((s for _, s in onsets), default=0.0)
    motion_hits: list[float] = []
    cap = max(1, int(duration // MOTION_HIT_SECONDS))
    for t, strength in sorted(onsets, key=lambda o: -o[1]):
        if len(motion_hits) < cap and beat_is_free(t) and all(abs(t - u) >= MOTION_HIT_SPACING - 1e-9
                                                               for u in motion_hits):
            chosen.append((round(t, 3), round(0.3 + 0.3 * strength / top, 3)))
            motion_hits.append(t)
    return [HitPoint(t, s) for t, s in sorted(chosen)]


def real_motion_onsets(analysis: VideoAnalysis) -> list[tuple[float, float]]:
    """(time, onset) of the visual beats where things start to move out of stillness."""
    onsets = []
    for t, strength in zip(analysis.visual_beats, analysis.beat_strengths):
        i = int(np.searchsorted(analysis.times, t))
        before = analysis.motion[max(0, i - MOTION_HIT_FRAMES):i]
        after = analysis.motion[i:i + MOTION_HIT_FRAMES]
        if before.size == 0 or after.size == 0 or strength < MOTION_HIT_FLOOR:
            continue
        if float(before.mean()) <= MOTION_HIT_STILLNESS * float(after.mean()):
            onsets.append((t, strength))
    return onsets


def _check_length(name: str, seconds: float) -> None:
    if seconds > MAX_PICTURE_SECONDS:
        raise MtmError(f"{name}: the video is {_clock(seconds)} long; cues to picture are at most "
                       f"{_clock(MAX_PICTURE_SECONDS)} (trim the video first)")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"
