"""Progress of an experiment: a rich bar per run on a terminal, plain log lines otherwise.

A run is one (optimizer, seed). Updates come from the driver-side Tune callbacks.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _fmt_best(best: float | None) -> str:
    return "-" if best is None else f"{best:.4g}"


class RunProgress:
    """One line (or bar) per run: optimizer, seed, queries done, best fitness so far."""

    def __init__(
        self,
        total_queries: int | None,
        stream: TextIO | None = None,
        rich: bool | None = None,
        log_every_s: float = 10.0,
    ) -> None:
        self.total_queries = total_queries
        self.stream = stream or sys.stdout
        self.use_rich = self.stream.isatty() if rich is None else rich
        self.log_every_s = log_every_s
        self._last_log: dict[tuple[str, int], float] = {}
        self._tasks: dict[tuple[str, int], Any] = {}
        self._progress: Any = None

    # rich objects do not pickle; Tune pickles callbacks with the run config
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_progress=None, _tasks={}, stream=None, use_rich=False)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.stream = sys.stdout

    def start(self) -> None:
        if self.use_rich and self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("queries  best {task.fields[best]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.start()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _label(self, optimizer: str, seed: int) -> str:
        return f"{optimizer} seed {seed}"

    def update(self, optimizer: str, seed: int, queries: int, best: float | None,
               force: bool = False) -> None:
        run = (optimizer, int(seed))
        if self.use_rich:
            self.start()
            task = self._tasks.get(run)
            if task is None:
                task = self._tasks[run] = self._progress.add_task(
                    self._label(*run), total=self.total_queries, best="-")
            self._progress.update(task, completed=queries, best=_fmt_best(best))
            return
        now = time.monotonic()
        if force or now - self._last_log.get(run, -1e9) >= self.log_every_s:
            self._last_log[run] = now
            total = f"/{self.total_queries}" if self.total_queries else ""
            self._line(f"{self._label(*run)}: {queries}{total} queries, best fitness "
                       f"{_fmt_best(best)}")

    def finish(self, optimizer: str, seed: int, queries: int, best: float | None) -> None:
        if self.use_rich:
            self.update(optimizer, seed, queries, best)
        else:
            self._line(f"{self._label(optimizer, seed)}: done, {queries} queries, best fitness "
                       f"{_fmt_best(best)}")

    def fail(self, optimizer: str, seed: int, message: str) -> None:
        if self.use_rich and self._progress is not None:
            self._progress.console.print(f"{self._label(optimizer, seed)}: {message}")
        else:
            self._line(f"{self._label(optimizer, seed)}: {message}")

    def note(self, message: str) -> None:
        if self.use_rich and self._progress is not None:
            self._progress.console.print(message)
        else:
            self._line(message)

    def _line(self, text: str) -> None:
        print(f"[ednag] {text}", file=self.stream, flush=True)
