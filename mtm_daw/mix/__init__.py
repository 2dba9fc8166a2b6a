"""Mixing: per-role Pedalboard chains and the master bus."""
from __future__ import annotations

from typing import Callable

import numpy as np
from pedalboard import Pedalboard

from mtm_daw.cue import Stem
from mtm_daw.mix.chains import chain_from_list, chain_to_list, load_vst3, role_chain
from mtm_daw.mix.master import CEILING_DBFS, TARGET_LUFS, master, measure_lufs

__all__ = ["chain_from_list", "chain_to_list", "load_vst3", "role_chain", "master", "measure_lufs",
           "mix_stems", "TARGET_LUFS"]


def mix_stems(stems: dict[str, Stem], chains: dict[str, Pedalboard], target_lufs: float = TARGET_LUFS,
              progress: Callable[[float], None] = lambda fraction: None) -> tuple[dict[str, Stem], np.ndarray, float]:
    """Run each stem through its chain, sum, master. Returns (processed stems, mix, mix LUFS).

    Stems get the same make-up gain as the master bus input, so stems summed in a DAW sit at
    the level of the mix (without its bus compression and limiting).
    """
    processed = {}
    sample_rate = next(iter(stems.values())).sample_rate
    for index, (role, stem) in enumerate(stems.items()):
        chain = chains[role]
        audio = chain(stem.audio, sample_rate, reset=True).astype(np.float32)
        processed[role] = Stem(role, audio, sample_rate, stem.program)
        progress(0.8 * (index + 1) / len(stems))
    summed = np.sum([stem.audio for stem in processed.values()], axis=0).astype(np.float32)
    mix, gain_db, loudness = master(summed, sample_rate, target_lufs)
    # Stems take the master's input gain, trimmed together (never clipped) so the loudest peaks
    # at the ceiling: summed in a DAW they sit at the mix's level, without its bus limiting.
    loudest = max(float(np.abs(stem.audio).max()) for stem in processed.values())
    gain_db = min(gain_db, CEILING_DBFS - 20 * np.log10(max(loudest, 1e-9)))
    gain = np.float32(10 ** (gain_db / 20))
    for stem in processed.values():
        stem.audio = stem.audio * gain
    progress(1.0)
    return processed, mix, loudness
