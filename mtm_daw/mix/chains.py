"""Per-role effect chains: a chain is a pedalboard.Pedalboard (a list of plugins) you can edit in place.

Presets depend on the role and the style (its file names a MixPreset). A chain saves as [(class name, settings)] and loads back.
User VST3 plugins join a chain by path.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pedalboard
from pedalboard import (Chorus, Compressor, Delay, Gain, HighpassFilter, HighShelfFilter, LowpassFilter,
                        LowShelfFilter, Pedalboard, Reverb)

from mtm_daw.errors import MtmError
from mtm_daw.score.grid import TempoGrid
from mtm_daw.score.styles import MIX_PRESETS, style_for

# Stem levels before the master bus, dB.
ROLE_GAIN_DB = {"drums": -1.0, "bass": -2.0, "harmony": -5.0, "melody": -3.0}

SAVABLE = {cls.__name__: cls for cls in (Chorus, Compressor, Delay, Gain, HighpassFilter, HighShelfFilter,
                                         LowpassFilter, LowShelfFilter, Reverb, pedalboard.Limiter,
                                         pedalboard.Distortion, pedalboard.PeakFilter)}


@dataclass(frozen=True)
class MixPreset:
    """What a style's mix adds to the plain chains; a style file names its preset."""
    spacious: bool = False  # big reverbs (ambient, film)
    echo: bool = False  # a dotted-eighth echo on the melody
    deep_kick: bool = False  # low shelf on the drums (club and hip hop kicks)
    chorus: bool = False  # chorus on the harmony (synth pads and stabs)
    punch: bool = False  # brighter, harder drums (rock, metal)
    warm: bool = False  # softened top on harmony and melody (acoustic instruments)


MIX = {
    "band": MixPreset(echo=True),
    "heavy": MixPreset(punch=True),
    "club": MixPreset(echo=True, deep_kick=True, chorus=True),
    "beats": MixPreset(deep_kick=True, warm=True),
    "spacious": MixPreset(spacious=True, echo=True),
    "hall": MixPreset(spacious=True),
    "room": MixPreset(),
    "acoustic": MixPreset(warm=True, echo=True),
}
assert set(MIX) == set(MIX_PRESETS), "the style files' mix names (score.styles.MIX_PRESETS) and MIX must match"


def role_chain(role: str, genre: str, tempo: float = 120.0) -> Pedalboard:
    """The default chain for a stem in a style; the melody's echo falls on a dotted eighth at `tempo`."""
    preset = MIX[style_for(genre).mix]
    spacious = preset.spacious
    gain = Gain(gain_db=ROLE_GAIN_DB.get(role, -4.0))
    if role == "drums":
        chain = [HighpassFilter(cutoff_frequency_hz=30),
                 Compressor(threshold_db=-14, ratio=3, attack_ms=8, release_ms=90)]
        if preset.deep_kick:
            chain.append(LowShelfFilter(cutoff_frequency_hz=90, gain_db=2.0, q=0.7))
        if preset.punch:
            chain.append(HighShelfFilter(cutoff_frequency_hz=5000, gain_db=2.0, q=0.7))
        chain.append(Reverb(room_size=0.5 if spacious else 0.2, wet_level=0.12 if spacious else 0.05,
                            dry_level=1.0, damping=0.6))
    elif role == "bass":
        chain = [HighpassFilter(cutoff_frequency_hz=35), LowpassFilter(cutoff_frequency_hz=5000),
                 Compressor(threshold_db=-16, ratio=4, attack_ms=15, release_ms=120)]
    elif role == "harmony":
        chain = [HighpassFilter(cutoff_frequency_hz=140), Compressor(threshold_db=-18, ratio=2, attack_ms=20,
                                                                      release_ms=150)]
        if preset.chorus:
            chain.append(Chorus(rate_hz=0.8, depth=0.25, mix=0.3))
        if preset.warm:
            chain.append(HighShelfFilter(cutoff_frequency_hz=7000, gain_db=-2.0, q=0.7))
        chain.append(Reverb(room_size=0.8 if spacious else 0.45, wet_level=0.3 if spacious else 0.15,
                            dry_level=0.9, damping=0.5))
    elif role == "melody":
        chain = [HighpassFilter(cutoff_frequency_hz=180), Compressor(threshold_db=-18, ratio=2.5, attack_ms=10,
                                                                      release_ms=120)]
        if preset.warm:
            chain.append(HighShelfFilter(cutoff_frequency_hz=7000, gain_db=-2.0, q=0.7))
        if preset.echo:
            chain.append(Delay(delay_seconds=0.75 * TempoGrid(tempo).seconds_per_beat, feedback=0.25, mix=0.12))
        chain.append(Reverb(room_size=0.75 if spacious else 0.4, wet_level=0.25 if spacious else 0.12,
                            dry_level=0.95, damping=0.5))
    else:
        chain = [HighpassFilter(cutoff_frequency_hz=60), Reverb(room_size=0.4, wet_level=0.1)]
    return Pedalboard(chain + [gain])


