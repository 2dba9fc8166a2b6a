"""Long work off the UI thread: an engine process (plugin_ui.host) fed one job at a time, a reader
QThread that turns its messages into Qt signals, and Job objects the widgets connect to.

    client = EngineClient(); client.start()
    job = client.submit("generate", payload)
    job.progress.connect(bar.set_progress); job.succeeded.connect(show); job.failed.connect(error_dialog)
    job.cancel()   # the job ends within CANCEL_GRACE_MS: by itself, or the engine process is replaced

The UI thread only sends and receives small messages; it never waits on the work.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from PyQt6.QtCore import QObject, QThread, QTimer, pyqtSignal

CANCEL_GRACE_MS = 700  # a cancel not honoured by then ends the engine process (a fresh one starts)
STOP_WAIT_SECONDS = 2.0
MAX_FAILED_STARTS = 2  # an engine that dies this many times before it is ready is not started again


class Job(QObject):
    """One request to the engine. Ends with exactly one of succeeded / failed / cancelled, then finished."""

    progress = pyqtSignal(str, float)  # stage, overall fraction 0..1
    warning = pyqtSignal(str)
    preview = pyqtSignal(object)  # {path, seconds, music_seconds}: the first bars, playable while the rest is made (generate)
    succeeded = pyqtSignal(object)  # the job's result dict
    failed = pyqtSignal(str, bool)  # message, True for the user's input (MtmError), False for internal errors
    cancelled = pyqtSignal()
    finished = pyqtSignal()

    def __init__(self, client: "EngineClient", job_id: int, kind: str, payload: dict) -> None:
        super().__init__()
        self.client, self.id, self.kind, self.payload = client, job_id, kind, payload
        self.state = "queued"  # queued | running | cancelling | done | failed | cancelled
        self.result = None
        self.error = ""
        self.cancel_requested_at: float | None = None
        self.ended_at: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running", "cancelling")

    def cancel(self) -> None:
        self.client.cancel(self)

    def _end(self, state: str, value=None, user_error: bool = True) -> None:
        if not self.active:
            return
        self.state, self.ended_at = state, time.monotonic()
        if state == "done":
            self.result = value
            self.succeeded.emit(value)
        elif state == "failed":
            self.error = value
            self.failed.emit(value, user_error)
        else:
            self.cancelled.emit()
        self.finished.emit()


class _Reader(QThread):
    """Blocks on the engine's pipe (the GIL is free while it waits) and forwards each message."""

    message = pyqtSignal(int, object)  # engine generation, message tuple

    def __init__(self, conn, generation: int) -> None:
        super().__init__()
        self.conn, self.generation = conn, generation

    def run(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                self.message.emit(self.generation, ("eof",))
                break
            self.message.emit(self.generation, message)
        self.conn.close()


class EngineClient(QObject):
    """Owns the engine process; queues jobs and runs one at a time."""

    ready_changed = pyqtSignal(bool)

    def __init__(self, parent: QObject | None = None, cancel_grace_ms: int = CANCEL_GRACE_MS) -> None:
        super().__init__(parent)
        self.cancel_grace_ms = cancel_grace_ms
        self._ids = itertools.count(1)
        self._generation = 0
        self._process: subprocess.Popen | None = None
        self._jobs: Connection | None = None
        self._cancels: Connection | None = None
        self._failed_starts = 0
        self._dead: list[subprocess.Popen] = []  # killed engine processes not yet reaped
        self.failure = ""  # why the engine cannot run, once it has given up
        self._reader: _Reader | None = None
        self._old_readers: list[_Reader] = []
        self._queue: list[Job] = []
        self._running: Job | None = None
        self.ready = False
        self.restarts = 0

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine process: `python -m plugin_ui.host` with three pipes (no fork of this process)."""
        self._generation += 1
        jobs_in, jobs_out = os.pipe()
        results_in, results_out = os.pipe()
        cancel_in, cancel_out = os.pipe()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        child_fds = (jobs_in, results_out, cancel_in)
        try:
            self._process = subprocess.Popen([sys.executable, "-m", "plugin_ui.host", *map(str, child_fds)],
                                             pass_fds=child_fds, env=env, stdin=subprocess.DEVNULL)
        finally:
            for fd in child_fds:
                os.close(fd)
        self._jobs = Connection(jobs_out, readable=False)
        self._cancels = Connection(cancel_out, readable=False)
        results = Connection(results_in, writable=False)
        self._reader = _Reader(results, self._generation)
        self._reader.message.connect(self._on_message)
        self._reader.start()

    def shutdown(self) -> None:
        """Stop the engine (jobs still queued or running are cancelled)."""
        for job in list(self._queue) + ([self._running] if self._running else []):
            job._end("cancelled")
        self._queue.clear()
        self._running = None
        if self._process is None:
            return
        try:
            self._jobs.send(None)
        except (OSError, ValueError):
            pass
        try:
            self._process.wait(STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(STOP_WAIT_SECONDS)
        self._close_pipes()
        for process in self._dead:
            process.wait(STOP_WAIT_SECONDS)
        for reader in self._old_readers + [self._reader]:
            if reader is not None:
                reader.wait(int(STOP_WAIT_SECONDS * 1000))
        self._process = None
        self._generation += 1  # whatever the old readers still deliver is ignored
        self._set_ready(False)

    def _close_pipes(self) -> None:
        for conn in (self._jobs, self._cancels):
            if conn is not None:
                conn.close()
        self._jobs = self._cancels = None

    def _restart(self) -> None:
        """Replace the engine process (after a hard cancel or a crash)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # its reader sees the pipe close and ends
            self._dead.append(self._process)  # reaped later: waiting here could stall the UI thread
        self._dead = [process for process in self._dead if process.poll() is None]
        self._close_pipes()
        self._old_readers = [r for r in self._old_readers if r.isRunning()] + [self._reader]
        self._set_ready(False)
        if self._failed_starts >= MAX_FAILED_STARTS:
            self._give_up()
            return
        self.restarts += 1
        self.start()

    def _give_up(self) -> None:
        code = self._process.returncode if self._process is not None else None
        self.failure = (f"the engine process could not start (exit code {code}); "
                        "run `mtm describe` in a terminal to see why")
        self._process = None
        for job in list(self._queue):
            job._end("failed", self.failure, False)
        self._queue.clear()

    def _set_ready(self, ready: bool) -> None:
        if ready != self.ready:
            self.ready = ready
            self.ready_changed.emit(ready)

    # --- jobs -----------------------------------------------------------------------------------
    def submit(self, kind: str, payload: dict, replace_queued: bool = False) -> Job:
        """Queue a job; replace_queued drops queued (not running) jobs of the same kind first."""
        if replace_queued:
            for old in [j for j in self._queue if j.kind == kind]:
                self._queue.remove(old)
                old._end("cancelled")
        job = Job(self, next(self._ids), kind, payload)
        self._queue.append(job)
        if self.failure:
            QTimer.singleShot(0, lambda: (self._queue.remove(job), job._end("failed", self.failure, False)))
            return job
        self._pump()
        return job

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._queue)

    def cancel(self, job: Job) -> None:
        if job in self._queue:
            self._queue.remove(job)
            job._end("cancelled")
        elif job is self._running and job.state == "running":
            job.state = "cancelling"
            job.cancel_requested_at = time.monotonic()
            try:
                self._cancels.send(job.id)
            except (OSError, ValueError):
                pass  # the engine is gone; the grace timer below settles the job
            QTimer.singleShot(self.cancel_grace_ms, lambda: self._enforce_cancel(job))

    def _enforce_cancel(self, job: Job) -> None:
        if job is self._running and job.state == "cancelling":
            self._running = None
            job._end("cancelled")
            self._restart()

    def _pump(self) -> None:
        if self._running is not None or not self._queue or not self.ready:
            return
        job = self._queue.pop(0)
        self._running = job
        job.state = "running"
        try:
            self._jobs.send((job.id, job.kind, job.payload))
        except (OSError, ValueError) as error:
            self._running = None
            job._end("failed", f"the engine could not take the job ({error})", False)
            self._restart()

    def _on_message(self, generation: int, message: tuple) -> None:
        if generation != self._generation:
            return  # from an engine process that was replaced
        what = message[0]
        if what == "ready":
            self._failed_starts = 0
            self._set_ready(True)
            self._pump()
            return
        if what == "eof":
            if not self.ready:
                self._failed_starts += 1
            job, self._running = self._running, None
            code = self._process.poll() if self._process is not None else None
            if job is not None:
                job._end("failed", f"the engine stopped unexpectedly (exit code {code}); it has been restarted",
                         False)
            if self._process is not None:
                self._restart()
            return
        job = self._running
        if job is None or message[1] != job.id:
            return
        if what == "progress":
            if job.state == "running":
                job.progress.emit(message[2], message[3])
        elif what == "warn":
            job.warning.emit(message[2])
        elif what == "preview":
            if job.state == "running":
                job.preview.emit(message[2])
        else:
            self._running = None
            if what == "done":
                job._end("done", message[2])
            elif what == "error":
                job._end("failed", message[2], message[3])
            else:
                job._end("cancelled")
            self._pump()
