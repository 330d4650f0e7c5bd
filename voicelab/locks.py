"""The one inter-process lock: an exclusive `flock` on a lock file.

The kernel drops an flock when its holder dies, so these locks never go stale, and the next
waiter wakes at once (no polling). `file_lock` is reentrant within a thread, so a function that
holds a lock may call another that takes it again. (The filelock package cost ~0.4 ms per
acquire and hands over by polling; flock costs microseconds.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

_held = threading.local()  # per thread: the lock files it holds
# A forked child holds none of its parent's locks, whatever the parent's thread was doing.
os.register_at_fork(after_in_child=_held.__dict__.clear)


@contextlib.contextmanager
def file_lock(path: Path | str) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block.

    Reentrant within a thread (two spellings of one file count as one), exclusive across
    threads and processes.
    """
    key = os.path.realpath(path)
    held: set[str] = _held.__dict__.setdefault("paths", set())
    if key in held:  # re-entered: the outer block releases
        yield
        return
    fd = os.open(key, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def hold_lock(path: Path | str, *, create: bool = False) -> int:
    """Lock `path` for as long as the returned descriptor stays open (a process-lifetime claim).

    The caller closes the descriptor to release; the kernel does so if the process dies.

    Raises:
        FileNotFoundError: `path` does not exist and `create` is False (a claim on a file
            that is gone is no claim).
    """
    return _claim(path, fcntl.LOCK_EX, create)


def try_hold_lock(path: Path | str) -> int | None:
    """`hold_lock` without waiting: None when another process holds the lock."""
    try:
        return _claim(path, fcntl.LOCK_EX | fcntl.LOCK_NB, create=False)
    except BlockingIOError:
        return None


def _claim(path: Path | str, operation: int, create: bool) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0), 0o644)
    try:
        fcntl.flock(fd, operation)
    except BaseException:
        os.close(fd)
        raise
    return fd
