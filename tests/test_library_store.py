"""The library file: schema, round trips, duplicates, damaged files, verify, two writers at once."""
from __future__ import annotations

import hashlib
import multiprocessing
import sys

import apsw
import numpy as np
import pytest
import sqlite_vec

from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.library import LibraryItem, LibraryStore, default_library_path, parse_bpm_range
from mtm_daw.library.item import SearchFilters
from mtm_daw.library.store import SCHEMA_VERSION
from mtm_daw.progress import CancelToken

DIM = 16
INJECTION = "x'); DROP TABLE items;--"


def make_item(n: int, **tags) -> LibraryItem:
    fields = dict(path=f"/music/loop{n}.wav", content_hash=hashlib.sha256(f"file {n}".encode()).hexdigest(),
                  kind="audio", duration=8.0 + n % 60, bpm=90.0 + n % 60, beat_times=[0.0, 0.66, 1.33], key="A minor",
                  loudness=-14.0, genre="funk", genre_confidence=0.8, mood="playful", mood_confidence=0.6,
                  instruments=["bass", "drums"], caption="a tight funk groove")
    fields.update(tags)
    return LibraryItem(**fields)


def vector(seed: int, dim: int = DIM) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def raw_connection(path) -> apsw.Connection:
    connection = apsw.Connection(str(path))
    connection.enable_load_extension(True)
    connection.load_extension(sqlite_vec.loadable_path())
    return connection


@pytest.fixture
def store(tmp_path):
    with LibraryStore.open(tmp_path / "library.sqlite", dim=DIM) as opened:
        yield opened


# --- schema -------------------------------------------------------------------------------------
def test_new_library_has_a_versioned_schema_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "library.sqlite"
    LibraryStore.open(path, dim=DIM, embedding_model="joint-v1").close()
    connection = raw_connection(path)
    meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["embedding_dim"] == str(DIM) and meta["embedding_model"] == "joint-v1"
    assert meta["created_with"].startswith("mtm_daw ") and "sqlite-vec" in meta["created_with"]
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "items", "item_vectors"} <= tables
    assert connection.execute("PRAGMA journal_mode").fetchall()[0][0] == "wal"
    connection.close()
    with LibraryStore.open(path) as reopened:  # reopening keeps the file's width and model
        assert reopened.dim == DIM and reopened.embedding_model == "joint-v1"
        assert reopened.verify() == []


def test_width_and_model_must_match_the_file(tmp_path):
    path = tmp_path / "library.sqlite"
    LibraryStore.open(path, dim=DIM, embedding_model="joint-v1").close()
    with pytest.raises(MtmError, match="16-wide embeddings, not 32"):
        LibraryStore.open(path, dim=32)
    with pytest.raises(MtmError, match="joint-v2"):
        LibraryStore.open(path, embedding_model="joint-v2")
    with pytest.raises(MtmError, match="no library there"):
        LibraryStore.open(tmp_path / "missing.sqlite", create=False)
    with pytest.raises(MtmError, match="folder"):
        LibraryStore.open(tmp_path)


def test_default_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MTM_LIBRARY", str(tmp_path / "mine.sqlite"))
    assert default_library_path() == tmp_path / "mine.sqlite"
    monkeypatch.delenv("MTM_LIBRARY")
    assert default_library_path().name == "library.sqlite" and "mtm_daw" in str(default_library_path())


# --- writing and reading ------------------------------------------------------------------------
def test_add_get_find_list_remove_round_trip(store):
    item = make_item(1, genre="Funk", key="am", partition="user")
    item_id = store.add_item(item, vector(1))
    got = store.get(item_id)
    assert got.id == item_id and got.path == item.path and got.content_hash == item.content_hash
    assert got.genre == "funk" and got.key == "A minor" and got.mode == "minor" and got.tonic == "A"
    assert got.beat_times == [0.0, 0.66, 1.33] and got.instruments == ["bass", "drums"]
    assert got.bpm == 91.0 and got.loudness == -14.0 and got.caption == "a tight funk groove"
    assert got.added_at > 0 and got.updated_at == got.added_at
    second = store.add_item(make_item(2, partition="starter"), vector(2))
    assert [i.id for i in store.find_by_path(item.path)] == [item_id]
    assert [i.id for i in store.list_items()] == [item_id, second]
    assert [i.id for i in store.list_items(partition="starter")] == [second]
    assert [i.id for i in store.list_items(limit=1, offset=1)] == [second]
    assert store.remove(item_id) == 1 and store.count() == 1
    assert store.remove(path="/music/loop2.wav") == 1 and store.count() == 0
    store.add_item(item, vector(1))
    assert store.remove(item.path) == 1 and store.count() == 0  # a path in place of ids
    assert store.remove([12345]) == 0
    with pytest.raises(MtmError, match="no library item with id"):
        store.get(item_id)
    assert store.verify() == []


