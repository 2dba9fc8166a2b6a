"""Dual-track retrieval over the music library: broad (embedding only) and targeted (embedding + tags).

    references = search(store, query_vector)                                   # broad track
    references = search(store, query_vector, SearchFilters(genre="jazz", bpm_min=80, bpm_max=100))

Every score is an exact cosine; a targeted search returns only items that meet every filter, and
each Reference says which filter attributes its item matched.

How (measured on this 2-core machine; benchmarks/bench_retrieval.py, benchmarks/results/retrieval.json):
- sqlite-vec's vec0 KNN is exact but compares every row of the partition in C, one query at a time:
  ~20 ms at 100K x 128 and 90-130 ms at 512K here.
- So `method="memory"` keeps an in-process copy of the embeddings (float32, unit length, read from
  the store's plain copies in one query) and the search tags as numpy arrays, loaded once per store and
  kept current through the change counters in the file's meta table: rows added since are appended as
  a segment, removals and tag edits reload.
- Rows are ordered by (partition, genre, bpm): those three filters — the targeted track's usual
  ones — select contiguous slices. Mood, key, mode and duration mask rows inside the slices.
- When the filters keep at most EXACT_ROWS rows (or the library is under APPROXIMATE_ABOVE items),
  those rows are scored exactly: the same ids as a brute-force cosine top-k (tests check it).
- Otherwise an approximate index (approximate.py: faiss IVF-SQ8, filtering during its scan)
  proposes 40 candidates among the rows the filters keep, and they are re-scored exactly; when it
  finds fewer than k, the rows are scanned exactly instead.
- `method="sql"` asks vec0 directly: no load time, but a full scan per query.
- `method="auto"` (the default) uses the memory index when it is loaded or the library is small
  (< 50K items); on a larger one it asks vec0 until the time spent there reaches the estimated load
  time, then loads: a one-shot CLI query never waits seconds for a load, a panel session pays it once.

Measured (December 6, `make bench` from a fresh clone; k=10, 128-d vectors with real embeddings' spectrum,
100 queries near the data, each after the brute forces' 256 MB of other work; p50 ms, p95 in brackets; "index"
= nearest() alone, the ids and scores that the brute force gives; numpy = the better of BLAS and one-thread
brute force over the kept rows, gathered beforehand):

    items  filter (share of items)   search       index   numpy   vec0 (sql)   recall@10
    10K    none                      0.46 (0.6)   0.25     0.12     2          1.000
    10K    bpm 80-100 (0.17)         0.32 (0.4)   0.12     0.04     2          1.000
    100K   none                      0.78 (1.0)   0.28     1.55    19          0.989
    100K   bpm 80-100 (0.17)         0.77 (1.3)   0.49     0.20    16          1.000
    512K   none                      2.08 (2.5)   1.21     9.34    91          0.992
    512K   genre (0.10)              1.02 (1.9)   0.65     0.55    73          0.997
    512K   genre + bpm 80-100 (0.02) 0.51 (1.2)   0.24     0.11    68          1.000
    512K   bpm 80-100 (0.17)         1.54 (2.4)   1.11     1.08    75          1.000
    512K   starter partition (0.20)  1.36 (1.7)   0.86     1.56    19          0.998

On isotropic vectors (the hardest case for an index) at 512K, before filtered searches probed more
lists and 1 in 8 of them: 0.96-1.99 ms, recall 0.991-1.0 (1 in 12: see approximate.py). Where few rows
are kept, brute force over rows already gathered beats the index (its slices, masks and bookkeeping cost
0.05-0.4 ms), and the exact scan stays on one thread (see _dot) to leave the other core to the DAW; BLAS on
two threads beats that on an idle machine (10K none: 0.12 against 0.25 ms). A fresh store's first memory
query at 512K loads for 3-7 s (vectors 1.7 s, ordering 2.4 s, most of it page faults on this VM,
approximate index 0.8 s); auto answers it from vec0 in 0.09-0.16 s.

A search by sound passes the query clip's window embeddings too: the best RERANK_POOL items by the
mean vector are re-ranked by `window_similarity` (each query window's best match among the item's
windows, averaged), which holds up when the two clips are the same music at another tempo or key
and their windows do not line up: rank 1 for the same piece went from 90.5 % to 92 % on 800 held-out
renders (benchmarks/quality_library.py).
"""
from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np

from mtm_daw.errors import MtmError
from mtm_daw.library.approximate import ApproximateIndex, training_rows
from mtm_daw.library.item import Reference, SearchFilters, key_mode
from mtm_daw.library.store import ChangeCounters, LibraryStore, VectorRows

