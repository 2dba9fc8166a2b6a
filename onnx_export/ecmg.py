"""Export the trained generator (DiT + ControlFormer) to ONNX, check parity, quantise, update the manifest.

    .venv/bin/python -m onnx_export.ecmg --checkpoint build/ecmg --out-dir mtm_daw/weights

Writes ecmg_fp32.onnx and ecmg_int8.onnx (dynamic int8, see quantize_generator) with dynamic batch and
length, the ControlFormer in an If that skips it without a reference, and records in the manifest: configs,
SHA-256, and parity (max abs error against torch eager at a length the export never saw, with and without a
reference, fp32 and int8).

    .venv/bin/python -m onnx_export.ecmg --int8-only

writes ecmg_int8.onnx again from the shipped ecmg_fp32.onnx (no checkpoint, no torch), its parity against
that file.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from onnx_export.manifest import sha256_file, update_manifest_entry

if TYPE_CHECKING:  # onnx (the train extra) is imported where used: device_check imports this module without it
    import onnx

INPUT_NAMES = ["x", "t", "labels", "roles", "sentence", "use_condition", "energy", "hits", "beat_in_bar",
               "plan", "control", "strength"]
OPSET = 17


def build_model(config: dict):
    """The ECMG module a config describes ({"dit": ..., "controlformer": ...}: a checkpoint's config.json or
    the manifest's entry), with freshly initialised weights."""
    from training.controlformer import ECMG, ControlFormer, ControlFormerConfig
    from training.dit import DiT, DiTConfig

    dit = DiT(DiTConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in config["dit"].items()}))
    return ECMG(dit, ControlFormer(dit, ControlFormerConfig(**config["controlformer"])))


def load_checkpoint(folder: Path):
    """Rebuild the ECMG module exactly from config.json + model.safetensors."""
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text())
    model = build_model(config)
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval(), config


def example_feeds(config: dict, batch: int, tokens: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs of the right shapes and types for a model of `config` (see build_model), by INPUT_NAMES:
    what the exported graph is traced and checked with, and what benchmarks time (numpy only)."""
    dit, control = config["dit"], config["controlformer"]
    rng = np.random.default_rng(seed)
    steps = tokens * dit["steps_per_token"]
    sentence = rng.standard_normal((batch, dit["sentence_dim"])).astype(np.float32)
    values = (rng.standard_normal((batch, steps, dit["features"])).astype(np.float32),
              rng.integers(0, 1000, batch), np.stack([rng.integers(0, size, batch) for size in dit["label_sizes"]], 1),
              np.ones((batch, dit["n_roles"]), np.float32), sentence / np.linalg.norm(sentence, axis=-1, keepdims=True),
              np.ones(batch, np.float32), rng.random((batch, tokens), dtype=np.float32),
              np.zeros((batch, tokens), np.float32), np.tile(np.arange(tokens) % 4, (batch, 1)),
              np.stack([rng.integers(0, size, (batch, tokens)) for size in dit["plan_sizes"]], -1),
              rng.random((batch, steps, control["control_features"]), dtype=np.float32).round(),
              np.full(batch, 0.7, np.float32))
    return {name: (value.astype(np.int64) if value.dtype.kind == "i" else value)
            for name, value in zip(INPUT_NAMES, values)}


def example_inputs(model, batch: int, tokens: int, seed: int = 0) -> tuple:
    """example_feeds for a torch model, as the tensors its forward takes."""
    import torch

    config = {"dit": {name: getattr(model.dit.config, name) for name in
                      ("steps_per_token", "sentence_dim", "features", "label_sizes", "n_roles", "plan_sizes")},
              "controlformer": {"control_features": model.controlformer.config.control_features}}
    return tuple(torch.from_numpy(value) for value in example_feeds(config, batch, tokens, seed).values())


def onnx_logits(path: Path, checks: list[tuple]) -> list[np.ndarray]:
    """The logits of the ONNX file for each input tuple (INPUT_NAMES order, torch tensors or numpy), one session."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [session.run(None, {name: np.asarray(value) for name, value in zip(INPUT_NAMES, inputs)})[0]
            for inputs in checks]


