"""The way back: rebuild a torch checkpoint of the shipped generator from its ONNX file.

    .venv/bin/python -m onnx_export.import_ecmg --out build/ecmg_shipped

The shipped model is committed only as ONNX, so fine-tuning it (a new style label, more data) starts
here. The exporter stores biases and embeddings under their parameter names and the Linear weights
transposed under generated names ("onnx::MatMul_2060"). Exporting a model of the same config, whose
every parameter holds distinct random numbers, with the same exporter gives the same graph: each of
its initializers is found again as one parameter (or its transpose), which names the shipped file's
initializer of the same name. The result is checked against the shipped ONNX on inputs the export never
saw; a max difference above 1e-3 writes nothing. Writes config.json + model.safetensors in the layout
onnx_export.ecmg and training.train_ecmg read.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from onnx_export.ecmg import INPUT_NAMES, OPSET, example_inputs, onnx_outputs

WEIGHTS = Path(__file__).resolve().parent.parent / "mtm_daw" / "weights"


def _model_from_manifest(entry: dict):
    from training.controlformer import ECMG, ControlFormer, ControlFormerConfig
    from training.dit import DiT, DiTConfig

    dit_config = DiTConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in entry["config"]["dit"].items()})
    dit = DiT(dit_config)
    return ECMG(dit, ControlFormer(dit, ControlFormerConfig(**entry["config"]["controlformer"]))).eval()


def _initializers(path: Path) -> dict[str, np.ndarray]:
    return {tensor.name: numpy_helper.to_array(tensor) for tensor in onnx.load(str(path)).graph.initializer}


def _export(model, path: Path) -> None:
    with torch.no_grad():
        torch.onnx.export(model, example_inputs(model, 2, 8), str(path), input_names=INPUT_NAMES,
                          output_names=["logits"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={name: {0: "batch"} for name in INPUT_NAMES})


def parameter_sources(model) -> dict[str, tuple[str, bool]]:
    """state_dict name -> (ONNX initializer name, stored transposed), found through a marked export."""
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    with tempfile.TemporaryDirectory() as scratch:
        marked = Path(scratch) / "marked.onnx"
        _export(model, marked)
        exported = _initializers(marked)
    sources: dict[str, tuple[str, bool]] = {}
    for name, tensor in model.state_dict().items():
        if not tensor.is_floating_point():
            continue
        value = tensor.numpy()
        matches = [(init, False) for init, array in exported.items()
                   if array.shape == value.shape and np.array_equal(array, value)]
        if value.ndim == 2:
            matches += [(init, True) for init, array in exported.items()
                        if array.shape == value.T.shape and np.array_equal(array, value.T)]
        if len(matches) != 1:
            raise SystemExit(f"{name}: found {len(matches)} places in the export; cannot import this model")
        sources[name] = matches[0]
    return sources


def import_ecmg(onnx_path: Path, out: Path, manifest_dir: Path = WEIGHTS, tolerance: float = 1e-3) -> float:
    """Write out/model.safetensors + config.json for the ONNX file; the manifest in manifest_dir gives its
    config (and must name this file). Returns the largest difference from the ONNX file's outputs."""
    from safetensors.torch import save_file

    entry = json.loads((manifest_dir / "manifest.json").read_text())["models"]["ecmg"]
    if entry["file"] != onnx_path.name:
        raise SystemExit(f"the manifest describes {entry['file']}, not {onnx_path.name}")
    model = _model_from_manifest(entry)
    sources = parameter_sources(model)
    shipped = _initializers(onnx_path)
    state = model.state_dict()
    for name, (init, transposed) in sources.items():
        if init not in shipped:
            raise SystemExit(f"{onnx_path.name} lacks {init} ({name}): not the exporter's graph of this config")
        array = shipped[init].T if transposed else shipped[init]
        state[name] = torch.from_numpy(np.ascontiguousarray(array)).to(state[name].dtype)
    model.load_state_dict(state)
    check = example_inputs(model, 3, 24, seed=1)
    with torch.no_grad():
        difference = float(np.abs(onnx_outputs(onnx_path, check) - model(*check).numpy()).max())
    if difference > tolerance:
        raise SystemExit(f"the rebuilt model differs from {onnx_path.name} by {difference:.2e}; not writing it")
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors"))
    config = {"dit": entry["config"]["dit"], "controlformer": entry["config"]["controlformer"],
              "settings": entry["training"]["settings"], "data": entry["training"]["data"],
              "final_loss": entry["training"]["final_loss"], "imported_from": {"file": onnx_path.name,
                                                                                "sha256": entry["sha256"],
                                                                                "max_abs_error": difference}}
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", type=Path, default=WEIGHTS / "ecmg_fp32.onnx",
                        help="an exported generator; the manifest.json beside it describes it")
    parser.add_argument("--out", type=Path, default=Path("build/ecmg_shipped"))
    args = parser.parse_args()
    difference = import_ecmg(args.onnx, args.out, manifest_dir=args.onnx.parent)
    print(f"wrote {args.out}/model.safetensors and config.json (max difference from the ONNX file {difference:.1e})")


if __name__ == "__main__":
    main()
