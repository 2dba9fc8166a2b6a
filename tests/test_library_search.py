"""Broad and targeted search: exact against numpy brute force, filters, `matched`, an index kept current."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mtm_daw.errors import MtmError
from mtm_daw.library import LibraryItem, LibraryStore, SearchFilters
from mtm_daw.library.item import canonical_key
import mtm_daw.library.search as search_module
from mtm_daw.library.approximate import ApproximateIndex
from mtm_daw.library.search import index_for, search

DIM = 32
SIZE = 3000
GENRES = ["funk", "jazz", "rock", "ambient", "x'); drop table items;--"]
MOODS = ["happy", "sad", "calm", "tense"]
KEYS = ["A minor", "C major", "D minor", "Bb major", ""]
METHODS = ["memory", "sql"]


def random_library(size: int, seed: int = 0) -> tuple[list[LibraryItem], np.ndarray]:
    """Clustered unit vectors (as real embeddings are) with random tags."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((12, DIM))
    vectors = (centres[rng.integers(0, 12, size)] + 0.6 * rng.standard_normal((size, DIM))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = [LibraryItem(path=f"/music/{seed}/{n}.wav", content_hash=hashlib.sha256(f"{seed} {n}".encode()).hexdigest(),
                         kind="audio" if n % 4 else "midi", duration=float(rng.uniform(2, 240)),
                         bpm=float(np.round(rng.uniform(60, 180), 1)), key=KEYS[rng.integers(len(KEYS))],
                         genre=GENRES[rng.integers(len(GENRES))], mood=MOODS[rng.integers(len(MOODS))],
                         partition="starter" if rng.random() < 0.25 else "user")
             for n in range(size)]
    return items, vectors


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A library of 3,000 items, and the same data as numpy arrays for brute force."""
    items, vectors = random_library(SIZE)
    store = LibraryStore.open(tmp_path_factory.mktemp("library") / "library.sqlite", dim=DIM)
    ids = store.add_items(items, vectors)
    stored = store.get_many(ids)
    yield store, stored, vectors
    store.close()


def queries(count: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)


def brute_force(items: list[LibraryItem], vectors: np.ndarray, query: np.ndarray, k: int,
                keep=lambda item: True) -> list[int]:
    """Exact cosine top-k over the items `keep` accepts: what every search must return."""
    scores = vectors @ (query / np.linalg.norm(query))
    ranked = sorted((i for i, item in enumerate(items) if keep(item)), key=lambda i: (-scores[i], items[i].id))
    return [items[i].id for i in ranked[:k]]


@pytest.mark.parametrize("method", METHODS)
def test_broad_search_is_exact_cosine_top_k(library, method):
    store, items, vectors = library
    for query in queries(8):
        references = search(store, query, k=10, method=method)
        assert [r.item.id for r in references] == brute_force(items, vectors, query, 10)
        assert all(r.track == "broad" and r.matched == () for r in references)
        scores = [r.score for r in references]
        assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0


FILTERS = [
    (SearchFilters(genre="Funk"), lambda i: i.genre == "funk"),
    (SearchFilters(mood="sad"), lambda i: i.mood == "sad"),
    (SearchFilters(bpm_min=80, bpm_max=100), lambda i: 80 <= i.bpm <= 100),
    (SearchFilters(bpm_min=150), lambda i: i.bpm >= 150),
    (SearchFilters(key="am"), lambda i: i.key == "A minor"),
    (SearchFilters(mode="major"), lambda i: i.key in ("C major", "Bb major")),
    (SearchFilters(partition="starter"), lambda i: i.partition == "starter"),
    (SearchFilters(duration_min=30, duration_max=60), lambda i: 30 <= i.duration <= 60),
    (SearchFilters(genre="jazz", partition="user"), lambda i: i.genre == "jazz" and i.partition == "user"),
    (SearchFilters(genre="rock", mood="calm", bpm_min=70, bpm_max=150, mode="minor"),
     lambda i: i.genre == "rock" and i.mood == "calm" and 70 <= i.bpm <= 150 and i.mode == "minor"),
    (SearchFilters(genre="x'); DROP TABLE items;--"), lambda i: i.genre == "x'); drop table items;--"),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("filters, keep", FILTERS, ids=[", ".join(f.attributes) for f, _ in FILTERS])
def test_targeted_search_returns_only_matching_items_exactly_ranked(library, method, filters, keep):
    store, items, vectors = library
    expected_matched = filters.attributes
    for query in queries(3, seed=2):
        references = search(store, query, filters, k=10, method=method)
        assert [r.item.id for r in references] == brute_force(items, vectors, query, 10, keep)
        assert references, "every filter here matches some items"
        for reference in references:
            assert keep(reference.item) and reference.track == "targeted"
            assert reference.matched == expected_matched


@pytest.mark.parametrize("method", METHODS)
def test_a_large_k_returns_every_matching_item_and_no_other(library, method):
    store, items, vectors = library
    query = queries(1, seed=3)[0]
    for filters, keep in FILTERS[2:5] + FILTERS[7:10]:  # bpm and duration bounds are inclusive
        assert ({r.item.id for r in search(store, query, filters, k=SIZE, method=method)}
                == {item.id for item in items if keep(item)})
    boundary = SearchFilters(bpm_min=items[0].bpm, bpm_max=items[0].bpm)
    assert items[0].id in {r.item.id for r in search(store, query, boundary, k=SIZE, method=method)}


@pytest.mark.parametrize("method", METHODS)
def test_fewer_matches_than_k_and_tags_nobody_has(library, method):
    store, items, _ = library
    rare = SearchFilters(genre="ambient", key="Bb major", mood="tense", partition="starter")
    count = sum(i.genre == "ambient" and i.key == "Bb major" and i.mood == "tense" and i.partition == "starter"
                for i in items)
    assert 0 < count < 50
    assert len(search(store, queries(1)[0], rare, k=50, method=method)) == count
    assert search(store, queries(1)[0], SearchFilters(genre="polka"), method=method) == []
    assert search(store, queries(1)[0], SearchFilters(bpm_min=400, bpm_max=500), method=method) == []


def test_bad_requests_say_what_is_wrong(library):
    store = library[0]
    query = queries(1)[0]
    with pytest.raises(MtmError, match="width 32"):
        search(store, np.ones(DIM + 1), k=3)
    with pytest.raises(MtmError, match="all zeros"):
        search(store, np.zeros(DIM))
    with pytest.raises(MtmError, match="k "):
        search(store, query, k=0)
    with pytest.raises(MtmError, match="method"):
        search(store, query, method="fast")
    with pytest.raises(MtmError, match="mode filter"):
        search(store, query, SearchFilters(mode="dorian"))
    assert len(search(store, query[None], k=3)) == 3  # a (1, D) row is one query too


def test_the_index_follows_writes_from_this_and_other_processes(tmp_path):
    items, vectors = random_library(400, seed=5)
    path = tmp_path / "library.sqlite"
    store = LibraryStore.open(path, dim=DIM)
    store.add_items(items[:300], vectors[:300])
    index = index_for(store)
    assert len(index) == 300
    # appended rows (here through a second connection, as another process would) join as a segment
    with LibraryStore.open(path) as other:
        new_ids = other.add_items(items[300:], vectors[300:])
    top = search(store, vectors[350], k=1)[0]
    assert top.item.id == new_ids[50] and top.score == pytest.approx(1.0, abs=1e-5)
    assert len(index_for(store)) == 400 and len(index_for(store).segments) == 2
    # a tag edit and a removal reload the index
    store.update_tags(new_ids[50], genre="polka")
    assert [r.item.id for r in search(store, vectors[350], SearchFilters(genre="polka"), k=5)] == [new_ids[50]]
    store.remove(new_ids[50])
    assert search(store, vectors[350], SearchFilters(genre="polka")) == []
    assert new_ids[50] not in [r.item.id for r in search(store, vectors[350], k=20)]
    assert len(index_for(store)) == 399 and len(index_for(store).segments) == 1
    # many small appends are merged back into one ordered block, and stay exact
    for n in range(12):
        item = LibraryItem(path=f"/new/{n}.wav", content_hash=f"{n:064x}", kind="audio", duration=5.0,
                           genre="funk", key="D minor")
        store.add_item(item, vectors[n] + 0.01)
        search(store, vectors[0], k=1)
    assert len(index_for(store).segments) <= 9
    all_items = store.list_items(limit=1000)
    matrix = np.stack([vectors_of(store, item.id) for item in all_items])
    for query in queries(5, seed=9):
        for filters, keep in ((SearchFilters(), lambda i: True),
                              (SearchFilters(genre="funk", key="D minor"),
                               lambda i: i.genre == "funk" and i.key == canonical_key("D minor"))):
            got = [r.item.id for r in search(store, query, filters, k=10)]
            assert got == brute_force(all_items, matrix, query, 10, keep)
    store.close()


def vectors_of(store: LibraryStore, item_id: int) -> np.ndarray:
    rows = store.vector_rows(after_id=item_id - 1)
    return rows.vectors[list(rows.ids).index(item_id)]


def test_memory_index_reads_the_same_vectors_as_a_plain_vec0_scan(library):
    store = library[0]
    rows = store.vector_rows()  # the plain float32 copies (schema 3)
    plain = dict(store._connection.execute("SELECT rowid, embedding FROM item_vectors").fetchall())
    assert sorted(rows.ids.tolist()) == sorted(plain)
    for rowid, vector in zip(rows.ids.tolist(), rows.vectors):
        assert vector.tobytes() == plain[rowid]


@pytest.fixture
def approximate_above_1000(monkeypatch):
    """Thresholds scaled down so a test-sized library gets an approximate index and uses it."""
    monkeypatch.setattr(search_module, "APPROXIMATE_ABOVE", 1000)
    monkeypatch.setattr(search_module, "EXACT_ROWS", 200)
    calls = []
    original = ApproximateIndex.candidates
    monkeypatch.setattr(ApproximateIndex, "candidates",
                        lambda self, *args, **kwargs: calls.append(1) or original(self, *args, **kwargs))
    return calls


@pytest.mark.parametrize("filters, keep", [
    (SearchFilters(), lambda item: True),
    (SearchFilters(genre="jazz"), lambda item: item.genre == "jazz"),
    (SearchFilters(mood="sad", bpm_min=80, bpm_max=150), lambda item: item.mood == "sad" and 80 <= item.bpm <= 150),
    (SearchFilters(partition="user", mode="minor"), lambda item: item.partition == "user" and item.key.endswith("minor")),
])
def test_the_approximate_index_finds_nearly_all_exact_neighbours(library, approximate_above_1000, filters, keep):
    store, items, vectors = library
    rng = np.random.default_rng(5)
    recall = []
    with LibraryStore.open(store.path) as fresh:  # a new store: its index is built with the thresholds above
        assert index_for(fresh).approximate is not None
        for row in rng.integers(0, SIZE, 40):
            query = vectors[row] + 0.3 * rng.standard_normal(DIM).astype(np.float32)  # near the data, as queries are
            found = search(fresh, query, filters, k=10, method="memory")
            assert len(found) == 10 and all(keep(reference.item) for reference in found)
            unit = query / np.linalg.norm(query)
            by_id = {item.id: n for n, item in enumerate(items)}
            for reference in found:  # every score is the exact cosine, not the quantised one
                assert reference.score == pytest.approx(float(vectors[by_id[reference.item.id]] @ unit), abs=1e-5)
            assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
            recall.append(len({r.item.id for r in found} & set(brute_force(items, vectors, query, 10, keep))) / 10)
    assert len(approximate_above_1000) == 40, "every search went through the approximate index"
    assert np.mean(recall) >= 0.85, np.mean(recall)


def test_a_search_the_approximate_index_cannot_fill_is_scanned_exactly(library, approximate_above_1000, monkeypatch):
    store, items, vectors = library
    monkeypatch.setattr(ApproximateIndex, "candidates", lambda self, *args, **kwargs: np.zeros(0, np.int64))
    with LibraryStore.open(store.path) as fresh:
        for query in queries(3, seed=6):
            assert [r.item.id for r in search(fresh, query, k=10, method="memory")] == brute_force(items, vectors, query, 10)


def test_the_approximate_index_follows_appends_removals_and_merges(tmp_path, approximate_above_1000):
    items, vectors = random_library(1200, seed=3)
    with LibraryStore.open(tmp_path / "library.sqlite", dim=DIM) as store:
        store.add_items(items, vectors)
        index = index_for(store)
        trained = index.approximate
        assert trained is not None and len(trained) == 1200
        more, more_vectors = random_library(12, seed=4)
        for item, vector in zip(more, more_vectors):  # one segment each: a merge happens on the way
            added = store.add_item(item, vector)
            assert search(store, vector, k=1, method="memory")[0].item.id == added
        index = index_for(store)
        assert len(index.segments) <= 9 and len(index.approximate) == len(index) == 1212
        assert index.approximate is trained, "appends reuse the trained lists"
        store.remove(added)
        hits = search(store, more_vectors[-1], k=5, method="memory")
        assert added not in {r.item.id for r in hits} and len(index_for(store).approximate) == 1211
        assert index_for(store).approximate is not trained, "a reload trains anew (reembed moves every vector)"
        store.remove(range(1, 400))  # below the threshold: exact scans again
        assert index_for(store).approximate is None
        assert len(search(store, more_vectors[0], k=5, method="memory")) == 5


def test_auto_asks_sqlite_vec_until_loading_would_have_paid_off(library, monkeypatch):
    store, items, vectors = library
    with LibraryStore.open(store.path) as fresh:
        assert fresh.last_id() == SIZE
        search(fresh, queries(1)[0], k=3)  # a small library loads at once
        assert search_module._state(fresh).index is not None
    monkeypatch.setattr(search_module, "MEMORY_BELOW", 0)
    monkeypatch.setattr(search_module, "LOAD_SECONDS_PER_ITEM", 1.0)  # loading "costs" SIZE seconds
    with LibraryStore.open(store.path) as fresh:
        for query in queries(3, seed=6):
            expected = brute_force(items, vectors, query, 5)
            assert [r.item.id for r in search(fresh, query, k=5)] == expected
        state = search_module._state(fresh)
        assert state.index is None and state.sql_seconds > 0
        # time spent in vec0 now exceeds what loading "costs" (half of it, so rounding cannot tip it)
        monkeypatch.setattr(search_module, "LOAD_SECONDS_PER_ITEM", state.sql_seconds / SIZE / 2)
        assert [r.item.id for r in search(fresh, queries(1)[0], k=5)] == brute_force(items, vectors, queries(1)[0], 5)
        assert state.index is not None and len(state.index) == SIZE


@pytest.mark.parametrize("method", METHODS)
def test_a_search_by_sound_is_reranked_by_its_windows(tmp_path, method):
    """By the mean vector alone, an item whose one vector is the query's mean wins; with the query's
    windows, the item whose windows match the query's window for window wins."""
    from mtm_daw.library.search import window_similarity

    basis = np.eye(DIM, dtype=np.float32)
    query_windows = np.stack([basis[0], basis[1]])
    query = query_windows.mean(axis=0)
    same_windows = np.stack([basis[0] + 0.15 * basis[2], basis[1] + 0.15 * basis[2]])
    blurred = query_windows.mean(axis=0, keepdims=True)  # one window: everything at once
    items, _ = random_library(3, seed=9)
    with LibraryStore.open(tmp_path / "library.sqlite", dim=DIM) as store:
        piece = store.add_item(items[0], same_windows.mean(axis=0), same_windows)
        blur = store.add_item(items[1], blurred[0], blurred)
        other = store.add_item(items[2], basis[5])  # no windows stored
        plain = search(store, query, k=3, method=method)
        assert [r.item.id for r in plain][:2] == [blur, piece]
        reranked = search(store, query, k=3, method=method, query_windows=query_windows)
        assert [r.item.id for r in reranked] == [piece, blur, other]
        assert reranked[2].score == pytest.approx(plain[2].score, abs=1e-6), "no windows stored: its cosine"
        unit = same_windows / np.linalg.norm(same_windows, axis=1, keepdims=True)
        assert reranked[0].score == pytest.approx(window_similarity(query_windows, unit), abs=2e-3)
        assert reranked[1].score == pytest.approx(np.sqrt(0.5), abs=2e-3)
        assert len(search(store, query, k=1, method=method, query_windows=query_windows)) == 1
        with pytest.raises(MtmError, match="window embeddings"):
            search(store, query, method=method, query_windows=np.zeros((2, DIM + 1)))
