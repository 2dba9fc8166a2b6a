"""The joint text-audio space: features, the shipped towers on real renders, and the training path."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from mtm_daw.compose.baseline import compose
from mtm_daw.description import GENRES, MusicDescription
from mtm_daw.engine.joint_embedding import (EMBEDDING_DIM, MAX_WINDOWS, SAMPLE_RATE, WINDOW_FRAMES, JointEmbedder,
                                            log_mel, mel_windows)
from mtm_daw.errors import MtmError
from tests.conftest import requires_soundfont


def test_log_mel_ignores_gain_and_rejects_bad_samples():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(SAMPLE_RATE).astype(np.float32) * np.hanning(SAMPLE_RATE).astype(np.float32)
    assert np.allclose(log_mel(y), log_mel(0.05 * y), atol=1e-4)
    with pytest.raises(MtmError):
        log_mel(np.full(100, np.nan, dtype=np.float32))
    with pytest.raises(MtmError):
        log_mel(np.zeros((2, 100), dtype=np.float32))


def test_mel_windows_loop_short_clips_and_thin_long_ones():
    short = mel_windows(np.zeros((64, 40), dtype=np.float32))
    assert short.shape == (1, 1, 64, WINDOW_FRAMES)
    long = mel_windows(np.zeros((64, WINDOW_FRAMES * 40), dtype=np.float32))
    assert long.shape[0] == MAX_WINDOWS
    with pytest.raises(MtmError):
        mel_windows(np.zeros((64, 0), dtype=np.float32))


@pytest.fixture(scope="module")
def embedder():
    return JointEmbedder.default()


@pytest.fixture(scope="module")
def renderer():
    from mtm_daw.render import make_renderer

    return make_renderer(sample_rate=SAMPLE_RATE, warn=lambda message: None)


def test_text_embeddings_are_unit_vectors_and_sentence_embeddings_match(embedder):
    vectors = embedder.embed_text(["dark cinematic strings", "bouncy jazz with saxophone"])
    assert vectors.shape == (2, EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sentences = embedder.text_encoder.encode(["dark cinematic strings"])
    assert np.allclose(embedder.text_from_sentence_embeddings(sentences)[0], vectors[0], atol=1e-5)


@requires_soundfont
def test_same_piece_is_found_after_tempo_change_and_transposition(embedder, renderer):
    from mtm_daw.render import render_mono

    import random

    from training.joint_data import random_labelled_description

    rng = random.Random(99)
    scores = [compose(replace(random_labelled_description(rng), duration=14.0), seed=500 + i) for i in range(8)]
    library = np.stack([embedder.embed_audio(render_mono(s, renderer, 12.0), SAMPLE_RATE) for s in scores])
    found = 0
    for index, score in enumerate(scores):
        moved = replace(score.transposed(2 if index % 2 else -3), tempo=score.tempo * (1.08 if index % 2 else 0.93))
        query = embedder.embed_audio(render_mono(moved, renderer, 12.0), SAMPLE_RATE)
        found += int(np.argmax(library @ query) == index)
    assert found >= 6, f"only {found}/8 pieces found themselves at rank 1"


@requires_soundfont
def test_zero_shot_genre_beats_chance_on_renders(embedder, renderer):
    from mtm_daw.render import render_mono

    correct = 0
    for index, genre in enumerate(GENRES):
        for seed in range(2):
            description = MusicDescription(genre=genre, mood="calm", tempo=100, key="C major", duration=14)
            audio = render_mono(compose(description, seed=seed + 10 * index), renderer, 12.0)
            ranked = embedder.zero_shot(embedder.embed_audio(audio, SAMPLE_RATE), list(GENRES))
            correct += int(ranked[0][0] == genre)
    assert correct >= 7, f"zero-shot genre right on {correct}/14 renders (chance is 2)"


def test_the_shipped_prompt_table_is_what_the_text_towers_say(embedder):
    """The prompts hear() asks about ship embedded; re-embedding them with MiniLM and the head gives the same
    vectors (re-run `python -m onnx_export.joint_embedding --prompts-only` after changing either)."""
    from mtm_daw.describe.listening import zero_shot_prompts
    from mtm_daw.engine.joint_embedding import load_prompt_table
    from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry

    table_entry = model_entry("joint_embedding", WEIGHTS_DIR)["prompts"]
    table = load_prompt_table(WEIGHTS_DIR / table_entry["file"], table_entry["sha256"])
    prompts = zero_shot_prompts(embedder)
    assert set(prompts) <= set(table) and len(table) == table_entry["count"]
    fresh = embedder.embed_text(prompts)
    assert np.abs(np.stack([table[p] for p in prompts]) - fresh).max() < 1e-5


@requires_soundfont
def test_hearing_a_song_loads_no_text_model(renderer):
    from mtm_daw.describe.listening import hear
    from mtm_daw.engine.sessions import WEIGHTS_DIR
    from mtm_daw.render import render_mono

    own = JointEmbedder.from_dir(WEIGHTS_DIR)
    audio = render_mono(compose(MusicDescription(genre="rock", duration=8.0), seed=1), renderer, 8.0)
    heard = hear(audio, SAMPLE_RATE, "A minor", 120.0, embedder=own)
    assert heard.style[0] in GENRES and heard.instruments
    assert not own.text_encoder_loaded  # styles and instruments came from the shipped table
    own.zero_shot(own.embed_audio(audio, SAMPLE_RATE), ["a kazoo orchestra"], prompt=str)
    assert own.text_encoder_loaded  # other words load it when first asked


def test_a_damaged_tower_file_is_refused_with_its_name(tmp_path):
    from mtm_daw.engine.sessions import WEIGHTS_DIR, clear_cache, model_entry
    from mtm_daw.engine.text_encoder import TextEncoder

    entry = model_entry("joint_embedding")
    damaged = tmp_path / entry["file"]
    shutil.copy(WEIGHTS_DIR / entry["file"], damaged)
    with open(damaged, "r+b") as handle:
        handle.truncate(damaged.stat().st_size // 2)
    clear_cache()
    with pytest.raises(MtmError, match=entry["file"]):
        JointEmbedder(damaged, WEIGHTS_DIR / entry["text_head"]["file"], TextEncoder.default(),
                      audio_sha256=entry["sha256"])


@requires_soundfont
def test_tiny_training_and_export_write_a_working_model(tmp_path):
    from training.joint_data import make_pairs, save_pairs

    pairs = make_pairs(6, seed=3, processes=1)
    save_pairs(pairs, tmp_path / "train.npz")
    save_pairs(pairs[:4], tmp_path / "heldout.npz")
    run = subprocess.run([sys.executable, "-m", "training.train_joint", "--tiny", "--out", str(tmp_path / "ckpt"),
                          "--train", str(tmp_path / "train.npz"), "--heldout", str(tmp_path / "heldout.npz")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    info = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert info["settings"]["tiny"] and 0.0 <= info["metrics"]["audio_rank1"] <= 1.0
    # fine-tuning continues from those weights (and their logit scale), with one-genre batches
    tuned = subprocess.run([sys.executable, "-m", "training.train_joint", "--tiny", "--out", str(tmp_path / "tuned"),
                            "--init", str(tmp_path / "ckpt"), "--same-genre", "1.0", "--train", str(tmp_path / "train.npz"),
                            "--heldout", str(tmp_path / "heldout.npz")], capture_output=True, text=True, timeout=300)
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    tuned_info = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert tuned_info["config"] == info["config"] and tuned_info["settings"]["init"] == str(tmp_path / "ckpt")
    from safetensors.numpy import load_file

    before, after = load_file(str(tmp_path / "ckpt" / "model.safetensors")), load_file(str(tmp_path / "tuned" / "model.safetensors"))
    moved = [np.abs(after[name] - before[name]).mean() / np.abs(before[name]).mean() for name in before
             if before[name].ndim > 1]
    assert max(moved) < 0.5, "a fine-tune starts from the trained weights (three small steps away), not from scratch"
    export = subprocess.run([sys.executable, "-m", "onnx_export.joint_embedding", "--checkpoint", str(tmp_path / "ckpt"),
                             "--out-dir", str(tmp_path / "weights")], capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stderr[-2000:]
    manifest = json.loads((tmp_path / "weights" / "manifest.json").read_text())
    entry = manifest["models"]["joint_embedding"]
    assert entry["parity"]["max_abs_error_audio"] < 1e-4
    from mtm_daw.engine.text_encoder import TextEncoder

    tiny = JointEmbedder(tmp_path / "weights" / entry["file"], tmp_path / "weights" / entry["text_head"]["file"],
                         TextEncoder.default(), audio_sha256=entry["sha256"],
                         text_head_sha256=entry["text_head"]["sha256"])
    vector = tiny.embed_audio(np.random.default_rng(0).standard_normal(SAMPLE_RATE * 3).astype(np.float32), SAMPLE_RATE)
    assert vector.shape == (EMBEDDING_DIM,) and abs(np.linalg.norm(vector) - 1) < 1e-5
