"""An exclusive lock across processes (``fcntl.flock``), released if the holder dies.

Used so that two ``score`` runs (or two ``ingest`` runs) started at once never work
on the same complaints: the second waits for the first, then finds nothing to do.
The kernel drops a flock when its process exits, even on SIGKILL: no stale locks.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Iterator

from .errors import ComplaintsError, StorageError


@contextlib.contextmanager
def exclusive(path: Path, timeout: float = 3600.0, poll: float = 0.2) -> Iterator[None]:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"cannot create the lock {path}: {exc.strerror or exc}") from None
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ComplaintsError(f"{path}: another run still holds the lock after {timeout:.0f} s") from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