def test_the_same_file_is_stored_once_per_partition(store):
    first = store.add_item(make_item(1), vector(1))
    again = store.add_item(make_item(1, path="/elsewhere/copy.wav", genre="jazz"), vector(9))
    assert again == first and store.count() == 1 and store.get(first).genre == "funk"
    assert store.has_hash(make_item(1).content_hash) and store.has_hash(make_item(1).content_hash, "user")
    assert not store.has_hash(make_item(1).content_hash, "starter")
    starter = store.add_item(make_item(1, partition="starter"), vector(1))
    assert starter != first and store.count() == 2
    ids = store.add_items([make_item(3), make_item(3), make_item(1)], np.stack([vector(3), vector(3), vector(1)]))
    assert ids[0] == ids[1] and ids[2] == first and store.count() == 3


def test_batches_are_all_or_nothing(store):
    store.add_item(make_item(0), vector(0))
    bad = [make_item(1), make_item(2, kind="video")]
    with pytest.raises(MtmError, match="kind must be one of"):
        store.add_items(bad, np.stack([vector(1), vector(2)]))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        store.add_items([make_item(3)], vector(3)[None], cancel=token)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_item(make_item(4), vector(4))
            raise RuntimeError("stop")
    assert store.count() == 1 and store.counters().changes == 1
    with store.transaction():  # a failed batch inside a larger transaction rolls back alone
        store.add_item(make_item(5), vector(5))
        with pytest.raises(MtmError):
            store.add_items(bad, np.stack([vector(1), vector(2)]))
    assert sorted(i.path for i in store.list_items()) == ["/music/loop0.wav", "/music/loop5.wav"]


def test_bad_embeddings_are_refused(store):
    for embedding, message in ((np.zeros(DIM), "all zeros"), (np.full(DIM, np.nan), "NaN"),
                               (np.ones(DIM + 1), "width 16")):
        with pytest.raises(MtmError, match=message):
            store.add_item(make_item(1), embedding)
    assert store.count() == 0


def test_items_are_checked_field_by_field():
    with pytest.raises(MtmError, match="SHA-256"):
        make_item(1, content_hash="abc").validate()
    with pytest.raises(MtmError, match="loop1.wav: key: 'C dorian' is not a key"):
        make_item(1, key="C dorian").validate()
    with pytest.raises(MtmError, match="genre_confidence"):
        make_item(1, genre_confidence=1.5).validate()
    with pytest.raises(MtmError, match="partition"):
        make_item(1, partition="my files").validate()
    with pytest.raises(MtmError, match="bpm"):
        make_item(1, bpm=float("nan")).validate()
    assert make_item(1, key="").mode == "" and make_item(1, key="Bb major").tonic == "Bb"


def test_bpm_ranges_and_filters_parse_or_say_why():
    assert parse_bpm_range("80-100") == (80.0, 100.0)
    assert parse_bpm_range(" 92.5 – 110 ") == (92.5, 110.0)
    assert parse_bpm_range("60..70") == (60.0, 70.0)
    for text in ("fast", "100-80", "120", "0-20", "-5-10", "80-100-120"):
        with pytest.raises(MtmError):
            parse_bpm_range(text)
    assert SearchFilters().is_empty and not SearchFilters(mood="sad").is_empty
    with pytest.raises(MtmError, match="not in major"):
        SearchFilters(key="A minor", mode="major").canonical()
    with pytest.raises(MtmError, match="empty"):
        SearchFilters(bpm_min=120, bpm_max=100).canonical()


def test_change_counters_follow_every_writer(store, tmp_path):
    """counters() answers from memory while the file is unchanged: it must still see this store's writes,
    another connection's, and never keep a count a rolled-back transaction made."""
    store.add_item(make_item(1), vector(1))
    assert store.counters().changes == 1
    read = []
    original = store._rows
    store._rows = lambda sql, params=(): (read.append(sql), original(sql, params))[1]
    assert store.counters().changes == 1 and not any("meta" in sql for sql in read)  # answered from memory
    with LibraryStore.open(tmp_path / "library.sqlite") as other:
        other.add_item(make_item(2), vector(2))
        assert store.counters().changes == 2
        other.remove(1)
    assert store.counters() == type(store.counters())(changes=3, rewrites=1)
    with pytest.raises(RuntimeError), store.transaction():
        store.add_item(make_item(3), vector(3))
        assert store.counters().changes == 4  # inside: its own uncommitted write
        raise RuntimeError("rolled back")
    assert store.counters().changes == 3 and store.count() == 1
    store.add_item(make_item(4), vector(4))
    assert store.counters().changes == 4


