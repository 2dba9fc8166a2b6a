"""The panel's jobs, as plain functions over mtm_daw: they run in the engine process (plugin_ui.host).

No Qt here. Each job takes a payload dict, a progress callback (stage, 0..1), a CancelToken and a
warn callback, and returns a small picklable dict: paths, summaries, waveform peaks and
thumbnails, never whole audio buffers (the panel plays and drags the files on disk).

    describe   a file or a text idea -> description (+ picture thumbnails for video and images)
    generate   description -> cue (baseline or dit engine, optional reference) -> files in a session folder; a
               preview of the first bars (a WAV) is announced as soon as they are made, for a long or trained cue
    extend     the current cue's sidecar -> the cue some bars longer, written next to it (`<name>_extended`)
    regenerate the current cue's sidecar -> one stem's bars written anew, next to it (`<name>_<role>_bars<a>-<b>`)
    remix      the panel's mixer (gain, mute, solo, FX preset per stem) -> the same files, re-mixed
    audition   a reference file -> something playable (MIDI is rendered to a WAV)
    copy       the result's files -> a folder the user picked
    library_status / library_search   through plugin_ui.library_adapter
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.generation import GenerationSettings
from mtm_daw.progress import CancelToken, ProgressCallback
from mtm_daw.spool import BLOCK_SAMPLES, blocks

PEAK_POINTS = 480  # columns in a waveform thumbnail
THUMBNAILS = 12  # frames in a video's strip
THUMBNAIL_SIDE = 160  # pixels, long side

Warn = Callable[[str], None]


# --- describe ------------------------------------------------------------------------------------

def describe_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """payload: {"source": path or text idea, "duration": seconds for a still image (optional)}."""
    from mtm_daw.describe import describe, looks_like_path

    source = payload["source"]
    is_file = Path(source).exists() or looks_like_path(source)
    kind = "text"
    if is_file:
        from mtm_daw.media import detect_kind

        kind = detect_kind(source)
    description = describe(source, progress=progress, cancel=cancel)
    if kind == "image" and payload.get("duration"):
        description = replace(description, duration=float(payload["duration"])).validate()
    result = {"source": source, "kind": kind, "description": description.to_dict(), "frames": []}
    if kind == "video":
        result["frames"] = video_thumbnails(source)
    elif kind == "image":
        result["frames"] = image_thumbnail(source)
    return result


def video_thumbnails(path: str | Path, count: int = THUMBNAILS, max_side: int = THUMBNAIL_SIDE) -> list[dict]:
    """`count` frames spread over the video (one seek each), as {time, width, height, rgb bytes}.

    Cosmetic: a video the analysis could read but that will not seek gives fewer (or no) frames.
    """
    import av

    from mtm_daw.media.video import stream_duration

    frames: list[dict] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = stream_duration(container, stream)
            start = stream.start_time or 0
            for index in range(count):
                t = (index + 0.5) * duration / count
                container.seek(start + int(t / stream.time_base), stream=stream, backward=True)
                chosen = None
                for frame in container.decode(stream):
                    chosen = frame
                    if frame.time is None or frame.time - float(start * stream.time_base) >= t - 0.05:
                        break
                if chosen is None:
                    continue
                scale = min(1.0, max_side / max(chosen.width, chosen.height))
                width, height = max(2, int(chosen.width * scale)) // 2 * 2, max(2, int(chosen.height * scale)) // 2 * 2
                rgb = chosen.reformat(width=width, height=height, format="rgb24").to_ndarray()
                frames.append({"time": t, "width": width, "height": height, "rgb": np.ascontiguousarray(rgb).tobytes()})
    except (av.FFmpegError, IndexError, ValueError, OSError):
        pass
    return frames


def image_thumbnail(path: str | Path, max_side: int = 2 * THUMBNAIL_SIDE) -> list[dict]:
    from mtm_daw.media.image import load_image

    small = np.ascontiguousarray(load_image(path, max_side=max_side).pixels, dtype=np.uint8)
    return [{"time": 0.0, "width": small.shape[1], "height": small.shape[0], "rgb": small.tobytes()}]


# --- generate ------------------------------------------------------------------------------------

def render_settings(payload: dict):
    from mtm_daw.pipeline import RenderSettings

    return RenderSettings(soundfont=payload.get("soundfont") or None, synth=payload.get("synth", "auto"),
                          plugins={role: list(paths) for role, paths in (payload.get("plugins") or {}).items() if paths})


def generate_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn,
                 preview: Callable[[dict], None] | None = None) -> dict:
    """payload: description (dict; a video's tempo already fitted to the picture by describe, so the panel
    renders what it shows), seed, engine, steps, end_at_picture (stems and mix end at the picture's end),
    reference ({path, strength} or
    None), render ({soundfont, plugins}), output_folder, name. Writes the cue into a new session folder.
    preview: given {path, seconds, music_seconds} of a WAV of the cue's first bars as soon as they are made (see
    mtm_daw.pipeline.RunContext and mtm_daw.export.write_preview), to play while the rest is made."""
    from mtm_daw.export import export_cue
    from mtm_daw.pipeline import compose_cue

    # 1. check inputs
    description = MusicDescription.from_dict(payload["description"]).validate()
    engine = payload.get("engine", "baseline")
    seed = int(payload.get("seed", 0))
    # 2. the reference and the generator's settings
    reference, record, generation = None, None, None
    if payload.get("reference"):
        if engine != "dit":
            raise MtmError("a reference steers the dit engine; switch the engine to dit or clear the reference")
        from plugin_ui.library_adapter import reference_control, reference_record

        reference = reference_control(payload["reference"])
        record = reference_record(payload["reference"], reference)  # the sidecar names the file, source, licence
    if engine == "dit":
        generation = GenerationSettings(steps=int(payload.get("steps", GenerationSettings.steps)),
                                        precision=payload.get("precision", GenerationSettings.precision),
                                        key_lock=bool(payload.get("key_lock", GenerationSettings.key_lock)))
    # 3. compose, render, mix (90 % of the bar), then export (the rest)
    cue = compose_cue(description, seed=seed, engine=engine, settings=render_settings(payload.get("render", {})),
                      progress=lambda stage, fraction: progress(stage, 0.9 * fraction), cancel=cancel, warn=warn,
                      reference=reference, generation=generation, reference_record=record,
                      end_seconds=description.duration if payload.get("end_at_picture") else 0.0,
                      preview=None if preview is None else lambda first: preview(write_preview(first)))
    cancel.check()
    folder = session_folder(payload["output_folder"], payload.get("name", "cue"))
    paths = export_cue(cue, folder, payload.get("name", "cue"), overwrite=True,
                       progress=_export_progress(progress, cancel, 0.9))
    return cue_summary(cue, paths, folder, payload.get("name", "cue"), payload.get("render", {}))


PREVIEW_FOLDER_PREFIX = "mtm_daw-previews-"  # + the engine's pid: a private folder (mode 700) per engine
_preview_folder: Path | None = None


def preview_folder() -> Path:
    """This engine process's folder for previews, made on first use and removed when it exits; the folders of
    engines that were killed (a hard cancel) are removed here first."""
    global _preview_folder
    if _preview_folder is None:
        for old in Path(tempfile.gettempdir()).glob(f"{PREVIEW_FOLDER_PREFIX}*"):
            pid = old.name[len(PREVIEW_FOLDER_PREFIX):].split("-")[0]
            try:  # another engine may sweep it at the same time; a link is never followed
                mine = old.lstat().st_uid == os.getuid() and old.is_dir() and not old.is_symlink()
            except OSError:
                continue
            if pid.isdigit() and mine and not _alive(int(pid)):
                shutil.rmtree(old, ignore_errors=True)
        _preview_folder = Path(tempfile.mkdtemp(prefix=f"{PREVIEW_FOLDER_PREFIX}{os.getpid()}-"))
        atexit.register(shutil.rmtree, _preview_folder, True)
    return _preview_folder


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (a killed engine not yet reaped counts: its folder waits for the
    next sweep)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_preview(cue) -> dict:
    """A preview cue as a WAV in this engine's preview folder, its last one removed (see export.write_preview)."""
    from mtm_daw.export import write_preview as write_preview_file

    folder = preview_folder()
    for old in folder.glob("preview_*.wav"):
        old.unlink(missing_ok=True)
    # a new name each time: a player may still hold the last one open
    return write_preview_file(cue, folder / f"preview_{time.monotonic_ns()}.wav")


