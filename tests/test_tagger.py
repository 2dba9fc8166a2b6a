"""Music tagging with the shipped musicnn taggers (MTT, MSD): real ONNX sessions on real renders."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mtm_daw.description import MusicDescription
from mtm_daw.engine.sessions import WEIGHTS_DIR, create_session, model_entry, verify_file
from mtm_daw.engine.tagger import (FRONTEND, MAX_PATCHES, MODEL_NAMES, N_MELS, N_TAGS, PATCH_FRAMES, SAMPLE_RATE,
                                   MusicTagger, log_mel, log_mel_patches, patches, top)
from mtm_daw.errors import MtmError
from mtm_daw.export.wav import write_wav
from mtm_daw.pipeline import RenderSettings, compose_cue
from tests.robustness.corrupt import copy_with_middle_flipped

DATASETS = sorted(MODEL_NAMES)  # ["msd", "mtt"]


def _render(genre: str, mood: str):
    description = MusicDescription(genre=genre, mood=mood, duration=12)
    cue = compose_cue(description, seed=1, settings=RenderSettings(synth="builtin"), warn=lambda message: None)
    return cue.mix.mean(axis=0), cue.sample_rate


@pytest.fixture(scope="module")
def rock():
    return _render("rock", "tense")


@pytest.fixture(scope="module")
def ambient():
    return _render("ambient", "calm")


@pytest.mark.parametrize("dataset", DATASETS)
def test_manifest_entry_and_checksum_verify(dataset):
    entry = model_entry(MODEL_NAMES[dataset])
    path = WEIGHTS_DIR / entry["file"]
    assert verify_file(path, entry["sha256"]) == path
    assert entry["bytes"] == path.stat().st_size < 10_000_000  # a few MB
    assert entry["licence"] == "ISC" and entry["source"] == "musicnn 0.1.0 (PyPI)"
    assert (WEIGHTS_DIR / entry["license_file"]).is_file()
    assert "ISC" in (WEIGHTS_DIR / entry["license_file"]).read_text(encoding="utf-8")
    assert max(v for k, v in entry["parity"].items() if k.startswith("max_abs_error")) <= 1e-4
    assert entry["version"] == 1


def test_a_damaged_model_file_is_refused(tmp_path):
    entry = model_entry(MODEL_NAMES["mtt"])
    copy = copy_with_middle_flipped(WEIGHTS_DIR / entry["file"], tmp_path)
    with pytest.raises(MtmError, match="checksum mismatch"):
        create_session(copy, entry["sha256"])


@pytest.mark.parametrize("dataset", DATASETS)
def test_model_metadata_names_50_tags_and_the_front_end(dataset):
    tagger = MusicTagger.default(dataset)
    metadata = tagger.session.get_modelmeta().custom_metadata_map
    tags = json.loads(metadata["tags"])
    assert len(tags) == N_TAGS == len(set(tags)) and all(isinstance(t, str) and t for t in tags)
    assert tags == tagger.tags == model_entry(MODEL_NAMES[dataset])["tags"]
    assert json.loads(metadata["frontend"]) == json.loads(json.dumps(FRONTEND))
    inputs = tagger.session.get_inputs()
    assert [i.name for i in inputs] == ["log_mel"] and inputs[0].shape[1:] == [PATCH_FRAMES, N_MELS]
    assert MusicTagger.default(dataset.upper()) is tagger  # one per process


def test_the_two_taggers_have_their_own_vocabularies():
    mtt, msd = MusicTagger.default("mtt").tags, MusicTagger.default("msd").tags
    assert {"guitar", "piano", "drums", "strings", "violin", "synth", "vocals", "choir"} <= set(mtt)
    assert {"rock", "jazz", "Hip-Hop", "House", "country", "funk", "metal", "ambient", "sad", "happy"} <= set(msd)


def test_unknown_dataset_is_an_error():
    with pytest.raises(MtmError, match="unknown tagger"):
        MusicTagger.default("gtzan")


@pytest.mark.parametrize("dataset", DATASETS)
def test_tag_probabilities_are_in_range_with_the_model_tags_as_keys(dataset, rock):
    samples, rate = rock
    tagger = MusicTagger.default(dataset)
    probabilities = tagger.tag_audio(samples, rate)
    assert list(probabilities) == tagger.tags
    values = np.array(list(probabilities.values()))
    assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1))
    assert values.max() > 0.1  # something is recognised in a full band render
    best = top(probabilities, 5)
    assert len(best) == 5 and [p for _, p in best] == sorted((p for _, p in best), reverse=True)
    assert best[0][1] == values.max()


def test_front_end_patch_shapes():
    rng = np.random.default_rng(0)
    ten_seconds = 0.1 * rng.standard_normal(10 * SAMPLE_RATE).astype(np.float32)
    mel = log_mel(ten_seconds)
    assert mel.shape == (1 + 10 * SAMPLE_RATE // 256, N_MELS) and mel.dtype == np.float32
    assert np.all(np.isfinite(mel)) and mel.min() >= 0.0  # log10(10000 x + 1) of a power
    batch = log_mel_patches(ten_seconds, SAMPLE_RATE)
    assert batch.shape == (3, PATCH_FRAMES, N_MELS)  # 626 frames: three whole 3 s patches, rest dropped
    assert np.array_equal(batch[1], mel[PATCH_FRAMES:2 * PATCH_FRAMES])  # non-overlapping, in order
    # a long file: at most MAX_PATCHES, spread over the whole file (first and last patch kept)
    long_mel = np.arange(70 * SAMPLE_RATE // 256 + 1, dtype=np.float32)[:, None].repeat(N_MELS, 1)
    long_batch = patches(long_mel)
    assert long_batch.shape == (MAX_PATCHES, PATCH_FRAMES, N_MELS)
    whole = (len(long_mel) // PATCH_FRAMES) * PATCH_FRAMES
    assert long_batch[0, 0, 0] == 0 and long_batch[-1, -1, 0] == whole - 1


@pytest.mark.parametrize("seconds", [70.3, 200.0])
def test_a_long_file_computes_only_its_patches_and_gets_the_same_ones(seconds):
    """log_mel_patches spectra only the chosen patches (bounded memory), exactly as from the whole spectrogram."""
    samples = 0.1 * np.random.default_rng(1).standard_normal(int(seconds * SAMPLE_RATE)).astype(np.float32)
    chosen = log_mel_patches(samples, SAMPLE_RATE)
    assert chosen.shape == (MAX_PATCHES, PATCH_FRAMES, N_MELS)
    assert np.array_equal(chosen, patches(log_mel(samples)))


def test_front_end_resamples_other_rates():
    t = np.arange(3 * 44100) / 44100
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    at_44k = log_mel_patches(tone, 44100)
    t16 = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    at_16k = log_mel_patches((0.3 * np.sin(2 * np.pi * 440 * t16)).astype(np.float32), SAMPLE_RATE)
    assert at_44k.shape == at_16k.shape == (1, PATCH_FRAMES, N_MELS)
    band = int(np.argmax(at_16k[0, 50:150].mean(axis=0)))
    assert int(np.argmax(at_44k[0, 50:150].mean(axis=0))) == band
    assert np.abs(at_44k[0, 50:150] - at_16k[0, 50:150]).mean() < 0.05


@pytest.mark.parametrize("dataset", DATASETS)
def test_a_one_second_clip_is_padded_and_tagged(dataset, rock):
    samples, rate = rock
    clip = samples[rate * 4:rate * 5]
    batch = log_mel_patches(clip, rate)
    assert batch.shape == (1, PATCH_FRAMES, N_MELS)
    frames = 1 + SAMPLE_RATE // 256
    assert np.array_equal(batch[0, frames:2 * frames], batch[0, :frames])  # repeated to fill 3 s
    probabilities = MusicTagger.default(dataset).tag_audio(clip, rate)
    values = np.array(list(probabilities.values()))
    assert len(values) == N_TAGS and np.all((values >= 0) & (values <= 1))


@pytest.mark.parametrize("dataset", DATASETS)
def test_silence_and_tiny_clips_do_not_crash(dataset):
    tagger = MusicTagger.default(dataset)
    for samples in (np.zeros(5 * 44100, dtype=np.float32), np.zeros(10, dtype=np.float32), np.zeros((1, 300))):
        values = np.array(list(tagger.tag_audio(samples, 44100).values()))
        assert len(values) == N_TAGS and np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1))


def test_bad_input_is_a_clear_error():
    tagger = MusicTagger.default("mtt")
    with pytest.raises(MtmError, match="mono"):
        tagger.tag_audio(np.zeros((2, 16000), dtype=np.float32), 16000)
    with pytest.raises(MtmError, match="empty"):
        tagger.tag_audio(np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(MtmError, match="NaN"):
        tagger.tag_audio(np.full(16000, np.nan, dtype=np.float32), 16000)
    with pytest.raises(MtmError, match="sample rate"):
        tagger.tag_audio(np.zeros(16000, dtype=np.float32), 0)
    with pytest.raises(MtmError, match="patches"):
        tagger.predict_patches(np.zeros((1, 100, N_MELS), dtype=np.float32))


def test_tags_differ_between_clearly_different_renders(rock, ambient):
    for dataset in DATASETS:
        tagger = MusicTagger.default(dataset)
        a = np.array(list(tagger.tag_audio(*rock).values()))
        b = np.array(list(tagger.tag_audio(*ambient).values()))
        assert np.abs(a - b).max() > 0.1, dataset
        assert [t for t, _ in top(dict(zip(tagger.tags, a)), 3)] != [t for t, _ in top(dict(zip(tagger.tags, b)), 3)]
    msd = MusicTagger.default("msd")
    assert msd.tag_audio(*ambient)["ambient"] > msd.tag_audio(*rock)["ambient"] + 0.1


def test_tag_file_reads_a_stereo_wav(tmp_path, rock):
    samples, rate = rock
    path = tmp_path / "rock.wav"
    write_wav(path, np.stack([samples, samples]), rate)
    tagger = MusicTagger.default("mtt")
    from_file = tagger.tag_file(path)
    direct = tagger.tag_audio(samples, rate)
    assert list(from_file) == tagger.tags
    assert max(abs(from_file[t] - direct[t]) for t in tagger.tags) < 0.02  # 24-bit WAV round trip
