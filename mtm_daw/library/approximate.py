"""An approximate nearest-neighbour index for large libraries: faiss's inverted file over 8-bit
scalar-quantised vectors (IVF-SQ8, one range for all dimensions).

    index = ApproximateIndex.trained_on(sample, count)    # k-means centres for about `count` rows
    index.add(vectors, first_position)                     # rows are known by their position
    positions = index.candidates(query, pool, allowed)     # allowed: bool per position, or None

It only proposes candidates: the search index re-scores them exactly from its float32 rows, so every
score it reports is an exact cosine, and a caller that gets fewer than it needs scans exactly.

Sizes, measured here (512K items x 128, one query at a time on one thread, 40 candidates re-scored):
512 lists train and fill in 0.8 s (2,048 lists probed 1 in 16 were as quick and as good but took 7 s to
build, 4,096 lists 14 s). How many to probe, each query after 256 MB of other work (a search's caches are
cold in use, and the scan reads the probed lists' codes from memory):

    probed          1 in 8 (64)   1 in 12 (42)   1 in 16 (32)
    ms a query      1.78          ~1.3           1.04
    recall@10       0.999         0.994-0.998    0.992   (vectors with real embeddings' spectrum)
    isotropic       -             0.986-0.989    0.978   (the hardest case)

so 1 in 12: benchmarks/bench_retrieval.py's index time at 512K went 1.76 -> 1.22 ms, recall 0.995 -> 0.992.
Why IVF and not a graph: faiss's HNSW found 0.65 on isotropic vectors at 0.3 ms a query and took
9 s to build 100K; IVF drops rows cheaply and filters during the scan (an id selector), which a
targeted search needs. usearch was ruled out: importing it before onnxruntime crashes the process
(its numkong 7.8).
"""
from __future__ import annotations

import math

import numpy as np

MIN_LISTS, MAX_LISTS = 64, 8192  # inverted lists: sqrt(rows), rounded to a power of two, within these
PROBED_SHARE = 12  # probe 1 list in 12
MIN_PROBES = 8
FILTER_PROBE_POWER = 0.5  # a filter keeping a share s of the rows probes 1/sqrt(s) times as many lists,
MAX_FILTER_PROBE_FACTOR = 2.0  # at most twice as many
TRAINING_ROWS_PER_LIST = 40  # faiss's k-means asks for at least 39 points a centre
GROWTH_BEFORE_RETRAIN = 4  # lists trained for N rows serve up to 4N rows, then train again


def lists_for(count: int) -> int:
    return int(min(MAX_LISTS, max(MIN_LISTS, 2 ** round(math.log2(math.sqrt(max(count, 1)))))))


def training_rows(count: int) -> int:
    """How many of `count` rows to train the lists on."""
    return min(count, TRAINING_ROWS_PER_LIST * lists_for(count))


class ApproximateIndex:
    """IVF-SQ8 over unit vectors (inner product = cosine), rows known by their int64 position."""

    def __init__(self, faiss_index, trained_for: int) -> None:
        self._index = faiss_index
        self.trained_for = trained_for
        self.nprobe = min(faiss_index.nlist, max(MIN_PROBES, faiss_index.nlist // PROBED_SHARE))

    @classmethod
    def trained_on(cls, sample: np.ndarray, count: int) -> "ApproximateIndex":
        """Lists (k-means centres, seeded) and quantiser ranges learned from `sample`, sized for `count` rows."""
        # faiss is imported here, not at the top: only a library of tens of thousands of items needs it,
        # and its import (~0.2 s, OpenMP start-up) is not paid by a CLI run or a small library.
        import faiss

        dim = sample.shape[1]
        lists = min(lists_for(count), max(1, len(sample) // TRAINING_ROWS_PER_LIST))
        quantiser = faiss.IndexFlatIP(dim)
        # One 8-bit range for every dimension, codes of the vectors themselves (not of their offsets from
        # the list centre): the scan runs ~25 % quicker than per-dimension ranges of residuals, recall alike.
        index = faiss.IndexIVFScalarQuantizer(quantiser, dim, lists, faiss.ScalarQuantizer.QT_8bit_uniform,
                                              faiss.METRIC_INNER_PRODUCT, False)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))  # the wrapper keeps `quantiser` alive
        return cls(index, count)

    @property
    def lists(self) -> int:
        return int(self._index.nlist)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def serves(self, count: int) -> bool:
        """Whether lists trained for `trained_for` rows still suit `count` rows."""
        return count <= GROWTH_BEFORE_RETRAIN * self.trained_for

    def reset(self) -> None:
        """Drop every row, keep the training (a reload of the same library re-adds its rows)."""
        self._index.reset()

    def add(self, vectors: np.ndarray, first_position: int) -> None:
        positions = np.arange(first_position, first_position + len(vectors), dtype=np.int64)
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), positions)

    def candidates(self, query: np.ndarray, pool: int, allowed: np.ndarray | None = None,
                   kept_share: float = 1.0) -> np.ndarray:
        """Positions of up to `pool` rows near `query` (unit, float32), only those `allowed` marks.

        kept_share: the share of rows `allowed` keeps. The lists nearest the query may hold few of
        them when the filter's rows lie elsewhere (a genre far from the query's sound), so a filtered
        search probes 1/sqrt(share) times as many lists, at most twice as many. Measured on 200K rows
        whose genre follows their cluster, with queries from other genres: a genre keeping 23 % found
        recall@10 1.0 (probing as unfiltered: 0.98-0.995, some queries 0); one keeping 10 % found 0.994
        with 3 of 520 queries under 0.5 (uncapped 1/sqrt: 0.995, the same 3)."""
        # deferred: only this path needs faiss
        import faiss

        selector = bitmap = None
        probes = self.nprobe
        if allowed is not None:
            bitmap = np.packbits(allowed, bitorder="little")  # faiss reads bit (i % 8) of byte i // 8
            selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
            factor = min(MAX_FILTER_PROBE_FACTOR, max(kept_share, 1e-6) ** -FILTER_PROBE_POWER)
            probes = min(self.lists, math.ceil(probes * factor))
        parameters = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
        _, labels = self._index.search(np.ascontiguousarray(query, dtype=np.float32)[None], pool, params=parameters)
        del bitmap  # the selector points into it: kept alive until the search returned
        found = labels[0]
        return found[found >= 0]