def _export_progress(progress: ProgressCallback, cancel: CancelToken, start: float) -> Callable[[float], None]:
    def report(fraction: float) -> None:
        cancel.check()  # raised inside the file set: no file is renamed into place
        progress("export", start + (1.0 - start) * fraction)
    return report


def session_folder(output_folder: str | Path, name: str) -> Path:
    """A new folder per generation: <output>/<name>_<date-time>[_n]."""
    base = Path(output_folder).expanduser()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = base / f"{name}_{stamp}"
    counter = 2
    while folder.exists():
        folder = base / f"{name}_{stamp}_{counter}"
        counter += 1
    return folder


def cue_summary(cue, paths: list[Path], folder: Path, name: str, render: dict) -> dict:
    """What the panel needs to show and re-mix a cue: files by part, peaks, score, description."""
    files: dict[str, str] = {}
    for path in paths:
        stem = path.stem
        if path.suffix == ".mid":
            files["midi"] = str(path)
        elif path.suffix == ".json":
            files["sidecar"] = str(path)
        elif stem.endswith("_mix"):
            files["mix"] = str(path)
        else:
            for role in cue.stems:
                if stem.endswith("_" + role.replace(" ", "-")):
                    files[role] = str(path)
    return {
        "name": name, "folder": str(folder), "files": files,
        "stems": {role: {"program": stem.program, "peaks": peaks(stem.audio)} for role, stem in cue.stems.items()},
        "mix_peaks": peaks(cue.mix),
        "description": cue.description.to_dict(), "score": compact_score(cue.score),
        "engine": cue.engine, "seed": cue.seed, "renderer": cue.renderer, "loudness_lufs": float(cue.loudness_lufs),
        "sample_rate": cue.sample_rate, "duration": cue.mix.shape[1] / cue.sample_rate,
        "parameters": cue.parameters, "render": render, "bars": cue.score.bars,
        "provenance": cue_provenance(files.get("sidecar")),
    }


