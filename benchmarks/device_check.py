"""The GPU runtime on a machine with CUDA: which build and provider run, the generator step on CUDA
against the CPU, and whether they agree.

    bash scripts/setup.sh gpu && .venv/bin/python benchmarks/device_check.py [--repeats 50]

1. the onnxruntime build(s) installed and their providers (both builds at once is an error);
2. one DiT + ControlFormer step of the shipped fp32 generator (batch 2, a 32-beat window, as
   classifier-free guidance runs it): median ms on the CPU (MTM_THREADS threads) and on CUDA, and the ratio;
3. parity: the largest difference between the CUDA and CPU logits on the same inputs (passes under 1e-2:
   the logits span about +-20, and CUDA's kernels sum in another order);
4. a 30 s four-stem cue through the engine's own provider choice, against real time.
Exits 2 with one line when this machine has no usable CUDA provider.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

from mtm_daw.description import MusicDescription
from mtm_daw.engine.generator import Generator
from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry, providers, running_provider, thread_count
from mtm_daw.pipeline import compose_cue
from onnx_export.ecmg import example_feeds

PARITY_LIMIT = 1e-2


def installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def median_ms(session: ort.InferenceSession, feeds: dict, repeats: int) -> float:
    session.run(None, feeds)  # warm-up: CUDA compiles and allocates on the first run
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    arguments = parser.parse_args()
    builds = {name: version for name in ("onnxruntime", "onnxruntime-gpu") if (version := installed(name))}
    print(f"builds: {builds}; onnxruntime {ort.__version__}; providers: {ort.get_available_providers()}")
    if len(builds) > 1:
        sys.exit("both onnxruntime builds are installed (they share one module): run `bash scripts/setup.sh gpu`")
    entry = model_entry("ecmg", WEIGHTS_DIR)
    path = str(WEIGHTS_DIR / entry["file"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = thread_count()
    options.log_severity_level = 3
    cuda = ort.InferenceSession(path, options, providers=providers())
    if running_provider(cuda) != "CUDA":
        print(f"no usable CUDA provider here (the session runs {cuda.get_providers()}); nothing to compare")
        sys.exit(2)
    cpu = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = example_feeds(entry["config"], 2, 32)
    cpu_ms, cuda_ms = median_ms(cpu, feeds, arguments.repeats), median_ms(cuda, feeds, arguments.repeats)
    difference = float(np.abs(cuda.run(None, feeds)[0] - cpu.run(None, feeds)[0]).max())
    print(f"generator step: CPU {cpu_ms:.2f} ms ({thread_count()} threads), CUDA {cuda_ms:.2f} ms, "
          f"CUDA {cpu_ms / cuda_ms:.1f}x faster")
    print(f"parity: largest logit difference {difference:.2e} ({'pass' if difference < PARITY_LIMIT else 'FAIL'}, "
          f"limit {PARITY_LIMIT:g})")
    generator = Generator.default()
    start = time.perf_counter()
    compose_cue(MusicDescription(duration=30.0), engine="dit", seed=0, warn=lambda message: None)
    seconds = time.perf_counter() - start
    print(f"30 s cue on {running_provider(generator.session)}: {seconds:.2f} s, {30.0 / seconds:.1f}x real time")
    sys.exit(0 if difference < PARITY_LIMIT else 1)


if __name__ == "__main__":
    main()
