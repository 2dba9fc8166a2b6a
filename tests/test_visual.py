"""The visual half of the text bridge: video and images -> MusicDescription, on files made here.

The media come from tests/visual_media.py (tiny synthetic videos and images with known colour,
motion and cut times), plus the bundled demo video (cuts at 3 s and 6 s).
"""
from __future__ import annotations

import numpy as np
import pytest

import visual_media as vm
from mtm_daw.data import DEMO_IMAGE, DEMO_VIDEO
from mtm_daw.describe import affect
from mtm_daw.describe.affect import image_affect, video_affect
from mtm_daw.describe.from_visual import describe_image, describe_video
from mtm_daw.describe.visual import analyze_image, analyze_video
from mtm_daw.description import GENRES, MOODS, MusicDescription
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.media.video import iter_frames
from mtm_daw.progress import CancelToken

CUT_TIMES = [1.5, 2.2, 2.75, 4.0, 6.3, 7.0]  # irregular, some between analysis frames
BURST_TIMES = [1.0, 2.5, 4.0, 5.5, 7.0]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visual_media")
    files = {
        "bright": vm.write_colour_video(folder / "bright.mp4", vm.BRIGHT_SATURATED),
        "dark_grey": vm.write_colour_video(folder / "dark_grey.mp4", vm.DARK_GREY),
        "saturated": vm.write_colour_video(folder / "saturated.mp4", vm.MID_SATURATED),
        "grey": vm.write_colour_video(folder / "grey.mp4", vm.MID_GREY, with_audio=True),
        "fast_cuts": vm.write_alternating_cut_video(folder / "fast_cuts.mp4", 0.75)[0],
        "slow_cuts": vm.write_alternating_cut_video(folder / "slow_cuts.mp4", 4.0)[0],
        "moving": vm.write_motion_video(folder / "moving.mp4", moving=True),
        "still": vm.write_motion_video(folder / "still.mp4", moving=False),
        "fade": vm.write_fade_video(folder / "fade.mp4"),
        "cuts": vm.write_cut_video(folder / "cuts.mp4", CUT_TIMES, seconds=8.0)[0],
        "bursts": vm.write_burst_video(folder / "bursts.mp4", BURST_TIMES)[0],
        "b_frames": vm.write_cut_video(folder / "b_frames.mp4", CUT_TIMES, seconds=8.0, fps=30, b_frames=3)[0],
        "many_b_frames": vm.write_cut_video(folder / "many_b.mp4", CUT_TIMES, seconds=8.0, fps=30,
                                            b_frames=7, b_pyramid=False)[0],  # 3.75 decodable frames a second
        "bright_image": vm.write_image(folder / "bright.png", vm.BRIGHT_SATURATED),
        "dark_image": vm.write_image(folder / "dark.png", vm.DARK_GREY),
        "saturated_image": vm.write_image(folder / "saturated.png", vm.MID_SATURATED),
        "grey_image": vm.write_image(folder / "grey.png", vm.MID_GREY),
        "corrupt": vm.write_corrupt_video(folder / "corrupt.mp4"),
        "empty": vm.write_empty_file(folder / "empty.mp4"),
        "audio_only": vm.write_audio_only(folder / "voice.m4a"),
        "alpha": vm.write_alpha_png(folder / "alpha.png"),
        "cmyk": vm.write_cmyk_jpeg(folder / "cmyk.jpg"),
        "16bit": vm.write_16bit_png(folder / "deep.png"),
        "gif": vm.write_animated_gif(folder / "animated.gif"),
    }
    return files


@pytest.fixture(scope="module")
def analyses(media):
    """Each test video analysed once."""
    names = ["bright", "dark_grey", "saturated", "grey", "fast_cuts", "slow_cuts", "moving", "still", "fade",
             "cuts", "bursts"]
    return {name: analyze_video(media[name]) for name in names}