METHODS = ("auto", "memory", "sql")
RERANK_POOL = 20  # items a search by sound re-ranks by their windows
MAX_K = 4096  # sqlite-vec's limit, kept for both methods so they accept the same requests
GATHER_BELOW = 0.05  # a mask keeping fewer rows than this share copies them out (measured break-even)
SCAN_ROWS = 2048  # rows a BLAS call scores (see _dot)
MAX_SEGMENTS = 8  # appended segments before they are merged into one ordered block
APPROXIMATE_ABOVE = 65_536  # libraries this large get an approximate index (an exact scan: >1.5 ms)
EXACT_ROWS = 32_768  # a search whose filters keep at most this many rows scans them exactly (<1 ms)
APPROXIMATE_POOL = 40  # candidates the approximate index proposes for re-scoring (at least 2k)
MAX_APPROXIMATE_POOL = 1024  # a larger k is answered by an exact scan
MEMORY_BELOW = 50_000  # "auto" loads libraries smaller than this at once (under ~0.5 s here)
LOAD_SECONDS_PER_ITEM = 10e-6  # cold index load, measured: 512K items in 4-10 s on this busy machine


def search(store: LibraryStore, query: np.ndarray, filters: SearchFilters | None = None, k: int = 10,
           method: str = "auto", query_windows: np.ndarray | None = None) -> list[Reference]:
    """The k library items closest to `query` (an embedding of the store's width), best first.

    method: "memory" (the in-process index), "sql" (sqlite-vec in the file) or "auto" (see module doc).
    query_windows: a sound's window embeddings (windows, dim): the nearest items are re-ranked by
    `window_similarity`, and that is their score.
    """
    # 1. check inputs
    vector = _unit_query(query, store.dim)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise MtmError(f"k (how many references) must be a whole number in 1..{MAX_K}, got {k!r}")
    if method not in METHODS:
        raise MtmError(f"unknown search method {method!r} (choose one of: {', '.join(METHODS)})")
    wanted = (filters or SearchFilters()).canonical()
    # 2. nearest item ids, exact cosine
    state = _state(store)
    if method == "auto":
        method = state.choose(store)
    pool = k if query_windows is None else max(k, RERANK_POOL)
    if method == "memory":
        hits = index_for(store).nearest(vector, wanted, pool)
    else:
        start = time.perf_counter()
        hits = store.nearest(vector, wanted, pool)
        state.sql_seconds += time.perf_counter() - start
    if query_windows is not None:
        hits = _rerank(store, hits, store.unit_windows(query_windows))[:k]
    # 3. the items themselves (one removed meanwhile by another process is left out)
    items = {item.id: item for item in store.get_many([item_id for item_id, _ in hits])}
    track = "broad" if wanted.is_empty else "targeted"
    return [Reference(items[item_id], score, wanted.matched(items[item_id]), track)
            for item_id, score in hits if item_id in items]


def window_similarity(query_windows: np.ndarray, item_windows: np.ndarray) -> float:
    """Each query window's best cosine among the item's windows, averaged over the query's windows
    (both unit rows): the same music scores high even where tempo or key moved the window starts."""
    return float((query_windows @ item_windows.T).max(axis=1).mean())


def _rerank(store: LibraryStore, hits: list[tuple[int, float]], query_windows: np.ndarray) -> list[tuple[int, float]]:
    """Hits re-scored by window_similarity, best first; an item stored without windows (none are, once
    a library is imported or re-embedded by this version) keeps its cosine."""
    windows = store.window_vectors([item_id for item_id, _ in hits])
    scored = [(item_id, window_similarity(query_windows, windows[item_id]) if item_id in windows else score)
              for item_id, score in hits]
    return sorted(scored, key=lambda hit: -hit[1])


def _unit_query(query: np.ndarray, dim: int) -> np.ndarray:
    vector = np.asarray(query, dtype=np.float32)
    if vector.ndim == 2 and vector.shape[0] == 1:
        vector = vector[0]
    if vector.shape != (dim,):
        raise MtmError(f"the query must be one embedding of width {dim} (this library's), "
                       f"got an array of shape {np.shape(query)}")
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise MtmError("the query embedding is all zeros or not finite; describe the music with some content")
    return vector / norm


