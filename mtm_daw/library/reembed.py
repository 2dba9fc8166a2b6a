"""`mtm library reembed`: bring a library to the shipped joint model, keeping every item, tag and edit.

    report = reembed_library("~/.local/share/mtm_daw/library.sqlite", progress=printer, cancel=token)

A library records which embedding model made its vectors and refuses another, because two models'
spaces cannot be compared. After an update that ships a new model, this embeds every item again from
its file (MIDI through its render; a starter piece from the installed starter folder) and swaps all
vectors in one transaction: the library is wholly old or wholly new, whatever happens meanwhile.
Items whose file is gone or unreadable are listed and nothing is changed, unless `drop_missing`
removes them from the library (their files, if any, are never touched).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.library.store import LibraryStore
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress

PAGE = 1000


@dataclass
class ReembedReport:
    model: str  # the embedding model the library holds now (also re-run when items lack window embeddings)
    reembedded: int = 0
    missing: list[tuple[int, str, str]] = field(default_factory=list)  # (item id, path, why)
    dropped: int = 0
    seconds: float = 0.0
    already_current: bool = False


def reembed_library(path: str | os.PathLike, drop_missing: bool = False, progress: ProgressCallback = no_progress,
                    cancel: CancelToken | None = None) -> ReembedReport:
    """Embed every item of the library at `path` with the shipped joint model (see module doc).

    Raises MtmError listing the items that could not be embedded when `drop_missing` is off (the
    library is left as it was), and Cancelled (also with nothing changed) when `cancel` is set.
    """
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.engine.joint_embedding import SAMPLE_RATE, JointEmbedder, pooled
    from mtm_daw.library.starter import STARTER_DIR, STARTER_PARTITION, embedding_model_name
    from mtm_daw.library.tagging import embed_file
    from mtm_daw.render import listening_renderer

    started = time.monotonic()
    model = embedding_model_name()
    report = ReembedReport(model=model)
    with LibraryStore.open(path, create=False) as store:  # opened without claiming a model: it may hold another
        if store.embedding_model == model and store.count_without_windows() == 0:
            report.already_current = True
            return report
        items, total = [], store.count()
        while len(items) < total:
            page = store.list_items(limit=PAGE, offset=len(items))
            if not page:
                break
            items += page
        embedder = JointEmbedder.default()
        renderer = None
        embeddings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        progress("reembed", 0.0)
        try:
            for index, item in enumerate(items):
                if cancel is not None:
                    cancel.check()
                source = Path(item.path)
                if item.partition == STARTER_PARTITION and not source.is_file():
                    source = STARTER_DIR / source.name  # the package was installed somewhere else since
                try:
                    if item.kind == "midi" and renderer is None:
                        renderer = listening_renderer(SAMPLE_RATE)
                    windows = embed_file(source, item.kind, embedder, renderer=renderer, cancel=cancel)
                    embeddings[item.id] = (pooled(windows), windows)
                except Cancelled:
                    raise
                except MtmError as exc:
                    report.missing.append((item.id, item.path, str(exc)))
                progress("reembed", (index + 1) / max(1, len(items)))
        finally:
            if renderer is not None:
                renderer.close()
        if cancel is not None:
            cancel.check()  # a cancel during the last file must not let the swap go ahead
        if report.missing and not drop_missing:
            listed = "; ".join(f"{item_id}: {why}" for item_id, _, why in report.missing[:10])
            more = f"; and {len(report.missing) - 10} more" if len(report.missing) > 10 else ""
            raise MtmError(f"{store.path}: {len(report.missing)} item(s) could not be embedded again ({listed}{more}). "
                           "Nothing was changed. Put the files back, or run again with --drop-missing to remove "
                           "those items from the library (their files are not touched).")
        store.replace_embeddings(embeddings, model, remove=[item_id for item_id, _, _ in report.missing])
    report.reembedded = len(embeddings)
    report.dropped = len(report.missing)
    report.seconds = time.monotonic() - started
    return report
