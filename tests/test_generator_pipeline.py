"""The generator's whole path on a tiny model trained here: train step -> ONNX export -> DDIM with onnxruntime."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mtm_daw.compose.baseline import compose
from mtm_daw.description import MusicDescription
from mtm_daw.engine.control import ControlSignal, control_from_score
from mtm_daw.engine.generator import GenerationSettings, Generator, generate_score
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.progress import CancelToken
from mtm_daw.score.roll import quantize_score
from tests.robustness.corrupt import copy_with_middle_flipped

SENTENCE = np.ones(384, dtype=np.float32) / np.sqrt(384)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    result = subprocess.run([sys.executable, "-m", "training.train_ecmg", "--tiny", "--out", str(folder / "ckpt")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    from onnx_export.ecmg import export_ecmg

    entry = export_ecmg(folder / "ckpt", folder / "weights")
    return folder, entry


def test_training_writes_weights_config_and_loss_curve(tiny_model):
    folder, entry = tiny_model
    config = json.loads((folder / "ckpt" / "config.json").read_text())
    assert config["dit"]["d_model"] == 32 and config["settings"]["tiny"] is True
    assert (folder / "ckpt" / "model.safetensors").stat().st_size > 10_000
    assert (folder / "ckpt" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert entry["parity"]["max_abs_error_fp32"] < 1e-4
    manifest = json.loads((folder / "weights" / "manifest.json").read_text())
    assert manifest["models"]["ecmg"]["sha256"] == entry["sha256"]


def test_without_a_reference_the_exported_graph_runs_the_dit_alone(tiny_model, tmp_path):
    """The ControlFormer sits in an If: with strength 0 the exported model gives the DiT's own logits (its
    blocks are skipped, a third of a step's work); with a reference, the ControlFormer's."""
    import onnx
    import torch
    from safetensors.torch import save_file

    from onnx_export.ecmg import INPUT_NAMES, example_inputs, export_ecmg, load_checkpoint, onnx_outputs

    folder, _ = tiny_model
    model, _ = load_checkpoint(folder / "ckpt")
    for module in model.controlformer.control_out:  # a ControlFormer that changes the logits (training's start at 0)
        torch.nn.init.normal_(module.weight, std=0.5)
    (tmp_path / "ckpt").mkdir()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "ckpt" / "model.safetensors"))
    shutil.copy(folder / "ckpt" / "config.json", tmp_path / "ckpt" / "config.json")
    export_ecmg(tmp_path / "ckpt", tmp_path / "weights")
    exported = tmp_path / "weights" / "ecmg_fp32.onnx"
    for path in (exported, tmp_path / "weights" / "ecmg_int8.onnx"):
        branch = next(node for node in onnx.load(str(path)).graph.node if node.op_type == "If").attribute
        assert sum(len(a.g.node) for a in branch if a.name == "then_branch") > 20

    with_reference = example_inputs(model, 2, 8, seed=4)
    without = tuple(torch.zeros_like(v) if n in ("control", "strength") else v for n, v in zip(INPUT_NAMES, with_reference))
    with torch.no_grad():
        dit_alone, followed = model.dit(*without[:-2]).numpy(), model(*with_reference).numpy()
    effect = np.abs(followed - dit_alone).max()  # what the reference changes (small: a tiny, barely trained DiT)
    assert effect > 1e-3
    assert np.abs(onnx_outputs(exported, with_reference) - followed).max() < effect / 100
    assert np.abs(onnx_outputs(exported, without) - dit_alone).max() < effect / 100
    # the branch is skipped, not run and multiplied by 0: a control it would choke on leaves the logits alone
    unread = tuple(torch.full_like(v, float("nan")) if n == "control" else v for n, v in zip(INPUT_NAMES, without))
    assert np.isfinite(onnx_outputs(exported, unread)).all()
    assert not np.isfinite(onnx_outputs(exported, unread[:-1] + (torch.full_like(without[-1], 1e-30),))).all()


def test_generate_writes_the_requested_roles_in_whole_bars(tiny_model):
    folder, _ = tiny_model
    generator = Generator(folder / "weights" / "ecmg_fp32.onnx")
    description = MusicDescription(genre="rock", tempo=100, duration=10, roles=("drums", "bass"))
    score = generate_score(description, SENTENCE, settings=GenerationSettings(steps=3), generator=generator)
    assert list(score.tracks) == ["drums", "bass"]
    assert score.length_beats == 20 and score.tempo == 100 and score.key == "C major"
    again = generate_score(description, SENTENCE, settings=GenerationSettings(steps=3), generator=generator)
    assert again.to_dict() == score.to_dict(), "same seed, same score"


def test_key_lock_puts_every_generated_note_on_the_scale():
    generator = Generator.default()  # the shipped model writes a few chromatic notes of its own
    description = MusicDescription(genre="pop", tempo=120, key="E minor", duration=16)
    scale = {4, 6, 7, 9, 11, 0, 2, 3}  # E natural minor and the raised 7th, D#

    def outside(score):
        return sum(n.pitch % 12 not in scale for t in score.tracks.values() if not t.is_drum for n in t.notes)

    free = generate_score(description, SENTENCE, settings=GenerationSettings(steps=3, key_lock=False),
                          generator=generator)
    locked = generate_score(description, SENTENCE, settings=GenerationSettings(steps=3), generator=generator)
    assert outside(free) > 0, "the tiny model should write some chromatic notes for this test to mean anything"
    assert outside(locked) == 0
    assert locked.note_count() > 0


def test_inpainting_keeps_other_roles_and_continuation_keeps_the_start(tiny_model):
    folder, _ = tiny_model
    generator = Generator(folder / "weights" / "ecmg_fp32.onnx")
    kept = quantize_score(compose(MusicDescription(genre="pop", tempo=120, duration=16), seed=4))
    description = MusicDescription(genre="pop", tempo=120, duration=40)  # longer: a continuation too
    score = generate_score(description, SENTENCE, settings=GenerationSettings(steps=3), keep=kept,
                           regenerate=("melody",), generator=generator)
    assert score.length_beats == 80  # three overlapping windows
    for role in ("drums", "bass", "harmony"):
        # every kept note is there as it was; a last kept chord may ring on into the continuation
        first = {(n.onset, n.pitch, n.velocity) for n in score.tracks[role].notes if n.onset < 32}
        original = {(n.onset, n.pitch, n.velocity) for n in kept.tracks[role].notes}
        assert original == first, role
        held = {(n.onset, n.pitch): n.duration for n in score.tracks[role].notes}
        for note in kept.tracks[role].notes:
            if note.end < 31:
                assert held[(note.onset, note.pitch)] == note.duration, role


def test_reference_control_and_cancel(tiny_model):
    folder, _ = tiny_model
    generator = Generator(folder / "weights" / "ecmg_fp32.onnx")
    reference = ControlSignal(control_from_score(quantize_score(compose(MusicDescription(), seed=1))), 1.0)
    description = MusicDescription(duration=8)
    score = generate_score(description, SENTENCE, reference=reference, settings=GenerationSettings(steps=2),
                           generator=generator)
    assert score.length_beats == 16
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        generate_score(description, SENTENCE, settings=GenerationSettings(steps=2), generator=generator,
                       cancel=token)


@pytest.mark.parametrize("settings,message", [(GenerationSettings(steps=0), "steps"),
                                              (GenerationSettings(guidance=-1), "guidance"),
                                              (GenerationSettings(precision="fp8"), "precision")])
def test_bad_generation_settings(tiny_model, settings, message):
    generator = Generator(tiny_model[0] / "weights" / "ecmg_fp32.onnx")
    with pytest.raises(MtmError, match=message):
        generate_score(MusicDescription(duration=4), SENTENCE, settings=settings, generator=generator)
    with pytest.raises(MtmError, match="unknown role"):
        generate_score(MusicDescription(duration=4), SENTENCE, regenerate=("vocals",), generator=generator)


def test_damaged_model_file_is_named(tiny_model, tmp_path):
    folder, entry = tiny_model
    damaged = copy_with_middle_flipped(folder / "weights" / "ecmg_fp32.onnx", tmp_path)
    with pytest.raises(MtmError, match="ecmg_fp32.onnx.*checksum"):
        Generator(damaged, entry["sha256"])


def test_an_exported_model_is_imported_back_to_torch_and_fine_tuned_with_a_row_per_style(tiny_model, tmp_path):
    """The shipped generator exists only as ONNX: import_ecmg must rebuild it exactly, and a fine-tune that
    grows the genre rows must start every new style from its parent's row."""
    import torch

    from training.train_ecmg import grow_genres
    from mtm_daw.score.styles import CORE_GENRES, STYLE_NAMES, style_for
    from onnx_export.ecmg import load_checkpoint
    from onnx_export.import_ecmg import import_ecmg

    folder, _ = tiny_model
    difference = import_ecmg(folder / "weights" / "ecmg_fp32.onnx", tmp_path / "back", manifest_dir=folder / "weights")
    assert difference < 1e-4
    original, _ = load_checkpoint(folder / "ckpt")
    rebuilt, _ = load_checkpoint(tmp_path / "back")
    for name, tensor in original.state_dict().items():
        assert torch.allclose(tensor, rebuilt.state_dict()[name], atol=1e-6), name
    old_rows = rebuilt.dit.condition.labels[0].weight.detach().clone()
    grow_genres(rebuilt.dit, STYLE_NAMES)
    grown = rebuilt.dit.condition.labels[0].weight.detach()
    assert grown.shape[0] == len(STYLE_NAMES) and rebuilt.dit.config.genres == STYLE_NAMES
    for row, name in enumerate(STYLE_NAMES):
        source = name if name in CORE_GENRES else style_for(name).parent
        assert torch.equal(grown[row], old_rows[CORE_GENRES.index(source)]), name


