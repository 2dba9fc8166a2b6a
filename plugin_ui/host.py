"""The engine process: runs the panel's jobs (plugin_ui.backend) one at a time, away from the UI.

Why a process and not only a thread: some steps hold Python's GIL for over 100 ms (onnxruntime
building a session, for one), which would freeze the panel's UI thread however the worker thread
is scheduled. In a process of its own nothing the engine does can stall the UI, and a cancel that
a step does not honour in time can end the process (the panel then starts a fresh one).

Started as `python -m plugin_ui.host JOBS_IN RESULTS_OUT CANCEL_IN` (three inherited pipe file
descriptors, read and written as multiprocessing Connections), so nothing of the panel's main
module is imported again. Messages:
    panel -> engine, JOBS_IN:    (job_id, kind, payload), or None to stop
    panel -> engine, CANCEL_IN:  job_id (the token of that job reads it at its next check)
    engine -> panel, RESULTS_OUT: ("ready",), ("progress", id, stage, fraction), ("warn", id, text),
                     ("preview", id, {path, seconds, music_seconds}), ("done", id, result), ("error", id, message, user_error),
                     ("cancelled", id)
No Qt is imported here.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from multiprocessing.connection import Connection

from mtm_daw.errors import Cancelled, MtmError
from mtm_daw.progress import CancelToken

PROGRESS_INTERVAL = 0.05  # seconds between progress messages for one stage
ENGINE_NICENESS = 5  # the engine process's priority below the panel's


class PipeCancelToken(CancelToken):
    """A CancelToken for one job: cancelled once the panel has sent that job's id on the cancel pipe."""

    def __init__(self, cancel_conn: Connection, job_id: int) -> None:
        self._conn, self._job_id, self._cancelled = cancel_conn, job_id, False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        while not self._cancelled and self._conn.poll():  # a cheap poll; ids of older jobs are dropped
            self._cancelled = self._conn.recv() == self._job_id
        return self._cancelled

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled("cancelled by the user")


def serve(jobs: Connection, results: Connection, cancels: Connection) -> None:
    """The engine's loop: warm up, then run each job and answer with its result or error."""
    from plugin_ui import backend

    try:  # the engine keeps both cores busy (two mix chains at once, onnxruntime's threads): the UI goes first
        os.nice(ENGINE_NICENESS)
    except (AttributeError, OSError):  # no os.nice (Windows) or not allowed: the usual priority
        pass
    backend.warm_up()
    results.send(("ready",))
    try:
        backend.warm_models()  # the first Generate then starts as quickly as the next (a job meanwhile waits)
    except Exception as error:  # noqa: BLE001 - the job that needs the model or SoundFont says what is wrong
        print(f"engine: could not load the models ahead ({type(error).__name__}: {error})", file=sys.stderr)
    while True:
        try:
            message = jobs.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job_id, kind, payload = message
        results.send(_run(results, backend.JOBS.get(kind), job_id, kind, payload, PipeCancelToken(cancels, job_id),
                          previews=kind in backend.PREVIEW_JOBS))


def _run(conn: Connection, job, job_id: int, kind: str, payload: dict, token: PipeCancelToken,
         previews: bool = False) -> tuple:
    last = {"stage": None, "time": 0.0}

    def progress(stage: str, fraction: float) -> None:
        token.check()
        now = time.monotonic()
        if stage != last["stage"] or now - last["time"] >= PROGRESS_INTERVAL or fraction >= 1.0:
            last.update(stage=stage, time=now)
            conn.send(("progress", job_id, stage, float(fraction)))

    def warn(text: str) -> None:
        conn.send(("warn", job_id, str(text)))

    def preview(info: dict) -> None:
        conn.send(("preview", job_id, info))

    if job is None:
        return ("error", job_id, f"internal: unknown job '{kind}'", False)
    try:
        token.check()
        return ("done", job_id, job(payload, progress, token, warn, **({"preview": preview} if previews else {})))
    except Cancelled:
        return ("cancelled", job_id)
    except MtmError as error:
        return ("error", job_id, str(error), True)
    except Exception as error:  # an internal error: the panel shows it and stays alive
        traceback.print_exc()
        return ("error", job_id, f"internal error: {error.__class__.__name__}: {error}", False)


if __name__ == "__main__":
    jobs_fd, results_fd, cancel_fd = (int(arg) for arg in sys.argv[1:4])
    try:
        serve(Connection(jobs_fd, writable=False), Connection(results_fd, readable=False),
              Connection(cancel_fd, writable=False))
    except BrokenPipeError:  # the panel closed (or crashed) while the engine was answering: nothing to tell it
        pass
