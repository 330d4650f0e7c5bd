"""Durable writes and the per-batch lock: what makes every write here all-or-nothing.

Readers see the old or the new file, never a partial one; metadata writes are serialized
across processes by `batch_lock`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from voicelab.errors import MetadataError
from voicelab.locks import file_lock
from voicelab.store.layout import LOCK_FILE_NAME, LOCKED_NAME, METADATA_NAME, temp_name


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is synced)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `path` so readers see the old or the new file, never a partial one.

    Temp file in the same folder (created with `mode`), fsync, os.replace, fsync of the folder;
    the temp file is removed on any failure. Also used for MP3 takes and the users file.
    """
    tmp = path.parent / temp_name(path.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def batch_lock(batch_dir: Path | str) -> Iterator[None]:
    """Hold the batch's inter-process lock (`voicelab.locks.file_lock` on `<batch>/.lock`).

    Reentrant within a thread, exclusive across threads and processes; never stale. Every
    metadata write takes it.

    Raises:
        MetadataError: the batch folder does not exist.
    """
    if not os.path.isdir(batch_dir):
        raise MetadataError(Path(batch_dir, METADATA_NAME), "batch folder does not exist")
    with file_lock(os.path.join(batch_dir, LOCK_FILE_NAME)):
        yield


def lock_batch(batch_dir: Path) -> None:
    """Create the LOCKED sentinel (idempotent). Metadata is `voicelab.ranking.lock`'s job."""
    path = Path(batch_dir) / LOCKED_NAME
    if not path.exists():
        atomic_write_bytes(path, b"")


def unlock_batch(batch_dir: Path) -> None:
    """Remove the LOCKED sentinel, durably (the folder is fsynced); idempotent.

    Metadata and history are `voicelab.ranking.unlock`'s job.
    """
    path = Path(batch_dir) / LOCKED_NAME
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(path.parent)
