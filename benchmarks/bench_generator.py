"""Generator speed, as ratios measured in this run:

    .venv/bin/python benchmarks/bench_generator.py [--repeats 5]

1. one DiT + ControlFormer step (a 32-beat window, batch 2 as classifier-free guidance runs it):
   torch eager (the training checkpoint, build/ecmg) vs onnxruntime fp32 vs int8, with the int8
   output's difference from fp32 (needs the train extra and the checkpoint);
2. a full 30 s four-stem cue: generate (20 DDIM steps) + render + mix, against real time.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from mtm_daw.description import MusicDescription
from mtm_daw.engine.generator import Generator
from mtm_daw.pipeline import compose_cue


def timed(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkpoint", type=Path, default=Path("build/ecmg"))
    arguments = parser.parse_args()
    repeats, checkpoint = arguments.repeats, arguments.checkpoint
    from onnx_export.ecmg import INPUT_NAMES

    fp32, int8 = Generator.default("fp32"), Generator.default("int8")
    feeds = None
    results = {}
    if (checkpoint / "model.safetensors").is_file():
        import torch

        from onnx_export.ecmg import example_inputs, load_checkpoint

        torch.set_num_threads(2)
        model, _ = load_checkpoint(checkpoint)
        inputs = example_inputs(model, 2, 32)
        feeds = {name: tensor.numpy() for name, tensor in zip(INPUT_NAMES, inputs)}
        with torch.no_grad():
            results["torch eager fp32"] = timed(lambda: model(*inputs), repeats)
    if feeds is None:
        raise SystemExit(f"{checkpoint}: no checkpoint to build inputs from (train or pass --checkpoint)")
    results["onnxruntime fp32"] = timed(lambda: fp32.session.run(None, feeds), repeats)
    results["onnxruntime int8"] = timed(lambda: int8.session.run(None, feeds), repeats)
    difference = np.abs(fp32.session.run(None, feeds)[0] - int8.session.run(None, feeds)[0]).max()
    baseline = results.get("torch eager fp32", results["onnxruntime fp32"])
    print(f"one generator step, 32 beats, batch 2, median of {repeats}:")
    for name, seconds in results.items():
        print(f"  {name:<18} {seconds * 1000:7.1f} ms   {baseline / seconds:5.2f}x vs torch eager")
    print(f"  int8 vs fp32 logits: max abs difference {difference:.3f}")

    description = MusicDescription(genre="pop", mood="happy", tempo=120, key="D minor", duration=30)
    for state in ("cold (loads models and SoundFont)", "warm (as in the panel)"):
        start = time.perf_counter()
        compose_cue(description, seed=0, engine="dit", warn=lambda m: None)
        seconds = time.perf_counter() - start
        print(f"30 s four-stem cue (generate 20 steps + render + mix), {state}: {seconds:.2f} s = "
              f"{30 / seconds:.1f}x real time")


if __name__ == "__main__":
    main()
