"""Provenance: how a cue was made (its Recipe) and what it was made with.

Every render's sidecar holds the Recipe (enough to make the cue again: `mtm reproduce`, and the
start of `mtm extend` / `mtm regenerate`) plus a record of the models and their checksums, the
SoundFont, the references with their source and licence, and the software it ran on.

    recipe = load_sidecar("cue_120bpm_Dmin_description.json")["recipe"]   # a Recipe, checked
    recipe.description.tempo, recipe.seed, recipe.generation.steps, recipe.render.sample_rate, recipe.mix

A Recipe holds typed objects (MusicDescription, GenerationSettings, ReferenceRecord, RenderSettings,
MixGains, MixSpec); it becomes plain JSON only at the sidecar (to_dict / from_dict, which reads every
sidecar version that recorded a recipe). Each value is stored once: the seed is the recipe's (the
generation settings carry it, but the sidecar does not repeat it there), the tempo the description's.
"""
from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from mtm_daw import __version__
from mtm_daw.description import MAX_DURATION_SECONDS, MAX_JSON_BYTES, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.generation import GenerationSettings
from mtm_daw.jsonfile import read_json_file

# The panel's window process reads MixSpec and FX_PRESETS from here without the engine's libraries
# (onnxruntime, pedalboard): the typed recipe fields' classes are imported when a recipe is made or read.
if TYPE_CHECKING:
    from mtm_daw.mix import MixGains
    from mtm_daw.render.settings import RenderSettings

SIDECAR_VERSION = 3  # 3: the recipe's generation settings no longer repeat its seed
OPERATIONS = ("compose", "render_midi", "extend", "regenerate")
PACKAGES = ("numpy", "onnxruntime", "pedalboard", "mido", "pyfluidsynth", "scipy")

