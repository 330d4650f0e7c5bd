"""A real `redis-server` for tests and benchmarks: a free loopback port, a temp dir, no disk writes.

    with RedisServer(tmp_path) as redis: ...redis.url...

The suite starts one per session (tests/conftest.py) and gives each test a database of its own,
emptied first (`database`): a test sees no key an earlier one left.
"""

from __future__ import annotations

import copy
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortTaken(RuntimeError):
    """A server exited because its port was taken after `free_port` chose it."""


def start_on_a_free_port(server: Any, timeout: float) -> Any:
    """`server._start(timeout)`; on PortTaken, again on another `free_port()` (three tries)."""
    for attempt in range(3):
        try:
            return server._start(timeout)
        except PortTaken:
            if attempt == 2:
                raise
            server.port = free_port()
    raise AssertionError("unreachable")


class RedisServer:
    """One redis-server process bound to loopback, persisting nothing; stopped on exit."""

    DATABASES = 16  # redis-server's default count

    def __init__(self, folder: Path, port: int | None = None, db: int = 0) -> None:
        self.folder, self.port, self.db = Path(folder), port or free_port(), db
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.db}"

    def database(self, db: int) -> RedisServer:
        """This server seen through database `db` (its url ends in /db), emptied first.

        The view does not own the process: stopping it stops nothing.
        """
        if not 0 <= db < self.DATABASES:
            raise ValueError(f"redis-server has databases 0 to {self.DATABASES - 1}, not {db}")
        view = copy.copy(self)
        view.db, view.process = db, None
        answer = view.command(f"SELECT {db}", "FLUSHDB")
        if answer != b"+OK\r\n+OK\r\n":
            raise RuntimeError(f"redis-server did not empty database {db}: {answer!r}")
        return view

    def command(self, *lines: str) -> bytes:
        """Send inline commands on one connection; the raw replies (one short line each)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
            answer = b""
            while answer.count(b"\r\n") < len(lines):
                chunk = sock.recv(256)
                if not chunk:
                    break
                answer += chunk
        return answer

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING; on a port taken between choosing it
        and binding it (another test's server or kernel), again on another (three tries)."""
        return start_on_a_free_port(self, timeout)

    def _start(self, timeout: float) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("wb")
        self.process = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = self.log_text()
                if "Address already in use" in text:
                    raise PortTaken(f"port {self.port}: {text}")
                raise RuntimeError(f"redis-server exited: {text}")
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}: {self.log_text()}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def log_text(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text("utf-8", "replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        """Kill the server (nothing to save) and reap it."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
