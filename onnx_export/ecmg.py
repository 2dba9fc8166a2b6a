"""Export the trained generator (DiT + ControlFormer) to ONNX, check parity, quantise, update the manifest.

    .venv/bin/python -m onnx_export.ecmg --checkpoint build/ecmg --out-dir mtm_daw/weights

Writes ecmg_fp32.onnx and ecmg_int8.onnx (dynamic int8 weights) with dynamic batch and length, and
records in the manifest: configs, SHA-256, and parity (max abs error against torch eager at a
length the export never saw, fp32 and int8).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from onnx_export.manifest import sha256_file, update_manifest_entry

INPUT_NAMES = ["x", "t", "labels", "roles", "sentence", "use_condition", "energy", "hits", "beat_in_bar",
               "plan", "control", "strength"]
OPSET = 17


def load_checkpoint(folder: Path):
    """Rebuild the ECMG module exactly from config.json + model.safetensors."""
    from safetensors.torch import load_file

    from mtm_daw.models.controlformer import ECMG, ControlFormer, ControlFormerConfig
    from mtm_daw.models.dit import DiT, DiTConfig

    config = json.loads((folder / "config.json").read_text())
    dit_config = DiTConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in config["dit"].items()})
    dit = DiT(dit_config)
    model = ECMG(dit, ControlFormer(dit, ControlFormerConfig(**config["controlformer"])))
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval(), config


def example_inputs(model, batch: int, tokens: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    config = model.dit.config
    generator = torch.Generator().manual_seed(seed)
    steps = tokens * config.steps_per_token
    labels = torch.stack([torch.randint(0, size, (batch,), generator=generator) for size in config.label_sizes], 1)
    sentence = torch.nn.functional.normalize(torch.randn(batch, config.sentence_dim, generator=generator), dim=-1)
    return (torch.randn(batch, steps, config.features, generator=generator),
            torch.randint(0, 1000, (batch,), generator=generator), labels,
            torch.ones(batch, config.n_roles), sentence, torch.ones(batch),
            torch.rand(batch, tokens, generator=generator), torch.zeros(batch, tokens),
            torch.arange(tokens).remainder(4).repeat(batch, 1),
            torch.stack([torch.randint(0, size, (batch, tokens), generator=generator) for size in config.plan_sizes], -1),
            torch.rand(batch, steps, model.controlformer.config.control_features, generator=generator).round(),
            torch.full((batch,), 0.7))


def onnx_outputs(path: Path, inputs: tuple[torch.Tensor, ...]) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {name: tensor.numpy() for name, tensor in zip(INPUT_NAMES, inputs)})[0]


def export_ecmg(checkpoint: Path, out_dir: Path) -> dict:
    from onnxruntime.quantization import QuantType, quantize_dynamic

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
        onnx.save(exported, str(staged))
        staged_int8 = Path(scratch) / int8.name
        quantize_dynamic(str(staged), str(staged_int8), weight_type=QuantType.QInt8)
        check = example_inputs(model, 3, 24, seed=1)  # another batch and length than the export saw
        with torch.no_grad():
            reference = model(*check).numpy()
        parity_fp32 = float(np.abs(onnx_outputs(staged, check) - reference).max())
        parity_int8 = float(np.abs(onnx_outputs(staged_int8, check) - reference).max())
        if parity_fp32 > 1e-3:
            raise SystemExit(f"fp32 export differs from torch by {parity_fp32:.2e}; not writing it")
        os.replace(staged, fp32)
        os.replace(staged_int8, int8)
    entry = {
        "file": fp32.name, "sha256": sha256_file(fp32), "bytes": fp32.stat().st_size,
        "int8": {"file": int8.name, "sha256": sha256_file(int8), "bytes": int8.stat().st_size},
        "config": {"dit": config["dit"], "controlformer": config["controlformer"]},
        "training": {"settings": config["settings"], "data": config["data"], "final_loss": config["final_loss"]},
        "parity": {"max_abs_error_fp32": parity_fp32, "max_abs_error_int8": parity_int8, "checked_tokens": 24},
        "exported_with": {"torch": torch.__version__, "opset": OPSET},
        "version": 1,
    }
    update_manifest_entry(out_dir, "ecmg", entry)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=Path("build/ecmg"))
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "mtm_daw" / "weights")
    args = parser.parse_args()
    entry = export_ecmg(args.checkpoint, args.out_dir)
    print(json.dumps({k: entry[k] for k in ("file", "bytes", "parity")}, indent=2))


if __name__ == "__main__":
    main()
