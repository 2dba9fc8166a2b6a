"""The shipped generator (DiT + ControlFormer, ONNX via onnxruntime) on held-out descriptions.

Thresholds are honest: measured on this held-out set with the shipped weights and set just below
what was seen (see benchmarks/quality_generator.py for the full report).
"""
import random
import subprocess
import sys

import numpy as np
import pytest

from mtm_daw.description import MusicDescription
from mtm_daw.engine.control import ControlSignal, control_from_score
from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.evaluation import structure
from mtm_daw.evaluation.metrics import key_matches, note_overlap, reference_similarity, role_stats
from training.data import random_description
from mtm_daw.compose.baseline import compose
from mtm_daw.score.roll import quantize_score
from mtm_daw.score.score import Score

COUNT, STEPS = 10, 12


@pytest.fixture(scope="module")
def held_out():
    rng = random.Random(424_242)  # not the training seed
    descriptions = []
    for _ in range(COUNT):
        description = random_description(rng)
        description.duration = min(description.duration, 24.0)
        description.hit_points = [h for h in description.hit_points if h.time <= description.duration]
        descriptions.append(description)
    embeddings = TextEncoder.default().encode([d.to_sentence() for d in descriptions])
    generator = Generator.default()
    scores = [generate_score(d, e, settings=GenerationSettings(steps=STEPS, seed=i), generator=generator)
              for i, (d, e) in enumerate(zip(descriptions, embeddings))]
    return descriptions, embeddings, generator, scores


def test_key_follows_the_description(held_out):
    """Over 40 held-out descriptions (key heard in the notes = requested key): 37/40 measured."""
    _, _, generator, _ = held_out
    rng = random.Random(424_242)
    descriptions = []
    for _ in range(40):
        description = random_description(rng)
        description.duration = min(description.duration, 24.0)
        description.hit_points = [h for h in description.hit_points if h.time <= description.duration]
        descriptions.append(description)
    embeddings = TextEncoder.default().encode([d.to_sentence() for d in descriptions])
    heard = [key_matches(generate_score(d, e, settings=GenerationSettings(steps=STEPS, seed=i), generator=generator))
             for i, (d, e) in enumerate(zip(descriptions, embeddings))]
    assert sum(heard) >= 36  # the bar: 90 %


def test_no_requested_role_comes_back_empty(held_out):
    descriptions, _, _, scores = held_out
    for description, score in zip(descriptions, scores):
        assert list(score.tracks) == [r for r in ("drums", "bass", "harmony", "melody") if r in description.roles]
        assert all(score.tracks[role].notes for role in description.roles)


def test_density_and_register_are_close_to_the_training_data(held_out):
    descriptions, _, _, scores = held_out
    for role in ("drums", "bass", "harmony", "melody"):
        generated = [role_stats(s)[role] for s in scores if role in s.tracks]
        reference = [role_stats(compose(d, seed=i))[role] for i, d in enumerate(descriptions) if role in d.roles]
        ratio = np.mean([g.notes_per_bar for g in generated]) / np.mean([r.notes_per_bar for r in reference])
        assert 0.5 < ratio < 2.0, (role, ratio)
        if role != "drums":
            gap = abs(np.nanmean([g.mean_pitch for g in generated]) - np.nanmean([r.mean_pitch for r in reference]))
            assert gap < 5, (role, gap)


def test_different_seeds_give_different_music(held_out):
    """Another seed, another take: the pitched parts share few onsets (the drums keep the style's groove,
    which the signature checks ask for, so they are left out). Measured: mean 0.34, at most 0.59."""
    descriptions, embeddings, generator, scores = held_out

    def pitched(score: Score) -> Score:
        return Score(score.tempo, score.time_signature, score.key,
                     {role: track for role, track in score.tracks.items() if not track.is_drum}, score.length_beats)

    overlaps = [note_overlap(pitched(score), pitched(generate_score(
        description, embedding, settings=GenerationSettings(steps=STEPS, seed=999), generator=generator)))
        for description, embedding, score in zip(descriptions, embeddings, scores)]
    assert max(overlaps) < 0.7 and sum(overlaps) / len(overlaps) < 0.45, overlaps