def test_the_runtime_reads_the_models_style_rows_and_older_models_hear_a_style_as_its_parent(tiny_model):
    from mtm_daw.engine.conditioning import encode_conditions
    from mtm_daw.score.styles import CORE_GENRES

    folder, _ = tiny_model
    generator = Generator(folder / "weights" / "ecmg_fp32.onnx")
    assert generator.genres == CORE_GENRES  # the tiny model was trained with the core rows only
    house = MusicDescription(genre="house", tempo=124, duration=8)
    labels = encode_conditions(house, 8, SENTENCE, genres=generator.genres).labels
    assert labels[0] == CORE_GENRES.index("electronic")
    assert encode_conditions(house, 8, SENTENCE, genres=("pop", "house")).labels[0] == 1
    score = generate_score(house, SENTENCE, settings=GenerationSettings(steps=2), generator=generator)
    assert score.tracks["drums"].notes is not None


def test_example_feeds_of_the_shipped_config_run_the_shipped_model():
    """What the export traces with and the benchmark times, made from the manifest alone (no checkpoint)."""
    from mtm_daw.engine.generator import Generator
    from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry
    from onnx_export.ecmg import example_feeds

    config = model_entry("ecmg", WEIGHTS_DIR)["config"]
    feeds = example_feeds(config, 2, 8)
    logits = Generator.default("fp32").session.run(None, feeds)[0]
    assert logits.shape == (2, 8 * config["dit"]["steps_per_token"], config["dit"]["features"])
    assert np.all(np.isfinite(logits))


