"""The music bridge: a local library of audio and MIDI references, searched by embedding and tags.

    from mtm_daw.library import LibraryStore, SearchFilters
    from mtm_daw.library.search import search
    with LibraryStore.open() as store:
        references = search(store, query_vector, SearchFilters(genre="funk", bpm_min=80, bpm_max=100), k=5)
"""
from mtm_daw.library.item import LibraryItem, Reference, SearchFilters, parse_bpm_range
from mtm_daw.library.store import LibraryStats, LibraryStore, default_library_path

__all__ = ["LibraryItem", "Reference", "SearchFilters", "parse_bpm_range", "LibraryStore", "LibraryStats",
           "default_library_path"]

