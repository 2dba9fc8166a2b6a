import copy

import numpy as np
import pytest

from mtm_daw.compose.baseline import compose
from mtm_daw.description import GENRES, MusicDescription
from mtm_daw.engine.control import CONTROL_FEATURES, ControlSignal, control_from_score
from mtm_daw.errors import MtmError
from mtm_daw.schedulers.ddim import DDIMScheduler
from mtm_daw.score.roll import (FEATURES, STEPS_PER_BEAT, key_shift, lock_to_scale, quantize_score, role_columns,
                                roll_to_tracks, score_to_roll)
from mtm_daw.score.score import ROLES, Note, Score, Track


def _notes(track):
    return [(n.onset, n.duration, n.pitch, n.velocity) for n in track.notes]


@pytest.mark.parametrize("genre", GENRES)
@pytest.mark.parametrize("key", ["C major", "F# minor", "Bb major", "E minor"])
def test_roll_round_trip_is_lossless_on_grid_scores(genre, key):
    score = quantize_score(compose(MusicDescription(genre=genre, key=key, tempo=110, duration=16), seed=2))
    roll = score_to_roll(score)
    assert roll.shape == (score.length_beats * STEPS_PER_BEAT, FEATURES)
    assert roll.min() >= 0 and roll.max() <= 1
    tracks = roll_to_tracks(roll, score.parsed_key.tonic, {r: t.program for r, t in score.tracks.items()})
    for role, track in score.tracks.items():
        assert _notes(tracks[role]) == _notes(track), role


def test_roll_is_key_relative():
    in_c = quantize_score(compose(MusicDescription(key="C major", duration=8), seed=1))
    in_d = copy.deepcopy(in_c)
    in_d.key = "D major"
    for track in in_d.tracks.values():
        if not track.is_drum:
            for note in track.notes:
                note.pitch += 2
    assert np.array_equal(score_to_roll(in_c), score_to_roll(in_d)), "a transposition gives the same roll"
    assert key_shift(0) == 0 and key_shift(2) == -2 and key_shift(7) == 5 and key_shift(6) == 6


def _one_bar(key: str, melody: list[tuple[float, float, int]]) -> Score:
    tracks = {"drums": Track("drums", 0, [Note(0.0, 0.25, 36, 100)], is_drum=True),
              "melody": Track("melody", 73, [Note(onset, length, pitch, 90) for onset, length, pitch in melody])}
    return Score(120.0, (4, 4), key, tracks, 4.0)


def test_key_lock_moves_only_out_of_scale_notes_and_keeps_them_whole():
    # D major: F natural (65) is outside, held two beats; A (69) and C# (73) are in the scale
    score = _one_bar("D major", [(0.0, 2.0, 65), (2.0, 1.0, 69), (3.0, 1.0, 73)])
    tracks = roll_to_tracks(lock_to_scale(score_to_roll(score), "major"), 2, {"melody": 73})
    moved, *rest = tracks["melody"].notes
    assert moved.pitch in (64, 66) and moved.onset == 0.0 and moved.duration == 2.0
    assert [(n.onset, n.pitch) for n in rest] == [(2.0, 69), (3.0, 73)]
    assert [(n.onset, n.pitch) for n in tracks["drums"].notes] == [(0.0, 36)]


def test_key_lock_in_minor_keeps_the_raised_seventh():
    # A minor: G# (68) is the leading tone and stays; C# (61) is outside and moves to C or D
    score = _one_bar("A minor", [(0.0, 1.0, 68), (1.0, 1.0, 61)])
    pitches = [n.pitch for n in roll_to_tracks(lock_to_scale(score_to_roll(score), "minor"), 9,
                                               {"melody": 73})["melody"].notes]
    assert pitches[0] == 68 and pitches[1] in (60, 62)


def test_role_columns_partition_the_roll():
    columns = np.concatenate([role_columns(role) for role in ROLES])
    assert sorted(columns.tolist()) == list(range(FEATURES))


def test_control_features_follow_rhythm_and_harmony_and_tile():
    score = quantize_score(compose(MusicDescription(genre="pop", key="A minor", duration=8), seed=0))
    features = control_from_score(score)
    steps = int(score.length_beats * STEPS_PER_BEAT)
    assert features.shape == (steps, CONTROL_FEATURES)
    kicks = [int(n.onset * 4) for n in score.tracks["drums"].notes]
    assert features[kicks, 0].all()
    tonic_chroma = features[:, 4 + 0]  # the tonic, relative to the key
    assert tonic_chroma.mean() > features[:, 4 + 1].mean(), "tonic sounds more than the minor second"
    longer = control_from_score(score, steps * 2 + 3)
    assert longer.shape[0] == steps * 2 + 3 and np.array_equal(longer[steps:2 * steps], features)
    with pytest.raises(MtmError, match="strength"):
        ControlSignal(features, 1.5)


def test_ddim_recovers_the_clean_sample_from_a_perfect_model():
    scheduler = DDIMScheduler()
    clean = np.random.default_rng(0).uniform(-1, 1, (8, 5)).astype(np.float32)
    sample = np.random.default_rng(1).standard_normal(clean.shape).astype(np.float32)
    scheduler.set_timesteps(10)
    for t in scheduler.timesteps:
        alpha = scheduler.alphas_cumprod[t]
        noise = (sample - np.sqrt(alpha) * clean) / np.sqrt(1 - alpha)
        v = np.sqrt(alpha) * noise - np.sqrt(1 - alpha) * clean  # what an ideal v-model predicts
        sample = scheduler.step(v, int(t), sample)
    assert np.abs(sample - clean).max() < 1e-4


def test_ddim_with_clean_sample_predictions_lands_on_the_clean_sample():
    scheduler = DDIMScheduler(prediction_type="sample")
    clean = np.random.default_rng(2).uniform(-1, 1, (6, 4)).astype(np.float32)
    sample = np.random.default_rng(3).standard_normal(clean.shape).astype(np.float32)
    scheduler.set_timesteps(8)
    for t in scheduler.timesteps:
        sample = scheduler.step(clean, int(t), sample)
    assert np.allclose(sample, clean, atol=1e-6)
    with pytest.raises(ValueError):
        DDIMScheduler(prediction_type="epsilon")


def test_single_voice_keeps_the_likeliest_note_of_a_line():
    from mtm_daw.score.roll import LAYOUT, PITCH_RANGES, single_voice

    roll = np.zeros((8, FEATURES), dtype=np.float32)
    low = PITCH_RANGES["melody"][0]
    onset, sustain = LAYOUT.onset["melody"].start, LAYOUT.sustain["melody"].start
    for column, p in ((72 - low, 0.9), (74 - low, 0.7)):  # a smeared start: two neighbours, one likelier
        roll[0, onset + column] = p
        roll[0:8, sustain + column] = 1.0
    roll[4, onset + 76 - low] = 0.8  # the next note: the held one stops here
    roll[4:6, sustain + 76 - low] = 1.0
    harmony = LAYOUT.onset["harmony"].start
    roll[0, harmony:harmony + 3] = 1.0  # chords stay chords
    tracks = roll_to_tracks(single_voice(roll), 0, {})
    assert [(n.onset, n.pitch, n.duration) for n in tracks["melody"].notes] == [(0.0, 72, 1.0), (1.0, 76, 0.5)]
    assert len(tracks["harmony"].notes) == 3
