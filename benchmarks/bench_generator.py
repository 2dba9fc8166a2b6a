"""Generator speed, as ratios measured in this run:

    .venv/bin/python benchmarks/bench_generator.py [--repeats 5]

1. one DiT + ControlFormer step (a 32-beat window, batch 2 as classifier-free guidance runs it):
   torch eager vs onnxruntime fp32 vs int8, with the int8 output's difference from fp32, all with a
   reference (strength 0.7); and fp32 without one (strength 0), where the graph skips the ControlFormer. Torch
   runs a model of the shipped config (the manifest's) with random weights, as speed does not depend on the
   weights, or a checkpoint given with --checkpoint; without torch (the train extra) its row is left out and
   the ratios are against onnxruntime fp32;
2. a full 30 s four-stem cue: generate (20 DDIM steps) + render + mix, against real time: in a new process
   (start, imports, models and SoundFont loaded: what `mtm compose` costs), then warm in this one (the panel's
   engine, which has them loaded), with when its first bars (the preview) were ready, and warm with the int8 model.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mtm_daw.description import MusicDescription
from mtm_daw.engine.generator import Generator
from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry
from mtm_daw.generation import GenerationSettings
from mtm_daw.pipeline import compose_cue
from onnx_export.ecmg import build_model, example_feeds, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]


DESCRIPTION = MusicDescription(genre="pop", mood="happy", tempo=120, key="D minor", duration=30)
COLD_CUE = ("from mtm_daw.description import MusicDescription\n"
            "from mtm_daw.pipeline import compose_cue\n"
            f"compose_cue(MusicDescription.from_dict({DESCRIPTION.to_dict()!r}), seed=0, engine='dit', warn=print)\n")


def cold_process_cue() -> float:
    """Seconds for a new Python process to make the cue (what `mtm compose` spends before exporting)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD_CUE], check=True, cwd=ROOT)
    return time.perf_counter() - start


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
    parser.add_argument("--checkpoint", type=Path, help="time this training checkpoint in torch (default: "
                        "random weights of the shipped config)")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    arguments = parser.parse_args()
    repeats = arguments.repeats
    fp32, int8 = Generator.default("fp32"), Generator.default("int8")
    config = model_entry("ecmg", WEIGHTS_DIR)["config"]
    feeds = example_feeds(config, 2, 32)
    results = {}
    try:
        import torch
    except ImportError:
        print("torch is not installed (bash scripts/setup.sh train): timing onnxruntime only")
    else:
        torch.set_num_threads(2)
        torch.manual_seed(0)
        model = load_checkpoint(arguments.checkpoint)[0] if arguments.checkpoint else build_model(config).eval()
        inputs = tuple(torch.from_numpy(value) for value in feeds.values())
        with torch.no_grad():
            results["torch eager fp32"] = timed(lambda: model(*inputs), repeats)
    step_repeats = max(repeats, 30)  # a step is ~10 ms: a few runs are noise (int8/fp32 read 1.1x-2.4x)
    results["onnxruntime fp32"] = timed(lambda: fp32.session.run(None, feeds), step_repeats)
    results["onnxruntime int8"] = timed(lambda: int8.session.run(None, feeds), step_repeats)
    # without a reference (a default cue) the graph's If skips the ControlFormer's blocks
    no_reference = {**feeds, "control": np.zeros_like(feeds["control"]), "strength": np.zeros_like(feeds["strength"])}
    results["fp32, no reference"] = timed(lambda: fp32.session.run(None, no_reference), step_repeats)
    difference = np.abs(fp32.session.run(None, feeds)[0] - int8.session.run(None, feeds)[0]).max()
    baseline = results.get("torch eager fp32", results["onnxruntime fp32"])
    against = "torch eager" if "torch eager fp32" in results else "onnxruntime fp32"
    print(f"one generator step, 32 beats, batch 2, median of {repeats} (torch) and {step_repeats} (onnxruntime):")
    for name, seconds in results.items():
        print(f"  {name:<18} {seconds * 1000:7.1f} ms   {baseline / seconds:5.2f}x vs {against}")
    print(f"  int8 vs fp32 logits: max abs difference {difference:.3f}")

    cue_seconds = {"cold": statistics.median(cold_process_cue() for _ in range(max(1, min(repeats, 3))))}
    warm, with_preview, first_bars = [], [], []
    compose_cue(DESCRIPTION, seed=0, engine="dit", warn=lambda m: None)  # this process's models and SoundFont
    for seed in range(max(3, repeats)):
        start = time.perf_counter()
        compose_cue(DESCRIPTION, seed=seed, engine="dit", warn=lambda m: None)
        warm.append(time.perf_counter() - start)
        heard = []
        start = time.perf_counter()
        compose_cue(DESCRIPTION, seed=seed, engine="dit", warn=lambda m: None,
                    preview=lambda cue: heard.append(time.perf_counter() - start))
        with_preview.append(time.perf_counter() - start)
        first_bars += heard
    int8_settings = GenerationSettings(precision="int8")
    compose_cue(DESCRIPTION, seed=0, engine="dit", generation=int8_settings, warn=lambda m: None)  # its session
    warm_int8 = []
    for seed in range(max(3, repeats)):
        start = time.perf_counter()
        compose_cue(DESCRIPTION, seed=seed, engine="dit", generation=int8_settings, warn=lambda m: None)
        warm_int8.append(time.perf_counter() - start)
    cue_seconds["warm"] = statistics.median(warm)
    cue_seconds["warm_int8"] = statistics.median(warm_int8)
    cue_seconds["warm_with_preview"] = statistics.median(with_preview)
    first_bars_seconds = statistics.median(first_bars)
    print(f"30 s four-stem cue (generate 20 steps + render + mix), new process (start, imports, models, "
          f"SoundFont): {cue_seconds['cold']:.2f} s = {30 / cue_seconds['cold']:.1f}x real time")
    print(f"30 s four-stem cue, warm (models and SoundFont loaded, as in the panel's engine): {cue_seconds['warm']:.2f} s"
          f" = {30 / cue_seconds['warm']:.1f}x real time")
    print(f"  the same with --precision int8: {cue_seconds['warm_int8']:.2f} s = {30 / cue_seconds['warm_int8']:.1f}x real "
          f"time, x{cue_seconds['warm'] / cue_seconds['warm_int8']:.2f} over fp32")
    print(f"  the same with a preview of its first bars (the panel): first bars ready to play after "
          f"{first_bars_seconds:.2f} s, the whole cue after {cue_seconds['warm_with_preview']:.2f} s")
    if arguments.out:
        figures = {"step_ms": {name: round(1000 * seconds, 2) for name, seconds in results.items()},
                   "int8_speedup_over_fp32": round(results["onnxruntime fp32"] / results["onnxruntime int8"], 2),
                   "no_reference_speedup_over_fp32": round(results["onnxruntime fp32"]
                                                           / results["fp32, no reference"], 2),
                   "int8_max_logit_difference": round(float(difference), 3),
                   "cue_30s_seconds": {state: round(seconds, 2) for state, seconds in cue_seconds.items()},
                   "cue_30s_times_real_time": {state: round(30 / seconds, 1) for state, seconds in cue_seconds.items()},
                   "first_bars_seconds_warm": round(first_bars_seconds, 2)}
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
