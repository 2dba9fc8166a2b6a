"""Library search speed at 10K, 100K and 512K items, against numpy brute force in the same run.

    .venv/bin/python benchmarks/bench_retrieval.py                       # 10K, 100K, 512K
    .venv/bin/python benchmarks/bench_retrieval.py --sizes 10000 --queries 50

For each size: builds a library file of synthetic items in a temporary folder (clustered unit
vectors, random genre / mood / bpm / key / partition), then times k=10 queries for each filter:
`search()` end to end with the in-memory index (method="memory": ids -> items -> References), the
index's own nearest() (ids and scores, what the brute force gives; the ratio column is its p50 over
the better brute force's), the
same with method="sql" (sqlite-vec KNN), and numpy brute force (matrix @ query, the kept rows, argpartition;
through BLAS and on one thread) on the same arrays — query by query, interleaved, so other jobs on the machine slow all of them alike.
Also reports recall@10 of both methods against the brute force, the build time, and a fresh
store's first query with method="memory" (loads the index) and with the default "auto". Writes benchmarks/results/retrieval.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mtm_daw.library import LibraryItem, LibraryStore, SearchFilters
from mtm_daw.library.search import index_for, search
from mtm_daw.library.starter import STARTER_DIR, WINDOWS_FILE

DIM = 128
K = 10
BATCH = 65_536
WARM_UP = 5
GENRES = ["pop", "rock", "electronic", "ambient", "cinematic", "jazz", "orchestral", "funk", "hiphop", "folk"]
MOODS = ["happy", "sad", "calm", "tense", "dark", "epic", "romantic", "playful"]
KEYS = [f"{tonic} {mode}" for tonic in ("C", "D", "E", "F", "G", "A", "Bb") for mode in ("major", "minor")]
CASES = {  # name -> (filters, numpy mask over the synthetic columns)
    "none": (SearchFilters(), lambda d: None),
    "genre": (SearchFilters(genre="jazz"), lambda d: d["genre"] == GENRES.index("jazz")),
    "genre+bpm 80-100": (SearchFilters(genre="jazz", bpm_min=80, bpm_max=100),
                         lambda d: (d["genre"] == GENRES.index("jazz")) & (d["bpm"] >= 80) & (d["bpm"] <= 100)),
    "bpm 80-100": (SearchFilters(bpm_min=80, bpm_max=100), lambda d: (d["bpm"] >= 80) & (d["bpm"] <= 100)),
    "starter partition": (SearchFilters(partition="starter"), lambda d: d["starter"]),
}
RESULTS = Path(__file__).resolve().parent / "results" / "retrieval.json"


def synthetic(size: int, seed: int = 0, data: str = "spectrum") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Unit vectors and random tag columns.

    data="spectrum": like real embeddings — around the starter set's own window embeddings, spread by
    their covariance (90 % of real embeddings' variance lies in ~12 of 128 directions);
    data="isotropic": 64 random centres plus noise in every direction, the hardest case for an index.
    """
    rng = np.random.default_rng(seed)
    if data == "spectrum":
        windows = np.load(STARTER_DIR / WINDOWS_FILE)
        centres = np.concatenate([windows[name].astype(np.float32) for name in windows.files])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        variances, directions = np.linalg.eigh(np.cov(centres.T))
        spread = (np.sqrt(np.clip(variances, 0, None))[:, None] * directions.T).astype(np.float32)
        vectors = centres[rng.integers(0, len(centres), size)]
        vectors += 0.5 * rng.standard_normal((size, DIM), dtype=np.float32) @ spread
    else:
        centres = rng.standard_normal((64, DIM)).astype(np.float32)
        vectors = centres[rng.integers(0, 64, size)] + 0.7 * rng.standard_normal((size, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    columns = {"genre": rng.integers(0, len(GENRES), size), "mood": rng.integers(0, len(MOODS), size),
               "key": rng.integers(0, len(KEYS), size), "bpm": np.round(rng.uniform(60, 180, size), 2),
               "duration": np.round(rng.uniform(4, 300, size), 2), "starter": rng.random(size) < 0.2}
    return vectors, columns


def build(path: Path, vectors: np.ndarray, columns: dict[str, np.ndarray]) -> float:
    """Fill a library file through the public API: batches of add_items inside one transaction."""
    start = time.perf_counter()
    with LibraryStore.open(path, dim=DIM) as store, store.transaction():
        for first in range(0, len(vectors), BATCH):
            rows = range(first, min(first + BATCH, len(vectors)))
            items = [LibraryItem(path=f"/synthetic/{n}.wav", content_hash=hashlib.sha256(n.to_bytes(8, "little")).hexdigest(),
                                 kind="audio", duration=float(columns["duration"][n]), bpm=float(columns["bpm"][n]),
                                 key=KEYS[columns["key"][n]], genre=GENRES[columns["genre"][n]],
                                 mood=MOODS[columns["mood"][n]], partition="starter" if columns["starter"][n] else "user")
                     for n in rows]
            store.add_items(items, vectors[first:first + len(items)])
    return time.perf_counter() - start


def brute_force(vectors: np.ndarray, query: np.ndarray, rows: np.ndarray | None, blas: bool = True) -> np.ndarray:
    """Exact top-k of `vectors` (the kept rows, gathered beforehand as an index holds them; `rows` maps
    them back to row numbers, None = every row): BLAS gemv (threads as OpenBLAS likes), or einsum's
    single-threaded loop."""
    scores = vectors @ query if blas else np.einsum("ij,j->i", vectors, query)
    best = np.argpartition(scores, -K)[-K:] if len(scores) > K else np.arange(len(scores))
    best = best[np.argsort(-scores[best])]
    return best if rows is None else rows[best]


def percentiles(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(1000 * statistics.median(times), 3),
            "p95_ms": round(1000 * float(np.percentile(times, 95)), 3)}


def measure(size: int, query_count: int, sql_queries: int, folder: Path, data: str) -> dict:
    vectors, columns = synthetic(size, data=data)
    path = folder / f"library-{size}.sqlite"
    build_s = build(path, vectors, columns)
    rng = np.random.default_rng(1)
    queries = vectors[rng.integers(0, size, query_count)] + 0.3 * rng.standard_normal((query_count, DIM), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    result = {"size": size, "build_s": round(build_s, 2),
              "db_mb": round(sum(p.stat().st_size for p in folder.glob(f"{path.name}*")) / 1e6, 1), "cases": []}
    with LibraryStore.open(path) as store:  # a fresh process's first query with the default method
        start = time.perf_counter()
        search(store, queries[0], k=K)
        result["first_query_auto_s"] = round(time.perf_counter() - start, 3)
    with LibraryStore.open(path) as store:
        start = time.perf_counter()
        search(store, queries[0], k=K, method="memory")
        result["first_query_memory_s"] = round(time.perf_counter() - start, 3)  # loads the in-memory index
        approximate = index_for(store).approximate
        result["approximate_index"] = None if approximate is None else {
            "lists": approximate.lists, "probed": approximate.nprobe}
        for name, (filters, make_mask) in CASES.items():
            mask = make_mask(columns)
            kept = vectors
            if mask is not None:  # the kept rows, gathered once (not timed), as an index has them at hand
                mask = np.flatnonzero(mask)
                kept = np.ascontiguousarray(vectors[mask])
            ours, index_times, numpy_times, einsum_times, sql_times, recall, sql_recall = [], [], [], [], [], [], []
            vector_index, wanted = index_for(store), filters.canonical()
            for query in queries[:WARM_UP]:  # untimed: caches and BLAS threads settle
                search(store, query, filters, k=K, method="memory")
                brute_force(kept, query, mask)
            for index, query in enumerate(queries):
                start = time.perf_counter()
                found = search(store, query, filters, k=K, method="memory")
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                vector_index.nearest(query, wanted, K)  # the ids alone, as the brute force below gives them
                index_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                expected = brute_force(kept, query, mask)
                numpy_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                brute_force(kept, query, mask, blas=False)
                einsum_times.append(time.perf_counter() - start)
                expected_ids = set((expected + 1).tolist())  # items were added in order: id = row + 1
                recall.append(len(expected_ids & {r.item.id for r in found}) / max(len(expected_ids), 1))
                if index < sql_queries:
                    start = time.perf_counter()
                    found = search(store, query, filters, k=K, method="sql")
                    sql_times.append(time.perf_counter() - start)
                    sql_recall.append(len(expected_ids & {r.item.id for r in found}) / max(len(expected_ids), 1))
            case = {"filter": name, "share_of_items": round(1.0 if mask is None else len(mask) / size, 4),
                    "search_memory": percentiles(ours), "index_nearest": percentiles(index_times),
                    "numpy_brute_force": percentiles(numpy_times),
                    "numpy_brute_force_one_thread": percentiles(einsum_times), "search_sql": percentiles(sql_times), "recall_at_10_memory": round(statistics.mean(recall), 4),
                    "recall_at_10_sql": round(statistics.mean(sql_recall), 4)}
            best_brute = min(case["numpy_brute_force"]["p50_ms"], case["numpy_brute_force_one_thread"]["p50_ms"])
            case["ratio_memory_to_best_numpy_p50"] = round(case["search_memory"]["p50_ms"] / best_brute, 2)
            case["ratio_index_to_best_numpy_p50"] = round(case["index_nearest"]["p50_ms"] / best_brute, 2)
            case["ratio_sql_to_best_numpy_p50"] = round(case["search_sql"]["p50_ms"] / best_brute, 2)
            result["cases"].append(case)
    return result


def machine() -> dict:
    import apsw
    import sqlite_vec

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "python": platform.python_version(), "numpy": np.__version__, "sqlite": apsw.sqlite_lib_version(),
            "sqlite_vec": sqlite_vec.__version__ if hasattr(sqlite_vec, "__version__") else "",
            "blas_threads_env": {name: os.environ.get(name, "") for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,512000", help="comma-separated library sizes")
    parser.add_argument("--queries", type=int, default=100, help="queries per filter (memory method, numpy)")
    parser.add_argument("--sql-queries", type=int, default=20, help="of those, how many also run through vec0")
    parser.add_argument("--data", choices=("spectrum", "isotropic"), default="spectrum",
                        help="vectors shaped like real embeddings, or isotropic noise (the hardest case)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    report = {"machine": machine(), "settings": {"dim": DIM, "k": K, "queries": args.queries, "data": args.data,
                                                 "sql_queries": args.sql_queries}, "results": []}
    print(f"{'items':>8} {'filter':<18} {'share':>6} {'search p50/p95 ms':>18} {'index':>6} {'numpy p50/p95 ms':>17} "
          f"{'1-thread':>9} {'ratio':>6} {'sql p50 ms':>10} {'recall':>6}")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            result = measure(size, args.queries, min(args.sql_queries, args.queries), Path(folder), args.data)
        report["results"].append(result)
        print(f"{size:>8} built in {result['build_s']} s, {result['db_mb']} MB; first query: "
              f"{result['first_query_memory_s']} s loading the index, {result['first_query_auto_s']} s with auto; "
              f"approximate index: {result['approximate_index'] or 'none (exact scans)'}")
        for case in result["cases"]:
            memory, brute = case["search_memory"], case["numpy_brute_force"]
            print(f"{size:>8} {case['filter']:<18} {case['share_of_items']:>6.3f} "
                  f"{memory['p50_ms']:>8.2f} /{memory['p95_ms']:>8.2f} {case['index_nearest']['p50_ms']:>6.2f} "
                  f"{brute['p50_ms']:>7.2f} /{brute['p95_ms']:>8.2f} {case['numpy_brute_force_one_thread']['p50_ms']:>9.2f} "
                  f"{case['ratio_index_to_best_numpy_p50']:>6.2f} {case['search_sql']['p50_ms']:>10.1f} "
                  f"{case['recall_at_10_memory']:>6.3f}")
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
