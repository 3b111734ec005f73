"""Atomic file writes: a hidden temp file in the target's folder, then ``os.replace``.

A reader (or a killed writer) never sees half a file; readers skip names starting with ``.``.
"""

from __future__ import annotations

import os
import pickle
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` for a temp file beside ``path``, then move it into place.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", lambda tmp: pathlib.Path(tmp).write_text("hi")).read_text()
    'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _new_temp(path: Path) -> str:
    """Create an empty, hidden, uniquely named file beside ``path`` with the permissions a
    plain ``open(path, "w")`` would give it (``0o666`` less the umask; ``tempfile.mkstemp``
    would make every result readable by its owner only)."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return str(tmp)
    raise FileExistsError(f"no free temporary name beside {path}")


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def atomic_pickle(obj: Any, path: str | os.PathLike) -> Path:
    """Pickle ``obj`` to ``path`` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)

    return atomic_write(path, write)
