"""The embedded job queue: Kombu's filesystem transport made crash-safe, as `voicelab://`.

Kombu 5.7's filesystem transport writes a message file in place while readers list the folder,
so a reader can take a file that is still empty and fail to decode it (the exception escapes the
worker's consumer loop); it moves each taken message to the system temp folder and deletes it
before the task runs, so a worker killed then loses the job; and it rewrites exchange tables in
place under a lock that readers take only after the file was truncated. This subclass keeps the
folder layout and the message format, and changes what happens on disk:

- a message is written to a dot-name the readers skip, fsynced, then renamed into the queue;
- a consumer claims a message by renaming it into its own folder under `taken/`, held until the
  message is acknowledged; each consumer holds an flock on its folder for its life, so a folder
  whose lock is free belongs to a dead consumer, and its messages go back to the queue;
- a message that cannot be decoded is moved to `bad/` with one log line, and the consumer goes on;
- exchange tables are replaced atomically under a lock file; broadcast (`*.pidbox`) messages
  nobody took within a minute are dropped, so dead workers' mailboxes do not pile up.

The same three fixes (write-then-rename, claim-by-rename with an owned in-flight folder, bad
messages set aside) would suit Kombu upstream; only the folder of in-flight messages needs a new
transport option there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any, ClassVar

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.utils.json import dumps, loads

from voicelab.locks import file_lock, hold_lock, try_hold_lock
from voicelab.store import atomic_write_bytes

log = logging.getLogger(__name__)

SCHEME = "voicelab"
OWNER_FILE = ".owner"
BROADCAST_TTL_S = 60.0
RECOVER_EVERY_S = 5.0


def folders(base: Path) -> dict[str, str]:
    """The transport options for a queue kept under `base` (e.g. `AUDIO_ROOT/.jobs`)."""
    return {"data_folder_in": str(base / "queue"), "data_folder_out": str(base / "queue"),
            "control_folder": str(base / "control"), "taken_folder": str(base / "taken"),
            "bad_folder": str(base / "bad")}


def message_name(queue: str) -> str:
    """`<ns since epoch>_<random>.<queue>.msg`: sorts in send order, names its queue."""
    return f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"


def queue_of(name: str) -> str | None:
    """The queue a message file belongs to; None for anything else (temp files, folders)."""
    if name.startswith(".") or not name.endswith(".msg"):
        return None
    return name.partition(".")[2].removesuffix(".msg") or None


def count(folder: Path) -> int:
    """How many messages a folder holds (0 when it does not exist)."""
    try:
        return sum(queue_of(name) is not None for name in os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0


def _sent_ns(name: str) -> int:
    try:
        return int(name.partition("_")[0])
    except ValueError:
        return 0


class Channel(filesystem.Channel):
    """A filesystem channel that never loses, never half-reads and never chokes on a message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken: dict[str, Path] = {}
        self._no_ack: set[str] = set()
        self._owner: tuple[Path, int] | None = None
        self._recovered_at = 0.0
        for folder in (self._queue_dir, Path(self.data_folder_out), self.control_folder,
                       self._taken_root):
            folder.mkdir(parents=True, exist_ok=True)

    # --- folders ---------------------------------------------------------------------------

    @property
    def _queue_dir(self) -> Path:
        return Path(self.data_folder_in)

    @property
    def _taken_root(self) -> Path:
        option = self.transport_options.get("taken_folder")
        return Path(option) if option else self._queue_dir.parent / "taken"

    @property
    def _bad_dir(self) -> Path:
        option = self.transport_options.get("bad_folder")
        return Path(option) if option else self._queue_dir.parent / "bad"

    def _own_dir(self) -> Path:
        """This consumer's in-flight folder, created and locked on first use."""
        if self._owner is None:
            root = self._taken_root
            name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            fresh = root / f".new-{name}"
            fresh.mkdir(parents=True)
            fd = hold_lock(fresh / OWNER_FILE, create=True)
            os.rename(fresh, root / name)  # visible to recoverers only once locked
            self._owner = (root / name, fd)
        return self._owner[0]

    # --- messages --------------------------------------------------------------------------

    def _write(self, folder: Path, name: str, payload: dict[str, Any]) -> None:
        try:
            atomic_write_bytes(folder / name, dumps(payload).encode("utf-8"))
        except OSError as exc:
            raise ChannelError(f"cannot add a message to {folder}: {exc}") from exc

    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        self._write(Path(self.data_folder_out), message_name(queue), payload)

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:
            self._no_ack.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        if no_ack:
            self._no_ack.add(queue)
        return super().basic_get(queue, no_ack=no_ack, **kwargs)

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]
        """Claim the oldest message of `queue`: rename it into this consumer's folder, read it."""
        self._maybe_recover()
        try:
            names = sorted(os.listdir(self._queue_dir))
        except OSError as exc:
            raise ChannelError(f"cannot list the queue folder {self._queue_dir}: {exc}") from exc
        for name in names:
            if queue_of(name) != queue:
                continue
            claimed = self._own_dir() / name
            try:
                os.rename(self._queue_dir / name, claimed)
            except FileNotFoundError:  # another consumer took it
                continue
            try:
                payload = loads(claimed.read_bytes())
                tag = payload["properties"]["delivery_tag"]
            except (ValueError, KeyError, TypeError) as exc:
                self._set_aside(claimed, exc)
                continue
            if queue in self._no_ack:
                claimed.unlink()
            else:
                self._taken[tag] = claimed
            return payload
        raise Empty()

    def _size(self, queue: str) -> int:
        return sum(queue_of(name) == queue for name in os.listdir(self._queue_dir))

    def _purge(self, queue: str) -> int:
        count = 0
        for name in os.listdir(self._queue_dir):
            if queue_of(name) == queue:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._queue_dir / name)
                    count += 1
        return count

    def _set_aside(self, path: Path, exc: Exception) -> None:
        self._bad_dir.mkdir(parents=True, exist_ok=True)
        os.replace(path, self._bad_dir / path.name)
        log.error("embedded queue: moved an unreadable message to %s (%s: %s)",
                  self._bad_dir / path.name, type(exc).__name__, exc)

    def _forget(self, delivery_tag: str) -> None:
        path = self._taken.pop(delivery_tag, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple)
        self._forget(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue=requeue)
        self._forget(delivery_tag)

    def _restore(self, message: Any) -> None:
        """Put an unacknowledged message back in its place in the queue (redelivered)."""
        path = self._taken.pop(message.delivery_tag, None)
        if path is None:
            super()._restore(message)
            return
        payload = message.serializable()
        payload["redelivered"] = True
        self._write(self._queue_dir, path.name, payload)
        path.unlink(missing_ok=True)

    # --- crash recovery and housekeeping ---------------------------------------------------

    def _maybe_recover(self) -> None:
        now = time.monotonic()
        if now - self._recovered_at >= RECOVER_EVERY_S:
            self._recovered_at = now
            recover(self._queue_dir, self._taken_root)

    def close(self) -> None:
        super().close()  # puts back what was not acknowledged
        if self._owner is not None:
            folder, fd = self._owner
            self._owner = None
            try:
                if not any(queue_of(name) for name in os.listdir(folder)):
                    (folder / OWNER_FILE).unlink()
                    folder.rmdir()
            except OSError:
                log.warning("embedded queue: could not tidy %s", folder, exc_info=True)
            finally:
                os.close(fd)  # what is left there, a later consumer puts back

    # --- exchange tables, replaced atomically ----------------------------------------------

    def get_table(self, exchange: str) -> list[Any]:
        file = self._exchange_file(exchange)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"cannot read {file}: {exc}") from exc
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(data)]
        except (ValueError, TypeError) as exc:
            log.error("embedded queue: %s is unreadable (%s); its bindings are declared again "
                      "as consumers start", file, exc)
            return []

    def _change_table(self, exchange: str, add: Any = None, remove: Any = None) -> None:
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with file_lock(file.with_name(f".{file.name}.lock")):
            table = self.get_table(exchange)
            changed = [q for q in table if q != remove]
            if add is not None and add not in changed:
                changed.insert(0, add)
            if changed != table:
                atomic_write_bytes(file, dumps(changed).encode("utf-8"))

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        self._change_table(exchange, add=filesystem.exchange_queue_t(
            routing_key or "", pattern or "", queue or ""))

    def _delete(self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any,
                **kwargs: Any) -> None:
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        self._change_table(exchange, remove=filesystem.exchange_queue_t(
            routing_key or "", pattern or "", queue or ""))


