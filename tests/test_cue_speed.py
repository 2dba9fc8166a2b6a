"""What the faster cue path must keep: the same samples. A renderer kept loaded between cues plays as a new
one, chains run two at a time sum as one at a time, and the master's loudness, measured while the bus
makes the next block, is the loudness of what it wrote. The master finds its gain on thinned samples and
makes the mix in one full-rate pass, and stays on safe ground where thinned samples say nothing or the
target is out of reach. A preview of a cue's first bars comes before the cue and plays its notes."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mtm_daw.analysis.loudness import integrated_loudness
from mtm_daw.description import MusicDescription
from mtm_daw.engine.generator import PREVIEW_SECONDS, GenerationSettings
from mtm_daw.mix import mix_stems_with_gains, run_chain, stem_chain
from mtm_daw.mix.master import FULL_PASSES, MAX_BOOST_DB, TARGET_LUFS, master, master_at_gain
from mtm_daw.pipeline import RenderSettings, compose_cue, render_stems
from mtm_daw.render import cue_renderer, release_kept_renderers
from mtm_daw.render.fluid import FluidSynthRenderer
from mtm_daw.render.soundfont import find_soundfont

needs_soundfont = pytest.mark.skipif(find_soundfont() is None, reason="no GM SoundFont installed")


def _samples(cue) -> dict[str, np.ndarray]:
    return {role: stem.audio for role, stem in cue.stems.items()} | {"mix": cue.mix}


@needs_soundfont
def test_a_renderer_kept_between_cues_plays_as_a_new_one():
    description = MusicDescription(genre="funk", duration=8.0)
    release_kept_renderers()
    with cue_renderer() as first:
        assert isinstance(first, FluidSynthRenderer)
    with cue_renderer() as again:
        assert again is first  # kept loaded
    with cue_renderer(sample_rate=44100) as other_rate:
        assert other_rate is not first
    with cue_renderer() as after:
        assert after is not first  # one renderer is kept: the other rate took its place
    release_kept_renderers()
    fresh = _samples(compose_cue(description, seed=2, warn=lambda message: None))
    kept = _samples(compose_cue(MusicDescription(genre="house", duration=8.0), seed=9, warn=lambda message: None))
    kept = _samples(compose_cue(description, seed=2, warn=lambda message: None))  # on a renderer that played house
    for name in fresh:
        np.testing.assert_array_equal(kept[name], fresh[name], err_msg=name)


@needs_soundfont
@pytest.mark.parametrize("pad", [91, 95, 101])  # long releases that still sound after the last track
def test_a_renderer_kept_after_a_pad_cue_plays_the_next_cue_as_a_new_one(pad):
    pop = MusicDescription(genre="pop", duration=8.0)
    release_kept_renderers()
    fresh = _samples(compose_cue(pop, seed=5, warn=lambda message: None))
    release_kept_renderers()
    compose_cue(MusicDescription(genre="ambient", duration=8.0, instruments={"melody": pad, "harmony": pad}), seed=1,
                warn=lambda message: None)
    after = _samples(compose_cue(pop, seed=5, warn=lambda message: None))
    for name in fresh:
        np.testing.assert_array_equal(after[name], fresh[name], err_msg=name)


@needs_soundfont
def test_a_render_cut_short_does_not_leave_its_renderer_kept():
    release_kept_renderers()
    with pytest.raises(RuntimeError):
        with cue_renderer() as broken:
            raise RuntimeError("cancelled")
    with cue_renderer() as next_one:
        assert next_one is not broken
    release_kept_renderers()


def test_chains_run_two_at_a_time_sum_as_one_at_a_time():
    description = MusicDescription(genre="synthwave", duration=12.0)  # delay, chorus and reverb tails
    score = compose_cue(description, seed=4, settings=RenderSettings(synth="builtin"), warn=lambda m: None).score
    dry, _ = render_stems(score, RenderSettings(synth="builtin"), warn=lambda message: None)

    def chains():
        return {role: stem_chain(role, "genre", 0.0, "synthwave", score.tempo) for role in dry}

    processed, mix, loudness, gains = mix_stems_with_gains(dict(dry), chains())
    one_at_a_time = {role: run_chain(chain, dry[role].audio, dry[role].sample_rate) for role, chain in chains().items()}
    summed = np.zeros_like(mix)
    for role in dry:  # in the stems' order
        summed += one_at_a_time[role]
    expected_mix, master_db, expected_loudness = master(summed, 48000, TARGET_LUFS)
    np.testing.assert_array_equal(mix, expected_mix)
    assert (loudness, gains.master_db) == (expected_loudness, master_db)
    stem_gain = np.float32(10 ** (gains.stems_db / 20))
    for role, audio in one_at_a_time.items():
        np.testing.assert_array_equal(processed[role].audio, audio * stem_gain, err_msg=role)


def test_the_master_measures_the_audio_it_wrote_over_several_blocks():
    rng = np.random.default_rng(0)
    seconds = 25  # three of the meter's 10 s blocks
    envelope = np.repeat(rng.uniform(0.02, 0.6, seconds), 48000).astype(np.float32)  # loud and quiet seconds
    mix = (rng.standard_normal((2, seconds * 48000)).astype(np.float32) * envelope)
    out, gain_db, loudness = master(mix, 48000, -16.0)
    assert loudness == integrated_loudness(out, 48000)
    assert abs(loudness - -16.0) < 0.2 and np.abs(out).max() <= 10 ** (-1.0 / 20)


def _full_rate_passes(monkeypatch, sample_rate: int) -> list:
    """The master bus's passes at the mix's own rate (the gain search's thinned passes not counted)."""
    module = sys.modules["mtm_daw.mix.master"]
    passes, bus_at_gain = [], module._bus_at_gain

    def counted(mix, rate, *args):
        if rate == sample_rate:
            passes.append(rate)
        return bus_at_gain(mix, rate, *args)

    monkeypatch.setattr(module, "_bus_at_gain", counted)
    return passes


@pytest.mark.parametrize("target", [-14.0, -9.0])
def test_the_master_finds_its_gain_on_thinned_samples_and_makes_the_mix_in_one_pass(monkeypatch, target):
    cue = compose_cue(MusicDescription(genre="rock", tempo=128, duration=12.0), seed=4, engine="baseline",
                      settings=RenderSettings(synth="builtin"), warn=lambda message: None)
    summed = np.sum([stem.audio for stem in cue.stems.values()], axis=0)  # a real mix, hot enough to limit
    passes = _full_rate_passes(monkeypatch, cue.sample_rate)
    out, gain_db, loudness = master(summed, cue.sample_rate, target)
    assert len(passes) == 1
    assert abs(loudness - target) < 0.1 and loudness == integrated_loudness(out, cue.sample_rate)
    assert np.abs(out).max() <= 10 ** (-1.0 / 20)


@pytest.mark.parametrize("hertz, amplitude, target", [
    (6000.0, 0.05, -16.0),  # every 8th sample a zero crossing: thinned, the mix is silence
    (6003.5, 0.5, -40.0),  # thinned, a 3.5 Hz wave the K-weighting's high-pass removes: silence out of the bus
])
def test_the_master_corrects_at_the_full_rate_where_thinned_samples_say_nothing(monkeypatch, hertz, amplitude, target):
    tone = amplitude * np.sin(2 * np.pi * hertz * np.arange(5 * 48000) / 48000)
    mix = np.stack([tone, tone]).astype(np.float32)
    passes = _full_rate_passes(monkeypatch, 48000)
    out, gain_db, loudness = master(mix, 48000, target)
    assert np.isfinite(gain_db) and abs(loudness - target) < 0.2
    assert 1 <= len(passes) <= FULL_PASSES


def test_the_master_never_runs_the_gain_away_for_a_target_it_cannot_reach():
    pluck = np.zeros(4 * 48000, np.float32)  # a short 220 Hz pluck once a second: the limiter caps it early
    for second in range(4):
        t = np.arange(4800) / 48000
        pluck[second * 48000:second * 48000 + 4800] = 0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-t * 40)
    mix = np.stack([pluck, pluck])
    plain = -5.0 - integrated_loudness(mix, 48000)
    out, gain_db, loudness = master(mix, 48000, -5.0)
    assert loudness < -6.0  # out of reach
    assert gain_db <= plain + MAX_BOOST_DB


