"""Progress reporting and cancellation for long work (rendering, mixing, export, indexing)."""
from __future__ import annotations

import threading
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
