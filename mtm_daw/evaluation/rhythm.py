"""BeatMSE: does the music's pulse land on the picture's rhythm?

The MTM paper reports BeatMSE for video-to-music (lower is better: VMB 1172.1 against VidMuse 1427.2 on
SymMV) as the rhythm-alignment error between the generated music and the video. The pages we could read
name the metric but not its formula or unit, so this is the definition we implement, stated exactly:

    visual events  V = {v_i}: the video's visual beats (motion onsets) and shot cuts, in seconds
    music beats    B = {b_j}: beats tracked on the rendered mix (librosa's tracker, analysis.tempo), the
                   pulse carried on at the median beat spacing to the clip's start and end
    BeatMSE(B, V)  = mean_i ( min_j |v_i - b_j| )^2, in milliseconds squared

Each visual event is charged the distance to the nearest music beat, so a cue whose beats fall on the
cuts and motion hits scores 0 and the error grows with any offset (up to half a beat). Music beats that
meet no visual event cost nothing: music has many more beats than a video has cuts. Any event times
(hit points, known cut times) and any music times (note onsets, audio onsets) can be passed instead.
"""
from __future__ import annotations

import numpy as np

from mtm_daw.errors import MtmError


def beat_mse(music_times, visual_times) -> float:
    """Mean squared distance (ms^2) from each visual event to the nearest music beat.

    NaN when the video has no visual events (nothing to align to); MtmError when there are events
    but the music has no beats (no pulse was found: the worst case, not a number to average)."""
    music = np.sort(np.asarray(music_times, dtype=np.float64).reshape(-1))
    visual = np.asarray(visual_times, dtype=np.float64).reshape(-1)
    if not (np.all(np.isfinite(music)) and np.all(np.isfinite(visual))):
        raise MtmError("beat times must be finite numbers of seconds")
    if visual.size == 0:
        return float("nan")
    if music.size == 0:
        raise MtmError("the music has no beats to align with the picture (no steady pulse was found)")
    return float(np.mean(nearest_distance(music, visual) ** 2) * 1e6)


def nearest_distance(sorted_times: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """|q - nearest of sorted_times| for each query, in the queries' unit."""
    index = np.clip(np.searchsorted(sorted_times, queries), 1, max(len(sorted_times) - 1, 1))
    before = sorted_times[np.maximum(index - 1, 0)]
    after = sorted_times[np.minimum(index, len(sorted_times) - 1)]
    return np.minimum(np.abs(queries - before), np.abs(queries - after))


def music_beats(mix: np.ndarray, sample_rate: int) -> np.ndarray:
    """Beat times (seconds) of a rendered mix, (channels, n) or (n,): the tracked beats, with the pulse
    carried on at their median spacing back to the start and on to the end (the tracker drops weak
    beats at the edges of a clip, which would charge an early cut for a beat the music does play)."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.analysis.tempo import estimate_tempo

    mono = np.asarray(mix, dtype=np.float32)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    beats = np.asarray(estimate_tempo(mono, sample_rate).beat_times, dtype=np.float64)
    return extend_pulse(beats, len(mono) / sample_rate)


def extend_pulse(beats: np.ndarray, duration: float) -> np.ndarray:
    """Beats continued at their median spacing from time 0 to `duration` (unchanged with < 2 beats)."""
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    if len(beats) < 2:
        return beats
    period = float(np.median(np.diff(beats)))
    before = beats[0] - period * np.arange(int(beats[0] // period), 0, -1)
    after = beats[-1] + period * np.arange(1, int(max(duration - beats[-1], 0.0) // period) + 1)
    return np.concatenate([before, beats, after])


def visual_events(path, cancel=None) -> list[float]:
    """A video's visual rhythm as the text bridge measures it: its shot cuts and visual beats (seconds)."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.describe.visual import analyze_video

    analysis = analyze_video(path, cancel=cancel)
    return sorted(float(t) for t in list(analysis.cuts) + list(analysis.visual_beats) if 0 < t < analysis.duration)
