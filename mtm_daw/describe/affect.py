"""From measured colour and motion to musical choices: valence/arousal, mood, mode, tempo, genre, key.

1. Colour -> valence and arousal (Valdez & Mehrabian 1994, "Effects of color on emotions"):

       P = 0.69 B + 0.22 S        A = -0.31 B + 0.60 S        (B, S = brightness, saturation in 0..1)

   Rescaling (ours): both are centred on a typical frame, B = 0.5 and S = 0.3 (P0 = 0.411,
   A0 = 0.025), divided by 0.5 and clipped to -1..1, so ordinary footage reads near neutral,
   a bright colourful frame reaches valence +1, black reaches -0.82, a dark saturated frame
   reaches arousal +1 and a bright grey one about -0.6.

2. Video arousal adds movement and editing pace (all terms in -1..1):

       arousal = 0.40 colour arousal + 0.35 (2 motion_level - 1) + 0.25 (2 cut_level - 1)
       motion_level = 1 - exp(-mean motion / 0.02)    cut_level = 1 - exp(-cuts per minute / 20)

   Image arousal: 0.8 colour arousal + 0.2 (2 busyness - 1), busyness = 1 - exp(-edge density / 0.08).

3. Mood from (valence, arousal), a 3 x 3 table (bands: valence < -0.15 | -0.15..0.2 | > 0.2;
   arousal < -0.3 | -0.3..0.25 | > 0.25):

                        low arousal     mid arousal     high arousal
       positive         romantic/calm   happy           playful
       neutral          calm            calm            epic
       negative         sad             dark            tense

   Positive and calm is "romantic" when the dominant colour is warm (reds, pinks, oranges:
   hue 300..50 degrees with a clear colour cast), otherwise "calm".

4. Mode: major when valence > 0, else minor.

5. Tempo from "drive" (0..1):
   video: drive = 0.3 (arousal_colour + 1) / 2 + 0.3 motion_level + 0.4 cut_level, tempo = 60 + 90 drive
   image: drive = (arousal + 1) / 2, tempo = 70 + 60 drive
   then (video) the whole BPM within +-3 % that puts the cuts closest to beats, rounded.

6. Style from mood and drive (STYLES_BY_MOOD below): each mood walks a ladder of styles as the drive
   rises (dark: ambient, cinematic, techno, metal; happy: bossa nova, pop, funk, rock; ...); when the
   picture's tempo lies outside the chosen style's range, the nearest rung that plays at it.

7. Tonic from the dominant hue on a colour wheel laid out as the circle of fifths (after
   Scriabin's colour keyboard: C red, G orange, D yellow, A yellow-green, E green, ...),
   30 degrees per fifth (HUE_TO_PITCH_CLASS). Nearly grey pictures (saturation x hue strength
   below 0.08) have no colour to follow and get C major / A minor.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mtm_daw.describe.visual import ImageAnalysis, VideoAnalysis
from mtm_daw.score.styles import style_for
from mtm_daw.score.theory import pitch_class_name

# 1. colour -> valence / arousal
NEUTRAL_BRIGHTNESS = 0.5
NEUTRAL_SATURATION = 0.3
AFFECT_SCALE = 0.5

# 2. movement and editing
MOTION_SCALE = 0.02  # mean abs grey difference per analysis interval that gives motion_level 0.63
CUT_RATE_SCALE = 20.0  # cuts per minute that give cut_level 0.63
EDGE_SCALE = 0.08
ENERGY_CUT_WINDOW = 5.0  # seconds either side over which the local editing pace is counted
QUIET_DB, LOUD_DB = -50.0, -12.0  # RMS dBFS of the clip's sound read as silent / as loud as it gets

# 3. mood bands
VALENCE_NEGATIVE = -0.15
VALENCE_POSITIVE = 0.2
AROUSAL_LOW = -0.3
AROUSAL_HIGH = 0.25
MOOD_TABLE = {  # (valence band, arousal band) -> mood
    ("positive", "low"): "calm", ("positive", "mid"): "happy", ("positive", "high"): "playful",
    ("neutral", "low"): "calm", ("neutral", "mid"): "calm", ("neutral", "high"): "epic",
    ("negative", "low"): "sad", ("negative", "mid"): "dark", ("negative", "high"): "tense",
}
WARM_HUES = ((300.0, 360.0), (0.0, 50.0))  # degrees: magenta, pink, red, orange
COLOUR_CAST_MIN = 0.08  # saturation x hue strength below this: no usable hue

# 5. tempo
VIDEO_TEMPO_RANGE = (60.0, 150.0)
IMAGE_TEMPO_RANGE = (70.0, 130.0)
TEMPO_SNAP = 0.03  # relative tempo change allowed to put cuts on beats

# 6. style: mood -> a ladder of styles by drive, ((drive below which it plays, style), ...) ending at 1.01
STYLES_BY_MOOD = {
    "happy": ((0.3, "bossa-nova"), (0.5, "pop"), (0.7, "funk"), (1.01, "rock")),
    "playful": ((0.35, "reggae"), (0.6, "electronic"), (1.01, "house")),
    "calm": ((0.35, "ambient"), (0.6, "lo-fi"), (1.01, "jazz")),
    "romantic": ((0.35, "bossa-nova"), (0.6, "rnb"), (1.01, "jazz")),
    "sad": ((0.25, "ambient"), (0.5, "orchestral"), (0.7, "lo-fi"), (1.01, "cinematic")),
    "dark": ((0.25, "ambient"), (0.5, "cinematic"), (0.75, "techno"), (1.01, "metal")),
    "tense": ((0.45, "cinematic"), (0.7, "synthwave"), (1.01, "trap")),
    "epic": ((0.7, "orchestral"), (1.01, "cinematic")),
}

# 7. hue -> tonic: hue sector centred on k * 30 degrees -> k steps round the circle of fifths from C
HUE_TO_PITCH_CLASS = tuple((7 * k) % 12 for k in range(12))  # 0 red C, 30 G, 60 D, 90 A, 120 E, ...


@dataclass
class Affect:
    valence: float  # -1..1
    arousal: float  # -1..1
    drive: float  # 0..1, what sets the tempo
    mood: str
    mode: str  # "major" | "minor"
    tempo: float  # BPM
    genre: str
    tonic: int  # pitch class 0..11
    evidence: dict[str, str] = field(default_factory=dict)  # field -> why, for the panel and logs

    @property
    def key(self) -> str:
        return f"{pitch_class_name(self.tonic, self.mode)} {self.mode}"


# --- building blocks -------------------------------------------------------------------------

def colour_valence_arousal(brightness, saturation):
    """Valdez & Mehrabian pleasure/arousal, rescaled to -1..1 (floats or arrays)."""
    b = np.asarray(brightness, dtype=np.float64)
    s = np.asarray(saturation, dtype=np.float64)
    pleasure = 0.69 * b + 0.22 * s
    arousal = -0.31 * b + 0.60 * s
    p0 = 0.69 * NEUTRAL_BRIGHTNESS + 0.22 * NEUTRAL_SATURATION
    a0 = -0.31 * NEUTRAL_BRIGHTNESS + 0.60 * NEUTRAL_SATURATION
    valence = np.clip((pleasure - p0) / AFFECT_SCALE, -1.0, 1.0)
    arousal = np.clip((arousal - a0) / AFFECT_SCALE, -1.0, 1.0)
    if valence.ndim == 0:
        return float(valence), float(arousal)
    return valence, arousal


def motion_level(motion):
    """0..1 from mean absolute grey difference per analysis interval."""
    return 1.0 - np.exp(-np.maximum(np.asarray(motion, dtype=np.float64), 0.0) / MOTION_SCALE)


def cut_level(cuts_per_minute: float) -> float:
    return float(1.0 - math.exp(-max(cuts_per_minute, 0.0) / CUT_RATE_SCALE))


def mood_for(valence: float, arousal: float, hue: float = 0.0, colour_cast: float = 0.0) -> str:
    """The MOOD_TABLE cell for (valence, arousal); positive and calm turns romantic when warm."""
    v_band = "negative" if valence < VALENCE_NEGATIVE else "positive" if valence > VALENCE_POSITIVE else "neutral"
    a_band = "low" if arousal < AROUSAL_LOW else "high" if arousal > AROUSAL_HIGH else "mid"
    mood = MOOD_TABLE[(v_band, a_band)]
    if (v_band, a_band) == ("positive", "low") and is_warm(hue, colour_cast):
        mood = "romantic"
    return mood


def is_warm(hue: float, colour_cast: float) -> bool:
    return colour_cast >= COLOUR_CAST_MIN and any(lo <= hue % 360.0 < hi for lo, hi in WARM_HUES)


def genre_for(mood: str, drive: float, tempo: float | None = None) -> str:
    """The mood's style for this drive; at a tempo outside that style's range, the nearest rung of the
    mood's ladder that plays at the tempo (the picture's cut rate sets the tempo and must stay)."""
    ladder = [style for _, style in STYLES_BY_MOOD[mood]]
    chosen = next(index for index, (bound, _) in enumerate(STYLES_BY_MOOD[mood]) if drive < bound)
    if tempo is None:
        return ladder[chosen]
    for index in sorted(range(len(ladder)), key=lambda i: abs(i - chosen)):
        low, high = style_for(ladder[index]).tempo_range
        if low <= tempo <= high:
            return ladder[index]
    return ladder[chosen]


def tonic_for(hue: float, colour_cast: float, mode: str) -> int:
    """Pitch class from the dominant hue (HUE_TO_PITCH_CLASS); C major / A minor when grey."""
    if colour_cast < COLOUR_CAST_MIN:
        return 0 if mode == "major" else 9
    return HUE_TO_PITCH_CLASS[int(round((hue % 360.0) / 30.0)) % 12]


def snap_tempo(target: float, cuts: list[float], strengths: list[float] | None = None,
               limits: tuple[float, float] = VIDEO_TEMPO_RANGE) -> float:
    """The whole BPM within +-TEMPO_SNAP of `target` whose beat grid (from 0 s) lies closest to
    the cuts (strength-weighted squared distance in beats); ties go to the BPM nearest the target."""
    low = max(limits[0], math.ceil(target * (1 - TEMPO_SNAP)))
    high = min(limits[1], math.floor(target * (1 + TEMPO_SNAP)))
    if not cuts or high < low:
        return float(min(max(round(target), limits[0]), limits[1]))
    weights = np.asarray(strengths if strengths else [1.0] * len(cuts), dtype=np.float64)
    times = np.asarray(cuts, dtype=np.float64)
    best, best_cost = round(target), math.inf
    for bpm in range(int(low), int(high) + 1):
        beats = times * bpm / 60.0
        error = beats - np.round(beats)
        cost = float(np.sum(weights * error ** 2) / max(weights.sum(), 1e-9)) + 1e-3 * abs(bpm - target) / target
        if cost < best_cost:
            best, best_cost = bpm, cost
    return float(best)


# --- images and videos -----------------------------------------------------------------------

def image_affect(analysis: ImageAnalysis) -> Affect:
    """Mood, mode, tempo, genre and tonic for a still image."""
    valence, colour_arousal = colour_valence_arousal(analysis.brightness, analysis.saturation)
    busyness = 1.0 - math.exp(-analysis.edge_density / EDGE_SCALE)
    arousal = float(np.clip(0.8 * colour_arousal + 0.2 * (2 * busyness - 1), -1, 1))
    drive = (arousal + 1) / 2
    tempo = float(round(IMAGE_TEMPO_RANGE[0] + (IMAGE_TEMPO_RANGE[1] - IMAGE_TEMPO_RANGE[0]) * drive))
    cast = analysis.saturation * analysis.hue_strength
    evidence = {
        "valence": f"brightness {analysis.brightness:.2f}, saturation {analysis.saturation:.2f}",
        "arousal": f"colour arousal {colour_arousal:+.2f}, edge density {analysis.edge_density:.2f}",
    }
    return _finish(valence, arousal, drive, tempo, analysis.hue, cast, evidence)


def video_affect(analysis: VideoAnalysis) -> Affect:
    """Mood, mode, tempo, genre and tonic for a whole video (colour, motion and editing pace)."""
    valence, colour_arousal = colour_valence_arousal(analysis.mean_brightness, analysis.mean_saturation)
    moving = float(motion_level(analysis.mean_motion))
    cutting = cut_level(analysis.cuts_per_minute)
    arousal = float(np.clip(0.40 * colour_arousal + 0.35 * (2 * moving - 1) + 0.25 * (2 * cutting - 1), -1, 1))
    drive = 0.3 * (colour_arousal + 1) / 2 + 0.3 * moving + 0.4 * cutting
    low, high = VIDEO_TEMPO_RANGE
    tempo = snap_tempo(low + (high - low) * drive, analysis.cuts, analysis.cut_strengths)
    cast = analysis.mean_saturation * analysis.hue_strength_overall
    evidence = {
        "valence": f"brightness {analysis.mean_brightness:.2f}, saturation {analysis.mean_saturation:.2f}",
        "arousal": (f"colour arousal {colour_arousal:+.2f}, motion level {moving:.2f}, "
                    f"{analysis.cuts_per_minute:.1f} cuts per minute"),
    }
    return _finish(valence, arousal, drive, tempo, analysis.dominant_hue, cast, evidence)


def _finish(valence: float, arousal: float, drive: float, tempo: float, hue: float, cast: float,
            evidence: dict[str, str]) -> Affect:
    mood = mood_for(valence, arousal, hue, cast)
    mode = "major" if valence > 0 else "minor"
    genre = genre_for(mood, drive, tempo)
    tonic = tonic_for(hue, cast, mode)
    evidence.update({
        "mood": f"valence {valence:+.2f}, arousal {arousal:+.2f}",
        "tempo": f"drive {drive:.2f}",
        "key": (f"dominant hue {hue:.0f} degrees" if cast >= COLOUR_CAST_MIN
                else "no clear colour cast (default tonic)"),
    })
    return Affect(valence=float(valence), arousal=float(arousal), drive=float(drive), mood=mood, mode=mode,
                  tempo=tempo, genre=genre, tonic=tonic, evidence=evidence)


def energy_levels(analysis: VideoAnalysis, smoothing: float = 1.0) -> np.ndarray:
    """Energy 0..1 per analysed frame, (N,), as a viewer feels it.

    pace = 1 - (1 - motion_level) (1 - cut_level of the shot changes within +-ENERGY_CUT_WINDOW s):
    a scene is lively when the camera or the things in it move, or when the editing is fast, so a
    montage of still shots reads as energetic as a chase. With the clip's own sound,
    0.6 pace + 0.2 sound level + 0.2 colour arousal (0..1); without, 0.75 pace + 0.25 colour
    arousal. Smoothed by a moving average over `smoothing` seconds.
    """
    if analysis.times.size == 0:
        return np.zeros(0)
    _, colour_arousal = colour_valence_arousal(analysis.brightness, analysis.saturation)
    colour = (np.asarray(colour_arousal) + 1) / 2
    changes = np.asarray([cut.time for cut in analysis.transitions], dtype=np.float64)
    window = ENERGY_CUT_WINDOW
    local_rate = np.array([np.count_nonzero(np.abs(changes - t) <= window) for t in analysis.times]) * 30.0 / window
    pace = 1.0 - (1.0 - motion_level(analysis.motion)) * np.exp(-local_rate / CUT_RATE_SCALE)
    if analysis.loudness is None:
        level = 0.75 * pace + 0.25 * colour
    else:
        sound = np.clip((analysis.loudness - QUIET_DB) / (LOUD_DB - QUIET_DB), 0.0, 1.0)
        level = 0.6 * pace + 0.2 * sound + 0.2 * colour
    width = max(1, int(round(smoothing * analysis.analysis_fps)))
    if width > 1 and level.size > width:
        padded = np.pad(level, (width // 2, width - 1 - width // 2), mode="edge")
        level = np.convolve(padded, np.ones(width) / width, mode="valid")
    return np.clip(level, 0.0, 1.0)


def energy_curve(analysis: VideoAnalysis, step: float = 1.0,
                 levels: np.ndarray | None = None) -> list[tuple[float, float]]:
    """(seconds, level 0..1) every `step` seconds from 0, plus the video's end."""
    if levels is None:
        levels = energy_levels(analysis)
    if levels.size == 0:
        return [(0.0, 0.5)]
    duration = analysis.duration
    sample_times = [round(k * step, 3) for k in range(int(math.floor(duration / step)) + 1)
                    if k * step < duration - 1e-6] + [round(duration, 3)]
    values = np.interp(sample_times, analysis.times, levels)
    return [(float(t), round(float(np.clip(e, 0.0, 1.0)), 3)) for t, e in zip(sample_times, values)]


def mood_from_key_and_tempo(key: str, tempo: float) -> str:
    """A mood for music whose feel is only known from its mode and tempo (audio and MIDI references):
    minor reads as sad when slow and tense when fast, major as calm when slow and happy when fast."""
    fast = tempo >= 110
    if key.strip().endswith("minor"):
        return "tense" if fast else "sad"
    return "happy" if fast else "calm"