def test_reference_strength_pulls_the_harmony_towards_the_reference(held_out):
    descriptions, embeddings, generator, _ = held_out
    rng = random.Random(7)
    similarity = {0.0: [], 0.5: [], 1.0: []}
    for index, (description, embedding) in enumerate(zip(descriptions[:6], embeddings[:6])):
        features = control_from_score(quantize_score(compose(random_description(rng), seed=index)))
        for strength in similarity:
            score = generate_score(description, embedding, ControlSignal(features, strength),
                                   GenerationSettings(steps=STEPS, seed=index), generator=generator)
            similarity[strength].append(reference_similarity(score, features)["chroma"])
    means = {strength: np.mean(values) for strength, values in similarity.items()}
    assert means[0.0] < means[0.5] < means[1.0], means
    assert means[1.0] - means[0.0] > 0.05, means


@pytest.fixture(scope="module")
def sixteen_bar_cues(held_out):
    """16-bar, four-role cues in four genres, fixed seeds: what the structure figures are read on."""
    _, _, generator, _ = held_out
    descriptions = [MusicDescription(genre=genre, mood=mood, tempo=tempo, key=key, duration=16 * 4 * 60 / tempo)
                    for genre, mood, tempo, key in (("rock", "happy", 120, "E minor"), ("jazz", "calm", 100, "F major"),
                                                     ("pop", "romantic", 90, "D major"), ("orchestral", "sad", 80,
                                                                                          "G minor"))]
    embeddings = TextEncoder.default().encode([d.to_sentence() for d in descriptions])
    return [generate_score(d, e, settings=GenerationSettings(seed=i), generator=generator)  # the default 20 steps
            for i, (d, e) in enumerate(zip(descriptions, embeddings))]


def test_cues_have_form_phrases_return(sixteen_bar_cues):
    """Bars repeating 4 or 8 bars earlier, over bass, harmony and melody: the issue asks for at least 10 %."""
    repeats = [structure.repeat_share(s, role) for s in sixteen_bar_cues for role in ("bass", "harmony", "melody")]
    assert np.nanmean(repeats) >= 0.10
    # the melody resembles itself a phrase later more than a bar later
    assert np.mean([structure.bar_similarity(s, "melody", 4) for s in sixteen_bar_cues]) >= \
        np.mean([structure.bar_similarity(s, "melody", 1) for s in sixteen_bar_cues])


def test_the_melody_sits_on_its_chords_with_steady_dynamics(sixteen_bar_cues):
    shares = [structure.chord_tone_share(s) for s in sixteen_bar_cues]
    on_chords, shifted = np.mean([a for a, _ in shares]), np.mean([b for _, b in shares])
    assert on_chords - shifted >= 0.15, (on_chords, shifted)
    for score in sixteen_bar_cues:
        assert structure.velocity_spread(score, "melody") <= 15
        melody = np.mean([n.velocity for n in score.tracks["melody"].notes])
        harmony = np.mean([n.velocity for n in score.tracks["harmony"].notes])
        assert melody > harmony  # the tune sits above the accompaniment


def test_the_groove_holds_within_sections(sixteen_bar_cues):
    assert np.mean([structure.bar_similarity(s, "drums", 1) for s in sixteen_bar_cues]) >= 0.5


def test_the_runtime_never_imports_torch():
    """Nor, for a cue, the video and image readers (PyAV, Pillow: ~0.1 s of a new process)."""
    code = ("import sys; from mtm_daw.pipeline import compose_cue; from mtm_daw.description import MusicDescription;"
            "compose_cue(MusicDescription(duration=4), engine='dit', warn=lambda m: None);"
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch was imported';"
            "assert 'av' not in sys.modules and 'PIL' not in sys.modules, 'PyAV or Pillow was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
