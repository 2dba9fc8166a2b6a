"""`mtm library add`: files and folders -> tagged, embedded library items, resumable and on both cores.

    report = import_paths(store_path, ["~/Samples", "theme.mid"], progress=printer, cancel=token)

Each file is hashed; a hash already in the partition is skipped, so a re-run after a crash or Ctrl-C
picks up where it stopped. Tagging runs in worker processes (one per core by default); the parent
writes each finished item in its own transaction, so killing the process at any moment leaves a
consistent database holding every item finished so far. Files that cannot be read are collected and
reported at the end; they never stop the import.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress

IMPORT_KINDS = ("audio", "midi")
MIN_JOBS_PER_WORKER = 32  # measured (bench_import): one process already keeps both cores busy through
# onnxruntime threads, and a second process costs seconds to start; only a long import gains from it,
# and only when it transcribes audio: 24 clips of 20 s ran x1.14 on two workers with note transcription,
# x0.72 without it and x0.66 for MIDI files (benchmarks/results/import.json)


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0  # already in the library (same content)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def files_per_second(self) -> float:
        return (self.added + self.skipped) / self.seconds if self.seconds > 0 else 0.0


def collect_files(paths: list[str | os.PathLike]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(file, kind) for every audio or MIDI file under `paths` (folders recursively, hidden files
    skipped), and (path, message) for named paths that are missing or are not audio or MIDI."""
    # deferred: only this path needs pedalboard, PyAV, Pillow
    from mtm_daw.media.probe import detect_kind

    found, problems, seen = [], [], set()

    def consider(path: Path, named: bool) -> None:
        try:
            kind = detect_kind(path)
        except MtmError as exc:
            if named:
                problems.append((str(path), str(exc)))
            return
        if kind not in IMPORT_KINDS:
            if named:
                problems.append((str(path), f"{path.name}: a {kind} file; the library holds audio and MIDI"))
            return
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append((path, kind))

    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for root, folders, files in os.walk(path):
                folders[:] = sorted(f for f in folders if not f.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        consider(Path(root) / name, named=False)
        elif path.exists():
            consider(path, named=True)
        else:
            problems.append((str(path), f"{path}: no such file or folder"))
    return found, problems


# --- worker side (one process per core; each loads the models once) -------------------------------
_worker_state: dict = {}


def _worker_init(notes_dir: str | None, one_thread: bool = True) -> None:
    if one_thread:  # a worker process: one onnxruntime thread each (together they fill the cores), and
        os.environ["MTM_THREADS"] = "1"  # Ctrl-C is the parent's to handle (it stops the pool)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_state["notes_dir"] = notes_dir


def _tag_one(job: tuple[str, str, str, str]) -> tuple[str, object, str | None]:
    """(path, TaggedFile | None, error message | None); never raises, so one bad file cannot stop the pool."""
    # deferred: only this path needs onnxruntime, pedalboard, PyAV
    from mtm_daw.engine.joint_embedding import SAMPLE_RATE, JointEmbedder
    from mtm_daw.library.tagging import tag_file

    path, kind, file_hash, partition = job
    try:
        if kind == "midi" and "renderer" not in _worker_state:
            # deferred: only this path needs pedalboard, PyAV, Pillow
            from mtm_daw.render import listening_renderer

            _worker_state["renderer"] = listening_renderer(SAMPLE_RATE)
        notes_dir = _worker_state.get("notes_dir")
        tagged = tag_file(path, kind, JointEmbedder.default(), partition=partition, notes_dir=notes_dir,
                          transcribe=notes_dir is not None, renderer=_worker_state.get("renderer"),
                          file_hash=file_hash)
        if not (np.isfinite(tagged.embedding).all() and np.isfinite(tagged.windows).all()):
            return path, None, f"{Path(path).name}: its sound could not be embedded (values out of range)"
        return path, tagged, None
    except MtmError as exc:
        return path, None, str(exc)
    except Exception as exc:  # a decoder or model failure on one file is reported, not fatal
        return path, None, f"{Path(path).name}: could not be tagged ({type(exc).__name__}: {exc})"


def import_paths(store_path: str | os.PathLike, paths: list[str | os.PathLike], *, partition: str = "user",
                 workers: int | None = None, transcribe: bool = True, notes_dir: str | os.PathLike | None = None,
                 progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> ImportReport:
    """Import audio and MIDI files into the library at store_path (created if missing)."""
    # deferred: only this path needs onnxruntime, tokenizers
    from mtm_daw.engine.sessions import sha256_file
    from mtm_daw.library.starter import open_library

    started = time.monotonic()
    report = ImportReport()
    store = open_library(store_path)
    try:
        files, problems = collect_files(paths)
        report.failed.extend(problems)
        jobs, queued = [], set()
        progress("scanning", 0.0)
        for index, (path, kind) in enumerate(files):
            if cancel is not None and cancel.cancelled:
                break
            try:
                file_hash = sha256_file(path)
            except OSError as exc:
                report.failed.append((str(path), f"{path}: cannot be read ({exc.strerror or exc})"))
                continue
            if file_hash in queued or store.has_hash(file_hash, partition):  # a copy of a file already in
                report.skipped += 1
            else:
                queued.add(file_hash)
                jobs.append((str(path), kind, file_hash, partition))
            progress("scanning", (index + 1) / max(1, len(files)))
        if notes_dir is None:
            notes_dir = Path(store_path).resolve().parent / "notes"
        notes = str(notes_dir) if transcribe else None
        # A worker process costs a few seconds to start (models, libraries), so small imports, and those
        # with no audio to transcribe, stay in this process unless the caller asked for workers.
        if workers is None:
            transcribed = sum(1 for job in jobs if job[1] == "audio") if transcribe else 0
            workers = min(os.cpu_count() or 1, max(1, transcribed // MIN_JOBS_PER_WORKER))
        workers = max(1, min(workers, len(jobs) or 1))
        progress("tagging", 0.0)
        try:
            for done, (path, tagged, error) in enumerate(_run_jobs(jobs, workers, notes, cancel), start=1):
                if error is not None:
                    report.failed.append((path, error))
                elif store.add_item_if_new(tagged.item, tagged.embedding, tagged.windows) is None:
                    report.skipped += 1  # another import added the same file meanwhile
                else:
                    report.added += 1
                progress("tagging", done / len(jobs))
        except Cancelled:
            report.cancelled = True
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
    finally:
        store.close()
        report.seconds = time.monotonic() - started
    return report


def _run_jobs(jobs, workers: int, notes_dir: str | None, cancel: CancelToken | None):
    if not jobs:
        return
    if workers == 1:
        _worker_init(notes_dir, one_thread=False)
        for job in jobs:
            if cancel is not None:
                cancel.check()
            yield _tag_one(job)
        return
    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init, initargs=(notes_dir,))
    try:
        for result in pool.imap_unordered(_tag_one, jobs):
            if cancel is not None:
                cancel.check()
            yield result
        pool.close()
    finally:
        pool.terminate()
        pool.join()
