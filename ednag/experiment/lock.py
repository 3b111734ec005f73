"""One ``ednag run`` per result directory at a time: an advisory lock on ``DIR/state/run.lock``."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another live process is writing to the same result directory."""


@contextlib.contextmanager
def run_lock(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock of ``out_dir`` for the ``with`` block; :class:`RunLockedError` if another
    process holds it. The lock dies with its process, so a killed run never leaves it behind."""
    path = Path(out_dir) / "state" / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunLockedError(
                f"{Path(out_dir)} is in use by another ednag run (pid {holder}); wait for it to "
                "finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield path
    finally:
        handle.close()
