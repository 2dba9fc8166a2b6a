"""Cues made again from a render's sidecar: reproduce it exactly.

    cue = reproduce_cue("out/cue_120bpm_Dmin_description.json")
    export_cue(cue, "again/")   # the same WAV and MIDI bytes on the same machine and software
"""
from __future__ import annotations

import os
from typing import Callable

from mtm_daw.cue import Cue
from mtm_daw.pipeline import make_cue
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress
from mtm_daw.provenance import differences, load_sidecar


def reproduce_cue(sidecar_path: str | os.PathLike, progress: ProgressCallback = no_progress,
                  cancel: CancelToken | None = None, warn: Callable[[str], None] = print) -> Cue:
    """Make the cue a sidecar describes again, from its recipe. Anything that differs from when it was
    made (software, model, SoundFont, a reference file) is reported through `warn` first."""
    sidecar = load_sidecar(sidecar_path)
    for note in differences(sidecar):
        warn(f"note: {note}; the audio may not be bit-identical")
    if "panel_mix" in sidecar.get("parameters", {}):
        warn("note: this cue was re-mixed in the panel; it is made again as first rendered")
    return make_cue(sidecar["recipe"], progress, cancel, warn)


def sidecar_name(sidecar: dict, default: str = "cue") -> str:
    """The name the cue was exported under (the start of its file names)."""
    return sidecar.get("name") or default
