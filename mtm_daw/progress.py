"""Progress reporting and cancellation for long work (rendering, mixing, export, indexing)."""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable, Protocol

from mtm_daw.errors import Cancelled


class ProgressCallback(Protocol):
    def __call__(self, stage: str, fraction: float) -> None: ...


def no_progress(stage: str, fraction: float) -> None:
    """The default callback: report nothing."""


class CancelToken:
    """Set from any thread (a panel's Cancel button, a signal handler); checked by the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


class Steps:
    """Maps the progress of sub-steps onto one overall 0..1 bar.

    steps = Steps(progress, ["render", "mix", "export"]); steps.report("mix", 0.5)
    """

    def __init__(self, progress: ProgressCallback, stages: list[str],
                 cancel: CancelToken | None = None) -> None:
        self._progress = progress
        self._stages = stages
        self._cancel = cancel

    def report(self, stage: str, fraction: float) -> None:
        if self._cancel is not None:
            self._cancel.check()
        index = self._stages.index(stage)
        overall = (index + min(max(fraction, 0.0), 1.0)) / len(self._stages)
        self._progress(stage, overall)

    def stage(self, stage: str) -> Callable[[float], None]:
        """A one-argument callback for a sub-step: fraction -> overall report."""
        return lambda fraction: self.report(stage, fraction)


class ProgressPrinter:
    """One updating line on a terminal, a line per stage otherwise (logs, CI)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_stage = None
        self.last_printed = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        eta = f", about {elapsed / fraction - elapsed:.0f} s left" if 0.05 < fraction < 1 else ""
        line = f"{stage:>8} {fraction * 100:3.0f}%{eta}"
        if self.tty:
            sys.stderr.write(f"\r{line:<48}")
            sys.stderr.flush()
        elif stage != self.last_printed and fraction > 0:  # a stage's line once it is under way, so input
            sys.stderr.write(line + "\n")              # refused at the start gets its one error line alone
            self.last_printed = stage
        self.last_stage = stage

    def done(self) -> None:
        if self.tty and not self.quiet and self.last_stage is not None:
            sys.stderr.write("\n")