def mean_energy(description: MusicDescription) -> float:
    return float(np.mean([level for _, level in description.energy]))


# --- colour -> valence / arousal ---------------------------------------------------------------

def test_darker_and_greyer_video_has_lower_valence(analyses):
    bright, dark = video_affect(analyses["bright"]), video_affect(analyses["dark_grey"])
    assert dark.valence < bright.valence - 0.5
    assert dark.mode == "minor" and bright.mode == "major"
    assert dark.mood in ("sad", "dark", "tense")


def test_darker_and_greyer_image_has_lower_valence(media):
    bright = image_affect(analyze_image(media["bright_image"]))
    dark = image_affect(analyze_image(media["dark_image"]))
    assert dark.valence < bright.valence - 0.5
    assert describe_image(media["dark_image"]).key.endswith("minor")


def test_more_saturated_means_more_arousal(analyses, media):
    saturated, grey = analyses["saturated"], analyses["grey"]
    assert saturated.mean_brightness == pytest.approx(grey.mean_brightness, abs=0.05)  # same luma, other colour
    assert video_affect(saturated).arousal > video_affect(grey).arousal + 0.2
    assert (image_affect(analyze_image(media["saturated_image"])).arousal
            > image_affect(analyze_image(media["grey_image"])).arousal + 0.2)


def test_colour_measures_on_known_pictures(media):
    red = analyze_image(media["saturated_image"])
    grey = analyze_image(media["grey_image"])
    assert red.saturation > 0.7 and grey.saturation < 0.02
    assert min(red.hue, 360 - red.hue) < 10 and red.hue_strength > 0.9  # red is hue 0
    assert red.colourfulness > 60 > 5 > grey.colourfulness  # Hasler & Süsstrunk scale
    assert 0 < red.edge_density < 0.2 and red.contrast > 0


# --- editing pace and motion -------------------------------------------------------------------

def test_faster_cuts_give_a_faster_tempo(analyses):
    fast, slow = video_affect(analyses["fast_cuts"]), video_affect(analyses["slow_cuts"])
    assert analyses["fast_cuts"].cuts_per_minute > 4 * analyses["slow_cuts"].cuts_per_minute
    assert fast.tempo > slow.tempo + 10


def test_more_motion_gives_more_energy(media, analyses):
    moving, still = analyses["moving"], analyses["still"]
    assert moving.mean_motion > 10 * still.mean_motion
    assert video_affect(moving).arousal > video_affect(still).arousal
    assert mean_energy(describe_video(media["moving"])) > mean_energy(describe_video(media["still"])) + 0.2


def test_cuts_are_found_within_one_analysis_frame(analyses):
    found = analyses["cuts"]
    frame = 1.0 / found.analysis_fps
    assert len(found.cuts) == len(CUT_TIMES), found.cuts
    for true, seen in zip(CUT_TIMES, found.cuts):
        assert abs(seen - true) <= frame + 1e-6
    assert all(0 <= s <= 1 for s in found.cut_strengths)


@pytest.mark.parametrize("name", ["still", "moving", "fade", "bright", "grey", "bursts"])
def test_no_cut_inside_a_single_shot(analyses, name):
    assert analyses[name].cuts == []  # still, fast shapes, a slow fade over flat colour, motion bursts


def test_visual_beats_at_motion_onsets(analyses):
    bursts = analyses["bursts"]
    frame = 1.0 / bursts.analysis_fps
    assert len(bursts.visual_beats) == len(BURST_TIMES), bursts.visual_beats
    for true, seen in zip(BURST_TIMES, bursts.visual_beats):
        assert abs(seen - true) <= frame + 1e-6
    assert analyses["still"].visual_beats == []


