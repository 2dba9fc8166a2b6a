"""The bundled starter set: MIDI pieces the project made itself, in their own partition, so retrieval
works on a fresh install before the user has imported anything.

Their tags and embeddings ship precomputed in mtm_daw/data/starter/index.json (built by
`python -m training.starter_set`), so seeding a library reads JSON and renders nothing. If the
shipped joint model has changed since the index was built, the pieces are re-embedded from their
renders instead.
"""
from __future__ import annotations

import contextlib
import os
import time
import zipfile
from pathlib import Path

import numpy as np

from mtm_daw.engine.sessions import model_entry, sha256_file
from mtm_daw.errors import MtmError
from mtm_daw.jsonfile import read_json_file
from mtm_daw.library.item import LibraryItem
from mtm_daw.library.store import LibraryStore, SCHEMA_VERSION, default_library_path
from mtm_daw.score.grid import TempoGrid

STARTER_DIR = Path(__file__).resolve().parent.parent / "data" / "starter"
STARTER_PARTITION = "starter"
WINDOWS_FILE = "windows.npz"  # each piece's window embeddings, float16, keyed by file stem


def load_index(folder: Path = STARTER_DIR) -> dict:
    path = folder / "index.json"
    index = read_json_file(path, "the starter library index cannot be read", " — reinstall mtm_daw")
    if not isinstance(index, dict) or not isinstance(index.get("items"), list):
        raise MtmError(f"{path}: not a starter library index — reinstall mtm_daw")
    return index


def seed_starter(store, folder: Path = STARTER_DIR, embedder=None) -> int:
    """Add the starter pieces the library does not hold yet; returns how many were added.
    A piece whose file is missing or altered is left out (its checksum no longer matches)."""
    index = load_index(folder)
    current_model = model_entry("joint_embedding")["sha256"]
    reembed = index.get("embedding_model_sha256") != current_model
    shipped_windows = {} if reembed else _load_windows(folder / WINDOWS_FILE)
    added = 0
    for entry in index["items"]:
        path = folder / entry["file"]
        if store.has_hash(entry["sha256"], STARTER_PARTITION):
            continue
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            continue
        if reembed:
            # deferred: only this path needs pedalboard, PyAV, Pillow
            from mtm_daw.engine.joint_embedding import JointEmbedder, pooled
            from mtm_daw.library.tagging import embed_file

            windows = embed_file(path, "midi", embedder or JointEmbedder.default())
            embedding = pooled(windows)
        else:
            embedding = np.asarray(entry["embedding"], dtype=np.float32)
            windows = shipped_windows.get(Path(entry["file"]).stem)
            if windows is not None and (windows.ndim != 2 or windows.shape[1:] != embedding.shape):
                windows = None  # a damaged windows file: the piece is still searchable by its one vector
        beat = TempoGrid(entry["bpm"]).seconds_per_beat
        now = time.time()
        item = LibraryItem(
            id=None, path=str(path), content_hash=entry["sha256"], kind="midi", duration=entry["duration"],
            bpm=entry["bpm"], beat_times=[round(i * beat, 4) for i in range(int(entry["duration"] / beat))],
            key=entry["key"], loudness=-14.0, genre=entry["genre"], genre_confidence=1.0, mood=entry["mood"],
            mood_confidence=1.0, instruments=list(entry["instruments"]), caption=entry["caption"],
            partition=STARTER_PARTITION, source=entry["source"], licence=entry["licence"],
            notes_path=str(path), added_at=now, updated_at=now)
        if store.add_item_if_new(item, embedding, windows) is not None:
            added += 1
    return added


def _load_windows(path: Path) -> dict[str, np.ndarray]:
    """{file stem: (windows, dim) float32} from the shipped windows file; empty when it is missing or
    unreadable (the starter pieces then lack re-ranking by windows, nothing else)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            found = {name: data[name].astype(np.float32) for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return {}
    return {name: w for name, w in found.items() if np.isfinite(w).all()}


def open_library(path: str | os.PathLike | None = None, create: bool = True, read_only: bool = False):
    """Open the library at `path` (default: $MTM_LIBRARY or the user data folder) with the shipped
    joint model; a library created here is seeded with the starter set, so search works at once.

    read_only (for search, ls, stats): an existing library of the current schema is opened for reading
    only (so read-only media work); a missing one is still created. A creation that fails (a full disk,
    Ctrl-C) removes every file it made."""
    path = Path(default_library_path() if path is None else path).expanduser()
    new = not (path.is_file() and path.stat().st_size > 0)
    if read_only and not new:
        store = LibraryStore.open(path, embedding_model=embedding_model_name(), read_only=True)
        if store.schema_version == SCHEMA_VERSION:
            return store
        store.close()  # an older library: opened for writing once, to bring it up to date
        if not os.access(path.parent, os.W_OK):
            raise MtmError(f"{path}: this library comes from an older mtm_daw and must be updated once "
                           "where it can be written")
    made = _claim_new_file(path) if new and create else []
    try:
        store = LibraryStore.open(path, create=create, embedding_model=embedding_model_name())
    except BaseException:
        _remove(made)
        raise
    if new:
        try:
            seed_starter(store)
        except BaseException:
            store.close()
            _remove(made)
            raise
    return store


def _claim_new_file(path: Path) -> list[Path]:
    """Create the library file exclusively: the files this process then makes are its own to remove if the
    creation fails. Another process that made it first (two first imports at once), or a file already
    there, is left alone: nothing to remove."""
    companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except OSError:  # there already, or the folder cannot be written: LibraryStore.open says which
        return []
    return [path, *(companion for companion in companions if not companion.exists())]


def _remove(paths: list[Path]) -> None:
    for made in paths:
        with contextlib.suppress(OSError):
            made.unlink()


def embedding_model_name() -> str:
    """How a library records which embedding model made its vectors: name and checksum prefix."""
    return f"joint_embedding:{model_entry('joint_embedding')['sha256'][:16]}"
