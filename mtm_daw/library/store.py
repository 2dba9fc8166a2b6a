"""The music library's storage: one SQLite file holding the items and their embeddings.

    with LibraryStore.open() as store:                 # $MTM_LIBRARY or the user data folder
        item_id = store.add_item(item, embedding)      # one transaction: the row and its vector
        store.update_tags(item_id, genre="funk")
        problems = store.verify()

Layout (schema version 3):
- `meta(key, value)`: schema_version, embedding_dim, embedding_model, created_with, and two change
  counters — `changes` (every write) and `rewrites` (removals and tag edits) — that tell an in-memory
  search index in any process whether it is current and whether appending new rows is enough.
- `items`: one row per (file content, partition); lists are JSON text. UNIQUE(content_hash, partition).
- `item_vectors`: a sqlite-vec `vec0` table, rowid = items.id, the unit-length embedding
  (float[dim], cosine), `partition` as its partition key and copies of the filterable tags
  (genre, mood, key, mode, bpm, duration) as metadata columns, so a KNN query filters inside sqlite-vec.
- `item_windows` (v2): id = items.id, the embeddings of the item's 6 s windows as float16 (windows x dim),
  for re-ranking a search by sound; items added before v2 have none until `mtm library reembed`.
- `item_embeddings` (v3): id = items.id, the same unit embedding as item_vectors, float32 bytes, in a
  plain table: the in-memory search index reads all of them in one query (512K in ~0.7 s here), where
  a vec0 scan returns one row at a time (~15 us each: 8 s) and vec0's own storage is not its API.
  Every write changes both copies in one transaction; verify() checks that they agree.

Every process opens its own connection; the file is in WAL mode, writes take the lock up front
(BEGIN IMMEDIATE) and wait up to 30 s for another writer. All SQL is parameterised; the only values
formatted into SQL are the embedding width (a checked int) and savepoint names the code makes.
A file that is not an mtm_daw library, is damaged, or was written by a newer mtm_daw is refused with
an MtmError and left exactly as it was.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import numpy as np
import platformdirs

from mtm_daw import __version__
from mtm_daw.errors import MtmError
from mtm_daw.library.item import LibraryItem, SearchFilters, canonical_key, canonical_tag, key_mode
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    import apsw

SCHEMA_VERSION = 3
DEFAULT_DIM = 128
MAX_DIM = 8192  # sqlite-vec's limit for one vector
BUSY_TIMEOUT_MS = 30_000
ENV_VAR = "MTM_LIBRARY"
SETUP_HINT = "run `pip install apsw sqlite-vec` (or `bash scripts/setup.sh`)"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NOT_MODIFIED = "the file was not modified"

# items columns in the order rows are written and read (id first when reading).
_ITEM_COLUMNS = ("path", "content_hash", "kind", "duration", "bpm", "beat_times", "key", "loudness", "genre",
                 "genre_confidence", "mood", "mood_confidence", "instruments", "caption", "partition", "source",
                 "licence", "notes_path", "added_at", "updated_at")
_SELECT_ITEMS = f"SELECT id, {', '.join(_ITEM_COLUMNS)} FROM items"
_INSERT_ITEM = (f"INSERT INTO items ({', '.join(_ITEM_COLUMNS)}) VALUES ({', '.join('?' * len(_ITEM_COLUMNS))}) "
                "ON CONFLICT (content_hash, partition) DO NOTHING RETURNING id")
_INSERT_EMBEDDING = "INSERT INTO item_embeddings (id, vector) VALUES (?, ?)"
_INSERT_VECTOR = ("INSERT INTO item_vectors (rowid, partition, embedding, genre, mood, key, mode, bpm, duration) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_AT = {name: index for index, name in enumerate(_ITEM_COLUMNS)}


def default_library_path() -> Path:
    """$MTM_LIBRARY if set, else library.sqlite in the user data folder for mtm_daw."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("mtm_daw", appauthor=False)) / "library.sqlite"


