"""`mtm doctor`: which parts of mtm_daw this machine has, each with its state and the fix when one is missing.

Also the one table of optional parts (OPTIONAL_PARTS): what each optional Python package brings and the
command that installs it, so a missing one is named the same way everywhere (the CLI, eval, the panel).
Each check imports its part inside the check: importing it is the test, and a missing part fails only its row.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from mtm_daw.errors import MtmError

SETUP = "bash scripts/setup.sh"
# module -> (what needs it, the command that installs it)
OPTIONAL_PARTS = {
    "PyQt6": ("the panel (mtm ui)", SETUP),
    "matplotlib": ("the evaluation's plots", SETUP),
    "torch": ("training", f"{SETUP} train"),
    "music21": ("the training corpus", f"{SETUP} train"),
    "transformers": ("local vision-language and CLAP checkpoints", f"{SETUP} train"),
    "safetensors": ("local checkpoints", f"{SETUP} train"),
}
PACKAGES = ("numpy", "onnxruntime", "onnxruntime-gpu", "pedalboard", "pyfluidsynth", "sqlite-vec", "apsw", "librosa",
            "av", "mido", "PyQt6", "matplotlib")
PLUGIN_BUNDLES = (Path("~/.vst3/mtm_daw.vst3"), Path("~/.lv2/mtm_daw.lv2"))
LOW_DISK_BYTES = 2 * 1024**3

OK, MISSING, BROKEN = "ok", "missing", "broken"  # missing: optional, mtm_daw works without it; broken: it does not


@dataclass
class Check:
    part: str
    state: str  # OK, MISSING or BROKEN
    detail: str  # what was found
    fix: str = ""  # the command or step that mends it


def install_hint(module: str) -> str | None:
    """'PyQt6 is not installed (the panel (mtm ui) needs it); install it with: bash scripts/setup.sh'."""
    root = module.split(".")[0]
    if root not in OPTIONAL_PARTS:
        return None
    part, command = OPTIONAL_PARTS[root]
    return f"{root} is not installed ({part} needs it); install it with: {command}"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_python() -> Check:
    found = [f"{name} {version}" for name in PACKAGES if (version := _version(name))]
    return Check("python", OK, f"Python {platform.python_version()}; " + ", ".join(found))


def check_runtime() -> Check:
    builds = [name for name in ("onnxruntime", "onnxruntime-gpu") if _version(name)]
    if not builds:
        return Check("onnx runtime", BROKEN, "onnxruntime is not installed", SETUP)
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    detail = f"{' and '.join(builds)} {onnxruntime.__version__}; providers: {', '.join(providers)}"
    if len(builds) > 1:
        return Check("onnx runtime", BROKEN, detail + " (both builds share one module: the last installed wins)",
                     "pip uninstall -y onnxruntime onnxruntime-gpu, then install one of them")
    running = "CUDA" if "CUDAExecutionProvider" in providers else "CPU"
    return Check("onnx runtime", OK, f"{detail}; generation runs on {running}")


def check_models() -> list[Check]:
    from mtm_daw.engine.sessions import FILE_PARTS, WEIGHTS_DIR, load_manifest, model_entry, verify_file

    try:
        names = list(load_manifest()["models"])
    except MtmError as error:
        return [Check("models", BROKEN, str(error), "reinstall mtm_daw (git checkout mtm_daw/weights)")]
    checks = []
    for name in names:
        try:
            entry = model_entry(name)
            files = [entry] + [entry[part] for part in FILE_PARTS if part in entry]
            for part in files:
                verify_file(WEIGHTS_DIR / part["file"], part["sha256"])
            checks.append(Check(f"model {name}", OK, ", ".join(f"{p['file']} sha256 {p['sha256'][:12]}… verified"
                                                             for p in files)))
        except MtmError as error:
            checks.append(Check(f"model {name}", BROKEN, str(error), "reinstall mtm_daw (git checkout mtm_daw/weights)"))
    return checks


def check_soundfont() -> Check:
    from mtm_daw.render.soundfont import find_soundfont

    try:
        found = find_soundfont()
    except MtmError as error:  # $MTM_SOUNDFONT names a bad file
        return Check("soundfont", BROKEN, str(error), "point MTM_SOUNDFONT at a .sf2 file, or unset it")
    if found is None:
        return Check("soundfont", MISSING, "none found: the built-in synthesiser renders every stem",
                     f"{SETUP} (installs fluid-soundfont-gm), or set MTM_SOUNDFONT=/path/to/file.sf2")
    if importlib.util.find_spec("fluidsynth") is None:
        return Check("soundfont", MISSING, f"{found}, but pyfluidsynth is missing: the built-in synthesiser renders",
                     SETUP)
    return Check("soundfont", OK, f"{found} (FluidSynth)")


def check_panel() -> Check:
    if importlib.util.find_spec("PyQt6") is None:
        return Check("panel", MISSING, "PyQt6 is not installed: `mtm ui` cannot open", SETUP)
    try:
        from PyQt6 import QtWidgets  # noqa: F401 - the import itself is the check (Qt's system libraries)
    except ImportError as error:
        return Check("panel", BROKEN, f"PyQt6 is installed but Qt cannot load: {error}",
                     f"{SETUP} (installs Qt's system libraries)")
    return Check("panel", OK, f"PyQt6 {_version('PyQt6')} loads; open it with `mtm ui`")


def check_audio_output() -> Check:
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    pulse = os.environ.get("PULSE_SERVER") or (runtime and Path(runtime, "pulse", "native").exists())
    alsa = Path("/dev/snd").is_dir() and any(Path("/dev/snd").glob("pcm*p"))
    if pulse or alsa or platform.system() != "Linux":
        return Check("audio output", OK, "PulseAudio" if pulse else "ALSA device" if alsa else platform.system())
    return Check("audio output", MISSING, "no sound server or playback device: the panel's audition is silent "
                 "(files are written all the same)", "start PulseAudio/PipeWire, or listen in your DAW")


def check_plugin() -> Check:
    found = [str(p.expanduser()) for p in PLUGIN_BUNDLES if p.expanduser().exists()]
    if found:
        return Check("daw plugin", OK, ", ".join(found))
    return Check("daw plugin", MISSING, "no VST3 or LV2 bundle installed (drag files from the panel into your DAW "
                 "meanwhile)", f"{SETUP} (builds the plugin with dpf-source, g++ and cmake)")


def check_library() -> Check:
    from mtm_daw.library.store import LibraryStore, default_library_path

    path = default_library_path()
    if not path.is_file():
        return Check("library", OK, f"{path}: not created yet (the first `mtm library add` creates it with the "
                     "starter set)")
    try:
        store = LibraryStore.open(path, create=False, upgrade=False)
    except MtmError as error:
        return Check("library", BROKEN, str(error), "mtm library verify")
    try:
        stats = store.stats()
        model = store.embedding_model or "unknown"
    finally:
        store.close()
    return Check("library", OK, f"{path}: {stats.items} items, embedding model {model[:12]}")


def check_disk(folder: Path) -> Check:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    detail = f"{free / 1024**3:.1f} GB free at {probe}"
    if free < LOW_DISK_BYTES:
        return Check("disk", MISSING, detail + " (a 10-minute cue writes about 1 GB)", "free some space")
    return Check("disk", OK, detail)


def run_checks(output: Path | None = None) -> list[Check]:
    return [check_python(), check_runtime(), *check_models(), check_soundfont(), check_panel(), check_audio_output(),
            check_plugin(), check_library(), check_disk(Path(output or Path.cwd()).expanduser())]


def as_json(checks: list[Check]) -> list[dict]:
    return [asdict(check) for check in checks]


def as_text(checks: list[Check]) -> str:
    width = max(len(check.part) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{check.part:<{width}}  {check.state:<7}  {check.detail}")
        if check.fix and check.state != OK:
            lines.append(f"{'':<{width}}  {'':<7}  fix: {check.fix}")
    return "\n".join(lines)
