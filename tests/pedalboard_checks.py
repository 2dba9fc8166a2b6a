"""pedalboard's checks of the plugin, run by test_plugin.py in a process of their own (see run_pedalboard_check
there: pedalboard and dawdreamer must not share one process with a DPF 1.6 VST3).

    python tests/pedalboard_checks.py state DATA_FOLDER | load
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pedalboard

from test_plugin import PARTS, VST3, cues_at, wait_for


def saved_state_brings_back_the_cue(data: Path) -> None:
    """pedalboard's VST3 state (what a DAW saves in its project): a reopened plugin asks for the same cue, which
    the engine makes again byte for byte (reproduce) when its files were deleted. (pedalboard's transport is
    stopped, so this checks files, not sound; test_plugin.py checks playback in dawdreamer.)"""
    def process_until(plugin, condition, what: str) -> None:
        wait_for(lambda: plugin([], duration=0.02, sample_rate=44100, num_channels=10) is not None and condition(),
                 90, what)

    before = set(cues_at(data, 120))
    first = pedalboard.load_plugin(str(VST3))  # its transport: 120 BPM, stopped
    first.bars, first.engine, first.mood, first.generate = 2, "baseline", "dark", True
    process_until(first, lambda: set(cues_at(data, 120)) - before, "the first cue")
    process_until(first, lambda: time.sleep(0.5) is None, "the plugin to take the cue")
    state = first.raw_state
    (sidecar,) = set(cues_at(data, 120)) - before
    wavs = [Path(str(sidecar).replace("_description.json", f"_{part}.wav")) for part in PARTS]
    original = [path.read_bytes() for path in wavs]
    for path in wavs:
        path.unlink()
    reopened = pedalboard.load_plugin(str(VST3))
    reopened.raw_state = state
    process_until(reopened, lambda: all(path.exists() for path in wavs), "the files made again")
    time.sleep(0.5)  # the engine writes each file whole (temp name, then rename): let the last one land
    assert [path.read_bytes() for path in wavs] == original
    assert str(reopened.mood) == "dark" and reopened.bars == 2


def loads_with_its_parameters() -> None:
    plugin = pedalboard.load_plugin(str(VST3))
    assert plugin.is_instrument
    for name in ("generate", "style", "mood", "bars", "seed", "reference_strength", "key", "key_lock", "start_bar",
                 "mute_drums", "engine"):
        assert name in plugin.parameters, name
    assert plugin.style.valid_values[:2] == ["pop", "rock"]
    out = plugin([], duration=0.5, sample_rate=48000, num_channels=10)
    assert out.shape == (10, 24000) and not out.any()  # pedalboard's transport is stopped: silence


if __name__ == "__main__":
    if sys.argv[1] == "state":
        saved_state_brings_back_the_cue(Path(sys.argv[2]))
    else:
        loads_with_its_parameters()
