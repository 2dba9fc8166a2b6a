"""The DAW plugin's real-time figures, in dawdreamer (a VST3 host) against a private `mtm serve`:

    .venv/bin/python benchmarks/bench_plugin.py [--bars 8] [--seconds 60]

- Generate-to-sound: from switching Generate on to the first block with sound, for the trained model and
  the baseline composer (the second press of the same settings is the engine's cache).
- Worst-case run() time per 512-frame block at 48 kHz, as a share of the block's duration (the plugin's
  "Worst block load" output), while silent (no cue: the baseline) and while playing a cue with MIDI out.
Needs the plugin built (bash scripts/setup.sh).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dawdreamer as daw
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VST3 = ROOT / "build" / "plugin" / "bin" / "mtm_daw.vst3"
SAMPLE_RATE, BLOCK, BPM = 48000, 512, 120.0


class Host:
    def __init__(self) -> None:
        self.engine = daw.RenderEngine(SAMPLE_RATE, BLOCK)
        self.engine.set_bpm(BPM)
        self.plugin = self.engine.make_plugin_processor("mtm", str(VST3))
        self.engine.load_graph([(self.plugin, [])])
        self.index = {d["name"]: d["index"] for d in self.plugin.get_parameters_description()}

    def set(self, name: str, normalized: float) -> None:
        self.plugin.set_parameter(self.index[name], normalized)

    def wait_until_ready(self, timeout: float = 300.0) -> float:
        """Seconds until the plugin's status reads ready (the whole cue, after any preview of its first bars)."""
        started = time.monotonic()
        while self.plugin.get_parameter_text(self.index["Status"]) != "ready":
            if time.monotonic() - started > timeout:
                raise SystemExit("the cue was not ready within the timeout: is the engine working? (see its log)")
            self.engine.render(0.05)
        return time.monotonic() - started

    def worst_load(self) -> float:
        return float(self.plugin.get_parameter_text(self.index["Worst block load"]))

    def generate_to_sound(self, timeout: float = 300.0) -> float:
        self.set("Generate", 0.0)
        self.engine.render(BLOCK / SAMPLE_RATE)
        self.set("Generate", 1.0)
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            self.engine.render(0.05)
            if np.abs(self.engine.get_audio()).max() > 0:
                return time.monotonic() - started
        raise SystemExit("no sound within the timeout: is the engine working? (see its log)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if not VST3.is_dir():
        raise SystemExit(f"{VST3} is not built: run bash scripts/setup.sh")
    runtime = Path(tempfile.mkdtemp(prefix="mtm-bench-"))
    os.environ["MTM_RUNTIME_DIR"] = str(runtime)
    engine = subprocess.Popen([str(Path(sys.executable).parent / "mtm"), "serve", "--cues", str(runtime / "cues")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not (runtime / "engine.sock").exists():
            time.sleep(0.05)
        silent = Host()
        silent.engine.render(args.seconds)
        print(f"worst run() per {BLOCK}-frame block at {SAMPLE_RATE} Hz, silent (no cue): "
              f"{100 * silent.worst_load():.3f} % of the block")
        for engine_index, name in ((1.0, "trained model"), (0.0, "baseline composer")):
            host = Host()
            host.set("Bars", (args.bars - 1) / 127)
            host.set("Engine", engine_index)
            first = host.generate_to_sound()
            whole = first + host.wait_until_ready()  # then the engine has it: the next request is a cached one
            again = Host()
            again.set("Bars", (args.bars - 1) / 127)
            again.set("Engine", engine_index)
            cached = again.generate_to_sound()
            print(f"Generate to sound, {args.bars} bars at {BPM:g} BPM, {name}: {first:.2f} s, the whole cue "
                  f"{whole:.2f} s (same settings again, from the engine's cache: {cached:.2f} s)")
        playing = Host()
        playing.set("Bars", (args.bars - 1) / 127)
        playing.set("Engine", 0.0)
        playing.generate_to_sound()
        playing.engine.render(args.seconds)
        worst = playing.worst_load()
        print(f"worst run() per block while playing a cue (5 stereo outputs + MIDI): {100 * worst:.3f} % of the block "
              f"({worst / max(silent.worst_load(), 1e-9):.1f}x the silent plugin; goal under 10 %)")
    finally:
        engine.terminate()
        engine.wait(30)


if __name__ == "__main__":
    main()
