"""Evaluation metrics and `mtm eval`: each metric on cases with a known answer, then the command on a
two-item set (a description and a video with known cuts) with the baseline composer."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from mtm_daw.cli import main
from mtm_daw.description import MusicDescription
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.evaluation import BUNDLED_SET, EvalSettings, load_eval_set, run_eval, write_report
from mtm_daw.evaluation.adherence import key_adherence, meter_adherence, meter_from_score, tempo_adherence
from mtm_daw.evaluation.distributions import frechet_distance, gaussian_kl, kl_divergence
from mtm_daw.evaluation.embedders import clap_score
from mtm_daw.evaluation.notes import mean_training_z, note_statistics
from mtm_daw.evaluation.report import COLUMNS
from mtm_daw.evaluation.rhythm import beat_mse, extend_pulse, music_beats
from mtm_daw.pipeline import RenderSettings, compose_cue
from mtm_daw.progress import CancelToken
from mtm_daw.compose.baseline import compose


# --- BeatMSE ----------------------------------------------------------------------------------------

def test_beat_mse_is_zero_for_aligned_beats_and_grows_with_offset():
    beats = np.arange(0.0, 12.0, 0.5)  # 120 BPM
    cuts = [2.0, 4.5, 7.0, 9.5]  # on beats
    assert beat_mse(beats, cuts) == 0.0
    errors = [beat_mse(beats + offset, cuts) for offset in (0.02, 0.05, 0.1, 0.2)]
    assert errors == sorted(errors) and errors[0] > 0
    assert errors[2] == pytest.approx(100.0 ** 2)  # 100 ms off on every cut -> 10 000 ms^2


def test_the_music_pulse_is_carried_to_the_edges_of_the_clip():
    beats = extend_pulse(np.array([2.5, 3.0, 3.5, 4.0]), duration=5.2)  # a tracker that found no early beats
    assert np.allclose(beats, np.arange(0.0, 5.01, 0.5))
    assert beat_mse(beats, [1.0]) == 0.0  # an early cut on the pulse the music plays


def test_beat_mse_edge_cases():
    assert np.isnan(beat_mse([0.5, 1.0], []))  # a video without events: nothing to align to
    with pytest.raises(MtmError, match="no beats"):
        beat_mse([], [1.0])


# --- distributions ----------------------------------------------------------------------------------

def test_frechet_distance_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    near, far = frechet_distance(a, a + 0.2), frechet_distance(a, a + 1.0)
    assert 0 < near < far
    assert far == pytest.approx(8 * 1.0 ** 2, rel=1e-6)  # a pure shift adds |shift|^2
    assert frechet_distance(a, rng.normal(size=(40, 8)) * 3) > far  # a wider spread too


def test_kl_of_a_distribution_with_itself_is_zero_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 6))
    assert gaussian_kl(a, a) == pytest.approx(0.0, abs=1e-9)
    assert 0 < gaussian_kl(a, a + 0.3) < gaussian_kl(a, a + 1.0)
    p = np.array([0.7, 0.2, 0.1])
    assert kl_divergence(p, p) == pytest.approx(0.0)
    assert 0 < kl_divergence(p, [0.5, 0.3, 0.2]) < kl_divergence(p, [0.1, 0.2, 0.7])
    assert kl_divergence([0, 1, 0], [0.25, 0.5, 0.25]) == pytest.approx(np.log(2))  # one-hot: -log q
    with pytest.raises(MtmError):
        frechet_distance(a[:1], a)


def test_clap_score_is_a_scaled_cosine():
    assert clap_score(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(100.0)
    assert clap_score(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(0.0)


# --- adherence --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cue_at_120():
    description = MusicDescription(genre="rock", mood="happy", tempo=120, key="E minor", duration=10)
    return compose_cue(description, seed=2, settings=RenderSettings(synth="builtin"), warn=lambda message: None)


def test_tempo_adherence_detects_a_wrong_tempo(cue_at_120):
    from mtm_daw.analysis.tempo import estimate_tempo

    measured = estimate_tempo(cue_at_120.mix.mean(axis=0), cue_at_120.sample_rate).bpm
    assert tempo_adherence(120, measured)["match"]
    wrong = tempo_adherence(100, measured)
    assert not wrong["match"] and not wrong["octave"] and wrong["error_bpm"] == pytest.approx(20, abs=2)
    assert tempo_adherence(60, measured)["octave"] and not tempo_adherence(60, measured)["match"]  # double time
    assert len(music_beats(cue_at_120.mix, cue_at_120.sample_rate)) >= 15


def test_key_and_meter_adherence():
    assert key_adherence("D minor", "D minor") == {"measured": "D minor", "match": True, "mirex": 1.0}
    assert key_adherence("D minor", "A minor")["mirex"] == 0.5
    assert key_adherence("C major", "A minor")["mirex"] == 0.3
    assert key_adherence("C major", "F# major")["mirex"] == 0.0
    waltz = compose(MusicDescription(genre="orchestral", tempo=90, time_signature=(3, 4), duration=16), seed=0)
    assert meter_from_score(waltz) == (3, 4)
    assert meter_adherence((3, 4), waltz)["match"]
    wrong = meter_adherence((4, 4), waltz)
    assert not wrong["match"] and not wrong["bar_match"]


def test_note_statistics_against_the_training_data():
    training = json.loads((BUNDLED_SET / "training_stats.json").read_text())
    score = compose(MusicDescription(genre="pop", tempo=110, duration=16), seed=4)
    statistics = note_statistics(score)
    assert set(statistics) == {"drums", "bass", "harmony", "melody"}
    typical = mean_training_z(statistics, training)
    assert 0 <= typical < 2  # the training data came from this composer
    crowded = {role: dict(values, notes_per_bar=values["notes_per_bar"] * 10) for role, values in statistics.items()}
    assert mean_training_z(crowded, training) > typical + 1


# --- the bundled set and `mtm eval` -----------------------------------------------------------------

def test_bundled_set_is_small_and_complete():
    evalset = load_eval_set(BUNDLED_SET)
    kinds = {item.kind for item in evalset.items}
    assert kinds == {"description", "text", "image", "video"}
    assert evalset.reference is not None and evalset.training_stats is not None
    assert all(item.targets.get("visual_events") for item in evalset.items if item.kind == "video")
    assert sum(p.stat().st_size for p in BUNDLED_SET.iterdir()) < 1_000_000


@pytest.fixture(scope="module")
def two_item_set(tmp_path_factory):
    from visual_media import write_cut_video

    folder = tmp_path_factory.mktemp("evalset")
    MusicDescription(genre="jazz", mood="calm", tempo=100, key="F major", duration=5.0).validate()
    (folder / "calm_jazz.json").write_text(MusicDescription(genre="jazz", mood="calm", tempo=100, key="F major",
                                                            duration=5.0).to_json())
    _, cuts = write_cut_video(folder / "cuts.mp4", [1.5, 3.0], seconds=4.5)
    manifest = {"items": [{"id": "calm_jazz", "kind": "description", "file": "calm_jazz.json",
                           "targets": {"tempo": 100, "key": "F major", "genre": "jazz"}},
                          {"id": "cuts", "kind": "video", "file": "cuts.mp4", "targets": {"visual_events": cuts}}],
                "training_stats": str(BUNDLED_SET / "training_stats.json")}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def eval_output(two_item_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_out")
    status = main(["eval", "--set", str(two_item_set), "--engines", "baseline", "--seeds", "0", "-o", str(out),
                   "--synth", "builtin", "--quiet"])
    assert status == 0
    return out


def test_mtm_eval_writes_markdown_and_json_with_the_expected_columns(eval_output):
    markdown = (eval_output / "eval.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| engine |"))
    assert [cell.strip() for cell in header.strip("|").split("|")] == ["engine"] + [title for _, title, _ in COLUMNS]
    assert "| baseline | 2 |" in markdown and "BeatMSE (ms²) per video" in markdown
    results = json.loads((eval_output / "eval.json").read_text())
    assert set(results["engines"]) == {"baseline"}
    assert set(results["engines"]["baseline"]) >= {key for key, _, _ in COLUMNS}
    assert [(c["item"], c["engine"], c["seed"]) for c in results["cues"]] == [("calm_jazz", "baseline", 0),
                                                                            ("cuts", "baseline", 0)]
    video = next(c for c in results["cues"] if c["item"] == "cuts")
    assert video["beat_mse"] is not None and video["beat_mse"] >= 0
    assert next(c for c in results["cues"] if c["item"] == "calm_jazz")["beat_mse"] is None  # not a video
    assert results["items"][0]["bridge"] == {"genre": True, "tempo": True, "key": True}
    assert results["engines"]["baseline"]["key_notes"] == 1.0
    if results["embedder"]:  # the joint model is installed: the embedding metrics are measured too
        row = results["engines"]["baseline"]
        assert -100 <= row["clap"] <= 100 and row["genre_kl"] >= 0 and row["fd"] is not None
    else:
        assert "CLAP score, genre/mood KL, FD and embedding KL left out" in markdown


def test_eval_without_an_embedder_leaves_the_embedding_metrics_out(two_item_set, tmp_path):
    results = run_eval(two_item_set, EvalSettings(engines=("baseline",), seeds=(1,), embedder="none",
                                                  synth="builtin"), warn=lambda m: None)
    assert results["embedder"] is None and results["engines"]["baseline"]["clap"] is None
    assert "--embedder none" in results["notes"][0]


def test_mtm_eval_plots_when_matplotlib_is_there(eval_output):
    pytest.importorskip("matplotlib")
    for name in ("metrics.png", "notes_per_bar.png"):
        assert (eval_output / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_without_matplotlib_skips_plots_with_a_note(eval_output, tmp_path, monkeypatch):
    results = json.loads((eval_output / "eval.json").read_text())
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    paths = write_report(results, tmp_path)
    assert [p.name for p in paths] == ["eval.md", "eval.json"]
    assert "plots skipped: matplotlib is not installed" in (tmp_path / "eval.md").read_text()


def test_eval_is_cancellable_and_checks_its_settings(two_item_set):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run_eval(two_item_set, EvalSettings(engines=("baseline",), seeds=(0,)), cancel=token, warn=lambda m: None)
    with pytest.raises(MtmError, match="unknown engine"):
        run_eval(two_item_set, EvalSettings(engines=("musicgen",)))
    assert main(["eval", "--set", str(two_item_set), "--seeds", "a,b"]) == 2


# --- an external embedder from a local folder (tiny random CLAP, never downloaded) ------------------

def test_clap_folder_embedder_on_a_tiny_random_model(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from mtm_daw.evaluation.embedders import load_embedder

    config = transformers.ClapConfig(
        text_config=dict(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=40),
        audio_config=dict(hidden_size=16, patch_embeds_hidden_size=8, depths=[1, 1], num_attention_heads=[2, 2],
                          window_size=8, spec_size=256, num_mel_bins=64),
        projection_dim=8)
    torch.manual_seed(0)  # unseeded, the tiny projection can put every ReLU below zero: a zero vector (CI saw it once)
    transformers.ClapModel(config).save_pretrained(tmp_path)
    transformers.ClapFeatureExtractor(truncation="rand_trunc").save_pretrained(tmp_path)
    embedder = load_embedder(f"clap:{tmp_path}")
    rng = np.random.default_rng(0)
    first = embedder.embed_audio(rng.normal(scale=0.1, size=22050 * 3).astype(np.float32), 22050)
    again = embedder.embed_audio(rng.normal(scale=0.1, size=22050 * 12).astype(np.float32), 22050)  # two windows
    assert first.shape == again.shape == (8,) and np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    assert embedder.embed_text(["calm piano"]) is None  # no tokenizer saved: audio only
    with pytest.raises(MtmError, match="not a CLAP model folder"):
        load_embedder(f"clap:{tmp_path / 'missing'}")
    for weights in tmp_path.glob("*.safetensors"):
        weights.rename(tmp_path / "pytorch_model.bin")  # only pickle weights left: never read
    with pytest.raises(MtmError, match=r"CLAP model has only pytorch_model\.bin"):
        load_embedder(f"clap:{tmp_path}")