def test_a_mix_below_the_gate_passes_through_at_the_gain_master_chose():
    quiet = (1e-4 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)).astype(np.float32)
    mix = np.stack([quiet, quiet])
    out, gain_db, loudness = master(mix, 48000)
    again, loudness_again = master_at_gain(mix, 48000, gain_db)  # as a cue made again applies it
    assert gain_db == 0.0 and np.array_equal(out, mix) and np.array_equal(again, mix)
    assert loudness == loudness_again == float("-inf")


# --- the first bars, heard while the rest is made -------------------------------------------------

def _notes(score) -> dict:
    return {role: [(n.onset, n.duration, n.pitch, n.velocity) for n in track.notes] for role, track in score.tracks.items()}


@pytest.mark.parametrize("engine, seconds", [("dit", 30.0), ("baseline", 60.0)])
def test_a_preview_of_the_first_bars_comes_first_and_plays_the_cues_notes(engine, seconds):
    description = MusicDescription(genre="rock", tempo=120, duration=seconds)
    previews = []
    # the key lock moves an off-scale note to the neighbour likelier over the whole cue, which a preview
    # cannot know yet: without it the preview's notes are the cue's exactly
    generation = GenerationSettings(steps=3, key_lock=False) if engine == "dit" else None
    cue = compose_cue(description, seed=6, engine=engine, generation=generation, warn=lambda message: None,
                      preview=previews.append)
    assert len(previews) == 1
    preview = previews[0]
    bars = preview.score.bars
    assert bars * description.bar_seconds >= PREVIEW_SECONDS and bars < cue.score.bars
    assert _notes(preview.score) == _notes(cue.score.until(preview.score.length_beats))  # the same music, cut
    assert preview.mix.shape[0] == 2 and preview.mix.shape[1] < cue.mix.shape[1]
    # about the level the whole cue has there, so the take-over is no jump
    whole_there = integrated_loudness(cue.mix[:, :preview.mix.shape[1]], cue.sample_rate)
    assert abs(preview.loudness_lufs - whole_there) < 2.0, (preview.loudness_lufs, whole_there)
    assert preview.renderer == cue.renderer


