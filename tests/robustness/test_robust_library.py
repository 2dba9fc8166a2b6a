"""The library file fuzzed: byte flips, truncation and noise through open, verify, reads and search.

tests/test_library_store.py already covers the named cases (random bytes, a text file, a truncated
copy, a foreign database, damage across many pages, a newer schema, hostile strings in tags and
paths); here the damage is drawn at random, and every public read runs on what opens.
"""
from __future__ import annotations

import apsw
import numpy as np
import pytest

from mtm_daw.errors import MtmError
from mtm_daw.library import LibraryStore
from mtm_daw.library.item import SearchFilters
from tests.robustness.corrupt import MAGIC, bounded, damage_of, damaged, fuzz, write_case
from tests.test_library_store import DIM, make_item, vector

ITEMS = 60


@pytest.fixture(scope="module")
def library_bytes(tmp_path_factory) -> bytes:
    """A healthy 60-item library in one file (checkpointed, rollback journal: no -wal beside it)."""
    path = tmp_path_factory.mktemp("library") / "good.sqlite"
    with LibraryStore.open(path, dim=DIM) as store:
        store.add_items([make_item(n) for n in range(ITEMS)], np.stack([vector(n) for n in range(ITEMS)]))
    connection = apsw.Connection(str(path))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode = DELETE")
    connection.close()
    return path.read_bytes()


def use_library(path) -> str:
    """Everything a user can do to a library without writing: open, verify, list, stats, search."""
    with LibraryStore.open(path) as store:
        problems = store.verify()
        store.verify(thorough=False)
        store.count()
        store.stats()
        store.counters()
        items = store.list_items(limit=ITEMS + 10)
        store.get_many([item.id for item in items[:5]])
        store.find_by_path("/music/loop1.wav")
        store.vector_rows()
        store.nearest(vector(1, store.dim), SearchFilters(), 5)
        store.nearest(vector(2, store.dim), SearchFilters(genre="funk", bpm_min=90.0, bpm_max=120.0), 5)
    return "problems" if problems else "clean"


def check_damaged_library(folder, data: bytes) -> str:
    path = write_case(folder, ".sqlite", data, stem="library")
    try:
        outcome = bounded(lambda: use_library(path), what="the library")
    except MtmError as error:
        assert str(path) in str(error), f"the error does not name the library file: {error}"
        return "refused"
    except Exception as error:
        pytest.fail(f"{type(error).__name__} escaped from a damaged library instead of MtmError: {error}")
    return outcome


def test_damaged_library_files_give_only_clear_errors(library_bytes, tmp_path):
    """Random damage: open, verify and every read either work (verify may list problems) or raise MtmError."""
    fuzz(damaged(library_bytes, magic=MAGIC[".sqlite"]), lambda case: check_damaged_library(tmp_path, case.data),
         examples=40)


@pytest.mark.parametrize("seed", [26, 114, 158, 194, 226, 254, 257, 289, 533])
def test_damage_found_by_fuzzing_is_reported_clearly(library_bytes, tmp_path, seed):
    """Byte flips that once escaped as UnicodeDecodeError (bad UTF-8 in a tag), JSONDecodeError (beat times),
    SQLError from a damaged schema ('no such column', 'unsupported file format') or from sqlite-vec
    ('Could not extract metadata value', 'Could not fetch vector data')."""
    case = damage_of(library_bytes, "flipped", seed)
    outcome = check_damaged_library(tmp_path, case.data)
    assert outcome in ("refused", "problems", "clean")


def test_a_refused_library_is_left_as_it_was(library_bytes, tmp_path):
    refused = 0
    for seed in range(40):
        case = damage_of(library_bytes, ("truncated", "flipped", "random")[seed % 3], seed, magic=MAGIC[".sqlite"])
        path = write_case(tmp_path, ".sqlite", case.data, stem="untouched")
        try:
            bounded(lambda: LibraryStore.open(path).close(), what="opening the library")
        except MtmError:
            refused += 1
            assert path.read_bytes() == case.data, f"a refused library was modified ({case.label})"
    assert refused >= 10
