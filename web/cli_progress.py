"""Progress bars and summaries of the long commands (``deploy``, ``demo``, ``backup``, ``restore``,
``calendar import``), with rich.

An operator running a restore of a county's years of data, or the December calendar import that moves
hundreds of due dates, must see that it advances and, at the end, what it did. Bars go to stderr and only
when stderr is a terminal, so scripts and CI logs get the summary alone (on stdout, line by line, easy to
grep). A failure names the phase that failed and the reason, in red, and exits 2.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Bars:
    """A ``(what, done, total)`` callback drawing one bar per phase (``what``), and ``step(label)`` for a
    phase of unknown length (a spinner). Draws nothing when stderr is not a terminal."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal
        self.phase = ""  # the phase running now: a failure names it
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._quieted: list[tuple[logging.Logger, int]] = []

    def __enter__(self) -> Bars:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._progress.start()
            # the engine's INFO lines (SpiffWorkflow's task states) would tear the bars apart on a terminal
            for name in ("spiff", "SpiffWorkflow", "alembic"):
                logger = logging.getLogger(name)
                self._quieted.append((logger, logger.level))
                logger.setLevel(logging.WARNING)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        for logger, level in self._quieted:
            logger.setLevel(level)

    def __call__(self, what: str, done: int, total: int) -> None:
        self.phase = what
        if self._progress is None:
            return
        task = self._tasks.get(what)
        if task is None:
            task = self._tasks[what] = self._progress.add_task(what, total=max(total, 0))
        self._progress.update(task, completed=done, total=max(total, 0))

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """A phase whose length is not known: a spinner until it ends, then marked done."""
        self.phase = label
        if self._progress is None:
            yield
            return
        task = self._progress.add_task(label, total=None)
        yield
        self._progress.update(task, total=1, completed=1)


def summary(title: str, rows: list[tuple[str, object]], *, err: bool = False) -> None:
    """The closing lines: a title, then one ``name: value`` line each."""
    click.echo(click.style(title, bold=True), err=err)
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        click.echo(f"  {name:<{width}}  {value}", err=err)


def failed(command: str, phase: str, exc: BaseException) -> NoReturn:
    """Say which command and phase failed and why, then exit 2 (refused or failed: nothing half done is
    reported as done)."""
    where = f"{command} failed" + (f" while {phase}" if phase else "")
    click.echo(click.style(f"{where}: {exc}", fg="red"), err=True)
    sys.exit(2)