# --- schema -------------------------------------------------------------------------------------
def _create_v1(connection: "apsw.Connection", dim: int) -> None:
    connection.execute("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: render sidecars may cite an id
            path TEXT NOT NULL,
            content_hash TEXT NOT NULL,             -- SHA-256 hex of the file's bytes
            kind TEXT NOT NULL CHECK (kind IN ('audio', 'midi')),
            duration REAL NOT NULL,
            bpm REAL NOT NULL,
            beat_times TEXT NOT NULL,               -- JSON list of seconds
            key TEXT NOT NULL,
            loudness REAL NOT NULL,
            genre TEXT NOT NULL,
            genre_confidence REAL NOT NULL,
            mood TEXT NOT NULL,
            mood_confidence REAL NOT NULL,
            instruments TEXT NOT NULL,              -- JSON list of names
            caption TEXT NOT NULL,
            partition TEXT NOT NULL,
            source TEXT NOT NULL,
            licence TEXT NOT NULL,
            notes_path TEXT NOT NULL,
            added_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (content_hash, partition)
        );
        CREATE INDEX items_path ON items (path);
        CREATE INDEX items_partition_genre ON items (partition, genre);
    """)
    # The width is a checked int (see _check_dim): DDL cannot take it as a parameter.
    connection.execute(f"""
        CREATE VIRTUAL TABLE item_vectors USING vec0 (
            partition TEXT PARTITION KEY,
            embedding float[{int(dim)}] distance_metric=cosine,
            genre TEXT, mood TEXT, key TEXT, mode TEXT, bpm FLOAT, duration FLOAT
        )
    """)
    vec_version = connection.execute("SELECT vec_version()").fetchall()[0][0]
    connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
        ("embedding_dim", str(int(dim))), ("embedding_model", ""), ("changes", "0"), ("rewrites", "0"),
        ("created_with", f"mtm_daw {__version__}, sqlite-vec {vec_version}")])


def _add_windows_v2(connection: "apsw.Connection", dim: int) -> None:
    connection.execute("""
        CREATE TABLE item_windows (
            id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
            vectors BLOB NOT NULL  -- float16, (windows, embedding_dim) row-major
        )
    """)


def _add_embeddings_v3(connection: "apsw.Connection", dim: int) -> None:
    connection.execute("""
        CREATE TABLE item_embeddings (
            id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
            vector BLOB NOT NULL  -- float32, unit length, embedding_dim wide
        )
    """)
    # Read once through sqlite-vec's interface (a full scan: ~8 s for 512K items here).
    connection.execute("INSERT INTO item_embeddings (id, vector) SELECT rowid, embedding FROM item_vectors")


# What each schema version adds (verify checks that a library of version n has everything up to n).
SCHEMA_OBJECTS: tuple[dict[str, str], ...] = (
    {"meta": "table", "items": "table", "items_path": "index", "items_partition_genre": "index",
     "item_vectors": "table"},
    {"item_windows": "table"},
    {"item_embeddings": "table"})

# MIGRATIONS[n] takes a library from schema version n to n + 1, inside one transaction.
MIGRATIONS: tuple[Callable[["apsw.Connection", int], None], ...] = (_create_v1, _add_windows_v2, _add_embeddings_v3)
assert len(MIGRATIONS) == len(SCHEMA_OBJECTS) == SCHEMA_VERSION


# --- results ------------------------------------------------------------------------------------
@dataclass
class LibraryStats:
    items: int
    by_partition: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    by_genre: dict[str, int] = field(default_factory=dict)  # "" = untagged
    total_duration: float = 0.0  # seconds
    db_bytes: int = 0  # the file and its write-ahead log


@dataclass(frozen=True)
class ChangeCounters:
    changes: int  # bumped by every write
    rewrites: int  # bumped by removals and tag edits (appending rows leaves it alone)


@dataclass
class VectorRows:
    """Items with id > after_id that have a vector: the unit embeddings and the search tags, row by row.

    Rows come in storage order (not sorted by id): the search index orders them its own way.
    """

    ids: np.ndarray  # (N,) int64
    vectors: np.ndarray  # (N, D) float32, unit length
    partition: np.ndarray  # (N,) str objects
    genre: np.ndarray
    mood: np.ndarray
    key: np.ndarray
    bpm: np.ndarray  # (N,) float64
    duration: np.ndarray  # (N,) float64
    counters: ChangeCounters


# --- opening ------------------------------------------------------------------------------------
def _sqlite_modules():
    """apsw and the path of the sqlite-vec extension, or an MtmError saying how to install them."""
    try:
        # deferred: only this path needs apsw
        import apsw
    except ImportError as exc:
        raise MtmError(f"the music library needs the apsw package (SQLite with extensions) — {SETUP_HINT}") from exc
    try:
        # deferred: only this path needs sqlite-vec
        import sqlite_vec
    except ImportError as exc:
        raise MtmError(f"the music library needs the sqlite-vec package — {SETUP_HINT}") from exc
    return apsw, sqlite_vec.loadable_path()


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite, or whose header promises more pages than the file holds."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise MtmError(f"{path}: cannot read the library file ({exc.strerror or exc})") from exc
    if not header.startswith(_SQLITE_MAGIC):
        raise MtmError(f"{path}: not an mtm_daw library (not a SQLite database) — {_NOT_MODIFIED}; "
                       f"choose another path or set {ENV_VAR}")
    if len(header) < 100:
        raise MtmError(f"{path}: the library file is truncated ({size} bytes) — {_NOT_MODIFIED}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96]  # the in-header size is trusted only then
    wal = Path(f"{path}-wal")
    pending = wal.is_file() and wal.stat().st_size > 0  # a checkpoint cut short (full disk, crash): SQLite reads the WAL
    if header_valid and pages and size < pages * page_size and not pending:
        raise MtmError(f"{path}: the library file is truncated ({size} bytes, its header says "
                       f"{pages * page_size}) — {_NOT_MODIFIED}; restore a backup or move it aside")


def _check_dim(dim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
        raise MtmError(f"the embedding width must be a whole number in 1..{MAX_DIM}, got {dim!r}")
    return dim


# SQLite and sqlite-vec messages (SQLError, not CorruptError) that a damaged schema or vec0 table gives.
_DAMAGE_SIGNS = ("unsupported file format", "no such column", "no such table", "malformed", "could not extract",
                 "could not fetch", "could not find", "could not filter", "could not open", "internal sqlite-vec error")
# Read failures a damaged file causes besides apsw's own: bad UTF-8 in TEXT, bad JSON in a list column.
_DAMAGED_VALUES = (UnicodeDecodeError, json.JSONDecodeError)


def _translate(path: Path, apsw, exc: BaseException) -> BaseException:
    """An MtmError for SQLite failures a user can act on; anything else (a bug) stays as it is."""
    if isinstance(exc, _DAMAGED_VALUES) or (
            isinstance(exc, apsw.SQLError) and any(sign in str(exc).lower() for sign in _DAMAGE_SIGNS)):
        return MtmError(f"{path}: the library file is damaged ({type(exc).__name__}: {exc}) — {_NOT_MODIFIED}; "
                        "restore a backup, or move it aside and import your files again")
    if isinstance(exc, (apsw.CorruptError, apsw.NotADBError)):
        return MtmError(f"{path}: the library file is damaged ({exc}) — {_NOT_MODIFIED}; "
                        "restore a backup, or move it aside and import your files again")
    if isinstance(exc, (apsw.BusyError, apsw.LockedError)):
        return MtmError(f"{path}: the library is busy (another mtm process is writing to it); try again")
    if isinstance(exc, apsw.FullError):
        return MtmError(f"{path}: the disk is full; the library was not changed")
    if isinstance(exc, (apsw.ReadOnlyError, apsw.CantOpenError)) and not os.access(path.parent, os.W_OK):
        if not path.exists():
            return MtmError(f"{path}: cannot create the library here: the folder is read-only")
        return MtmError(f"{path}: the library is on read-only storage: search, ls, stats and verify work; "
                        "adding or changing items needs a writable copy")
    if isinstance(exc, (apsw.ReadOnlyError, apsw.PermissionsError, apsw.CantOpenError, apsw.IOError)):
        return MtmError(f"{path}: cannot open or write the library ({exc}); check the folder's permissions")
    return exc


def _read_only_connection(apsw, path: Path):
    """A read-only connection. A WAL library needs its -shm file, which read-only media cannot hold: there
    the file is opened as immutable (nothing can write it meanwhile), unless its log holds changes that
    immutable reading would not see (a library copied while in use)."""
    connection = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        connection.set_busy_timeout(BUSY_TIMEOUT_MS)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        return connection
    except (apsw.CantOpenError, apsw.ReadOnlyError, apsw.IOError):
        connection.close()
    except BaseException:
        connection.close()
        raise
    log = path.with_name(path.name + "-wal")
    if log.exists() and log.stat().st_size > 0:
        raise MtmError(f"{path}: the library on this read-only storage has changes in its -wal file (it was "
                       "copied while in use); open it once where it can be written")
    uri = path.resolve().as_uri() + "?immutable=1"
    return apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)


class LibraryStore:
    """One open library file. Use `LibraryStore.open(...)`; close it (or use `with`) when done."""

    def __init__(self, path: Path, connection: "apsw.Connection", apsw_module, dim: int,
                 embedding_model: str) -> None:
        self.path = path
        self.dim = dim
        self.embedding_model = embedding_model
        self.schema_version = SCHEMA_VERSION  # what the file holds (lower only when opened with upgrade=False)
        self._connection = connection
        self._apsw = apsw_module
        self._lock = threading.RLock()  # one connection per store; threads take turns
        self._depth = 0  # transaction nesting
        self._own_writes = 0  # _bump calls: with data_version, whether counters() must read the file again
        self._counted: tuple[tuple[int, int], ChangeCounters] | None = None  # (what was seen, the counters)

    # --- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, create: bool = True, dim: int | None = None,
             embedding_model: str | None = None, upgrade: bool = True, read_only: bool = False) -> "LibraryStore":
        """Open (or create) a library. `dim` and `embedding_model`, when given, must match the file's.

        A new library gets `dim` (default 128) and records `embedding_model`; an existing one keeps its own.
        An older schema is brought up to date, unless upgrade=False (for checking a file without writing
        to it: `schema_version` then says what it holds). read_only opens an existing file for reading
        only (never creating, upgrading or recording anything), which also works on read-only media.
        """
        if read_only:
            create = upgrade = False
        path = Path(default_library_path() if path is None else path).expanduser()
        try:
            if "\x00" in str(path):
                raise ValueError("a NUL character in the path")
            str(path).encode("utf-8")  # SQLite takes UTF-8 file names only
            is_dir, exists = path.is_dir(), path.is_file() and path.stat().st_size > 0
        except (OSError, ValueError) as exc:  # a name too long for the file system, a name that is not UTF-8
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise MtmError(f"{path}: cannot use this path for the library ({reason}); choose another path "
                           f"or set {ENV_VAR}") from None
        if is_dir:
            raise MtmError(f"{path}: is a folder; the library is one file (e.g. {path / 'library.sqlite'})")
        if not exists and not create:
            raise MtmError(f"{path}: no library there yet (import some files first, or set {ENV_VAR})")
        if exists:
            _check_header(path)
        new_dim = _check_dim(DEFAULT_DIM if dim is None else dim)
        apsw, extension = _sqlite_modules()
        if not exists:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise MtmError(f"{path.parent}: cannot create the library folder ({exc.strerror or exc})") from exc
        flags = apsw.SQLITE_OPEN_READWRITE | (apsw.SQLITE_OPEN_CREATE if create else 0)
        connection = None
        try:
            connection = _read_only_connection(apsw, path) if read_only else apsw.Connection(str(path), flags=flags)
            connection.set_busy_timeout(BUSY_TIMEOUT_MS)
            connection.enable_load_extension(True)
            try:
                connection.load_extension(extension)
            except apsw.Error as exc:
                raise MtmError(f"the sqlite-vec extension did not load ({exc}) — {SETUP_HINT}") from exc
            connection.enable_load_extension(False)
            version, file_dim, model = _prepare(connection, path, new_dim, create, upgrade)
        except BaseException as exc:
            if connection is not None:
                connection.close()
            if isinstance(exc, (apsw.Error, *_DAMAGED_VALUES)):
                translated = _translate(path, apsw, exc)
                if translated is not exc:
                    raise translated from exc
            raise
        store = cls(path, connection, apsw, file_dim, model)
        store.schema_version = version
        try:
            if dim is not None and dim != file_dim:
                raise MtmError(f"{path}: this library holds {file_dim}-wide embeddings, not {dim}; "
                               "it was built with another embedding model — use a new library file")
            if embedding_model:
                store._check_model(embedding_model)
                if not read_only:
                    store._claim_model(embedding_model)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> "LibraryStore":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LibraryStore({str(self.path)!r}, dim={self.dim})"

    # --- transactions -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (self._apsw.Error, *_DAMAGED_VALUES) as exc:
            translated = _translate(self.path, self._apsw, exc)
            if translated is exc:
                raise
            raise translated from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all; nests (inner levels are savepoints)."""
        if self.schema_version < SCHEMA_VERSION:  # opened with upgrade=False: its tables are an older set
            raise MtmError(f"{self.path}: this library was opened without upgrading it (schema {self.schema_version}, "
                           f"this version writes {SCHEMA_VERSION}); open it normally to change it")
        with self._lock, self._errors():
            depth = self._depth
            begin, commit, rollback = (("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK") if depth == 0 else
                                       (f"SAVEPOINT level{depth}", f"RELEASE level{depth}",
                                        f"ROLLBACK TO level{depth}; RELEASE level{depth}"))
            self._connection.execute(begin)
            self._depth += 1
            try:
                yield
                self._connection.execute(commit)
            except BaseException:
                with contextlib.suppress(self._apsw.Error):
                    self._connection.execute(rollback)
                raise
            finally:
                self._depth -= 1

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the file (a read transaction unless a write is open)."""
        with self._lock, self._errors():
            if self._depth:
                yield
                return
            self._connection.execute("BEGIN")
            try:
                yield
            finally:
                if self._connection.in_transaction:  # SQLite may have ended it after an error
                    self._connection.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock, self._errors():
            return self._connection.execute(sql, params).fetchall()

    def _bump(self, rewrite: bool) -> None:
        self._own_writes += 1  # data_version does not count this connection's commits
        names = ("changes", "rewrites") if rewrite else ("changes",)
        for name in names:
            self._connection.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (name,))

    def _check_model(self, model: str) -> None:
        if self.embedding_model and self.embedding_model != model:
            raise MtmError(f"{self.path}: this library's embeddings come from {self.embedding_model!r}, "
                           f"not {model!r} — run `mtm library reembed` to bring it to this model (tags and edits are kept)")

    def _claim_model(self, model: str) -> None:
        """Record the model a new library's embeddings come from (after _check_model)."""
        if not self.embedding_model:
            with self.transaction():
                self._connection.execute("UPDATE meta SET value = ? WHERE key = 'embedding_model'", (model,))
            self.embedding_model = model

    # --- writing ------------------------------------------------------------------------------
    def add_item(self, item: LibraryItem, embedding: np.ndarray, windows: np.ndarray | None = None) -> int:
        """Store an item and its embedding (and its window embeddings, when known); return its id (the
        existing id if this file is already in that partition — nothing is changed then)."""
        return self.add_items([item], np.asarray(embedding, dtype=np.float32)[None],
                              windows=None if windows is None else [windows])[0]

    def add_item_if_new(self, item: LibraryItem, embedding: np.ndarray,
                        windows: np.ndarray | None = None) -> int | None:
        """As add_item, but None when this file was already in that partition: decided inside the insert's
        transaction, so importers running at once count exactly what each of them added."""
        ids, new = self._add_items([item], np.asarray(embedding, dtype=np.float32)[None],
                                   windows=None if windows is None else [windows])
        return ids[0] if new[0] else None

    def add_items(self, items: Sequence[LibraryItem], embeddings: np.ndarray,
                  progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                  windows: Sequence[np.ndarray | None] | None = None) -> list[int]:
        """Store many items in one transaction (all or none); embeddings is (len(items), dim), windows
        (optional) one (n, dim) array or None per item."""
        return self._add_items(items, embeddings, progress, cancel, windows)[0]

    def _add_items(self, items: Sequence[LibraryItem], embeddings: np.ndarray,
                   progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                   windows: Sequence[np.ndarray | None] | None = None) -> tuple[list[int], list[bool]]:
        """(each item's id, whether it was inserted now)."""
        vectors = self._unit_vectors(embeddings, len(items))
        window_blobs = [None] * len(items) if windows is None else [self._window_blob(w) for w in windows]
        if len(window_blobs) != len(items):
            raise MtmError(f"expected window embeddings for {len(items)} item(s), got {len(window_blobs)}")
        now = time.time()
        ids, inserted = [], []
        with self.transaction():
            added = 0
            for index, (item, vector) in enumerate(zip(items, vectors)):
                if cancel is not None and index % 1000 == 0:
                    cancel.check()
                row = _item_row(item, now)
                new = self._connection.execute(_INSERT_ITEM, row).fetchall()
                inserted.append(bool(new))
                if new:
                    ids.append(new[0][0])
                    self._connection.execute(_INSERT_VECTOR, _vector_row(new[0][0], row, vector))
                    self._connection.execute(_INSERT_EMBEDDING, (new[0][0], vector.tobytes()))
                    if window_blobs[index] is not None:
                        self._connection.execute("INSERT INTO item_windows (id, vectors) VALUES (?, ?)",
                                                 (new[0][0], window_blobs[index]))
                    added += 1
                else:
                    ids.append(self._connection.execute(
                        "SELECT id FROM items WHERE content_hash = ? AND partition = ?",
                        (item.content_hash, item.partition)).fetchall()[0][0])
                if index % 1000 == 999:
                    progress("library", (index + 1) / len(items))
            if added:
                self._bump(rewrite=False)
        progress("library", 1.0)
        return ids, inserted

    def _unit_vectors(self, embeddings: np.ndarray, count: int) -> np.ndarray:
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (count, self.dim):
            raise MtmError(f"expected {count} embedding(s) of width {self.dim} for this library, "
                           f"got an array of shape {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise MtmError("an embedding contains NaN or infinity; the embedding model's input was unusable")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if (norms == 0).any():
            raise MtmError("an embedding is all zeros (silent or empty input?); it cannot be compared")
        return vectors / norms

    def unit_windows(self, windows: np.ndarray) -> np.ndarray:
        """Checked window embeddings (windows, dim) as float32 unit rows (stored ones and a query's alike)."""
        matrix = np.atleast_2d(np.asarray(windows, dtype=np.float32))
        if matrix.ndim != 2 or matrix.shape[1] != self.dim or len(matrix) == 0:
            raise MtmError(f"window embeddings must be (windows, {self.dim}), got an array of shape {matrix.shape}")
        return self._unit_vectors(matrix, len(matrix))

    def _window_blob(self, windows: np.ndarray | None) -> bytes | None:
        return None if windows is None else self.unit_windows(windows).astype(np.float16).tobytes()

    def window_vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """{id: (windows, dim) float32 unit rows} for those of `ids` stored with window embeddings."""
        found = {}
        with self._snapshot():
            for item_id in ids:
                rows = self._connection.execute("SELECT vectors FROM item_windows WHERE id = ?",
                                                (int(item_id),)).fetchall()
                blob = rows[0][0] if rows else b""
                if blob and len(blob) % (2 * self.dim) == 0:
                    found[int(item_id)] = np.frombuffer(blob, dtype=np.float16).reshape(-1, self.dim).astype(np.float32)
        return found

    def count_without_windows(self) -> int:
        """Items stored without window embeddings (added before schema 2, or by an older model)."""
        return self._rows("SELECT count(*) FROM items WHERE id NOT IN (SELECT id FROM item_windows)")[0][0]

    def replace_embeddings(self, embeddings: dict[int, tuple[np.ndarray, np.ndarray]], model: str,
                           remove: Sequence[int] = ()) -> None:
        """Swap every item's vector and windows for ones another embedding model made, record that model,
        and remove the items in `remove`, all in one transaction: the library is wholly old or wholly new.

        `embeddings` is {id: (vector, windows)} and must cover every item not removed (one added
        meanwhile by another process would otherwise keep a vector from the old space)."""
        dropped = {int(i) for i in remove}
        rows = {int(item_id): (self._unit_vectors(np.asarray(vector, np.float32)[None], 1)[0], self._window_blob(windows))
                for item_id, (vector, windows) in embeddings.items()}
        with self.transaction():
            present = {row[0] for row in self._connection.execute("SELECT id FROM items")}
            uncovered = present - dropped - set(rows)
            if uncovered:
                raise MtmError(f"{self.path}: {len(uncovered)} item(s) have no new embedding (ids {_some(sorted(uncovered))})"
                               f" — perhaps added by another process meanwhile; run the command again (nothing was changed)")
            for item_id in sorted(dropped & present):
                self._delete(item_id)
            for item_id, (vector, blob) in rows.items():
                if item_id not in present or item_id in dropped:
                    continue
                self._connection.execute("UPDATE item_vectors SET embedding = ? WHERE rowid = ?", (vector.tobytes(), item_id))
                self._connection.execute("INSERT OR REPLACE INTO item_embeddings (id, vector) VALUES (?, ?)",
                                         (item_id, vector.tobytes()))  # also repairs a missing copy
                self._connection.execute("DELETE FROM item_windows WHERE id = ?", (item_id,))
                if blob is not None:
                    self._connection.execute("INSERT INTO item_windows (id, vectors) VALUES (?, ?)", (item_id, blob))
            self._connection.execute("UPDATE meta SET value = ? WHERE key = 'embedding_model'", (model,))
            self._bump(rewrite=True)
        self.embedding_model = model

    def remove(self, ids: int | Iterable[int] | str | os.PathLike = (), *,
               path: str | os.PathLike | None = None) -> int:
        """Remove items by id, or every item stored under a path (given as `path=` or in place of ids);
        return how many went. The files themselves are not touched."""
        if isinstance(ids, (str, os.PathLike)):
            ids, path = (), ids
        targets = [ids] if isinstance(ids, int) else [int(i) for i in ids]
        with self.transaction():
            if path is not None:
                targets += [row[0] for row in self._connection.execute(
                    "SELECT id FROM items WHERE path = ?", (os.fspath(path),))]
            removed = 0
            for item_id in sorted(set(targets)):
                removed += self._delete(item_id)
            if removed:
                self._bump(rewrite=True)
        return removed

    def _delete(self, item_id: int) -> int:
        """Delete one item and everything stored for it (inside a transaction); 1 if it existed, else 0."""
        self._connection.execute("DELETE FROM item_vectors WHERE rowid = ?", (item_id,))
        self._connection.execute("DELETE FROM item_windows WHERE id = ?", (item_id,))
        self._connection.execute("DELETE FROM item_embeddings WHERE id = ?", (item_id,))
        self._connection.execute("DELETE FROM items WHERE id = ?", (item_id,))
        return self._connection.changes()

    def update_tags(self, item_id: int, *, genre: str | None = None, mood: str | None = None,
                    source: str | None = None, licence: str | None = None) -> LibraryItem:
        """Set the user-editable tags; a genre or mood the user sets gets confidence 1.0."""
        values = {"genre": genre, "mood": mood, "source": source, "licence": licence}
        for name, value in values.items():
            if value is not None and not isinstance(value, str):
                raise MtmError(f"{name} must be text, got {type(value).__name__}")
        with self.transaction():
            item = self.get(item_id)
            edited = replace(item, updated_at=time.time(), **{n: v for n, v in values.items() if v is not None})
            if genre is not None:
                edited.genre, edited.genre_confidence = canonical_tag(genre), 1.0
            if mood is not None:
                edited.mood, edited.mood_confidence = canonical_tag(mood), 1.0
            self._connection.execute(
                "UPDATE items SET genre = ?, genre_confidence = ?, mood = ?, mood_confidence = ?, source = ?, "
                "licence = ?, updated_at = ? WHERE id = ?",
                (edited.genre, edited.genre_confidence, edited.mood, edited.mood_confidence, edited.source,
                 edited.licence, edited.updated_at, item_id))
            self._connection.execute("UPDATE item_vectors SET genre = ?, mood = ? WHERE rowid = ?",
                                     (edited.genre, edited.mood, item_id))
            self._bump(rewrite=genre is not None or mood is not None)  # the search index holds those two
        return edited

    def set_notes_path(self, item_id: int, notes_path: str | os.PathLike) -> None:
        """Record where an audio item's transcription (MIDI) is cached."""
        with self.transaction():
            self.get(item_id)
            self._connection.execute("UPDATE items SET notes_path = ?, updated_at = ? WHERE id = ?",
                                     (os.fspath(notes_path), time.time(), item_id))
            self._bump(rewrite=False)

    # --- reading ------------------------------------------------------------------------------
    def get(self, item_id: int) -> LibraryItem:
        items = self.get_many([item_id])
        if not items:
            raise MtmError(f"{self.path}: no library item with id {item_id}")
        return items[0]

    def get_many(self, ids: Sequence[int]) -> list[LibraryItem]:
        """The items with these ids, in the order asked (ids not in the library are left out)."""
        ids = [int(i) for i in ids]
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        most = self._connection.limit(self._apsw.SQLITE_LIMIT_VARIABLE_NUMBER)  # bound values a statement takes
        if len(wanted) > most:
            raise MtmError(f"at most {most} library items can be read at once, {len(wanted)} were asked for")
        # an IN list of bound ids: a third quicker than json_each for a search's 10 (0.24 against 0.37 ms cold)
        rows = self._rows(f"{_SELECT_ITEMS} WHERE id IN ({', '.join('?' * len(wanted))})", wanted)
        with self._errors():  # one statement sees one state of the file: no transaction around it (a search's cost)
            by_id = {row[0]: _row_item(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    def has_hash(self, content_hash: str, partition: str | None = None) -> bool:
        """Whether a file with this content is already in the library (in `partition`, or in any)."""
        if partition is None:
            rows = self._rows("SELECT 1 FROM items WHERE content_hash = ? LIMIT 1", (content_hash,))
        else:
            rows = self._rows("SELECT 1 FROM items WHERE content_hash = ? AND partition = ?",
                              (content_hash, partition))
        return bool(rows)

    def find_by_path(self, path: str | os.PathLike) -> list[LibraryItem]:
        """Items stored under exactly this path (one per partition it was imported into)."""
        rows = self._rows(f"{_SELECT_ITEMS} WHERE path = ? ORDER BY id", (os.fspath(path),))
        with self._errors():
            return [_row_item(row) for row in rows]

    def list_items(self, partition: str | None = None, limit: int = 100, offset: int = 0) -> list[LibraryItem]:
        """Items in id order (oldest first), optionally one partition's, a page at a time."""
        where, params = ("WHERE partition = ?", [partition]) if partition is not None else ("", [])
        rows = self._rows(f"{_SELECT_ITEMS} {where} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset])
        with self._errors():
            return [_row_item(row) for row in rows]

    def count(self, partition: str | None = None) -> int:
        if partition is None:
            return self._rows("SELECT count(*) FROM items")[0][0]
        return self._rows("SELECT count(*) FROM items WHERE partition = ?", (partition,))[0][0]

    def last_id(self) -> int:
        """The highest id ever given (ids are never reused; 0 for a library never written to)."""
        rows = self._rows("SELECT seq FROM sqlite_sequence WHERE name = 'items'")
        return int(rows[0][0]) if rows else 0

    def counters(self) -> ChangeCounters:
        """The file's change counters. Between transactions, a file that no connection has written since the
        last call answers from memory: SQLite's data_version (other connections' commits) and this store's own
        writes tell, a third quicker than reading the meta table with cold caches (0.10 against 0.15 ms)."""
        with self._lock:
            between = not self._depth and not self._connection.in_transaction  # a value read inside may roll back
            seen = (self._rows("PRAGMA data_version")[0][0], self._own_writes) if between else None
            if seen is not None and self._counted is not None and self._counted[0] == seen:
                return self._counted[1]
            values = dict(self._rows("SELECT key, value FROM meta WHERE key IN ('changes', 'rewrites')"))
            try:
                counters = ChangeCounters(int(values["changes"]), int(values["rewrites"]))
            except (KeyError, ValueError, TypeError):
                raise MtmError(f"{self.path}: the library file is damaged (its change counters are {values!r}) — "
                               f"{_NOT_MODIFIED}; restore a backup, or move it aside and import your files again"
                               ) from None
            if seen is not None:
                self._counted = (seen, counters)
            return counters

    def stats(self) -> LibraryStats:
        with self._snapshot():
            run = self._connection.execute
            total, duration = run("SELECT count(*), coalesce(sum(duration), 0) FROM items").fetchall()[0]
            stats = LibraryStats(
                items=total, total_duration=float(duration),
                by_partition=dict(run("SELECT partition, count(*) FROM items GROUP BY partition").fetchall()),
                by_kind=dict(run("SELECT kind, count(*) FROM items GROUP BY kind").fetchall()),
                by_genre=dict(run("SELECT genre, count(*) FROM items GROUP BY genre").fetchall()))
        stats.db_bytes = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return stats

    # --- for search ---------------------------------------------------------------------------
    def vector_rows(self, after_id: int = 0) -> VectorRows:
        """Every item with id > after_id that has a vector, with its search tags, from one snapshot."""
        with self._snapshot():
            counters = self.counters()
            meta = self._connection.execute(
                "SELECT id, partition, genre, mood, key, bpm, duration FROM items WHERE id > ? ORDER BY id",
                (after_id,)).fetchall()
            item_ids = np.fromiter((row[0] for row in meta), dtype=np.int64, count=len(meta))
            # A library of schema 2 opened without upgrading has no plain copy: sqlite-vec's scan reads it.
            query = ("SELECT id, vector FROM item_embeddings WHERE id > ?" if self.schema_version >= 3
                     else "SELECT rowid, embedding FROM item_vectors WHERE rowid > ?")
            rows = self._connection.execute(query, (after_id,)).fetchall()
        vector_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        matrix = self._matrix([row[1] for row in rows])
        # Line the tags up with the vectors (the matrix is not copied); items without a vector and
        # vectors without an item are left out here, and verify() reports them.
        at = np.minimum(np.searchsorted(item_ids, vector_ids), max(len(item_ids) - 1, 0))
        paired = item_ids[at] == vector_ids if len(item_ids) else np.zeros(len(vector_ids), bool)
        if not paired.all():
            vector_ids, matrix, at = vector_ids[paired], matrix[paired], at[paired]
        columns = list(zip(*meta)) if meta else [()] * 7

        def text(column: int) -> np.ndarray:
            return np.array(columns[column], dtype=object)[at] if len(at) else np.zeros(0, object)

        return VectorRows(ids=vector_ids, vectors=matrix, partition=text(1), genre=text(2), mood=text(3),
                          key=text(4), bpm=np.asarray(columns[5], dtype=np.float64)[at],
                          duration=np.asarray(columns[6], dtype=np.float64)[at], counters=counters)

    def _matrix(self, blobs: list[bytes]) -> np.ndarray:
        """Stored vectors as one (N, dim) float32 array; a blob of the wrong size is a damaged file."""
        if any(len(blob) != 4 * self.dim for blob in blobs):
            raise MtmError(f"{self.path}: the library file is damaged (a stored vector is not {self.dim} wide) — "
                           f"{_NOT_MODIFIED}; run `mtm library verify`, or restore a backup")
        return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), self.dim)

    def nearest(self, query: np.ndarray, filters: SearchFilters, k: int) -> list[tuple[int, float]]:
        """sqlite-vec KNN inside the file: (item id, cosine similarity), best first. `filters` canonical."""
        clauses, params = ["embedding MATCH ?", "k = ?"], [np.asarray(query, dtype=np.float32).tobytes(), k]
        for column, operator, value in (
                ("genre", "=", filters.genre), ("mood", "=", filters.mood), ("key", "=", filters.key),
                ("mode", "=", filters.mode), ("partition", "=", filters.partition),
                ("bpm", ">=", filters.bpm_min), ("bpm", "<=", filters.bpm_max),
                ("duration", ">=", filters.duration_min), ("duration", "<=", filters.duration_max)):
            if value is not None:
                clauses.append(f"{column} {operator} ?")  # column and operator come from the tuple above
                params.append(float(value) if column in ("bpm", "duration") else value)
        rows = self._rows(f"SELECT rowid, distance FROM item_vectors WHERE {' AND '.join(clauses)} "
                          "ORDER BY distance", params)
        return [(row[0], 1.0 - row[1]) for row in rows]

    # --- checking -----------------------------------------------------------------------------
    def verify(self, thorough: bool = True) -> list[str]:
        """Problems found in the file (empty when healthy). thorough=False runs the quicker page check."""
        problems: list[str] = []
        with self._snapshot():
            run = self._connection.execute
            check = run("PRAGMA integrity_check" if thorough else "PRAGMA quick_check").fetchall()
            if [row[0] for row in check] != ["ok"]:
                problems += [f"SQLite: {row[0]}" for row in check[:20]]
            meta = dict(run("SELECT key, value FROM meta").fetchall())
            present = {row[0] for row in run("SELECT name FROM sqlite_master")}
            if meta.get("schema_version") not in {str(v) for v in range(1, SCHEMA_VERSION + 1)}:
                problems.append(f"schema version is {meta.get('schema_version')!r}, expected {SCHEMA_VERSION}")
            else:
                version = int(meta["schema_version"])
                problems += [f"the {kind} {name} is missing (schema {version} has it)"
                             for added in SCHEMA_OBJECTS[:version] for name, kind in added.items()
                             if name not in present]
            sql = run("SELECT sql FROM sqlite_master WHERE name = 'item_vectors'").fetchall()
            declared = re.search(r"float\[(\d+)\]", sql[0][0]) if sql else None
            if declared is None:
                problems.append("the vector table item_vectors is missing")
                return problems
            if meta.get("embedding_dim") != declared.group(1):
                problems.append(f"meta says embeddings are {meta.get('embedding_dim')} wide, "
                                f"the vector table holds {declared.group(1)}")
            probe = np.zeros(int(declared.group(1)), np.float32)
            probe[0] = 1.0
            try:  # through sqlite-vec's own interface: a search and a read of every row
                run("SELECT rowid FROM item_vectors WHERE embedding MATCH ? AND k = 1",
                    (probe.tobytes(),)).fetchall()
                run("SELECT count(embedding) FROM item_vectors").fetchall()
            except self._apsw.Error as exc:
                problems.append(f"the vector table item_vectors cannot be read ({exc})")
                return problems
            lonely = [row[0] for row in run(
                "SELECT id FROM items WHERE id NOT IN (SELECT rowid FROM item_vectors) ORDER BY id")]
            if lonely:
                problems.append(f"{len(lonely)} item(s) have no vector (ids {_some(lonely)})")
            orphans = [row[0] for row in run(
                "SELECT rowid FROM item_vectors WHERE rowid NOT IN (SELECT id FROM items) ORDER BY rowid")]
            if orphans:
                problems.append(f"{len(orphans)} vector(s) belong to no item (rowids {_some(orphans)})")
            has_windows = bool(run("SELECT 1 FROM sqlite_master WHERE name = 'item_windows'").fetchall())
            stray = [] if not has_windows else [row[0] for row in run(
                "SELECT id FROM item_windows WHERE id NOT IN (SELECT id FROM items) ORDER BY id")]
            if stray:
                problems.append(f"{len(stray)} set(s) of window vectors belong to no item (ids {_some(stray)})")
            misshapen = [] if not has_windows else [row[0] for row in run(
                "SELECT id FROM item_windows WHERE length(vectors) = 0 OR length(vectors) % ? != 0 ORDER BY id",
                (2 * int(declared.group(1)),))]
            if misshapen:
                problems.append(f"{len(misshapen)} item(s) have window vectors of the wrong size (ids {_some(misshapen)})")
            wrong = run("SELECT count(*) FROM item_vectors WHERE vec_length(embedding) != ?",
                        (int(declared.group(1)),)).fetchall()[0][0]
            if wrong:
                problems.append(f"{wrong} vector(s) have the wrong width")
            if "item_embeddings" in present:
                problems += self._embedding_problems(4 * int(declared.group(1)), thorough)
            if thorough:
                problems += self._tag_mismatches()
        return problems

    def _embedding_problems(self, size: int, thorough: bool) -> list[str]:
        """item_embeddings must hold one vector of the right size per item, equal to sqlite-vec's copy."""
        run, problems = self._connection.execute, []
        for query, what in (
                ("SELECT id FROM items WHERE id NOT IN (SELECT id FROM item_embeddings) ORDER BY id",
                 "item(s) have no plain embedding copy"),
                ("SELECT id FROM item_embeddings WHERE id NOT IN (SELECT id FROM items) ORDER BY id",
                 "plain embedding copies belong to no item"),
                ("SELECT id FROM item_embeddings WHERE typeof(vector) != 'blob' OR length(vector) != ? ORDER BY id",
                 "plain embedding copies have the wrong size")):
            ids = [row[0] for row in run(query, (size,) if "?" in query else ())]
            if ids:
                problems.append(f"{len(ids)} {what} (ids {_some(ids)})")
        if thorough:  # one look-up in vec0 per item (~15 us each)
            differ = [item_id for item_id, vector in run("SELECT id, vector FROM item_embeddings ORDER BY id")
                      if (run("SELECT embedding FROM item_vectors WHERE rowid = ?", (item_id,)).fetchall()
                          or [(vector,)])[0][0] != vector]
            if differ:
                problems.append(f"{len(differ)} item(s) have a plain embedding copy that differs from "
                                f"their vector (ids {_some(differ)})")
        return problems

    def _tag_mismatches(self) -> list[str]:
        """The vector table's copies of the filterable tags must equal the items' own."""
        copies = {row[0]: row[1:] for row in self._connection.execute(
            "SELECT rowid, partition, genre, mood, key, mode, bpm, duration FROM item_vectors")}
        differ = []
        for row in self._connection.execute("SELECT id, partition, genre, mood, key, bpm, duration FROM items"):
            copy = copies.get(row[0])
            if copy is not None and copy != (row[1], row[2], row[3], row[4], key_mode(row[4]), row[5], row[6]):
                differ.append(row[0])
        return [f"{len(differ)} item(s) have search tags that differ from their vector's (ids {_some(differ)})"
                ] if differ else []

    def verify_or_raise(self, thorough: bool = True) -> None:
        problems = self.verify(thorough)
        if problems:
            raise MtmError(f"{self.path}: the library has problems: " + "; ".join(problems))


def _prepare(connection: "apsw.Connection", path: Path, dim: int, create: bool,
             upgrade: bool = True) -> tuple[int, int, str]:
    """Check what the file holds and bring its schema up to date; return (version, dim, embedding model).

    Nothing is written unless the file is empty or an older mtm_daw library.
    """
    def inspect() -> tuple[int, dict[str, str]]:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return 0, {}
        if "meta" not in tables or "items" not in tables:
            raise MtmError(f"{path}: a SQLite database, but not an mtm_daw library — {_NOT_MODIFIED}; "
                           f"choose another path or set {ENV_VAR}")
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        version = meta.get("schema_version", "")
        if not version.isdigit():
            raise MtmError(f"{path}: the library has no valid schema version ({version!r}) — {_NOT_MODIFIED}")
        if int(version) > SCHEMA_VERSION:
            raise MtmError(f"{path}: this library was written by a newer mtm_daw (schema {version}; this "
                           f"version reads up to {SCHEMA_VERSION}) — update mtm_daw; {_NOT_MODIFIED}")
        return int(version), meta

    version, meta = inspect()
    if version < SCHEMA_VERSION and (upgrade or version == 0):
        if version == 0 and not create:
            raise MtmError(f"{path}: the file holds no library yet (open it with create=True)")
        if connection.execute("PRAGMA journal_mode").fetchall()[0][0] != "wal":
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            version, meta = inspect()  # another process may have done it meanwhile
            file_dim = int(meta.get("embedding_dim", dim))
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](connection, file_dim)
                connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                                   (str(step + 1),))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        version, meta = inspect()
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = FULL")  # with WAL: a commit reported done survives a power loss
    sql = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'item_vectors'").fetchall()
    declared = re.search(r"float\[(\d+)\]", sql[0][0] or "") if sql else None
    if declared is None or meta.get("embedding_dim") != declared.group(1):  # what every vector read relies on
        raise MtmError(f"{path}: the library file is damaged (embedding width {meta.get('embedding_dim')!r}, vector "
                       f"table {declared.group(1) if declared else 'missing'}) — {_NOT_MODIFIED}; restore a backup, "
                       "or move it aside and import your files again")
    return version, int(meta["embedding_dim"]), meta.get("embedding_model", "")


