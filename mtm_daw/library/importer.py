"""`mtm library add`: files and folders -> tagged, embedded library items, resumable and on both cores.

    report = import_paths(store_path, ["~/Samples", "theme.mid"], progress=printer, cancel=token)

Each file is hashed; a hash already in the partition is skipped, so a re-run after a crash or Ctrl-C
picks up where it stopped. Files are tagged one per core, on threads of this process (one onnxruntime
thread each); each finished item is written in its own transaction, so killing the process at any moment
leaves a consistent database holding every item finished so far. Files that cannot be read are collected and
reported at the end; they never stop the import.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from mtm_daw.cores import usable_cores
from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.progress import CancelToken, ProgressCallback, no_progress

IMPORT_KINDS = ("audio", "midi")
MAX_WORKERS = 4  # files tagged at once: each holds its decoded audio (a 10-minute song ~60 MB) and activations
# Measured on 2 cores (bench_import, 24 clips of 20 s, benchmarks/results/import.json): two files at once on
# one-thread sessions against one at a time on two-thread sessions x1.46 with note transcription (32 s of music a
# second; worker processes gave 20 in an A/B of 12 clips), x1.37 without, x1.38 for MIDI files. Two 10-minute
# songs at once peaked at 711 MB (593 MB one at a time).


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


# --- tagging, one file per core ------------------------------------------------------------------
class _Tagging:
    """Tags files for one import, from `threads` threads at once: MIDI files render on one renderer with a
    synth for each thread (made with the first MIDI file), closed by `close`."""

    def __init__(self, notes_dir: str | None, cancel: CancelToken | None, threads: int = 1) -> None:
        self.notes_dir = notes_dir
        self.cancel = cancel
        self.threads = threads
        self._midi_renderer = None
        self._lock = threading.Lock()

    def _renderer(self):
        with self._lock:
            if self._midi_renderer is None:
                # deferred: only MIDI files need pedalboard's and FluidSynth's renderer
                from mtm_daw.engine.joint_embedding import SAMPLE_RATE
                from mtm_daw.render import listening_renderer

                self._midi_renderer = listening_renderer(SAMPLE_RATE, synths=self.threads)
            return self._midi_renderer

    def tag(self, job: tuple[str, str, str, str]) -> tuple[str, object, str | None]:
        """(path, TaggedFile | None, error message | None); raises only Cancelled, so one bad file cannot
        stop the import."""
        # deferred: only this path needs onnxruntime, pedalboard, PyAV
        from mtm_daw.engine.joint_embedding import JointEmbedder
        from mtm_daw.library.tagging import tag_file

        path, kind, file_hash, partition = job
        if self.cancel is not None:
            self.cancel.check()
        try:
            tagged = tag_file(path, kind, JointEmbedder.default(), partition=partition, notes_dir=self.notes_dir,
                              transcribe=self.notes_dir is not None,
                              renderer=self._renderer() if kind == "midi" else None,
                              file_hash=file_hash, cancel=self.cancel)
            if not (np.isfinite(tagged.embedding).all() and np.isfinite(tagged.windows).all()):
                return path, None, f"{Path(path).name}: its sound could not be embedded (values out of range)"
            return path, tagged, None
        except Cancelled:
            raise
        except MtmError as exc:
            return path, None, str(exc)
        except Exception as exc:  # a decoder or model failure on one file is reported, not fatal
            return path, None, f"{Path(path).name}: could not be tagged ({type(exc).__name__}: {exc})"

    def tag_on_one_thread(self, job: tuple[str, str, str, str]) -> tuple[str, object, str | None]:
        """`tag` on one-thread onnxruntime sessions: a file per core then fills the cores."""
        # deferred: only this path needs onnxruntime
        from mtm_daw.engine.sessions import session_threads

        with session_threads(1):
            return self.tag(job)

    def close(self) -> None:
        if self._midi_renderer is not None:
            self._midi_renderer.close()
            self._midi_renderer = None


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
        if workers is None:
            workers = min(usable_cores(), MAX_WORKERS)
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


def _run_jobs(jobs: list, workers: int, notes_dir: str | None, cancel: CancelToken | None):
    """(path, TaggedFile | None, error | None) for each job, as each finishes: in this thread, or `workers` files
    at once on threads of this process (onnxruntime, the decoders and librosa's kernels let go of the GIL;
    the models are loaded once, and no process has to start)."""
    if not jobs:
        return
    if workers == 1:
        tagging = _Tagging(notes_dir, cancel)
        try:
            for job in jobs:
                yield tagging.tag(job)
        finally:
            tagging.close()
        return
    stop = CancelToken()  # this import's own: set by the caller's token, or when the caller stops reading
    if cancel is not None and cancel.cancelled:
        stop.cancel()
    tagging = _Tagging(notes_dir, stop, threads=workers)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="mtm-import")
    try:
        waiting = iter(jobs)
        running = {pool.submit(tagging.tag_on_one_thread, job) for job in islice(waiting, 2 * workers)}
        while running:
            done, running = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
            if cancel is not None and cancel.cancelled:
                stop.cancel()
            finished = [future for future in done if future.exception() is None]
            yield from (future.result() for future in finished)  # files done before a cancel are kept
            if len(finished) < len(done):
                next(future for future in done if future.exception() is not None).result()  # raises
            if not stop.cancelled:
                running |= {pool.submit(tagging.tag_on_one_thread, job) for job in islice(waiting, len(done))}
        stop.check()
    finally:
        stop.cancel()  # files still being tagged stop at their next check (an error or Ctrl-C here)
        pool.shutdown(wait=True, cancel_futures=True)
        tagging.close()  # after every thread is done with the renderer