def test_tags_edits_and_stats(store):
    item_id = store.add_item(make_item(1), vector(1))
    store.add_item(make_item(2, kind="midi", genre="", partition="starter"), vector(2))
    edited = store.update_tags(item_id, genre="Jazz", source="my sampler", licence="CC-BY 4.0")
    assert edited.genre == "jazz" and edited.genre_confidence == 1.0 and edited.mood_confidence == 0.6
    assert store.get(item_id) == edited
    rewrites = store.counters().rewrites
    store.update_tags(item_id, licence="CC0")  # not a search tag: the search index need not reload
    assert store.counters().rewrites == rewrites and store.get(item_id).genre == "jazz"
    store.set_notes_path(item_id, "/cache/loop1.mid")
    assert store.get(item_id).notes_path == "/cache/loop1.mid"
    stats = store.stats()
    assert stats.items == 2 and stats.by_partition == {"starter": 1, "user": 1}
    assert stats.by_kind == {"audio": 1, "midi": 1} and stats.by_genre == {"": 1, "jazz": 1}
    assert stats.total_duration == pytest.approx(19.0) and stats.db_bytes > 0
    assert store.verify() == []


def test_sql_looking_text_is_just_text(store):
    item_id = store.add_item(make_item(1, path=INJECTION, genre=INJECTION, mood=INJECTION, caption=INJECTION,
                                       source=INJECTION, instruments=[INJECTION]), vector(1))
    store.update_tags(item_id, licence=INJECTION)
    got = store.get(item_id)
    assert got.path == INJECTION and got.genre == INJECTION.lower() and got.licence == INJECTION
    assert got.instruments == [INJECTION]
    assert [i.id for i in store.find_by_path(INJECTION)] == [item_id]
    assert not store.has_hash(INJECTION)
    assert store.count() == 1 and store.verify() == []


# --- damaged and foreign files ------------------------------------------------------------------
def _healthy_library(path) -> bytes:
    with LibraryStore.open(path, dim=DIM) as store:
        store.add_items([make_item(n) for n in range(300)], np.stack([vector(n) for n in range(300)]))
    connection = apsw.Connection(str(path))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode = DELETE")  # everything in the one file, no -wal beside it
    connection.close()
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["random bytes", "text file", "truncated", "foreign database", "empty header"])
def test_damaged_or_foreign_files_are_refused_and_left_alone(tmp_path, damage):
    path = tmp_path / "library.sqlite"
    if damage == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(8192))
    elif damage == "text file":
        path.write_text("genre,bpm\nfunk,96\n")
    elif damage == "truncated":
        path.write_bytes(_healthy_library(path)[:40_000])
    elif damage == "foreign database":
        other = apsw.Connection(str(path))
        other.execute("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('mine')")
        other.close()
    else:
        path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20)
    before = path.read_bytes()
    with pytest.raises(MtmError, match="not modified") as error:
        LibraryStore.open(path, dim=DIM)
    assert str(path) in str(error.value)
    assert path.read_bytes() == before


