"""Progress of long runs: a tiny sink protocol, and a rich progress bar for the CLI."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class ProgressSink(Protocol):
    def start(self, stage: str, total: int | None, unit: str = "events") -> None:
        """A new stage begins (importing, replaying, merging, simulating...)."""

    def advance(self, n: int) -> None: ...


class NullProgress:
    def start(self, stage: str, total: int | None, unit: str = "events") -> None:
        pass

    def advance(self, n: int) -> None:
        pass


class RichProgress:
    """A rich bar per stage (transient bars, then a line per finished stage)."""

    def __init__(self, console=None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console or Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                                 TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=self.console, transient=False)
        self.task = None

    def __enter__(self) -> "RichProgress":
        self.progress.start()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self._finish()
        self.progress.stop()

    def _finish(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[-1]
            if task.total is None:
                done = max(task.completed, 1)
                self.progress.update(self.task, total=done, completed=done)
            else:
                self.progress.update(self.task, completed=task.total)

    def start(self, stage: str, total: int | None, unit: str = "events") -> None:
        self._finish()
        self.task = self.progress.add_task(f"{stage} ({unit})", total=total)

    def advance(self, n: int) -> None:
        if self.task is not None and n:
            self.progress.advance(self.task, n)


@contextlib.contextmanager
def progress_sink(progress: "ProgressSink | bool | None") -> Iterator[ProgressSink]:
    """``True``: rich bars on stderr for the duration; ``None``/``False``: silent; else the sink given."""
    if progress is True:
        with RichProgress() as bars:
            yield bars
    elif not progress:
        yield NullProgress()
    else:
        yield progress