_file_hashes: dict[tuple, str] = {}  # (path, size, mtime_ns) -> sha256: a SoundFont is hashed once per process


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, cached per (path, size, modification time)."""
    # deferred: only this path needs onnxruntime, tokenizers
    from mtm_daw.engine.sessions import sha256_file

    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _file_hashes:
        _file_hashes[key] = sha256_file(path)
    return _file_hashes[key]


@dataclass
class ReferenceRecord:
    """A reference the generator followed: the file its control signal was read from."""

    path: str  # the file read (a library item's notes or audio, or the file the user gave)
    sha256: str
    strength: float
    library: dict | None = None  # the library item: id, path, caption, source, licence, track, similarity

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ReferenceRecord":
        try:
            return cls(str(data["path"]), str(data["sha256"]), float(data["strength"]), data.get("library"))
        except (KeyError, TypeError, ValueError) as error:
            raise MtmError(f"malformed reference record in the sidecar ({error})") from None


def file_reference(path: str | os.PathLike, strength: float) -> ReferenceRecord:
    path = Path(path).expanduser().resolve()
    return ReferenceRecord(str(path), file_sha256(path), float(strength))


def library_reference(reference, strength: float) -> ReferenceRecord:
    """The record of a library search result (mtm_daw.library.item.Reference): the file its control
    signal is read from (the cached notes of an audio item, else the item's file) and the item's tags."""
    item = reference.item
    used = next((p for p in (item.notes_path, item.path) if p and Path(p).is_file()), item.path)
    record = file_reference(used, strength)
    record.library = {"id": item.id, "path": item.path, "caption": item.caption, "source": item.source,
                      "licence": item.licence, "partition": item.partition, "content_hash": item.content_hash,
                      "track": reference.track, "similarity": round(float(reference.score), 4),
                      "matched": list(reference.matched)}
    return record


def reference_signal(reference: ReferenceRecord, warn=print):
    """The control signal of a recorded reference, read again from its file (a note when it changed)."""
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.engine.reference import load_reference

    path = Path(reference.path)
    if not reference.sha256:
        raise MtmError(f"the reference '{reference.path}' was not recorded as a file, so this cue cannot be "
                       "made again")
    if not path.is_file():
        raise MtmError(f"{path}: the reference this cue followed is gone (moved or deleted); "
                       "put it back to make the cue again")
    if reference.sha256 and file_sha256(path) != reference.sha256:
        warn(f"note: the reference {path} has changed since the cue was made, so the notes will differ")
    signal = load_reference(path, reference.strength)
    if reference.library:
        signal.source = f"library item {reference.library.get('id')}: {reference.library.get('path')}"
    return signal


# --- how the stems are mixed -------------------------------------------------------------------
# A recipe's MixSpec: per stem an FX preset, a gain, mute and solo, so a remix (`mtm remix`, the panel's
# mixer) is made again sample for sample by `mtm reproduce`. mix.chains.stem_chain builds the chains.

FX_PRESETS = ("genre", "dry", "pop", "rock", "electronic", "ambient", "cinematic", "jazz", "orchestral")
GAIN_RANGE_DB = (-60.0, 24.0)


@dataclass
class StemMix:
    preset: str = "genre"  # "genre": the cue's own style's chain; "dry": level only; else that style's chain
    gain_db: float = 0.0  # after the chain
    mute: bool = False  # left out of the mix file (its stem file is still written)
    solo: bool = False  # with any stem soloed, only the soloed ones are in the mix file

    def check(self, role: str) -> "StemMix":
        if self.preset not in FX_PRESETS:
            raise MtmError(f"{role}: unknown FX preset '{self.preset}' (choose {', '.join(FX_PRESETS)})")
        low, high = GAIN_RANGE_DB
        if isinstance(self.gain_db, bool) or not isinstance(self.gain_db, (int, float)) \
                or not (math.isfinite(self.gain_db) and low <= self.gain_db <= high):
            raise MtmError(f"{role}: gain {self.gain_db!r} dB is outside {low:g}..{high:g} dB")
        if not isinstance(self.mute, bool) or not isinstance(self.solo, bool):
            raise MtmError(f"{role}: mute and solo are true or false")
        return self


@dataclass
class MixSpec:
    stems: dict[str, StemMix] = field(default_factory=dict)  # by role; a role not named mixes as StemMix()

    def stem(self, role: str) -> StemMix:
        return self.stems.get(role, StemMix())

    def audible(self, roles) -> list[str]:
        """The roles heard in the mix file: the soloed ones if any, else those not muted."""
        roles = list(roles)
        soloed = [role for role in roles if self.stem(role).solo]
        return soloed if soloed else [role for role in roles if not self.stem(role).mute]

    def to_dict(self) -> dict:
        return {role: asdict(settings) for role, settings in self.stems.items()}

    @classmethod
    def from_dict(cls, data: dict, source: str = "mix") -> "MixSpec":
        if not isinstance(data, dict):
            raise MtmError(f"{source}: a mix is an object of stems, got {data!r}")
        stems = {}
        for role, settings in data.items():
            if not isinstance(settings, dict) or set(settings) - set(StemMix.__dataclass_fields__):
                raise MtmError(f"{source}: stem '{role}' needs preset, gain_db, mute and solo, got {settings!r}")
            try:
                stems[str(role)] = StemMix(**settings).check(f"{source}: {role}")
            except TypeError as error:
                raise MtmError(f"{source}: stem '{role}': {error}") from None
        return cls(stems)


@dataclass
class Recipe:
    """How a cue was made. `operation` says which of the fields below apply:

    compose      description + engine + seed (+ generation, reference) -> score
    render_midi  midi (a file and its checksum) -> score
    extend       the parent's score, continued by extend_bars (engine and seed as for compose)
    regenerate   the parent's score with `role` written anew in bars[0]..bars[1] (1-based, inclusive)
    Every operation then renders with `render` and mixes with `mix` (a remix is the recipe with another
    mix); loop_bars > 0 makes a seamless loop of that many bars.
    """

    operation: str = "compose"
    engine: str = "baseline"  # "baseline" | "dit" | "midi"
    seed: int = 0
    description: MusicDescription | None = None  # compose: the description as given to the engine
    generation: GenerationSettings | None = None  # dit: its settings (their seed is always the recipe's)
    reference: ReferenceRecord | None = None  # the reference the generator followed
    render: RenderSettings = field(default_factory=lambda: _recipe_types()["render"]())
    loop_bars: int = 0  # 0 = not a loop
    midi: dict | None = None  # render_midi: {"path", "sha256", "genre"}
    sync: dict | None = None  # where tempo, meter and key were taken from (already in the description)
    extend_bars: int = 0
    bars: list[int] | None = None  # regenerate: [first, last], 1-based, inclusive
    role: str | None = None  # regenerate: the stem written anew
    mix_gains: MixGains | None = None  # extend, regenerate: the parent's mix gains, so kept stems stay identical
    end_seconds: float = 0.0  # > 0: stems and mix end here (a picture's end) with a short fade; 0: the release kept
    mix: MixSpec | None = None  # per stem FX preset, gain, mute, solo; None = the defaults
    parent: "Recipe | None" = None

    def __post_init__(self) -> None:
        if isinstance(self.generation, _recipe_types()["generation"]) and self.generation.seed != self.seed:
            self.generation = replace(self.generation, seed=self.seed)  # one seed: the recipe's

    def to_dict(self) -> dict:
        """The sidecar's form: plain JSON types, field by field (the one place a recipe becomes dicts)."""
        data = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "parent":
                value = None if value is None else value.to_dict()
            elif item.name == "generation":  # without its seed: the recipe's own, stored once
                value = None if value is None else {k: v for k, v in asdict(value).items() if k != "seed"}
            elif hasattr(value, "to_dict"):
                value = value.to_dict()
            data[item.name] = value
        return json.loads(json.dumps(data))  # plain JSON types: what the sidecar holds is what we keep

    @classmethod
    def from_dict(cls, data: dict, source: str = "sidecar") -> "Recipe":
        """A recipe from its sidecar form (any sidecar version that recorded one), checked."""
        if not isinstance(data, dict):
            raise MtmError(f"{source}: the recipe must be a JSON object")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise MtmError(f"{source}: unknown recipe field(s) {', '.join(sorted(unknown))} "
                           "(written by a newer mtm_daw?)")
        values = dict(data)
        values["parent"] = cls.from_dict(data["parent"], source) if data.get("parent") else None
        generation = values.get("generation")
        if isinstance(generation, dict) and "seed" in generation:  # a sidecar from before the seed was stored once
            if generation["seed"] != values.get("seed", 0):
                raise MtmError(f"{source}: the generation seed {generation['seed']!r} is not the recipe's "
                               f"{values.get('seed', 0)!r}")
            values["generation"] = {k: v for k, v in generation.items() if k != "seed"}
        for name, read in _TYPED_FIELDS.items():
            if values.get(name) is not None:
                if not isinstance(values[name], dict):
                    raise MtmError(f"{source}: the recipe's {name} must be a JSON object")
                try:
                    values[name] = read(values[name], f"{source}: {name}")
                except MtmError as error:
                    message = str(error)
                    raise MtmError(message if message.startswith(source) else f"{source}: {name}: {message}") from None
                except (KeyError, TypeError, ValueError) as error:  # a field missing or of the wrong type
                    raise MtmError(f"{source}: the recipe's {name} is malformed ({error!r})") from None
        if values.get("render") is None:
            values["render"] = _recipe_types()["render"]()
        recipe = cls(**values)
        recipe.check(source)
        return recipe

    def check(self, source: str = "sidecar") -> "Recipe":
        if self.operation not in OPERATIONS:
            raise MtmError(f"{source}: unknown operation {self.operation!r} (known: {', '.join(OPERATIONS)})")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise MtmError(f"{source}: the seed must be a whole number from 0 up, got {self.seed!r}")
        if not isinstance(self.loop_bars, int) or self.loop_bars < 0:
            raise MtmError(f"{source}: loop_bars must be a whole number of bars, got {self.loop_bars!r}")
        if isinstance(self.end_seconds, bool) or not isinstance(self.end_seconds, (int, float)) \
                or not 0 <= self.end_seconds <= MAX_DURATION_SECONDS:
            raise MtmError(f"{source}: end_seconds must be 0 (keep the release) or the cue's end in seconds, "
                           f"got {self.end_seconds!r}")
        if self.end_seconds and self.loop_bars:
            raise MtmError(f"{source}: a loop has no end to cut at (end_seconds with loop_bars)")
        for name, kind in _recipe_types().items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise MtmError(f"{source}: the recipe's {name} must be a {kind.__name__}, got {type(value).__name__}")
        if self.generation is not None:
            try:
                self.generation.validate()
            except MtmError as error:
                raise MtmError(f"{source}: generation: {error}") from None
        for role, stem in (self.mix.stems.items() if self.mix is not None else ()):
            stem.check(f"{source}: mix: {role}")
        if self.bars is not None and (not isinstance(self.bars, list) or len(self.bars) != 2
                                      or not all(isinstance(bar, int) and not isinstance(bar, bool) for bar in self.bars)):
            raise MtmError(f"{source}: bars must be [first, last], whole numbers, got {self.bars!r}")
        needs = {"compose": "description", "render_midi": "midi", "extend": "parent", "regenerate": "parent"}
        if getattr(self, needs[self.operation]) is None:
            raise MtmError(f"{source}: a {self.operation} recipe needs its {needs[self.operation]}")
        if self.operation == "regenerate" and (self.role is None or not self.bars):
            raise MtmError(f"{source}: a regenerate recipe needs its role and bars [first, last]")
        return self

    @property
    def root(self) -> "Recipe":
        """The first recipe of the chain (the compose or MIDI render everything else grew from)."""
        return self if self.parent is None else self.parent.root


def _recipe_types() -> dict[str, type]:
    """The recipe's typed fields and their classes (imported when a recipe is first made or read)."""
    # deferred: only this path needs pedalboard, PyAV
    from mtm_daw.mix import MixGains
    from mtm_daw.render.settings import RenderSettings

    return {"description": MusicDescription, "generation": GenerationSettings, "reference": ReferenceRecord,
            "render": RenderSettings, "mix_gains": MixGains, "mix": MixSpec}


GUIDANCE_OF_OLD_SIDECARS = 2.0  # the default guidance until December 2026: a sidecar without one ran at this


def _generation(data: dict, source: str) -> GenerationSettings:
    """Generation settings from a sidecar; one recorded before key lock existed (no "key_lock") ran without it,
    and one without a guidance ran at GUIDANCE_OF_OLD_SIDECARS."""
    unknown = set(data) - {item.name for item in fields(GenerationSettings)}
    if unknown:
        raise MtmError(f"{source}: unknown generation setting(s) {', '.join(sorted(unknown))}")
    return GenerationSettings(**{"key_lock": False, "guidance": GUIDANCE_OF_OLD_SIDECARS, **data}).validate()


# The recipe fields that are typed objects, and how each is read from its sidecar form.
_TYPED_FIELDS = {
    "description": lambda data, source: MusicDescription.from_dict(data),
    "generation": _generation,
    "reference": lambda data, source: ReferenceRecord.from_dict(data),
    "render": lambda data, source: _recipe_types()["render"].from_dict(data),
    "mix_gains": lambda data, source: _recipe_types()["mix_gains"].from_dict(data),
    "mix": MixSpec.from_dict,
}


# --- what a render used ------------------------------------------------------------------------

def models_used(recipe: Recipe, parameters: dict) -> dict:
    """The models that wrote the notes, with version and checksum (none for the procedural composer)."""
    # deferred: only this path needs onnxruntime, tokenizers
    from mtm_daw.engine.sessions import model_entry

    if recipe.engine != "dit":
        return {}
    generator = dict(parameters.get("model") or {})
    generator.update(name="ecmg", precision=recipe.generation.precision if recipe.generation else "fp32")
    encoder = model_entry("text_encoder")
    return {"generator": generator,
            "text_encoder": {"name": "text_encoder", "file": encoder["file"], "version": encoder.get("version"),
                             "sha256": encoder["sha256"], "source": encoder.get("source", ""),
                             "licence": encoder.get("license", "")}}


def soundfont_used(renderer: str, render: dict) -> dict | None:
    """The SoundFont behind a `fluidsynth:NAME.sf2` renderer: path, size and SHA-256."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.render.soundfont import find_soundfont

    if not renderer.startswith("fluidsynth:"):
        return None
    try:
        path = find_soundfont(render.get("soundfont"))
    except MtmError:
        return None
    if path is None:
        return None
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def environment() -> dict:
    """The software a render ran on: bit-identical output is promised for the same of all of these."""
    # deferred: only this path needs onnxruntime, tokenizers
    from mtm_daw.engine.sessions import thread_count

    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"mtm_daw": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "packages": versions, "threads": thread_count()}


def references_used(recipe: Recipe) -> list[dict]:
    """Every reference along the recipe chain, with its library source and licence where it has them."""
    found, seen = [], set()
    step: Recipe | None = recipe
    while step is not None:
        if step.reference is not None and step.reference.sha256 not in seen:
            seen.add(step.reference.sha256)
            found.append(step.reference.to_dict())
        step = step.parent
    return found


# --- reading a sidecar -------------------------------------------------------------------------

def load_sidecar(path: str | os.PathLike) -> dict:
    """A render's sidecar (`*_description.json`) with its recipe; MtmError naming the file otherwise."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.media.paths import check_input_file

    path = check_input_file(path, "sidecar")
    data = read_json_file(path, "not a readable sidecar", max_bytes=MAX_JSON_BYTES)
    if not isinstance(data, dict) or "description" not in data:
        raise MtmError(f"{path}: not an mtm_daw sidecar (no description in it)")
    version = data.get("sidecar_version", 1)
    if not isinstance(version, int) or version > SIDECAR_VERSION:
        raise MtmError(f"{path}: sidecar version {version!r} was written by a newer mtm_daw (this one reads up to "
                       f"{SIDECAR_VERSION}); update mtm_daw to make this cue again")
    if not isinstance(data.get("recipe"), dict):
        raise MtmError(f"{path}: this sidecar has no recipe (written before renders recorded one, or by hand), "
                       "so the cue cannot be made again")
    data["recipe"] = Recipe.from_dict(data["recipe"], source=str(path))
    return data


def differences(sidecar: dict) -> list[str]:
    """What differs now from when the sidecar was written, and so may change the audio."""
    notes = []
    recorded = sidecar.get("environment") or {}
    current = environment()
    if recorded.get("mtm_daw") and recorded["mtm_daw"] != current["mtm_daw"]:
        notes.append(f"made with mtm_daw {recorded['mtm_daw']}, this is {current['mtm_daw']}")
    for package, version in (recorded.get("packages") or {}).items():
        if version != current["packages"].get(package):
            notes.append(f"made with {package} {version}, this has {current['packages'].get(package)}")
    if recorded.get("threads") not in (None, current["threads"]):
        notes.append(f"made with {recorded['threads']} model threads, this run uses {current['threads']} "
                     "(set MTM_THREADS to match)")
    for role, model in (sidecar.get("models") or {}).items():
        # deferred: only this path needs onnxruntime, tokenizers
        from mtm_daw.engine.sessions import model_entry

        entry = model_entry(model.get("name", role))
        if role == "generator" and model.get("precision") == "int8":
            entry = entry.get("int8") or {}
        if model.get("sha256") and entry.get("sha256") != model["sha256"]:
            notes.append(f"the {role} model differs from the one used (checksum {model['sha256'][:12]}... "
                         f"recorded, {str(entry.get('sha256'))[:12]}... installed)")
    soundfont = sidecar.get("soundfont")
    if soundfont:
        path = Path(soundfont["path"])
        if not path.is_file():
            notes.append(f"the SoundFont {path} used is gone")
        elif file_sha256(path) != soundfont["sha256"]:
            notes.append(f"the SoundFont {path} has changed since the render")
    return notes
