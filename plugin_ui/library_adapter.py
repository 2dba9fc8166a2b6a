"""The one place the panel meets the music library (mtm_daw.library, issue 4) — and reference files.

The library is being built beside the panel. This adapter uses its planned API when it imports and
a library file exists, and otherwise reports why not, so the panel can show a disabled list:

    mtm_daw.library.starter.open_library(path) (seeds a new library), store.default_library_path(), store.get(id)
    mtm_daw.library.search.search(store, query_vector, filters, k, query_windows=) -> list[Reference]
    mtm_daw.library.item.SearchFilters(genre=, mood=, bpm_min=, bpm_max=, ...)
    Reference(item: LibraryItem, score, matched, track)
    mtm_daw.library.tagging.query_embedding(words or a file path, embedder) -> (vector, windows or None)
    mtm_daw.library.retrieve.reference_control(Reference, strength) -> ControlSignal (else the item's file)

Runs in the engine process (no Qt). Everything the panel gets back is a plain dict row.
"""
from __future__ import annotations

from pathlib import Path

from mtm_daw.errors import MtmError

NO_LIBRARY = "No library yet — add files with `mtm library add`"
FILTER_NAMES = ("genre", "mood", "bpm_min", "bpm_max", "key", "mode", "partition")

_open_stores: dict[str, object] = {}


def _library_modules():
    """(store module, search function, SearchFilters) or ImportError."""
    from mtm_daw.library import store as store_module
    from mtm_daw.library.item import SearchFilters
    from mtm_daw.library.search import search

    return store_module, search, SearchFilters


def library_status(path: str | None = None) -> dict:
    """{"available": bool, "message": str, "path": str}: can the panel search a library now?"""
    try:
        store_module, _, _ = _library_modules()
    except ImportError:
        return {"available": False, "message": NO_LIBRARY, "path": path or ""}
    try:
        library = Path(path).expanduser() if path else Path(store_module.default_library_path())
        _store(str(library))  # a new library starts with the bundled starter set
    except MtmError as error:
        return {"available": False, "message": f"The library could not be opened: {error}", "path": path or ""}
    except (AttributeError, TypeError) as error:  # the library landed with another API than planned here
        return {"available": False, "message": f"The library's interface changed; the panel needs an update ({error})",
                "path": path or ""}
    return {"available": True, "message": f"Library: {library}", "path": str(library)}


def _store(path: str):
    if path not in _open_stores:
        store_module, _, _ = _library_modules()
        from mtm_daw.library.starter import open_library

        _open_stores[path] = open_library(path)
    return _open_stores[path]


def search_references(path: str | None, query: str, filters: dict, k: int = 20) -> list[dict]:
    """Broad search (the query alone) or targeted search (with filters): rows for the reference list.
    The query is words, or the path of an audio or MIDI file to sound like."""
    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.library.tagging import query_embedding

    if not query or not query.strip():
        raise MtmError("type what the reference should sound like, or describe a file first")
    status = library_status(path)
    if not status["available"]:
        raise MtmError(status["message"])
    _, search, SearchFilters = _library_modules()
    chosen = {name: value for name, value in filters.items() if name in FILTER_NAMES and value not in (None, "")}
    vector, windows = query_embedding(query.strip(), JointEmbedder.default())
    references = search(_store(status["path"]), vector, SearchFilters(**chosen), k, query_windows=windows)
    return [reference_row(reference, status["path"]) for reference in references]


def reference_row(reference, library: str = "") -> dict:
    """A Reference as the row the panel lists; the fields a LibraryItem may or may not have are read here only."""
    item = reference.item
    path = str(getattr(item, "path", ""))
    return {
        "kind": "library",
        "library": library,
        "item_id": getattr(item, "id", None),
        "path": path,
        "title": getattr(item, "title", None) or Path(path).stem,
        "caption": getattr(item, "caption", "") or "",
        "genre": getattr(item, "genre", "") or "",
        "mood": getattr(item, "mood", "") or "",
        "bpm": float(getattr(item, "bpm", 0.0) or 0.0),
        "key": getattr(item, "key", "") or "",
        "duration": float(getattr(item, "duration", 0.0) or 0.0),
        "score": float(reference.score),
        "matched": sorted(reference.matched) if reference.matched else [],
        "track": str(reference.track),
        "source": getattr(item, "source", "") or "",
        "licence": getattr(item, "licence", "") or "",
    }


def reference_control(reference: dict):
    """The ControlSignal for the chosen reference: {"kind": "file" | "library", "path", "strength",
    and for library rows "library" and "item_id"}.

    A library item goes through the library's own control signal (its transcription when it has
    one) when that API is there; otherwise, and for a reference file, through the file itself.
    """
    from mtm_daw.engine.reference import load_reference

    strength = float(reference.get("strength", 0.7))
    kind = reference.get("kind", "file")
    if kind not in ("file", "library"):
        raise MtmError(f"unknown kind of reference '{kind}'")
    if kind == "library" and reference.get("item_id") is not None and reference.get("library"):
        try:
            from mtm_daw.library.item import Reference
            from mtm_daw.library.retrieve import reference_control as library_control
        except ImportError:
            pass
        else:
            item = _store(reference["library"]).get(int(reference["item_id"]))
            return library_control(Reference(item, float(reference.get("score", 0.0))), strength)
    if not reference.get("path"):
        raise MtmError("the chosen reference has no file")
    return load_reference(reference["path"], strength)


def reference_record(reference: dict, signal):
    """The provenance record of the chosen reference (mtm_daw.provenance.ReferenceRecord) for the cue's
    sidecar: the file its control signal was read from with its SHA-256 (so the cue can be made again,
    extended or regenerated) and, for a library row, the item's path, caption, source and licence."""
    from mtm_daw.provenance import file_reference, library_reference

    strength = float(signal.strength)
    if reference.get("kind") == "library" and reference.get("item_id") is not None and reference.get("library"):
        try:
            from mtm_daw.library.item import Reference
        except ImportError:
            pass
        else:
            item = _store(reference["library"]).get(int(reference["item_id"]))
            return library_reference(Reference(item, float(reference.get("score", 0.0)),
                                               tuple(reference.get("matched") or ()),
                                               str(reference.get("track") or "broad")), strength)
    record = file_reference(reference["path"], strength)
    if reference.get("kind") == "library":  # a row without the library's own API: what the row tells
        record.library = {"id": reference.get("item_id"), "path": reference.get("path", ""),
                          "caption": reference.get("caption", ""), "source": reference.get("source", ""),
                          "licence": reference.get("licence", "")}
    return record
