""""About this cue": how the current cue was made, as plain lines from its sidecar's provenance.

    text = provenance_text(result["provenance"])   # engine, seed, models (version, SHA-256), references
    title = edit_title(result["provenance"])       # "Extended by 2 bars" / "Melody, bars 1-1 redone" / ""

The provenance dict comes from the engine process (plugin_ui.backend.provenance_summary); nothing here
reads a file.
"""
from __future__ import annotations

from pathlib import PurePath

HASH_CHARS = 12  # SHA-256 shown as its first 12 hex digits
PATH_CHARS = 72  # a longer path is shortened in the middle (the tooltip holds it whole)

ENGINE_NAMES = {"baseline": "baseline (the procedural composer)",
                "dit": "dit (the trained generator: DiT + ControlFormer)",
                "midi": "midi (rendered from a MIDI file)"}


def short_hash(sha256: str) -> str:
    return (sha256 or "")[:HASH_CHARS] or "unknown"


def short_path(path: str, limit: int = PATH_CHARS) -> str:
    """The path, with the middle folders left out when it is longer than `limit` characters."""
    if len(path) <= limit:
        return path
    name = PurePath(path).name
    head = path[:max(8, limit - len(name) - 2)]
    return f"{head}…/{name}" if len(name) < limit - 8 else f"…{path[-(limit - 1):]}"


def edit_title(provenance: dict) -> str:
    """What the cue is an edit of its parent, for the result's title ("" for a cue composed from scratch)."""
    operation = provenance.get("operation")
    if operation == "extend":
        bars = provenance.get("extend_bars") or 0
        return f"Extended by {bars} bar{'s' if bars != 1 else ''}"
    if operation == "regenerate" and provenance.get("bars"):
        first, last = provenance["bars"]
        span = f"bar {first}" if first == last else f"bars {first}-{last}"
        return f"{str(provenance.get('role', '')).title()}, {span} redone"
    return ""


def provenance_text(provenance: dict, limit: int = PATH_CHARS) -> str:
    """Plain lines: engine and seed (and what the cue was made from), models, references, SoundFont."""
    if not provenance:
        return "No provenance: this cue's sidecar could not be read"
    engine = provenance.get("engine", "")
    lines = [f"Engine: {ENGINE_NAMES.get(engine, engine)} · seed {provenance.get('seed')}"]
    edit = edit_title(provenance)
    if edit:
        lines[0] += f" · {edit.lower()} of a cue with seed {provenance.get('parent_seed')}"
    models = provenance.get("models") or []
    if models:
        lines.append("Models: " + "; ".join(
            f"{model['role'].replace('_', ' ')} {model.get('name') or model['role']}"
            f"{' v' + str(model['version']) if model.get('version') is not None else ''}"
            f"{' ' + model['precision'] if model.get('precision') else ''}"
            f" · sha256 {short_hash(model.get('sha256', ''))}" for model in models))
    else:
        lines.append("Models: none (the notes are written by rules, no trained model)")
    references = provenance.get("references") or []
    for reference in references:
        from_library = reference.get("library_item") is not None
        kind = f"library item {reference['library_item']}" if from_library else "file"
        strength = reference.get("strength")
        lines.append(f"Reference ({kind}): {short_path(reference.get('path', ''), limit)}"
                     f" · source: {reference.get('source') or ('not given' if from_library else 'your file')}"
                     f" · licence: {reference.get('licence') or 'not given'}"
                     + (f" · strength {strength:.2f}" if isinstance(strength, (int, float)) else ""))
    if not references:
        lines.append("Reference: none")
    soundfont = provenance.get("soundfont")
    if soundfont:
        lines.append(f"Sound: {short_path(soundfont.get('path', ''), limit)} · sha256 "
                     f"{short_hash(soundfont.get('sha256', ''))}")
    elif provenance.get("renderer"):
        lines.append(f"Sound: {provenance['renderer']}")
    return "\n".join(lines)