def quantised_weights(path) -> dict[str, list[int]]:
    """Per graph of an int8 generator file (the main graph, then its If's branches): the largest |weight| of
    each MatMulInteger. A float MatMul reading a weight (a weight left unquantised) fails the calling test."""
    import onnx
    from onnx import numpy_helper

    from onnx_export.ecmg import graphs

    model = onnx.load(str(path))
    weights = {tensor.name: numpy_helper.to_array(tensor) for graph in graphs(model.graph) for tensor in graph.initializer}
    found = {}
    for graph in graphs(model.graph):
        unquantised = [node.name for node in graph.node if node.op_type == "MatMul" and set(node.input) & weights.keys()]
        assert not unquantised, unquantised
        found[graph.name] = [int(np.abs(weights[node.input[1]].astype(np.int32)).max())
                             for node in graph.node if node.op_type == "MatMulInteger"]
    return found


def test_the_shipped_int8_generator_cannot_saturate_an_avx2_cpu():
    """Without VNNI, onnxruntime's uint8 x int8 kernel adds neighbouring products into int16 with saturation:
    weights of at most 64 keep 255 * 64 * 2 inside it, so the file gives the same numbers on every x86 CPU.
    Every weight is quantised, the ControlFormer's in the If's branch too."""
    from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry

    found = quantised_weights(WEIGHTS_DIR / model_entry("ecmg", WEIGHTS_DIR)["int8"]["file"])
    assert sorted(list(found)[1:]) == ["with_reference", "without_reference"]
    assert len(found["with_reference"]) == 21 and len(next(iter(found.values()))) == 52
    assert max(max(ranges) for ranges in found.values() if ranges) <= 64


def test_int8_only_quantises_the_folders_fp32_file_again(tiny_model, tmp_path):
    """`python -m onnx_export.ecmg --int8-only`: no checkpoint; the manifest names the new file's checksum and
    keeps the rest of the entry; the int8 logits stay close to the fp32 file's; a changed fp32 file is refused."""
    from onnx_export.ecmg import onnx_outputs, parity_checks, requantize_int8
    from onnx_export.manifest import read_manifest, sha256_file

    folder, exported = tiny_model
    weights = tmp_path / "weights"
    shutil.copytree(folder / "weights", weights)
    (weights / "ecmg_int8.onnx").write_bytes(b"stale")
    entry = requantize_int8(weights)
    assert read_manifest(weights)["models"]["ecmg"] == entry
    # the export's own int8 file again, bit for bit (it quantised the same fp32 graph)
    assert entry["int8"]["sha256"] == sha256_file(weights / "ecmg_int8.onnx") == exported["int8"]["sha256"]
    assert {key: entry[key] for key in ("sha256", "config", "training")} == \
        {key: exported[key] for key in ("sha256", "config", "training")}
    assert entry["parity"]["max_abs_error_fp32"] == exported["parity"]["max_abs_error_fp32"]
    assert entry["parity"]["int8_checked_against"] == "ecmg_fp32.onnx"
    assert max(max(ranges) for ranges in quantised_weights(weights / "ecmg_int8.onnx").values() if ranges) <= 64
    check = parity_checks(entry["config"])[0]
    fp32_logits = onnx_outputs(weights / "ecmg_fp32.onnx", check)
    assert 0 < np.abs(onnx_outputs(weights / "ecmg_int8.onnx", check) - fp32_logits).max() < 0.05 * np.abs(fp32_logits).max()
    Generator(weights / "ecmg_int8.onnx", entry["int8"]["sha256"])  # the runtime loads it by its checksum

    with open(weights / "ecmg_fp32.onnx", "ab") as handle:
        handle.write(b"changed")
    with pytest.raises(SystemExit, match="does not match the manifest"):
        requantize_int8(weights)