# --- the in-memory index --------------------------------------------------------------------------
class _Vocabulary:
    """Text tags -> small ints, shared by all segments of one index."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def encode(self, values: np.ndarray) -> np.ndarray:
        codes = self.codes
        for value in sorted(set(values) - codes.keys()):  # sorted: the same codes (row order) in every process
            codes[value] = len(codes)
        return np.fromiter(map(codes.__getitem__, values), dtype=np.int32, count=len(values))

    def code(self, value: str | None) -> int | None:
        """The code of a filter value; -1 when no item has it (nothing can match)."""
        return None if value is None else self.codes.get(value, -1)


@dataclass
class _Segment:
    """A block of rows ordered by (partition, genre, bpm).

    `ranges` maps each (partition, genre) pair to its row slice; within it bpm ascends, so a tempo
    range is a sub-slice found by binary search. Those three filters thus cost nothing but the rows
    they keep; mood, key, mode and duration mask scores inside the slices.
    """

    ids: np.ndarray  # (N,) int64
    vectors: np.ndarray  # (N, D) float32, unit rows
    partition: np.ndarray  # (N,) int32 codes
    genre: np.ndarray
    mood: np.ndarray
    key: np.ndarray
    mode: np.ndarray
    bpm: np.ndarray  # (N,) float64
    duration: np.ndarray
    ranges: dict[tuple[int, int], tuple[int, int]]

    @classmethod
    def ordered(cls, ids, vectors, partition, genre, mood, key, mode, bpm, duration) -> "_Segment":
        order = np.lexsort((ids, bpm, genre, partition))
        columns = [a[order] for a in (ids, vectors, partition, genre, mood, key, mode, bpm, duration)]
        pairs = columns[2].astype(np.int64) << 32 | columns[3].astype(np.int64)
        starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]]) if len(pairs) else np.zeros(0, int)
        ends = np.r_[starts[1:], len(pairs)]
        ranges = {(int(pairs[s] >> 32), int(pairs[s] & 0xFFFFFFFF)): (int(s), int(e)) for s, e in zip(starts, ends)}
        return cls(*columns, ranges=ranges)

    def __len__(self) -> int:
        return len(self.ids)

    def slices(self, partition: int | None, genre: int | None, filters: SearchFilters) -> list[tuple[int, int]]:
        """Row ranges holding exactly the items of this partition, genre (None = any) and bpm range."""
        spans = sorted(span for (p, g), span in self.ranges.items()
                       if (partition is None or p == partition) and (genre is None or g == genre))
        if filters.bpm_min is not None or filters.bpm_max is not None:
            low = -np.inf if filters.bpm_min is None else filters.bpm_min
            high = np.inf if filters.bpm_max is None else filters.bpm_max
            bpm = self.bpm
            spans = [(start + int(bpm[start:end].searchsorted(low, "left")),
                      start + int(bpm[start:end].searchsorted(high, "right"))) for start, end in spans]
        merged: list[tuple[int, int]] = []
        for start, end in spans:  # neighbours (a partition's genres, no bpm range) become one slice
            if start == end:
                continue
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged

    def mask(self, start: int, end: int, codes: dict[str, int | None], filters: SearchFilters) -> np.ndarray | None:
        """Rows start:end that meet the mood, key, mode and duration filters; None = no such filter."""
        conditions = [getattr(self, name)[start:end] == codes[name] for name in ("mood", "key", "mode")
                      if codes[name] is not None]
        if filters.duration_min is not None:
            conditions.append(self.duration[start:end] >= filters.duration_min)
        if filters.duration_max is not None:
            conditions.append(self.duration[start:end] <= filters.duration_max)
        return np.logical_and.reduce(conditions) if conditions else None

    def scores(self, start: int, end: int, query: np.ndarray,
               keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine scores) of rows start:end; rows outside `keep` score -inf or are skipped."""
        vectors, ids = self.vectors[start:end], self.ids[start:end]
        if keep is None:
            return ids, _dot(vectors, query)
        if np.count_nonzero(keep) < GATHER_BELOW * len(keep):  # few rows: copy them out, score those
            rows = np.flatnonzero(keep)
            return ids[rows], _dot(vectors[rows], query)
        return ids, np.where(keep, _dot(vectors, query), np.float32(-np.inf))


