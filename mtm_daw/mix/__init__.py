"""Mixing: per-role Pedalboard chains and the master bus."""
from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
from pedalboard import ExternalPlugin, Pedalboard

from mtm_daw.cue import Stem
from mtm_daw.mix.chains import chain_from_list, chain_to_list, load_vst3, role_chain, stem_chain
from mtm_daw.mix.master import CEILING_DBFS, TARGET_LUFS, master, master_at_gain, measure_lufs
from mtm_daw.spool import audio_buffer, blocks, is_spooled

__all__ = ["chain_from_list", "chain_to_list", "load_vst3", "role_chain", "master", "measure_lufs",
           "mix_stems", "mix_stems_with_gains", "remaster", "run_chain", "stem_chain", "MixGains", "TARGET_LUFS"]


@dataclass
class MixGains:
    """The two gains a mix applies after the chains; kept to redo a cue with other stems unchanged."""

    master_db: float  # into the master bus (sets the mix's loudness)
    stems_db: float  # on every processed stem (the master's, trimmed so the loudest stem peaks at the ceiling)
    heard_db: float | None = None  # into the master bus for a mix of only some stems (others muted)

    def to_dict(self) -> dict:
        heard = {} if self.heard_db is None else {"heard_db": self.heard_db}
        return {"master_db": self.master_db, "stems_db": self.stems_db, **heard}

    @classmethod
    def from_dict(cls, data: dict) -> "MixGains":
        heard = data.get("heard_db")
        return cls(float(data["master_db"]), float(data["stems_db"]), None if heard is None else float(heard))


def mix_stems(stems: dict[str, Stem], chains: dict[str, Pedalboard], target_lufs: float = TARGET_LUFS,
              progress: Callable[[float], None] = lambda fraction: None) -> tuple[dict[str, Stem], np.ndarray, float]:
    """Run each stem through its chain, sum, master. Returns (processed stems, mix, mix LUFS).

    Stems get the same make-up gain as the master bus input, so stems summed in a DAW sit at
    the level of the mix (without its bus compression and limiting).
    """
    stems, mix, loudness, _ = mix_stems_with_gains(stems, chains, target_lufs, progress)
    return stems, mix, loudness


def mix_stems_with_gains(stems: dict[str, Stem], chains: dict[str, Pedalboard], target_lufs: float = TARGET_LUFS,
                         progress: Callable[[float], None] = lambda fraction: None,
                         gains: MixGains | None = None,
                         release_dry: bool = False) -> tuple[dict[str, Stem], np.ndarray, float, MixGains]:
    """mix_stems, also returning the gains it applied; given `gains`, applies those instead of
    measuring (a stem whose audio is unchanged then comes out sample for sample the same).

    release_dry: take each dry stem out of `stems` once it is processed (the dict is emptied), so a
    long cue never holds its dry and processed stems at once; for callers that own the dict.
    """
    processed = {}
    sample_rate = next(iter(stems.values())).sample_rate
    summed = None  # summed as each stem comes out: a long cue holds no stack of every stem at once
    loudest = 0.0
    count = len(stems)
    for index, (role, stem, audio) in enumerate(_chains_run(stems, chains, sample_rate, release_dry)):
        processed[role] = Stem(role, audio, sample_rate, stem.program)
        if summed is None:
            summed = audio_buffer(audio.shape)
        for start, stop in blocks(audio.shape[1], audio, summed):  # in the stems' order: the same sum every time
            summed[:, start:stop] += audio[:, start:stop]
            loudest = max(loudest, float(np.abs(audio[:, start:stop]).max(initial=0.0)))
        del stem
        progress(0.8 * (index + 1) / count)
    if gains is None:
        mix, master_db, loudness = master(summed, sample_rate, target_lufs)
        # Stems take the master's input gain, trimmed together (never clipped) so the loudest peaks
        # at the ceiling: summed in a DAW they sit at the mix's level, without its bus limiting.
        gains = MixGains(float(master_db), float(min(master_db, CEILING_DBFS - 20 * np.log10(max(loudest, 1e-9)))))
    else:
        mix, loudness = master_at_gain(summed, sample_rate, gains.master_db)
    del summed
    gain = np.float32(10 ** (gains.stems_db / 20))
    for stem in processed.values():
        for start, stop in blocks(stem.audio.shape[1], stem.audio):
            stem.audio[:, start:stop] *= gain
    progress(1.0)
    return processed, mix, loudness, gains


