"""An evaluation set: inputs with known targets, read from a folder.

A folder with a manifest.json (see mtm_daw/data/eval, made by scripts/make_eval_set.py):

    {"items": [{"id": "calm_waltz", "kind": "description", "file": "calm_waltz.json", "targets": {...}},
               {"id": "jazz_idea", "kind": "text", "text": "bouncy jazz, 132 bpm", "duration": 10},
               {"id": "cuts", "kind": "video", "file": "cuts.mp4", "targets": {"visual_events": [2.5, 5.0]}}],
     "reference": {"file": "groove.mid", "strength": 0.7}, "training_stats": "training_stats.json"}

or any folder of inputs, each file one item by its kind: description JSON, .txt text ideas, images, videos.
`targets` are what the item is known to ask for (genre, mood, tempo, key, time_signature) or to show
(visual_events: cut and motion times in seconds, used for BeatMSE instead of the measured ones).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mtm_daw.errors import MtmError
from mtm_daw.jsonfile import read_json_file

KINDS = ("description", "text", "image", "video")
BUNDLED_SET = Path(__file__).resolve().parent.parent / "data" / "eval"
_TEXT_SUFFIXES = {".txt"}
_SKIPPED_NAMES = {"manifest.json", "training_stats.json"}


@dataclass
class EvalItem:
    id: str
    kind: str  # one of KINDS
    source: str  # a file path, or the text idea itself
    duration: float | None = None  # seconds, for text ideas and images (a video is as long as its picture)
    targets: dict = field(default_factory=dict)


@dataclass
class EvalSet:
    folder: Path
    items: list[EvalItem]
    reference: Path | None = None  # the reference `dit+control` follows
    strength: float = 0.7
    training_stats: Path | None = None

    def item(self, item_id: str) -> EvalItem:
        return next(item for item in self.items if item.id == item_id)


def load_eval_set(folder: str | Path) -> EvalSet:
    """Read a set folder (with or without manifest.json); MtmError naming the problem otherwise."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise MtmError(f"{folder}: no such folder (give a folder of evaluation inputs)")
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        evalset = _from_manifest(folder, manifest_path)
    else:
        evalset = _discovered(folder)
    if not evalset.items:
        raise MtmError(f"{folder}: no inputs found (description JSON, .txt text ideas, images or videos)")
    ids = [item.id for item in evalset.items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise MtmError(f"{manifest_path}: item ids must be unique, repeated: {', '.join(duplicates)}")
    return evalset


def _from_manifest(folder: Path, path: Path) -> EvalSet:
    manifest = read_json_file(path, "the manifest cannot be read")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("items"), list):
        raise MtmError(f"{path}: a manifest needs an 'items' list")
    items = []
    for number, entry in enumerate(manifest["items"], start=1):
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
            raise MtmError(f"{path}: item {number} needs a 'kind' of {', '.join(KINDS)}")
        kind = entry["kind"]
        if kind == "text":
            source = entry.get("text")
            if not isinstance(source, str) or not source.strip():
                raise MtmError(f"{path}: item {number} is a text idea without 'text'")
        else:
            if not isinstance(entry.get("file"), str):
                raise MtmError(f"{path}: item {number} ({kind}) needs a 'file'")
            file = folder / entry["file"]
            if not file.is_file():
                raise MtmError(f"{path}: item {number}: {file} is missing")
            source = str(file)
        duration = entry.get("duration")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float))
                                     or not duration > 0):
            raise MtmError(f"{path}: item {number}: duration must be a positive number of seconds")
        targets = entry.get("targets", {})
        if not isinstance(targets, dict):
            raise MtmError(f"{path}: item {number}: 'targets' must be an object")
        items.append(EvalItem(str(entry.get("id") or f"item{number}"), kind, source,
                              float(duration) if duration else None, targets))
    reference, strength = None, 0.7
    if isinstance(manifest.get("reference"), dict):
        reference = folder / str(manifest["reference"].get("file", ""))
        if not reference.is_file():
            raise MtmError(f"{path}: the reference {reference} is missing")
        strength = float(manifest["reference"].get("strength", strength))
    stats = folder / manifest["training_stats"] if manifest.get("training_stats") else None
    return EvalSet(folder, items, reference, strength, stats if stats and stats.is_file() else None)


def _discovered(folder: Path) -> EvalSet:
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.media import detect_kind

    items = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name in _SKIPPED_NAMES or path.name.startswith("."):
            continue
        if path.suffix.lower() == ".json":
            items.append(EvalItem(path.stem, "description", str(path)))
        elif path.suffix.lower() in _TEXT_SUFFIXES:
            items.append(EvalItem(path.stem, "text", path.read_text(encoding="utf-8", errors="replace").strip()))
        else:
            try:
                kind = detect_kind(path)
            except MtmError:
                continue
            if kind in ("image", "video"):
                items.append(EvalItem(path.stem, kind, str(path)))
    stats = folder / "training_stats.json"
    return EvalSet(folder, items, training_stats=stats if stats.is_file() else BUNDLED_SET / "training_stats.json")