def recover(queue_dir: Path, taken_root: Path) -> int:
    """Return the messages of dead consumers to the queue, and drop stale broadcasts.

    A consumer's folder whose owner lock can be taken belongs to a process that is gone (the
    kernel drops an flock with its holder). Returns how many messages went back.
    """
    returned = 0
    abandoned = time.time() - BROADCAST_TTL_S
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(taken_root):
            # `.new-*`: a folder being set up, or one whose consumer died while doing so
            if not entry.name.startswith(".") or entry.stat().st_mtime < abandoned:
                returned += _reclaim(Path(entry.path), queue_dir)
    cutoff = time.time_ns() - int(BROADCAST_TTL_S * 1e9)
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(queue_dir):
            queue = queue_of(name)
            if queue and queue.endswith("pidbox") and _sent_ns(name) < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(queue_dir / name)
    return returned


def _reclaim(folder: Path, queue_dir: Path) -> int:
    try:
        fd = try_hold_lock(folder / OWNER_FILE)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            folder.rmdir()  # what an interrupted reclaim leaves: an empty folder
        return 0
    except NotADirectoryError:
        return 0
    if fd is None:
        return 0  # its consumer is alive
    try:
        try:
            names = [n for n in os.listdir(folder) if queue_of(n)]
        except FileNotFoundError:
            return 0  # reclaimed by someone else a moment ago
        for name in names:
            os.replace(folder / name, queue_dir / name)
        if names:
            log.warning("embedded queue: %d message(s) of a stopped worker are back in the "
                        "queue", len(names))
        with contextlib.suppress(OSError):
            (folder / OWNER_FILE).unlink()
            folder.rmdir()
        return len(names)
    finally:
        os.close(fd)