def test_damage_inside_the_file_is_reported_not_hidden(tmp_path):
    path = tmp_path / "library.sqlite"
    data = bytearray(_healthy_library(path))
    page_size = int.from_bytes(data[16:18], "big")
    data[3 * page_size:len(data) - page_size] = np.random.default_rng(1).bytes(len(data) - 4 * page_size)
    path.write_bytes(bytes(data))
    try:
        store = LibraryStore.open(path, dim=DIM)
    except MtmError as error:
        assert "damaged" in str(error)
    else:
        with store:
            try:
                problems = store.verify()
            except MtmError as error:
                assert "damaged" in str(error)
            else:
                assert problems


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "library.sqlite"
    LibraryStore.open(path, dim=DIM).close()
    connection = raw_connection(path)
    connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(MtmError, match="newer mtm_daw"):
        LibraryStore.open(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("module", ["apsw", "sqlite_vec"])
def test_missing_sqlite_pieces_say_how_to_install(monkeypatch, tmp_path, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now fails
    with pytest.raises(MtmError, match="pip install apsw sqlite-vec"):
        LibraryStore.open(tmp_path / "library.sqlite")


# --- verify -------------------------------------------------------------------------------------
def test_verify_finds_orphans_and_lonely_items(store):
    ids = store.add_items([make_item(n) for n in range(3)], np.stack([vector(n) for n in range(3)]))
    assert store.verify() == [] and store.verify(thorough=False) == []
    connection = raw_connection(store.path)
    connection.execute("INSERT INTO item_vectors (rowid, partition, embedding, genre, mood, key, mode, bpm, duration) "
                       "VALUES (999, 'user', ?, '', '', '', '', 0.0, 0.0)", (vector(5).tobytes(),))
    connection.execute("DELETE FROM item_vectors WHERE rowid = ?", (ids[0],))
    connection.execute("UPDATE items SET genre = 'jazz' WHERE id = ?", (ids[1],))
    connection.close()
    problems = store.verify()
    assert any("belong to no item" in p and "999" in p for p in problems)
    assert any("have no vector" in p and str(ids[0]) in p for p in problems)
    assert any("differ" in p and str(ids[1]) in p for p in problems)
    with pytest.raises(MtmError, match="has problems"):
        store.verify_or_raise()


@pytest.mark.parametrize("statement, missing", [("DROP TABLE item_windows", "the table item_windows is missing"),
                                                ("DROP INDEX items_path", "the index items_path is missing")])
def test_verify_finds_a_dropped_table_or_index(store, statement, missing):
    store.add_items([make_item(1)], np.stack([vector(1)]))
    assert store.verify() == []
    connection = raw_connection(store.path)
    connection.execute(statement)
    connection.close()
    assert any(missing in problem for problem in store.verify()), store.verify()


def test_window_vectors_are_stored_removed_and_checked(store):
    windows = np.stack([vector(10), vector(11), vector(12)])
    with_windows = store.add_item(make_item(1), windows.mean(axis=0), windows)
    without = store.add_item(make_item(2), vector(20))
    found = store.window_vectors([with_windows, without, 12345])
    unit = windows / np.linalg.norm(windows, axis=1, keepdims=True)
    assert found[with_windows].shape == (3, DIM) and np.abs(found[with_windows] - unit).max() < 2e-3  # float16
    assert without not in found and 12345 not in found
    assert store.count_without_windows() == 1
    with pytest.raises(MtmError, match=r"window embeddings must be \(windows, 16\)"):
        store.add_item(make_item(3), vector(30), np.zeros((2, DIM + 1), np.float32))
    assert store.count() == 2, "a refused item leaves nothing behind"
    store.remove(with_windows)
    connection = raw_connection(store.path)
    assert connection.execute("SELECT count(*) FROM item_windows").fetchall()[0][0] == 0
    connection.execute("INSERT INTO item_windows (id, vectors) VALUES (777, ?)", (b"\x00" * 5,))  # no FK pragma here
    connection.close()
    problems = store.verify()
    assert any("window vectors belong to no item" in p and "777" in p for p in problems)
    assert any("window vectors of the wrong size" in p and "777" in p for p in problems)


def test_replacing_embeddings_is_all_or_nothing(store):
    first, second = (store.add_item(make_item(n), vector(n)) for n in (1, 2))
    store._claim_model("old-model")
    before = store.nearest(vector(1), SearchFilters(), 2)
    with pytest.raises(MtmError, match=r"1 item\(s\) have no new embedding \(ids " + str(second)):
        store.replace_embeddings({first: (vector(7), np.stack([vector(8), vector(9)]))}, "new-model")
    assert store.embedding_model == "old-model" and store.nearest(vector(1), SearchFilters(), 2) == before
    assert store.window_vectors([first, second]) == {} and store.count() == 2
    store.replace_embeddings({first: (vector(7), np.stack([vector(8), vector(9)]))}, "new-model", remove=[second])
    assert store.embedding_model == "new-model" and store.count() == 1 and store.verify() == []
    assert store.window_vectors([first])[first].shape == (2, DIM)
    assert store.nearest(vector(7), SearchFilters(), 1)[0][0] == first


def test_a_version_1_library_is_migrated_and_keeps_its_items(tmp_path):
    path = tmp_path / "old.sqlite"
    with LibraryStore.open(path, dim=DIM) as opened:
        kept = opened.add_item(make_item(1), vector(1))
    connection = raw_connection(path)  # what an mtm_daw of schema 1 left: no window or plain embedding table
    connection.execute("DROP TABLE item_windows")
    connection.execute("DROP TABLE item_embeddings")
    connection.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    connection.close()
    before = path.read_bytes()
    with LibraryStore.open(path, upgrade=False) as checked:  # as `library verify` opens it: read only
        assert checked.schema_version == 1 and checked.verify() == [] and checked.get(kept).path == "/music/loop1.wav"
    assert path.read_bytes() == before
    with LibraryStore.open(path) as migrated:
        assert migrated.schema_version == SCHEMA_VERSION
        assert migrated.get(kept).path == "/music/loop1.wav" and migrated.verify() == []
        added = migrated.add_item(make_item(2), vector(2), np.stack([vector(3), vector(4)]))
        assert migrated.window_vectors([added])[added].shape == (2, DIM)
    meta = dict(raw_connection(path).execute("SELECT key, value FROM meta").fetchall())
    assert meta["schema_version"] == str(SCHEMA_VERSION) == "3"


def test_a_version_2_library_gets_plain_embedding_copies_equal_to_sqlite_vecs(tmp_path):
    path = tmp_path / "v2.sqlite"
    with LibraryStore.open(path, dim=DIM) as opened:
        ids = opened.add_items([make_item(n) for n in range(1, 6)], np.stack([vector(n) for n in range(1, 6)]))
        opened.remove(ids[2])
        expected = opened.vector_rows()
    connection = raw_connection(path)  # what an mtm_daw of schema 2 left: vectors in vec0 only
    connection.execute("DROP TABLE item_embeddings")
    connection.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    connection.close()
    with LibraryStore.open(path, upgrade=False) as checked:  # not upgraded: vectors come from a vec0 scan
        rows = checked.vector_rows()
        assert checked.schema_version == 2 and checked.verify() == []
        assert sorted(rows.ids.tolist()) == sorted(expected.ids.tolist())
        with pytest.raises(MtmError, match="opened without upgrading it"):  # not "damaged"
            checked.add_item(make_item(9), vector(9))
        with pytest.raises(MtmError, match="opened without upgrading it"):
            checked.remove(ids[0])
    with LibraryStore.open(path) as migrated:
        assert migrated.schema_version == 3 and migrated.verify() == []
        assert migrated.count() == 4, "the refused writes changed nothing"
        rows = migrated.vector_rows()
        assert rows.ids.tolist() == expected.ids.tolist()
        np.testing.assert_array_equal(rows.vectors, expected.vectors)
    connection = raw_connection(path)
    copies = dict(connection.execute("SELECT id, vector FROM item_embeddings").fetchall())
    assert sorted(copies) == sorted(set(ids) - {ids[2]})
    for item_id, blob in connection.execute("SELECT rowid, embedding FROM item_vectors").fetchall():
        assert copies[item_id] == blob


def test_verify_finds_a_plain_embedding_copy_that_disagrees(store):
    first, second, third = store.add_items([make_item(n) for n in (1, 2, 3)], np.stack([vector(n) for n in (1, 2, 3)]))
    connection = raw_connection(store.path)
    connection.execute("UPDATE item_embeddings SET vector = ? WHERE id = ?", (vector(9).tobytes(), first))
    connection.execute("UPDATE item_embeddings SET vector = ? WHERE id = ?", (b"\x00" * 7, second))
    connection.execute("DELETE FROM item_embeddings WHERE id = ?", (third,))
    connection.close()
    problems = store.verify()
    assert any("differs from their vector" in p and str(first) in p for p in problems), problems
    assert any("wrong size" in p and str(second) in p for p in problems), problems
    assert any("no plain embedding copy" in p and str(third) in p for p in problems), problems
    assert not any("differs" in p for p in store.verify(thorough=False))
    with pytest.raises(MtmError, match="damaged"):
        store.vector_rows()
    store.replace_embeddings({first: (vector(1), None), second: (vector(2), None), third: (vector(3), None)}, "model")
    assert store.verify() == [], "re-embedding writes every copy again, a missing one included"


# --- two writers --------------------------------------------------------------------------------
def _writer(path: str, offset: int) -> None:
    with LibraryStore.open(path) as store:
        for n in range(offset, offset + 200):
            store.add_item(make_item(n), vector(n))


def test_two_processes_write_at_once(tmp_path):
    path = tmp_path / "library.sqlite"
    LibraryStore.open(path, dim=DIM).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), offset)) for offset in (0, 1000)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with LibraryStore.open(path) as store:
        assert store.count() == 400
        assert store.counters().changes == 400
        assert store.verify() == []