def _item_row(item: LibraryItem, now: float) -> tuple:
    """The items row for a checked item, in _ITEM_COLUMNS order, with tags in their canonical spelling."""
    item.validate()
    return (item.path, item.content_hash, item.kind, float(item.duration), float(item.bpm),
            json.dumps([float(t) for t in item.beat_times]), canonical_key(item.key), float(item.loudness),
            canonical_tag(item.genre), float(item.genre_confidence), canonical_tag(item.mood),
            float(item.mood_confidence), json.dumps(list(item.instruments)), item.caption, item.partition,
            item.source, item.licence, item.notes_path, float(item.added_at or now), float(item.updated_at or now))


def _vector_row(item_id: int, row: tuple, vector: np.ndarray) -> tuple:
    """The item_vectors row for an items row (as _item_row made it): the vector and the search tags."""
    partition, genre, mood, key, bpm, duration = (row[_AT[name]] for name in
                                                  ("partition", "genre", "mood", "key", "bpm", "duration"))
    return (item_id, partition, vector.tobytes(), genre, mood, key, key_mode(key), bpm, duration)


def _row_item(row: tuple) -> LibraryItem:
    values = dict(zip(("id",) + _ITEM_COLUMNS, row))
    values["beat_times"] = json.loads(values["beat_times"])
    values["instruments"] = json.loads(values["instruments"])
    return LibraryItem(**values)


def _some(ids: list[int], shown: int = 10) -> str:
    return ", ".join(map(str, ids[:shown])) + (", ..." if len(ids) > shown else "")