def cue_provenance(sidecar_path: str | None) -> dict:
    """What "About this cue" shows, from the sidecar just written: engine, seed, how the cue was made
    (compose, extend, regenerate), the models with version and SHA-256, the references with their
    source and licence, and the SoundFont."""
    if not sidecar_path:
        return {}
    try:
        document = json.loads(Path(sidecar_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return provenance_summary(document)


def provenance_summary(document: dict) -> dict:
    recipe = document.get("recipe") or {}
    models = [{"role": role, "name": model.get("name", role), "version": model.get("version"),
               "sha256": str(model.get("sha256") or ""), "precision": model.get("precision")}
              for role, model in (document.get("models") or {}).items() if isinstance(model, dict)]
    references = []
    for reference in document.get("references") or []:
        library = reference.get("library") or {}
        references.append({"path": library.get("path") or reference.get("path", ""),
                           "file": reference.get("path", ""), "sha256": str(reference.get("sha256") or ""),
                           "strength": reference.get("strength"), "library_item": library.get("id"),
                           "caption": library.get("caption") or "",
                           "source": library.get("source") or "", "licence": library.get("licence") or ""})
    soundfont = document.get("soundfont") or None
    return {
        "engine": document.get("engine", ""), "seed": document.get("seed"), "renderer": document.get("renderer", ""),
        "operation": recipe.get("operation", ""), "extend_bars": recipe.get("extend_bars", 0),
        "bars": recipe.get("bars"), "role": recipe.get("role"),
        "parent_seed": (recipe.get("parent") or {}).get("seed"),
        "models": models, "references": references,
        "soundfont": {"path": soundfont.get("path", ""), "sha256": soundfont.get("sha256", "")} if soundfont else None,
        "mtm_daw": document.get("mtm_daw_version", ""),
    }


def compact_score(score) -> dict:
    """Score.to_dict() with each track's notes as one (n, 4) float64 array [onset, duration, pitch, velocity]:
    a long cue's notes then cross the pipe and unpickle as one block (a list per note would hold the
    panel's GIL for tens of milliseconds). Score.from_dict reads it as it is."""
    data = score.to_dict()
    for track in data["tracks"]:
        track["notes"] = np.asarray(track["notes"], dtype=np.float64).reshape(-1, 4)
    return data


def peaks(audio: np.ndarray, points: int = PEAK_POINTS) -> np.ndarray:
    """(2, points) float32: the min and max of the mono signal in each column (read a block of whole
    columns at a time: an hour's mix may wait on disk)."""
    audio = audio if audio.ndim == 2 else audio[None, :]
    out = np.zeros((2, points), dtype=np.float32)
    length = audio.shape[1]
    if length == 0:
        return out
    per = int(np.ceil(length / points))
    for start, stop in blocks(length, audio, size=max(1, BLOCK_SAMPLES // per) * per):
        mono = audio[:, start:stop].mean(axis=0)
        count = -(-(stop - start) // per)
        padded = np.zeros(count * per, dtype=np.float32)
        padded[:mono.size] = mono
        columns = padded.reshape(count, per)
        out[0, start // per:start // per + count] = columns.min(axis=1)
        out[1, start // per:start // per + count] = columns.max(axis=1)
    return out


# --- extend, regenerate --------------------------------------------------------------------------

def extend_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """payload: sidecar (the current cue's *_description.json), bars (to add), plugins (the panel's
    VST3 settings). Writes `<name>_extended` next to the sidecar, as `mtm extend` names it."""
    from mtm_daw.pipeline.remake import extend_cue

    # 1. check inputs
    bars = payload.get("bars")
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise MtmError(f"extend needs a whole number of bars to add, 1 or more, got {bars!r}")
    sidecar_path, sidecar, allow_plugins = _remake_source(payload, warn)
    # 2. continue the cue (90 % of the bar), 3. write it next to its parent
    cue = extend_cue(sidecar_path, bars, progress=lambda stage, fraction: progress(stage, 0.9 * fraction),
                     cancel=cancel, warn=warn, allow_plugins=allow_plugins)
    return _export_next_to(cue, sidecar_path, f"{_sidecar_name(sidecar)}_extended", progress, cancel)


def regenerate_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """payload: sidecar, role, bars ([first, last], 1-based, inclusive), plugins. Writes
    `<name>_<role>_bars<first>-<last>` next to the sidecar, as `mtm regenerate` names it."""
    from mtm_daw.pipeline.remake import regenerate_cue

    # 1. check inputs (regenerate_cue checks the role and the bars against the cue)
    bars = payload.get("bars")
    if (not isinstance(bars, (list, tuple)) or len(bars) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bars)):
        raise MtmError(f"regenerate needs bars as [first, last], got {bars!r}")
    first, last = bars
    role = str(payload.get("role", ""))
    sidecar_path, sidecar, allow_plugins = _remake_source(payload, warn)
    # 2. write the bars anew (90 % of the bar), 3. write the cue next to its parent
    cue = regenerate_cue(sidecar_path, (first, last), role,
                         progress=lambda stage, fraction: progress(stage, 0.9 * fraction), cancel=cancel, warn=warn,
                         allow_plugins=allow_plugins)
    name = f"{_sidecar_name(sidecar)}_{role.replace(' ', '-')}_bars{first}-{last}"
    return _export_next_to(cue, sidecar_path, name, progress, cancel)


def _remake_source(payload: dict, warn: Warn) -> tuple[Path, dict, bool]:
    """The sidecar to remake from, and whether its VST3 plugins may load.

    A plugin is native code and a sidecar is a file anyone can send, so the panel loads the plugins a
    sidecar names only when they are exactly the ones the user configured in the panel's settings
    (allow_plugins=True); any other plugins are refused with a message naming them."""
    from mtm_daw.provenance import load_sidecar

    sidecar_path = Path(payload["sidecar"])
    sidecar = load_sidecar(sidecar_path)
    wanted = _plugin_table(sidecar["recipe"].render.plugins)
    configured = _plugin_table(payload.get("plugins"))
    allow_plugins = wanted == configured
    if wanted and not allow_plugins:
        names = sorted({path for paths in wanted.values() for path in paths})
        raise MtmError(f"{sidecar_path.name}: this cue was mixed with VST3 plugins ({', '.join(names)}) that are not "
                       "the ones in the panel's settings; plugins run code on your machine, so the panel loads only "
                       "the plugins you set in Settings (⚙ → VST3 plugins)")
    if "panel_mix" in sidecar.get("parameters", {}) and sidecar["recipe"].mix is None:  # before mixes were recipes
        warn("note: this cue was re-mixed in the panel; the new cue is mixed as the cue was first rendered")
    return sidecar_path, sidecar, allow_plugins


def _plugin_table(plugins) -> dict[str, list[str]]:
    """{role: [paths]} with empty roles left out, so {} == {"bass": []}."""
    if not isinstance(plugins, dict):
        return {}
    return {str(role): [str(p) for p in paths] for role, paths in plugins.items() if paths}


def _sidecar_name(sidecar: dict) -> str:
    from mtm_daw.pipeline.remake import sidecar_name

    return sidecar_name(sidecar)


def _export_next_to(cue, sidecar_path: Path, name: str, progress: ProgressCallback, cancel: CancelToken) -> dict:
    """Write a remade cue into its parent's folder. Its files are made again from the parent's recipe,
    so an existing set of that name (the same edit done before) is replaced with the same music."""
    from mtm_daw.export import export_cue

    cancel.check()
    folder = sidecar_path.parent
    paths = export_cue(cue, folder, name, overwrite=True, progress=_export_progress(progress, cancel, 0.9))
    render = cue.parameters.get("recipe", {}).get("render", {})
    return cue_summary(cue, paths, folder, name, {"soundfont": render.get("soundfont") or "",
                                                  "synth": render.get("synth", "auto"),
                                                  "plugins": _plugin_table(render.get("plugins"))})


# --- remix ---------------------------------------------------------------------------------------

_DRY_CACHE: dict[str, tuple[str, dict]] = {}  # cue (its sidecar path) -> (render key, dry stems)


def remix_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """payload: the generate result ("result") and the mixer ({role: {gain_db, mute, solo, preset}}).

    The cue's recipe with this mix (a MixSpec), mixed by the pipeline from dry stems rendered once per
    cue: every stem is written with its preset and gain, mute and solo shape the mix file, and the
    sidecar's recipe records it all, so `mtm reproduce` makes the remix again sample for sample.
    """
    from mtm_daw.export import export_cue
    from mtm_daw.pipeline import mix_cue, render_stems
    from mtm_daw.provenance import MixSpec, Recipe
    from mtm_daw.score.score import Score

    # 1. check inputs: the recipe with the mixer's mix
    result = payload["result"]
    description = MusicDescription.from_dict(result["description"]).validate()
    score = Score.from_dict(result["score"])
    mix = MixSpec.from_dict(payload["mixer"], "the mixer")
    recipe = replace(Recipe.from_dict(result["parameters"]["recipe"], "the cue's recipe"), mix=mix,
                     mix_gains=None)  # mastered anew, as `mtm remix` does
    settings = recipe.render  # as the cue was rendered, so the remix reproduces
    # 2. the dry stems: rendered once per cue and kept for the next remix
    key = repr((settings.soundfont, settings.synth, settings.sample_rate))  # the sidecar names the score
    cue_id = result["files"].get("sidecar") or result["folder"]  # a folder can hold a cue and its extensions
    cached = _DRY_CACHE.get(cue_id)
    if cached is None or cached[0] != key:
        progress("render", 0.0)
        dry, _ = render_stems(score, settings, lambda f: (cancel.check(), progress("render", 0.4 * f)), warn,
                              recipe.loop_bars)
        _DRY_CACHE.clear()  # one cue's dry stems at a time: long cues are large
        _DRY_CACHE[cue_id] = (key, dry)
    dry = _DRY_CACHE[cue_id][1]
    cancel.check()
    # 3. mix as the pipeline does
    mixed = mix_cue(dict(dry), score, description, result["seed"], result["engine"], settings, result["renderer"],
                    lambda f: (cancel.check(), progress("mix", 0.4 + 0.45 * f)), recipe.loop_bars, None,
                    recipe.end_seconds, mix)
    parameters = {key: value for key, value in result.get("parameters", {}).items() if key != "panel_mix"}
    parameters.update(mixed.parameters, recipe=recipe.to_dict())
    cue = replace(mixed, parameters=parameters)
    # 4. write over the session's files
    paths = export_cue(cue, result["folder"], result["name"], overwrite=True,
                       progress=_export_progress(progress, cancel, 0.85))
    return cue_summary(cue, paths, Path(result["folder"]), result["name"], result.get("render", {}))


# --- audition, copy ------------------------------------------------------------------------------

def audition_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """A reference to listen to: audio as it is; MIDI rendered once into the cache folder."""
    from mtm_daw.media import detect_kind

    path = Path(payload["path"])
    kind = detect_kind(path)
    if kind == "audio":
        return {"path": str(path)}
    if kind != "midi":
        raise MtmError(f"{path.name}: only audio and MIDI references can be auditioned")
    from mtm_daw.export.wav import write_wav
    from mtm_daw.pipeline import render_midi_cue

    target = Path(payload["cache_folder"]) / f"{path.stem}_{abs(hash((str(path), path.stat().st_mtime)))}.wav"
    if not target.exists():
        cue = render_midi_cue(path, progress=progress, cancel=cancel, warn=warn)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_wav(target, cue.mix, cue.sample_rate)
    return {"path": str(target)}


def copy_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """Copy the result's files into a folder; existing files only with payload["overwrite"]."""
    from mtm_daw.export.files import prepare_output_folder

    folder = prepare_output_folder(payload["folder"])
    sources = [Path(p) for p in payload["files"]]
    targets = [folder / source.name for source in sources]
    existing = [t for t in targets if t.exists()]
    if existing and not payload.get("overwrite"):
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise MtmError(f"{existing[0]} already exists{more}")
    for index, (source, target) in enumerate(zip(sources, targets)):
        cancel.check()
        try:
            shutil.copy2(source, target)
        except OSError as error:
            raise MtmError(f"{target}: could not copy ({error.strerror or error})") from None
        progress("export", (index + 1) / len(sources))
    return {"folder": str(folder), "files": [str(t) for t in targets]}


def library_status_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    from plugin_ui.library_adapter import library_status

    return library_status(payload.get("path") or None)


def library_search_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    from plugin_ui.library_adapter import search_references

    rows = search_references(payload.get("path") or None, payload["query"], payload.get("filters", {}),
                             int(payload.get("k", 20)))
    return {"rows": rows}


def sleep_job(payload: dict, progress: ProgressCallback, cancel: CancelToken, warn: Warn) -> dict:
    """Sleep without looking at the cancel token, as a long library call does: tests and the benchmark
    use it to check that a cancel still ends the job in time (the panel replaces the engine process)."""
    progress("sleep", 0.0)
    time.sleep(float(payload.get("seconds", 1.0)))
    return {"slept": float(payload.get("seconds", 1.0))}


JOBS = {"describe": describe_job, "generate": generate_job, "extend": extend_job, "regenerate": regenerate_job,
        "remix": remix_job, "audition": audition_job,
        "copy": copy_job, "library_status": library_status_job, "library_search": library_search_job,
        "sleep": sleep_job}


PREVIEW_JOBS = frozenset({"generate"})  # jobs that take a `preview` callback


def warm_models() -> None:
    """Load what the first Generate needs (the generator's and the text encoder's sessions, the SoundFont),
    so it is as quick as the next ones."""
    from mtm_daw.engine.generator import Generator
    from mtm_daw.pipeline.cue_pipeline import Components
    from mtm_daw.render import keep_renderer_loaded

    Generator.default()
    Components().encoder()
    keep_renderer_loaded()


def warm_up() -> None:
    """Import the heavy modules once, before the first job asks for them."""
    import mtm_daw.describe  # noqa: F401
    import mtm_daw.export  # noqa: F401
    import mtm_daw.pipeline  # noqa: F401
    import mtm_daw.pipeline.remake  # noqa: F401
