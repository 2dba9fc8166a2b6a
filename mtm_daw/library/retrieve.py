"""The music bridge for generation: a MusicDescription -> references from the library -> a control signal.

Dual-track, as in the paper: the broad track ranks the whole library by how well each item matches
the description's sentence in the joint space (a melody / rhythm reference); the targeted track does
the same restricted to the attributes the description pins down (genre, and a tempo within 15 %).
The best targeted match is preferred; when no item has those attributes the broad match is used.
"""
from __future__ import annotations

import os
from pathlib import Path

from mtm_daw.description import MusicDescription
from mtm_daw.engine.control import ControlSignal
from mtm_daw.engine.joint_embedding import JointEmbedder
from mtm_daw.engine.reference import load_reference
from mtm_daw.errors import MtmError
from mtm_daw.library.item import Reference, SearchFilters
from mtm_daw.library.search import search
from mtm_daw.library.starter import open_library

TEMPO_WINDOW = 0.15


def description_filters(description: MusicDescription) -> SearchFilters:
    return SearchFilters(genre=description.genre, bpm_min=description.tempo * (1 - TEMPO_WINDOW),
                         bpm_max=description.tempo * (1 + TEMPO_WINDOW))


def references_for(description: MusicDescription, store, k: int = 5, embedder=None) -> list[Reference]:
    """Targeted matches first, then broad ones not already listed (at most k of each)."""
    embedder = embedder or JointEmbedder.default()
    query = embedder.embed_text([description.sentence or description.to_sentence()])[0]
    targeted = search(store, query, description_filters(description), k=k)
    seen = {r.item.id for r in targeted}
    broad = [r for r in search(store, query, SearchFilters(), k=k) if r.item.id not in seen]
    return targeted + broad


def reference_control(reference: Reference, strength: float) -> ControlSignal:
    """The control signal of a library item: its notes (a MIDI file, or the audio's transcription
    when the library has one) or else the audio itself."""
    item = reference.item
    for candidate in (item.notes_path, item.path):
        if candidate and Path(candidate).is_file():
            signal = load_reference(candidate, strength)
            signal.source = f"library item {item.id}: {item.path}"
            return signal
    raise MtmError(f"library item {item.id}: its file {item.path} is gone (moved or deleted); "
                   "remove it with `mtm library rm` or add the file again")


def retrieve_control(description: MusicDescription, library_path: str | os.PathLike, strength: float,
                     embedder=None) -> tuple[ControlSignal, Reference]:
    """The best reference for a description and its control signal; MtmError when the library is empty."""
    store = open_library(library_path)
    try:
        references = references_for(description, store, k=5, embedder=embedder)
    finally:
        store.close()
    problems = []
    for reference in references:
        try:
            return reference_control(reference, strength), reference
        except MtmError as exc:
            problems.append(str(exc))
    detail = f" ({problems[0]})" if problems else ""
    raise MtmError(f"{library_path}: no usable reference in the library{detail} — add files with `mtm library add`")
