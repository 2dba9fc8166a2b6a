"""Cues made again from a render's sidecar: reproduce it exactly, extend it, regenerate some bars of one stem,
or mix it again.

    cue = reproduce_cue("out/cue_120bpm_Dmin_description.json")
    export_cue(cue, "again/")   # the same WAV and MIDI bytes on the same machine and software
    longer = extend_cue("out/cue_120bpm_Dmin_description.json", bars=8)
    redone = regenerate_cue("out/cue_120bpm_Dmin_description.json", bars=(5, 8), role="melody")
    remixed = remix_cue("out/cue_120bpm_Dmin_description.json", MixSpec({"drums": StemMix(gain_db=-3.0)}))

Each writes a new Recipe (extend and regenerate: one whose parent is the sidecar's; remix: the sidecar's with
another mix), so the result can itself be reproduced.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable

from mtm_daw.cue import Cue
from mtm_daw.errors import MtmError
from mtm_daw.mix import MixGains
from mtm_daw.pipeline.cue_pipeline import make_cue
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress
from mtm_daw.provenance import MixSpec, Recipe, StemMix, differences, load_sidecar
from mtm_daw.score.score import ROLES


def reproduce_cue(sidecar_path: str | os.PathLike, progress: ProgressCallback = no_progress,
                  cancel: CancelToken | None = None, warn: Callable[[str], None] = print,
                  allow_plugins: bool = False) -> Cue:
    """Make the cue a sidecar describes again, from its recipe. Anything that differs from when it was
    made (software, model, SoundFont, a reference file) is reported through `warn` first.
    allow_plugins: load the VST3 plugins the sidecar names (see `check_plugins`)."""
    sidecar = _checked_sidecar(sidecar_path, allow_plugins)
    changed = differences(sidecar)
    for note in changed:
        warn(f"note: {note}; the audio may not be bit-identical")
    if "panel_mix" in sidecar.get("parameters", {}) and sidecar["recipe"].mix is None:  # before mixes were recipes
        warn("note: this cue was re-mixed in the panel; it is made again as first rendered")
        gains = None  # the re-mix's
    else:  # the gains it was mixed with, so its level does not hang on how the master searches for the target;
        # where the audio may differ, the master matches the target anew
        gains = None if changed else _mix_gains(sidecar, sidecar_path)
    return make_cue(sidecar["recipe"], progress, cancel, warn, gains=gains)


def check_plugins(recipe: Recipe, sidecar_path: str | os.PathLike, allow_plugins: bool) -> None:
    """A VST3 plugin is native code: a sidecar (which anyone can send) may name plugins, but they are
    loaded only when the user says so, never just because a file asks for them."""
    plugins = sorted({str(path) for paths in recipe.render.plugins.values() for path in paths})
    if plugins and not allow_plugins:
        raise MtmError(f"{sidecar_path}: this cue was mixed with VST3 plugins ({', '.join(plugins)}); plugins run "
                       "code on your machine, so they load only with --allow-plugins (use it if you trust them)")


def sidecar_name(sidecar: dict, default: str = "cue") -> str:
    """The name the cue was exported under (the start of its file names)."""
    return sidecar.get("name") or default


def extend_cue(sidecar_path: str | os.PathLike, bars: int, seed: int | None = None,
               progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
               warn: Callable[[str], None] = print, allow_plugins: bool = False) -> Cue:
    """The cue continued by `bars` bars in the same key, tempo and style (a loop stays a loop, longer).
    Every sample of the old bars stays as it was, in every stem and the mix (their release into the new
    bars is the new bars' own). seed: of the new bars (default: the cue's own)."""
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise MtmError(f"--bars needs a whole number of bars to add, 1 or more, got {bars!r}")
    parent, sidecar = _parent(sidecar_path, warn, allow_plugins)
    seed = parent.seed if seed is None else seed
    loop_bars = sidecar["score"]["bars"] + bars if parent.loop_bars else 0
    # the parent's mix gains (not the longer cue's own loudness match), so the old bars come out sample
    # for sample as they were; a loop is mixed anew, its release wrapped round into the first bars
    gains = None if parent.loop_bars else _mix_gains(sidecar, sidecar_path)
    recipe = Recipe("extend", parent.engine, seed, generation=parent.generation,
                    reference=parent.reference, render=parent.render, loop_bars=loop_bars, extend_bars=bars,
                    mix_gains=gains, mix=parent.mix, parent=parent).check(str(sidecar_path))
    return make_cue(recipe, progress, cancel, warn)


def regenerate_cue(sidecar_path: str | os.PathLike, bars: tuple[int, int], role: str, seed: int | None = None,
                   progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                   warn: Callable[[str], None] = print, allow_plugins: bool = False) -> Cue:
    """The cue with `role` written anew in bars first..last (1-based, inclusive); every other stem and
    every other bar stays as it was (the mix keeps the cue's gains, so the other stems come out sample
    for sample the same). seed: of the new part (default: the cue's seed + 1)."""
    if role not in ROLES:
        raise MtmError(f"unknown role '{role}' (roles are: {', '.join(ROLES)})")
    parent, sidecar = _parent(sidecar_path, warn, allow_plugins)
    if role not in sidecar.get("stems", {}):
        raise MtmError(f"{sidecar_path}: this cue has no {role} stem (it has: {', '.join(sidecar.get('stems', {}))})")
    first, last = bars
    if not 1 <= first <= last <= sidecar["score"]["bars"]:
        raise MtmError(f"--bars {first}-{last}: the cue has bars 1-{sidecar['score']['bars']}")
    seed = parent.seed + 1 if seed is None else seed
    recipe = Recipe("regenerate", parent.engine, seed, generation=parent.generation,
                    reference=parent.reference, render=parent.render, loop_bars=parent.loop_bars,
                    bars=[first, last], role=role, mix_gains=_mix_gains(sidecar, sidecar_path),
                    mix=parent.mix, parent=parent).check(str(sidecar_path))
    return make_cue(recipe, progress, cancel, warn)


def remix_cue(sidecar_path: str | os.PathLike, mix: MixSpec, progress: ProgressCallback = no_progress,
              cancel: CancelToken | None = None, warn: Callable[[str], None] = print,
              allow_plugins: bool = False) -> Cue:
    """The cue mixed again with `mix` (per stem FX preset, gain, mute, solo): its recipe with that mix, so
    the notes are the cue's own and `mtm reproduce` makes the remix again."""
    sidecar = _checked_sidecar(sidecar_path, allow_plugins)  # a mix naming a stem the cue lacks: pipeline.mix_cue
    for note in differences(sidecar):
        warn(f"note: {note}; the remix may not match the cue's own audio bit for bit")
    # mastered anew (a parent's gains kept by extend or regenerate do not fit another mix)
    remixed = replace(sidecar["recipe"], mix=mix, mix_gains=None).check(str(sidecar_path))
    return make_cue(remixed, progress, cancel, warn)


def mix_with_changes(mix: MixSpec, gains: dict[str, float] | None = None, presets: dict[str, str] | None = None,
                     mute: tuple[str, ...] = (), solo: tuple[str, ...] = (), unmute: tuple[str, ...] = ()) -> MixSpec:
    """`mix` with these stems' gains and presets set, muted, soloed or unmuted (and unsoloed)."""
    stems = {role: replace(settings) for role, settings in mix.stems.items()}
    for role in sorted({*(gains or {}), *(presets or {}), *mute, *solo, *unmute}):
        settings = stems.setdefault(role, StemMix())
        settings.gain_db = (gains or {}).get(role, settings.gain_db)
        settings.preset = (presets or {}).get(role, settings.preset)
        settings.mute = role in mute or (settings.mute and role not in unmute)
        settings.solo = role in solo or (settings.solo and role not in unmute)
        settings.check(role)
    return MixSpec(stems)


def _checked_sidecar(sidecar_path: str | os.PathLike, allow_plugins: bool) -> dict:
    """A sidecar whose render settings are usable and whose plugins may load, before anything renders."""
    sidecar = load_sidecar(sidecar_path)
    check_plugins(sidecar["recipe"], sidecar_path, allow_plugins)
    return sidecar


def _parent(sidecar_path: str | os.PathLike, warn: Callable[[str], None],
            allow_plugins: bool) -> tuple[Recipe, dict]:
    sidecar = _checked_sidecar(sidecar_path, allow_plugins)
    parent = sidecar["recipe"]
    if parent.engine == "midi":
        raise MtmError(f"{sidecar_path}: a cue rendered from a MIDI file cannot be extended or regenerated here; "
                       "edit the MIDI file and render it again")
    for note in differences(sidecar):
        warn(f"note: {note}; the bars kept from the cue may not be bit-identical")
    return parent, sidecar


def _mix_gains(sidecar: dict, sidecar_path: str | os.PathLike) -> MixGains | None:
    """The gains the sidecar's cue was mixed with (the parameters beside its recipe), if recorded."""
    parameters = sidecar.get("parameters")
    recorded = parameters.get("mix") if isinstance(parameters, dict) else None
    if not recorded:
        return None
    try:
        if not isinstance(recorded, dict):
            raise TypeError(recorded)
        return MixGains.from_dict(recorded)
    except (KeyError, TypeError, ValueError):
        raise MtmError(f"{os.path.basename(sidecar_path)}: its mix gains ({recorded!r}) are malformed") from None
