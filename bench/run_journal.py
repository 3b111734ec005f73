"""A bench command's finished runs, kept on disk as they finish, so a killed command resumes.

The journal is a JSON-lines file: a header line that says which command it belongs to, then one
line per finished run, written, flushed and synced before the next result is taken. A command
started again with the same header skips the runs its journal holds; a different command finds
the journal and stops with an error instead of mixing the two. A line cut short by a kill is
ignored (that run simply runs again).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "runs.json.partial"
>>> with RunJournal(path, {"budgets": [50]}) as journal:
...     journal.add({"seed": 0, "value": 1.5})
>>> RunJournal(path, {"budgets": [50]}).finished
[{'seed': 0, 'value': 1.5}]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def journal_path(result: Path) -> Path:
    """Where the journal of a command writing ``result`` lives: beside it, ``.partial`` added."""
    return result.with_name(result.name + ".partial")


class RunJournal:
    """The finished runs of the command described by ``header`` (any JSON-able dict).

    ``finished`` holds the runs an earlier, interrupted start of the same command recorded;
    :meth:`add` records one more; :meth:`remove` deletes the journal once the command's own
    result is safely written.
    """

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.header = json.loads(json.dumps(header))  # as it reads back (tuples -> lists)
        self.finished: list[dict[str, Any]] = []
        self._complete = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)  # now, not after the first run
        if self.path.exists():
            self.finished = self._read(self.path.read_bytes())
        self._file: Any = None

    def _read(self, data: bytes) -> list[dict[str, Any]]:
        if b"\n" not in data:  # killed while writing its header: nothing finished yet
            self.path.unlink()
            return []
        lines = data.split(b"\n")
        try:
            header = json.loads(lines[0])
        except json.JSONDecodeError:
            header = None
        if header != self.header:
            raise ValueError(
                f"{self.path} holds the finished runs of another command ({header!r}, not "
                f"{self.header!r}): run that command again to resume it, or delete the file")
        runs = []
        self._complete = len(lines[0]) + 1  # bytes up to the last whole line
        for line in lines[1:-1]:  # the text after the last newline is never a whole line
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:  # cut short by a kill: the rest is lost anyway
                break
            self._complete += len(line) + 1
        return runs

    def __enter__(self) -> RunJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, run: dict[str, Any]) -> None:
        """Record one finished run; it is on disk when this returns."""
        if self._file is None:
            if self.path.exists():  # drop a line cut short, keep every whole one
                os.truncate(self.path, self._complete)
                self._file = open(self.path, "a")  # noqa: SIM115 - open across add() calls
            else:
                self._file = open(self.path, "w")  # noqa: SIM115
                self._file.write(json.dumps(self.header) + "\n")
        self._file.write(json.dumps(run) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.finished.append(run)

    def close(self) -> None:
        """Close the file (the journal stays on disk)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        """Delete the journal: the command finished and wrote its result."""
        self.close()
        self.path.unlink(missing_ok=True)