def stem_chain(role: str, preset: str, gain_db: float, genre: str, tempo: float = 120.0) -> Pedalboard:
    """A stem's chain in a mix: its FX preset ("genre": the cue's own style's chain, "dry": level only,
    else that style's chain), then its gain (none at 0 dB)."""
    if preset == "dry":
        chain = Pedalboard([Gain(gain_db=ROLE_GAIN_DB.get(role, -4.0))])
    else:
        chain = role_chain(role, genre if preset == "genre" else preset, tempo)
    if gain_db:
        chain.append(Gain(gain_db=float(gain_db)))
    return chain


def load_vst3(path: str | Path, parameters: dict | None = None):
    """A user's VST3 effect, ready to append to a chain."""
    path = Path(path).expanduser()
    if not path.exists():
        raise MtmError(f"{path}: plugin not found")
    if path.suffix.lower() != ".vst3":
        raise MtmError(f"{path}: not a VST3 plugin (expected a .vst3 bundle or file)")
    try:
        plugin = pedalboard.load_plugin(str(path), parameter_values=parameters or {})
    except Exception as error:  # the plugin host raises many kinds; all mean "cannot load"
        raise MtmError(f"{path}: the plugin could not be loaded ({error})") from None
    if plugin.is_instrument:
        raise MtmError(f"{path}: is an instrument, not an effect; only effects can go in a chain")
    return plugin


def chain_to_list(chain: Pedalboard) -> list[tuple[str, dict]]:
    """[(class name, settings)] — JSON-friendly; VST3s are saved by path and parameter values."""
    saved = []
    for plugin in chain:
        name = type(plugin).__name__
        if name in SAVABLE:
            settings = {attr: getattr(plugin, attr) for attr in dir(plugin)
                        if not attr.startswith("_") and isinstance(getattr(type(plugin), attr, None), property)}
            settings = {k: v for k, v in settings.items() if isinstance(v, (int, float, bool))
                        and not k.startswith("is_")}
            saved.append((name, settings))
        elif hasattr(plugin, "path_to_plugin_file"):
            values = {k: v.raw_value for k, v in plugin.parameters.items()}
            saved.append(("VST3Plugin", {"path": plugin.path_to_plugin_file, "parameters": values}))
        else:
            raise MtmError(f"cannot save a {name} in a chain")
    return saved


def chain_from_list(saved: list) -> Pedalboard:
    plugins = []
    for entry in saved:
        name, settings = entry
        if name == "VST3Plugin":
            plugins.append(load_vst3(settings["path"], settings.get("parameters")))
            continue
        if name not in SAVABLE:
            raise MtmError(f"unknown effect '{name}' in a saved chain")
        try:
            plugins.append(SAVABLE[name](**settings))
        except TypeError as error:
            raise MtmError(f"bad settings for {name}: {error}") from None
    return Pedalboard(plugins)