@pytest.mark.parametrize("name", ["b_frames", "many_b_frames"])
def test_fast_decoding_finds_the_same_cuts(media, name):
    """Skipping non-reference frames and deblocking (fast_decode) keeps every analysis slot
    filled, or falls back to full decoding after the first gap, and finds the same cuts."""
    slots = [int(np.floor(f.time * 8 + 1e-6)) for f in iter_frames(media[name], 8.0, fast_decode=True)]
    assert slots == sorted(set(slots)) and slots[-1] - slots[0] + 1 - len(slots) <= 1
    fast, full = analyze_video(media[name], fast_decode=True), analyze_video(media[name], fast_decode=False)
    assert len(fast.cuts) == len(full.cuts) == len(CUT_TIMES)
    for true, seen in zip(CUT_TIMES, fast.cuts):
        assert abs(seen - true) <= 1 / 8 + 1e-6
    assert fast.mean_brightness == pytest.approx(full.mean_brightness, abs=0.01)
    assert fast.mean_motion == pytest.approx(full.mean_motion, rel=0.2, abs=1e-3)


def test_analysis_curves_line_up(analyses):
    a = analyses["cuts"]
    n = a.frame_count
    assert n == pytest.approx(8.0 * a.analysis_fps, abs=1)
    for curve in (a.brightness, a.saturation, a.hue, a.hue_strength, a.colourfulness, a.motion, a.cut_score,
                  a.change, a.motion_onset):
        assert curve.shape == (n,) and np.all(np.isfinite(curve))
    assert np.all(np.diff(a.times) > 0)
    assert a.duration == pytest.approx(8.0, abs=0.05)
    assert a.cuts_per_minute == pytest.approx(60 * len(CUT_TIMES) / 8.0, rel=0.02)


# --- descriptions ------------------------------------------------------------------------------

def test_demo_video_description():
    analysis = analyze_video(DEMO_VIDEO)
    assert len(analysis.cuts) == 2
    assert analysis.cuts == pytest.approx([3.0, 6.0], abs=0.13)
    description = describe_video(DEMO_VIDEO)
    description.validate()
    assert description.duration == pytest.approx(9.0, abs=0.1)
    hits = [hit.time for hit in description.hit_points]
    for cut in (3.0, 6.0):
        assert min(abs(cut - hit) for hit in hits) <= 0.13
    assert [s.start for s in description.sections][1:] == pytest.approx([3.0, 6.0], abs=0.13)
    energies = {s.start: s.energy for s in description.sections}
    assert energies[3.0] > energies[0.0] and energies[3.0] > energies[6.0]  # the fast day shot
    assert description.key.split()[1] in ("major", "minor") and description.time_signature == (4, 4)
    assert description.instruments == {} and description.sentence == ""
    assert MusicDescription.from_json(description.to_json()).to_dict() == description.to_dict()


def test_demo_image_description():
    description = describe_image(DEMO_IMAGE, duration=20.0)
    assert description.duration == 20.0 and description.hit_points == []
    assert description.validate() is description


@pytest.mark.parametrize("name", ["fast_cuts", "slow_cuts", "cuts", "moving", "still", "bursts", "grey"])
def test_every_video_description_validates(media, name):
    description = describe_video(media[name])
    description.validate()
    assert description.genre in GENRES and description.mood in MOODS
    assert 60 <= description.tempo <= 150
    assert all(0 <= level <= 1 for _, level in description.energy)
    assert description.energy[0][0] == 0 and description.energy[-1][0] == pytest.approx(description.duration)
    spans = [(s.start, s.end) for s in description.sections]
    assert spans[0][0] == 0 and spans[-1][1] == pytest.approx(description.duration)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(0 <= s.energy <= 1 for s in description.sections)
    beats = [round(description.seconds_to_beats(h.time)) for h in description.hit_points]
    assert len(set(beats)) == len(beats)  # at most one accent a beat
    assert all(0 < h.strength <= 1 for h in description.hit_points)
    assert all(cut.kind in ("hard", "dissolve", "fade") and 0 <= cut.time <= description.duration
               for cut in description.cuts)