class Transport(filesystem.Transport):
    """Kombu's filesystem transport with the channel above; URL `voicelab://`.

    Kombu keeps declared bindings in memory per transport class; here they are kept per queue
    folder, so one process can use queues under several AUDIO_ROOTs (tests, tools) correctly.
    """

    Channel = Channel
    driver_type = driver_name = SCHEME
    _states: ClassVar[dict[str, virtual.BrokerState]] = {}

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        folder = str(client.transport_options.get("data_folder_in"))
        self.state = self._states.setdefault(folder, virtual.BrokerState())

    def drain_events(self, connection: Any, timeout: float | None = None) -> Any:  # type: ignore[override]
        """Kombu's wait for a message, in steps of one poll that end once the worker is told to
        stop: Celery's solo-pool loop waits here up to 2 s before it looks at a SIGTERM, so a
        warm shutdown (Ctrl-C on `voicelab serve`) would wait that long."""
        if timeout is None:
            return super().drain_events(connection, timeout)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0 and not _worker_stopping():
            with contextlib.suppress(TimeoutError):
                return super().drain_events(connection, min(self.polling_interval or left, left))
        raise TimeoutError


def _worker_stopping() -> bool:
    """Whether this process is a Celery worker that has been told to shut down."""
    from celery.worker import state

    return any(flag is not None and flag is not False  # as state.maybe_shutdown: 0 is a stop
               for flag in (state.should_stop, state.should_terminate))


TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