def _dot(vectors: np.ndarray, query: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(N, D) @ (D,) on this thread, SCAN_ROWS rows a BLAS call, into `out` when given. OpenBLAS hands a larger
    gemv to its threads, and when the cores are busy (a DAW, other jobs) the hand-off costs more than the work:
    10,000 x 128 took 8 ms through BLAS here with both cores busy against 0.19 ms on one thread; a product of
    2,048 rows stays on the calling thread and takes 0.013 ms busy or not, twice as quick as einsum's own loop."""
    scores = np.empty(len(vectors), np.float32) if out is None else out
    for start in range(0, len(vectors), SCAN_ROWS):
        np.matmul(vectors[start:start + SCAN_ROWS], query, out=scores[start:start + SCAN_ROWS])
    return scores


class VectorIndex:
    """A library's embeddings and search tags in memory, kept current with the file's change counters."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.segments: list[_Segment] = []
        self._offsets = np.zeros(0, np.int64)  # each segment's first position
        self.counters: ChangeCounters | None = None
        self.last_id = 0
        self._vocabulary = {name: _Vocabulary() for name in ("partition", "genre", "mood", "key")}
        self._modes = _Vocabulary()
        self.approximate: ApproximateIndex | None = None  # a reload trains anew: `reembed` may have moved every vector

    def __len__(self) -> int:
        return sum(len(segment) for segment in self.segments)

    def refresh(self, store: LibraryStore) -> None:
        """Catch up with the file: append rows added since the last look, or reload after removals/edits."""
        counters = store.counters()
        if counters == self.counters:
            return
        if self.counters is not None and counters.rewrites == self.counters.rewrites:
            rows = store.vector_rows(after_id=self.last_id)
        else:
            self._clear()
            rows = store.vector_rows()
        self._append(rows)

    def _append(self, rows: VectorRows) -> None:
        if not len(rows.ids):
            self.counters = rows.counters
            return
        self.last_id = max(self.last_id, int(rows.ids.max()))
        keys = self._vocabulary["key"].encode(rows.key)
        key_names = sorted(self._vocabulary["key"].codes, key=self._vocabulary["key"].codes.get)
        modes = self._modes.encode([key_mode(name) for name in key_names])[keys]  # mode of each key code
        columns = [rows.ids, rows.vectors, self._vocabulary["partition"].encode(rows.partition),
                   self._vocabulary["genre"].encode(rows.genre), self._vocabulary["mood"].encode(rows.mood),
                   keys, modes, rows.bpm, rows.duration]
        self.segments.append(_Segment.ordered(*columns))
        merged = len(self.segments) > MAX_SEGMENTS
        if merged:  # one ordered block again
            columns = [np.concatenate([getattr(s, name) for s in self.segments]) for name in
                       ("ids", "vectors", "partition", "genre", "mood", "key", "mode", "bpm", "duration")]
            self.segments = [_Segment.ordered(*columns)]
        self._offsets = np.cumsum([0] + [len(segment) for segment in self.segments[:-1]]).astype(np.int64)
        self._update_approximate(rows_moved=merged)
        self.counters = rows.counters  # last: an error above leaves the index to be read again

    def _update_approximate(self, rows_moved: bool) -> None:
        """Keep the approximate index in step with the segments: the new segment's rows added, all of
        them again after a merge moved them, new lists when the library outgrew the old ones."""
        count = len(self)
        approximate, self.approximate = self.approximate, None  # none until it holds every row again
        if count < APPROXIMATE_ABOVE:
            return
        if approximate is None or not approximate.serves(count):
            sample_rows = np.random.default_rng(0).choice(count, size=training_rows(count), replace=False)
            approximate = ApproximateIndex.trained_on(self._rows_at(np.sort(sample_rows))[1], count)
            rows_moved = True
        if rows_moved:
            approximate.reset()
            for offset, segment in zip(self._offsets.tolist(), self.segments):
                approximate.add(segment.vectors, offset)
        else:
            approximate.add(self.segments[-1].vectors, int(self._offsets[-1]))
        self.approximate = approximate

    def _rows_at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(item ids, vectors) of rows by position (segments in order, each segment's rows in order)."""
        segment_of = np.searchsorted(self._offsets, positions, side="right") - 1
        ids = np.empty(len(positions), np.int64)
        vectors = np.empty((len(positions), self.dim), np.float32)
        for number in np.unique(segment_of).tolist():
            chosen = segment_of == number
            rows = positions[chosen] - self._offsets[number]
            ids[chosen] = self.segments[number].ids[rows]
            vectors[chosen] = self.segments[number].vectors[rows]
        return ids, vectors

    def nearest(self, query: np.ndarray, filters: SearchFilters, k: int) -> list[tuple[int, float]]:
        """(item id, cosine similarity) of the k best rows meeting `filters` (canonical), best first.

        Rows are scanned exactly when the filters keep at most EXACT_ROWS of them (or the library is
        small); otherwise the approximate index proposes candidates, which are re-scored exactly."""
        with self._lock:
            codes = {name: vocabulary.code(getattr(filters, name)) for name, vocabulary in self._vocabulary.items()}
            codes["mode"] = self._modes.code(filters.mode)
            if any(code == -1 for code in codes.values()):
                return []  # a tag no item has
            spans = [(number, start, end, segment.mask(start, end, codes, filters))
                     for number, segment in enumerate(self.segments)
                     for start, end in segment.slices(codes["partition"], codes["genre"], filters)]
            pool = max(APPROXIMATE_POOL, 2 * k)
            if self.approximate is not None and pool <= MAX_APPROXIMATE_POOL:
                kept = sum(end - start if keep is None else int(np.count_nonzero(keep)) for _, start, end, keep in spans)
                found = self._approximate_nearest(query, spans, kept, k, pool) if kept > EXACT_ROWS else None
                if found is not None:
                    return found
            if not spans:
                return []
            if all(keep is None for *_, keep in spans):  # slices only: scored into one array, no copies
                ids, scores = self._scan(query, spans)
            else:
                scored = [self.segments[number].scores(start, end, query, keep) for number, start, end, keep in spans]
                ids, scores = scored[0] if len(scored) == 1 else (np.concatenate(part) for part in zip(*scored))
            if len(scores) > k:  # one partition over every slice's rows (a tempo range gives many slices)
                best = np.argpartition(scores, -k)[-k:]
                ids, scores = ids[best], scores[best]
            finite = np.isfinite(scores)
            return _best(ids[finite], scores[finite], k)

    def _scan(self, query: np.ndarray, spans: list) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine scores) of every row of the spans (segment, start, end, no mask), in one pair of arrays."""
        sizes = [end - start for _, start, end, _ in spans]
        ids, scores = np.empty(sum(sizes), np.int64), np.empty(sum(sizes), np.float32)
        at = 0
        for (number, start, end, _), size in zip(spans, sizes):
            segment = self.segments[number]
            ids[at:at + size] = segment.ids[start:end]
            _dot(segment.vectors[start:end], query, out=scores[at:at + size])
            at += size
        return ids, scores

    def _approximate_nearest(self, query: np.ndarray, spans: list, kept: int, k: int,
                             pool: int) -> list[tuple[int, float]] | None:
        """The k best of the approximate index's candidates, re-scored exactly; None when the probed
        lists held fewer than k rows that meet the filters (the caller then scans exactly)."""
        allowed = None
        if kept < len(self):
            allowed = np.zeros(len(self), bool)
            for number, start, end, keep in spans:
                offset = int(self._offsets[number])
                allowed[offset + start:offset + end] = True if keep is None else keep
        positions = self.approximate.candidates(query, pool, allowed, kept / len(self))
        if len(positions) < k:
            return None
        ids, vectors = self._rows_at(positions)
        return _best(ids, _dot(vectors, query), k)


def _best(ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k highest scores, best first; equal scores by id."""
    order = np.lexsort((ids, -scores))[:k]
    return [(int(ids[i]), float(scores[i])) for i in order]


