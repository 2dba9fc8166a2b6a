"""Shot detection on edited footage with known edit times, and what the description makes of it.

Clips come from tests/visual_media.py `write_montage`: shots framed from procedural locations
(several shots of one place from other angles), cameras that hold, pan or zoom, hard cuts,
dissolves, fades through black and white flashes, with sensor grain. A hard cut counts as found
when a cut lies within one analysis frame (1/8 s) of it.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import visual_media as vm
from mtm_daw.describe.affect import energy_levels
from mtm_daw.describe.from_visual import describe_video
from mtm_daw.describe.visual import analyze_video
from mtm_daw.description import Cut, MusicDescription
from mtm_daw.errors import MtmError

FRAME = 1 / 8 + 1e-6  # one analysis frame


def found(times: list[float], truth: list[float]) -> int:
    return sum(any(abs(t - c) <= FRAME for c in times) for t in truth)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edits")
    montages = []
    for seed in (1, 2, 3):  # 0.3-3 s shots, some dissolves and fades, three flashes each
        flashes = sorted(np.random.default_rng(seed).uniform(1.0, 29.0, 3))
        montages.append(vm.write_montage(folder / f"montage{seed}.mp4", vm.random_montage(seed, 30.0, soft=0.5),
                                         flashes=flashes))
    fast = [vm.Shot(0.3 if k % 2 else 0.45, 100 + k % 5, "hold", (0.3 + 0.1 * (k % 4), 0.5)) for k in range(32)]
    moves = [vm.Shot(4.0, 1, "pan"), vm.Shot(4.0, 2, "zoom", transition="dissolve", transition_seconds=1.0),
             vm.Shot(4.0, 3, "hold", transition="fade", transition_seconds=1.2)]
    return {
        "montages": montages,
        "fast": vm.write_montage(folder / "fast.mp4", fast),  # a cut every 0.3-0.45 s
        "moves": vm.write_montage(folder / "moves.mp4", moves, flashes=[1.5, 6.0]),
        "strobe": vm.write_montage(folder / "strobe.mp4", [vm.Shot(6.0, 4, "pan")],
                                   flashes=[1.0 + 0.4 * k for k in range(10)]),
        "slow_zoom": vm.write_montage(folder / "zoom.mp4", [vm.Shot(8.0, 5, "zoom")]),
        "fast_montage": vm.write_montage(folder / "fast_montage.mp4",
                                         [vm.Shot(0.5, 100 + k % 5, "hold", (0.3 + 0.1 * (k % 4), 0.5))
                                          for k in range(16)]),
    }


def test_hard_cuts_of_montages_are_found_to_the_frame(clips):
    """0.3-3 s shots, cameras holding, panning and zooming, other angles of one place, flashes:
    at least 95 % of the hard cuts within one analysis frame, and no cut where there is none."""
    truth = missed = false = 0
    for path, edit in clips["montages"] + [clips["fast"]]:
        hard = [cut.time for cut in analyze_video(path).transitions if cut.kind == "hard"]
        truth += len(edit.hard_cuts)
        missed += len(edit.hard_cuts) - found(hard, edit.hard_cuts)
        false += len(hard) - found(edit.hard_cuts, hard)
    assert truth >= 70
    assert missed <= 0.05 * truth, f"{missed} of {truth} hard cuts missed"
    assert false == 0


def test_dissolves_and_fades_are_soft_transitions(clips):
    path, edit = clips["moves"]
    transitions = analyze_video(path).transitions
    assert [cut.kind for cut in transitions] == ["dissolve", "fade"]
    for cut, (start, end) in zip(transitions, edit.soft):
        assert start - FRAME <= cut.time <= end + FRAME
        assert 0.5 <= cut.seconds <= 2.5 and 0 < cut.strength <= 1
    soft_truth = [span for _, e in clips["montages"] for span in e.soft]
    soft_found = 0
    for path, edit in clips["montages"]:
        soft = [cut for cut in analyze_video(path).transitions if cut.kind != "hard"]
        soft_found += sum(any(a - FRAME <= cut.time <= b + FRAME for cut in soft) for a, b in edit.soft)
        assert all(any(a - FRAME <= cut.time <= b + FRAME for a, b in edit.soft) for cut in soft)
    assert len(soft_truth) >= 4 and soft_found >= 0.8 * len(soft_truth)


@pytest.mark.parametrize("name", ["strobe", "slow_zoom"])
def test_camera_moves_and_flashes_are_not_cuts(clips, name):
    path, _ = clips[name]
    assert analyze_video(path).transitions == []


def test_every_cut_the_tempo_allows_is_an_accent(clips):
    path, edit = clips["fast_montage"]  # a cut every 0.5 s
    description = describe_video(path)
    hard = [cut for cut in description.cuts if cut.kind == "hard"]
    assert found([cut.time for cut in hard], edit.hard_cuts) == len(edit.hard_cuts) == 15
    beats = [round(description.seconds_to_beats(hit.time)) for hit in description.hit_points]
    assert len(beats) == len(set(beats))  # one accent a beat at most
    free = {round(description.seconds_to_beats(cut.time)) for cut in hard}
    assert len(description.hit_points) == len(free)  # every beat with a cut has its accent
    assert all(any(abs(hit.time - cut.time) < 1e-3 for cut in hard) for hit in description.hit_points)


def test_a_slow_camera_move_has_no_hits_and_less_energy_than_a_montage(clips):
    zoom, montage = describe_video(clips["slow_zoom"][0]), describe_video(clips["fast_montage"][0])
    assert zoom.hit_points == [] and zoom.cuts == []
    mean = lambda d: float(np.mean([level for _, level in d.energy]))  # noqa: E731
    assert mean(montage) > mean(zoom) + 0.3


def test_loud_scene_sound_raises_the_energy(tmp_path):
    def loud(t):
        return 0.5 * np.sin(2 * np.pi * 220 * t) * (t >= 3.0)

    path = vm.write_colour_video(tmp_path / "scene.mp4", vm.PALETTE[2], seconds=6.0, with_audio=True, sound=loud)
    analysis = analyze_video(path)
    assert analysis.loudness is not None
    levels = energy_levels(analysis)
    quiet, noisy = levels[analysis.times < 2.5].mean(), levels[analysis.times > 3.5].mean()
    assert noisy > quiet + 0.1
    silent = analyze_video(vm.write_colour_video(tmp_path / "silent.mp4", vm.PALETTE[2], seconds=2.0))
    assert silent.loudness is None


def test_cuts_travel_in_the_description_json():
    description = MusicDescription(duration=10.0, cuts=[Cut(2.0), Cut(5.5, "dissolve", 0.7, 1.0)])
    again = MusicDescription.from_json(description.to_json())
    assert again.cuts == description.cuts
    assert MusicDescription.from_dict({"duration": 10.0}).cuts == []  # descriptions from before cuts
    with pytest.raises(MtmError, match="kind 'wipe'"):
        MusicDescription(duration=10.0, cuts=[Cut(2.0, "wipe")]).validate()
    with pytest.raises(MtmError, match="outside the cue"):
        MusicDescription(duration=10.0, cuts=[Cut(12.0)]).validate()


def two_looks(count: int, size: tuple[int, int] = (vm.WIDTH, vm.HEIGHT), cut: int | None = None) -> list[np.ndarray]:
    """`count` frames of one place, then (from frame `cut`, default half way) another, the camera drifting."""
    cut = count // 2 if cut is None else cut
    places = (vm.location(11), vm.location(12))
    pictures = []
    for index in range(count):
        picture = vm.framed(places[index >= cut], (0.4 + 0.002 * index, 0.5), 1.0)
        if size != (vm.WIDTH, vm.HEIGHT):
            picture = np.asarray(Image.fromarray(picture.astype(np.uint8)).resize(size, Image.BILINEAR), np.float32)
        pictures.append(np.clip(picture, 0, 255).astype(np.uint8))
    return pictures


@pytest.mark.parametrize("pix_fmt", ["yuv420p10le", "yuv444p"])
def test_ten_bit_and_full_chroma_videos_are_read(tmp_path, pix_fmt):
    path = vm.write_frames(tmp_path / f"{pix_fmt}.mkv", two_looks(72), pix_fmt=pix_fmt)  # 3 s, cut at 1.5 s
    description = describe_video(path)
    assert [cut.kind for cut in description.cuts] == ["hard"]
    assert description.cuts[0].time == pytest.approx(1.5, abs=FRAME)


def test_a_variable_frame_rate_is_read_by_timestamp(tmp_path):
    gaps = np.random.default_rng(5).uniform(0.02, 0.09, 80)
    times = np.concatenate([[0.0], np.cumsum(gaps)])[:80]
    cut = int(np.searchsorted(times, 2.0))  # the first frame at or after 2 s is the new shot's
    path = vm.write_frames(tmp_path / "vfr.mkv", two_looks(80, cut=cut), times=times)
    analysis = analyze_video(path)
    assert [cut.kind for cut in analysis.transitions] == ["hard"]
    assert analysis.transitions[0].time == pytest.approx(times[cut], abs=FRAME)


def test_a_4k_clip_and_a_lying_header_are_read_for_what_they_hold(tmp_path):
    uhd = vm.write_frames(tmp_path / "uhd.mp4", two_looks(24, size=(3840, 2160)))
    assert [cut.time for cut in describe_video(uhd).cuts] == pytest.approx([0.5], abs=FRAME)
    short = vm.write_frames(tmp_path / "short.mp4", two_looks(48))
    lying = vm.with_claimed_duration(short, tmp_path / "lying.mp4", 4000.0)  # claims more than an hour
    description = describe_video(lying)
    assert description.duration == pytest.approx(2.0, abs=0.1) and len(description.cuts) == 1


def test_a_single_frame_is_refused_as_too_short(tmp_path):
    path = vm.write_frames(tmp_path / "one.mp4", two_looks(1))
    with pytest.raises(MtmError, match=r"one\.mp4: the video is 0\.04 s long .*as a still"):
        describe_video(path)