def test_a_shot_whose_energy_steps_becomes_two_sections(tmp_path):
    """One shot, no cut: 6 s of stillness, then 6 s of racing shapes. The sections follow the step,
    with distinct names and the livelier one marked so."""
    description = describe_video(vm.write_calm_then_moving_video(tmp_path / "calm_then_moving.mp4"))
    assert description.cuts == []
    calm, moving = description.sections
    assert calm.end == pytest.approx(6.0, abs=0.5) and calm.name != moving.name
    assert moving.energy > calm.energy + 0.3


def test_short_shots_merge_into_usable_sections(media):
    description = describe_video(media["fast_cuts"])  # a cut every 0.75 s
    assert all(s.end - s.start >= 2.0 - 1e-6 for s in description.sections)
    assert len(description.hit_points) >= 3  # the cuts still mark the music


def test_images_in_awkward_formats_describe(media):
    for name in ("alpha", "cmyk", "16bit", "gif"):
        description = describe_image(media[name], duration=12.0)
        assert description.validate().duration == 12.0


def test_describe_image_rejects_a_bad_duration(media):
    for duration in (0, -3, float("nan"), 3601):
        with pytest.raises(MtmError, match="duration"):
            describe_image(media["bright_image"], duration=duration)


# --- mapping tables ----------------------------------------------------------------------------

def test_mapping_tables_give_known_labels():
    for valence in (-0.9, 0.0, 0.9):
        for arousal in (-0.9, 0.0, 0.9):
            mood = affect.mood_for(valence, arousal)
            assert mood in MOODS
            for drive in (0.0, 0.5, 1.0):
                assert affect.genre_for(mood, drive) in GENRES
    assert affect.mood_for(0.6, -0.6, hue=10, colour_cast=0.5) == "romantic"
    assert affect.mood_for(0.6, -0.6, hue=200, colour_cast=0.5) == "calm"
    assert affect.mood_for(-0.6, 0.6) == "tense" and affect.genre_for("tense", 0.8) == "trap"
    assert affect.genre_for("calm", 0.1) == "ambient"
    assert affect.tonic_for(0.0, 0.5, "major") == 0  # red -> C
    assert affect.tonic_for(30.0, 0.5, "major") == 7  # orange -> G
    assert affect.tonic_for(240.0, 0.01, "minor") == 9  # grey -> A minor
    assert sorted(affect.HUE_TO_PITCH_CLASS) == list(range(12))


def test_tempo_snaps_cuts_onto_beats():
    assert affect.snap_tempo(119.0, [3.0, 6.0]) == 120.0  # 6 and 12 beats
    assert affect.snap_tempo(119.0, []) == 119.0


# --- bad input, progress, cancel -------------------------------------------------------------

@pytest.mark.parametrize("name", ["corrupt", "empty", "audio_only"])
def test_bad_video_raises_naming_the_file(media, name):
    path = media[name]
    for function in (analyze_video, describe_video):
        with pytest.raises(MtmError, match=path.name):
            function(path)


def test_missing_and_bad_images_raise(media, tmp_path):
    with pytest.raises(MtmError, match="nowhere.png"):
        describe_image(tmp_path / "nowhere.png")
    with pytest.raises(MtmError, match="corrupt.mp4"):
        describe_image(media["corrupt"])


def test_progress_is_reported_and_cancel_stops(media):
    seen = []
    describe_video(media["moving"], progress=lambda stage, fraction: seen.append(fraction))
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 10

    token = CancelToken()

    def cancel_halfway(stage: str, fraction: float) -> None:
        if fraction > 0.4:
            token.cancel()

    with pytest.raises(Cancelled):
        describe_video(media["moving"], progress=cancel_halfway, cancel=token)


def test_analysis_rate_is_checked(media):
    with pytest.raises(MtmError, match="analysis_fps"):
        analyze_video(media["still"], analysis_fps=0)