@dataclass
class _StoreState:
    """What this process knows about one open store: its index, once loaded, and time spent in vec0."""

    index: VectorIndex | None = None
    sql_seconds: float = 0.0

    def choose(self, store: LibraryStore) -> str:
        """"auto": memory for a loaded index or a small library; else vec0 until the time spent there
        reaches what loading would cost (so a one-shot query never pays the load, and a long session
        pays it at most once, for at most twice the best total)."""
        if self.index is not None:
            return "memory"
        size = store.last_id()  # ids are never reused: an upper bound on the item count, read at once
        if size < MEMORY_BELOW or self.sql_seconds >= size * LOAD_SECONDS_PER_ITEM:
            return "memory"
        return "sql"


_states: "weakref.WeakKeyDictionary[LibraryStore, _StoreState]" = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _state(store: LibraryStore) -> _StoreState:
    with _states_lock:
        state = _states.get(store)
        if state is None:
            state = _states[store] = _StoreState()
        return state


def index_for(store: LibraryStore) -> VectorIndex:
    """The store's in-memory index, loaded on first use and brought up to date on every call."""
    state = _state(store)
    with _states_lock:
        if state.index is None:
            state.index = VectorIndex(store.dim)
        index = state.index
    with index._lock:
        index.refresh(store)
    return index