@pytest.mark.parametrize("engine, seconds", [("dit", 12.0), ("baseline", 30.0)])
def test_a_cue_made_about_as_fast_as_a_preview_gets_none(engine, seconds):
    previews = []
    compose_cue(MusicDescription(genre="pop", duration=seconds), seed=1, engine=engine,
                generation=GenerationSettings(steps=2) if engine == "dit" else None, warn=lambda message: None,
                preview=previews.append)
    assert previews == []


def test_the_engine_service_answers_with_a_preview_of_the_first_bars_before_the_cue_is_done(tmp_path):
    import soundfile

    from mtm_daw.serve.engine import Engine

    engine = Engine(tmp_path / "cues")
    try:
        job = engine.handle({"command": "generate", "tempo": 120.0, "bars": 16, "style": "house", "seed": 2})["job"]
        answers, preview_seconds = [], None
        deadline = time.monotonic() + 120
        while not answers or answers[-1]["state"] in ("queued", "running"):
            assert time.monotonic() < deadline
            answers.append(engine.handle({"command": "job", "job": job}))
            if "preview" in answers[-1] and preview_seconds is None:  # read as a plugin does, when it is named
                preview = answers[-1]["preview"]
                preview_seconds = soundfile.info(preview["mix"]).duration
            time.sleep(0.02)
        done = answers[-1]
        assert done["state"] == "done" and "preview" not in done, done
        assert any(a["state"] == "running" and "preview" in a for a in answers)  # named before the cue was done
        assert set(preview["stems"]) == set(done["cue"]["stems"]) and preview["notes"]
        cue_seconds = soundfile.info(done["cue"]["mix"]).duration
        assert PREVIEW_SECONDS <= preview_seconds < cue_seconds
        assert not Path(preview["mix"]).exists()  # the preview's files are not kept beside the cue
    finally:
        engine.stop()


def test_a_preview_that_fails_costs_a_note_not_the_cue():
    notes = []

    def refuse(cue) -> None:
        raise PermissionError("the preview folder is not writable")

    cue = compose_cue(MusicDescription(genre="funk", duration=60.0), seed=3, engine="baseline", warn=notes.append,
                      preview=refuse)
    assert cue.mix.shape[1] > 0
    assert any("first bars could not be played early" in note and "not writable" in note for note in notes)


def test_a_preview_at_the_quietest_target_stays_in_the_masters_range():
    previews, notes = [], []
    compose_cue(MusicDescription(genre="house", duration=50.0), seed=2, engine="baseline",
                settings=RenderSettings(target_lufs=-39.0), warn=notes.append, preview=previews.append)
    assert len(previews) == 1 and not any("first bars" in note for note in notes), notes
    assert abs(previews[0].loudness_lufs - -40.0) < 0.5  # the baseline's offset, held at the master's floor