CHAIN_WORKERS = 2  # stems whose chains run at once (Pedalboard lets go of the GIL while it processes)


def _chains_run(stems: dict[str, Stem], chains: dict[str, Pedalboard], sample_rate: int,
                release_dry: bool) -> Iterator[tuple[str, Stem, np.ndarray]]:
    """(role, dry stem, processed audio) in the stems' order, CHAIN_WORKERS chains running at once for stems
    held in memory. Spooled stems (a long cue) go one at a time: two written to disk at once kept the panel's
    UI thread waiting 50-70 ms (9 ms one at a time). A chain holding a user's plugin runs alone (a plugin need
    not expect two of its instances at once)."""
    workers = 1 if any(is_spooled(stem.audio) for stem in stems.values()) else CHAIN_WORKERS
    running: deque = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mtm-chain") as pool:
        for role in list(stems):
            stem = stems.pop(role) if release_dry else stems[role]
            if _holds_user_plugin(chains[role]):
                while running:
                    yield running.popleft().result()
                yield role, stem, run_chain(chains[role], stem.audio, sample_rate)
                continue
            running.append(pool.submit(lambda role, stem: (role, stem, run_chain(chains[role], stem.audio,
                                                                                  sample_rate)), role, stem))
            del stem
            if len(running) >= workers:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()


def run_chain(chain: Pedalboard, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The chain over (channels, n) audio from a reset state, into a new float32 buffer, a block at a time
    (the same samples as all at once). A chain holding a user's plugin takes the audio whole: a plugin
    with latency is compensated only then."""
    if _holds_user_plugin(chain):
        return np.asarray(chain(audio, sample_rate, reset=True), dtype=np.float32)
    out = audio_buffer(audio.shape)
    for start, stop in blocks(audio.shape[1], audio, out):
        out[:, start:stop] = chain(audio[:, start:stop], sample_rate, reset=start == 0)
    return out


def _holds_user_plugin(chain: Pedalboard) -> bool:
    return any(isinstance(plugin, ExternalPlugin) for plugin in _plugins(chain))


def _plugins(chain) -> list:
    return [inner for plugin in chain for inner in (_plugins(plugin) if isinstance(plugin, Pedalboard) else [plugin])]


def remaster(stems: dict[str, Stem], roles: list[str], sample_rate: int, target_lufs: float = TARGET_LUFS,
             master_db: float | None = None) -> tuple[np.ndarray, float, float]:
    """A mix of some of the processed stems (those heard when others are muted), mastered to the target
    or at `master_db`: (mix, its LUFS, the master gain); silence at -inf LUFS when there are none."""
    if not roles:
        length = next(iter(stems.values())).audio.shape[1]
        return np.zeros((2, length), dtype=np.float32), float("-inf"), 0.0
    summed = audio_buffer(stems[roles[0]].audio.shape)  # summed a block at a time: a long cue's stems are large
    for role in roles:
        audio = stems[role].audio
        for start, stop in blocks(audio.shape[1], audio, summed):
            summed[:, start:stop] += audio[:, start:stop]
    if master_db is not None:
        mix, loudness = master_at_gain(summed, sample_rate, master_db)
        return mix, loudness, master_db
    mix, gain_db, loudness = master(summed, sample_rate, target_lufs)
    return mix, loudness, float(gain_db)


END_FADE_SECONDS = 0.05


def fit_to_length(audio: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """(channels, n) cut or padded with silence to `seconds` (a picture's length), fading out over the last
    50 ms when cut, so the sound ends with the picture without a click."""
    n = int(round(seconds * sample_rate))
    out = audio_buffer((audio.shape[0], n))
    used = min(n, audio.shape[1])
    for start, stop in blocks(used, audio, out):
        out[:, start:stop] = audio[:, start:stop]
    if audio.shape[1] > n:
        fade = min(used, int(END_FADE_SECONDS * sample_rate))
        out[:, used - fade:used] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out