def onnx_outputs(path: Path, inputs: tuple) -> np.ndarray:
    """The logits of the ONNX file for one input tuple (see onnx_logits)."""
    return onnx_logits(path, [inputs])[0]


def largest_difference(logits: list[np.ndarray], references: list[np.ndarray]) -> float:
    """The largest |difference| between two lists of logits, pair by pair."""
    return max(float(np.abs(ours - reference).max()) for ours, reference in zip(logits, references))


def parity_checks(config: dict) -> list[tuple]:
    """Inputs for the parity checks, at a batch and length the export never saw: with a reference, without
    (strength 0), and a batch where only some entries have one."""
    with_reference = tuple(example_feeds(config, 3, 24, seed=1).values())
    without_reference = tuple(np.zeros_like(value) if name in ("control", "strength") else value
                              for name, value in zip(INPUT_NAMES, with_reference))
    mixed = with_reference[:-1] + (np.array([0.7, 0.0, 0.3], np.float32),)
    return [with_reference, without_reference, mixed]


def graphs(graph: onnx.GraphProto):
    """The graph and every graph inside its nodes (an If's branches), depth first: onnx.GraphProto each."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == attribute.GRAPH:
                yield from graphs(attribute.g)


def skip_control_without_reference(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph with the ControlFormer inside an If that runs it only when some strength is not zero.

    Without a reference (strength 0, the default cue) its residuals are exactly zero, yet its four blocks
    were a third of every step. The branch is every node that both follows from the control or strength
    inputs and leads to a residual the DiT adds (/controlformer/Mul_k); without a reference the If gives
    0.0 for each residual instead, so the sums, and the logits, are the same numbers. Weights stay in the
    main graph (the branch reads them from there), so the file's initializers, and import_ecmg, are as
    before. The nodes are found by the data flow, not by names.
    """
    import onnx
    from onnx import TensorProto, helper

    graph = model.graph
    producer = {output: node for node in graph.node for output in node.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    follows, frontier = set(), ["control", "strength"]
    while frontier:  # every node downstream of the reference's inputs (the DiT after the residuals too)
        for node in consumers.get(frontier.pop(), []):
            if id(node) not in follows:
                follows.add(id(node))
                frontier.extend(node.output)
    residuals = [output for node in graph.node if id(node) in follows and node.name.startswith("/controlformer/")
                 for output in node.output
                 if any(not c.name.startswith("/controlformer/") for c in consumers.get(output, []))]
    leads, frontier = set(), list(residuals)
    while frontier:  # every node upstream of the residuals
        node = producer.get(frontier.pop())
        if node is not None and id(node) not in leads:
            leads.add(id(node))
            frontier.extend(node.input)
    branch = [node for node in graph.node if id(node) in follows and id(node) in leads]
    inside = {id(node) for node in branch}
    made = {output for node in branch for output in node.output}
    for node in graph.node:
        if id(node) not in inside and any(name in made and name not in residuals for name in node.input):
            raise ValueError(f"{node.name} reads the ControlFormer's inner value; the graph is not as expected")
    if not residuals:
        raise ValueError("no ControlFormer residuals found in the graph (is its If in place already?)")

    renamed = {name: f"{name}_with_reference" for name in residuals}
    for node in branch:
        node.output[:] = [renamed.get(name, name) for name in node.output]
        node.input[:] = [renamed.get(name, name) for name in node.input]
    then_graph = helper.make_graph(branch, "with_reference", [], [
        helper.make_tensor_value_info(renamed[name], TensorProto.FLOAT, None) for name in residuals])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    else_graph = helper.make_graph(
        [helper.make_node("Constant", [], [f"{name}_without_reference"], value=zero) for name in residuals],
        "without_reference", [],
        [helper.make_tensor_value_info(f"{name}_without_reference", TensorProto.FLOAT, None) for name in residuals])
    # the branch runs unless every strength is exactly 0 (a NaN strength runs it, as the plain graph did)
    test = [helper.make_node("Constant", [], ["no_strength"], value=zero, name="/reference/Zero"),
            helper.make_node("Equal", ["strength", "no_strength"], ["strength_is_zero"], name="/reference/Equal"),
            helper.make_node("Not", ["strength_is_zero"], ["strength_is_set"], name="/reference/Not"),
            helper.make_node("Cast", ["strength_is_set"], ["strength_set"], to=TensorProto.FLOAT, name="/reference/Cast"),
            helper.make_node("ReduceMax", ["strength_set"], ["any_strength_set"], keepdims=0, name="/reference/ReduceMax"),
            helper.make_node("Greater", ["any_strength_set", "no_strength"], ["has_reference"], name="/reference/Greater"),
            helper.make_node("If", ["has_reference"], residuals, then_branch=then_graph, else_branch=else_graph,
                             name="/reference/If")]
    # shapes recorded for values now inside the branch (an exporter may write them), or for the residuals,
    # which are a scalar 0.0 without a reference
    stale = made | set(residuals)
    kept_shapes = [info for info in graph.value_info if info.name not in stale]
    del graph.value_info[:]
    graph.value_info.extend(kept_shapes)
    kept = [node for node in graph.node if id(node) not in inside]
    first_reader = min(i for i, node in enumerate(kept) if any(name in residuals for name in node.input))
    del graph.node[:]
    graph.node.extend(kept[:first_reader] + test + kept[first_reader:])
    onnx.checker.check_model(model)
    return model


QUANTIZATION = "dynamic: MatMul weights int8 per output channel in 7 bits (reduce_range), activations uint8 per call"


def quantize_generator(fp32: Path, int8: Path) -> None:
    """Dynamic int8 of an exported generator (its If included): MatMul weights as int8 per output channel in
    7 bits (reduce_range), activations quantised to uint8 at run time.

    Why 7 bits: x86 CPUs without VNNI multiply uint8 by int8 with VPMADDUBSW, which adds the products of
    neighbouring inputs into int16 with saturation; 255 * 127 * 2 leaves int16, 255 * 64 * 2 does not. With
    8-bit weights per tensor, 6,314 of the round-6 model's 7.7M weight pairs could saturate, 1.5e-6 of the
    pair sums did on real feeds, and on such CPUs the int8 model's error on drum onsets doubled and its
    drums fell silent in 0.41 of bars (fp32: 0.12), while CPUs with VNNI ran the same file faithfully
    (benchmarks/int8_on_avx2.py computes the AVX2 kernel's numbers on any CPU). Per output channel, 7 bits
    are as accurate as 8 bits per tensor were (benchmarks/results/int8.md).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     extra_options={"EnableSubgraph": True})  # the ControlFormer's blocks are in the If


def int8_entry(int8: Path) -> dict:
    """The manifest's record of an int8 file quantize_generator wrote (its output hangs on onnxruntime's version)."""
    import onnxruntime

    return {"file": int8.name, "sha256": sha256_file(int8), "bytes": int8.stat().st_size,
            "quantization": QUANTIZATION, "onnxruntime": onnxruntime.__version__}


def export_ecmg(checkpoint: Path, out_dir: Path) -> dict:
    import torch

    model, config = load_checkpoint(checkpoint)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = out_dir / "ecmg_fp32.onnx", out_dir / "ecmg_int8.onnx"
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:  # same filesystem: os.replace stays atomic
        staged = Path(scratch) / fp32.name
        with torch.no_grad():
            torch.onnx.export(model, example_inputs(model, 2, 8), str(staged), input_names=INPUT_NAMES,
                              output_names=["logits"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={"x": {0: "batch", 1: "steps"}, "t": {0: "batch"},
                                            "labels": {0: "batch"}, "roles": {0: "batch"},
                                            "sentence": {0: "batch"}, "use_condition": {0: "batch"},
                                            "energy": {0: "batch", 1: "tokens"}, "hits": {0: "batch", 1: "tokens"},
                                            "beat_in_bar": {0: "batch", 1: "tokens"}, "plan": {0: "batch", 1: "tokens"},
                                            "control": {0: "batch", 1: "steps"}, "strength": {0: "batch"},
                                            "logits": {0: "batch", 1: "steps"}})
        import onnx

        exported = onnx.load(str(staged))  # the style list travels with the model: row i of its genre embedding
        onnx.helper.set_model_props(exported, {"genres": json.dumps(list(model.dit.config.genres))})
        onnx.save(skip_control_without_reference(exported), str(staged))
        staged_int8 = Path(scratch) / int8.name
        quantize_generator(staged, staged_int8)
        checks = parity_checks(config)
        with torch.no_grad():
            references = [model(*(torch.from_numpy(value) for value in check)).numpy() for check in checks]
        parity_fp32 = largest_difference(onnx_logits(staged, checks), references)
        parity_int8 = largest_difference(onnx_logits(staged_int8, checks), references)
        if parity_fp32 > 1e-3:
            raise SystemExit(f"fp32 export differs from torch by {parity_fp32:.2e}; not writing it")
        os.replace(staged, fp32)
        os.replace(staged_int8, int8)
    entry = {
        "file": fp32.name, "sha256": sha256_file(fp32), "bytes": fp32.stat().st_size,
        "int8": int8_entry(int8),
        "config": {"dit": config["dit"], "controlformer": config["controlformer"]},
        "training": {"settings": config["settings"], "data": config["data"], "final_loss": config["final_loss"]},
        "parity": {"max_abs_error_fp32": parity_fp32, "max_abs_error_int8": parity_int8, "checked_tokens": 24,
                   "int8_checked_against": "torch eager"},
        "exported_with": {"torch": torch.__version__, "opset": OPSET},
        "version": 1,
    }
    update_manifest_entry(out_dir, "ecmg", entry)
    return entry


def requantize_int8(out_dir: Path) -> dict:
    """The int8 file made again from the folder's fp32 file, its manifest entry updated (the rest of the entry
    kept): the parity of int8 is then taken against the fp32 file (itself within max_abs_error_fp32 of torch)."""
    from onnx_export.manifest import read_manifest

    entry = read_manifest(out_dir)["models"]["ecmg"]
    fp32, int8 = out_dir / entry["file"], out_dir / entry.get("int8", {}).get("file", "ecmg_int8.onnx")
    if sha256_file(fp32) != entry["sha256"]:
        raise SystemExit(f"{fp32} does not match the manifest's checksum; export it again with --checkpoint")
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        staged = Path(scratch) / int8.name
        quantize_generator(fp32, staged)
        checks = parity_checks(entry["config"])
        parity = largest_difference(onnx_logits(staged, checks), onnx_logits(fp32, checks))
        os.replace(staged, int8)
    entry["int8"] = int8_entry(int8)
    entry["parity"].update(max_abs_error_int8=parity, int8_checked_against=fp32.name)
    update_manifest_entry(out_dir, "ecmg", entry)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=Path("build/ecmg"))
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "mtm_daw" / "weights")
    parser.add_argument("--int8-only", action="store_true",
                        help="only quantise the folder's fp32 file again (no checkpoint or torch needed)")
    args = parser.parse_args()
    entry = requantize_int8(args.out_dir) if args.int8_only else export_ecmg(args.checkpoint, args.out_dir)
    print(json.dumps({k: entry[k] for k in ("file", "bytes", "parity")}, indent=2))


if __name__ == "__main__":
    main()
