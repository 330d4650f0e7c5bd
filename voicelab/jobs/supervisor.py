"""Keep a child process running: `voicelab serve` uses it for its embedded job worker.

A worker can die: an unrecoverable error, the OOM killer, a stray `kill`. A server that was
left running should not silently stop running jobs, so the child is started again after each
unexpected exit, waiting longer after each quick failure (1, 2, 4 ... 60 s) so a worker that
cannot start does not spin; a run that lasted a while resets the wait. Each restart is logged.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from types import TracebackType

log = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0)
STABLE_AFTER_S = 60.0
STOP_TIMEOUT_S = 15.0


class Supervisor:
    """Runs `argv` until `stop()`, restarting it with backoff when it exits on its own."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], name: str = "worker",
                 backoff_s: Sequence[float] = BACKOFF_S,
                 stable_after_s: float = STABLE_AFTER_S) -> None:
        self.argv, self.env, self.name = list(argv), env, name
        self.backoff_s, self.stable_after_s = tuple(backoff_s), stable_after_s
        self.restarts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name=f"supervise-{name}",
                                        daemon=True)

    def start(self) -> Supervisor:
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self.process = subprocess.Popen(self.argv, env=self.env)

    def _watch(self) -> None:
        quick_failures = 0
        while not self._stopping.is_set():
            process = self.process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            ran_s = time.monotonic() - started
            quick_failures = 1 if ran_s >= self.stable_after_s else quick_failures + 1
            delay = self.backoff_s[min(quick_failures, len(self.backoff_s)) - 1]
            self.restarts += 1
            log.warning("the embedded %s (pid %d) exited with code %s; starting it again in "
                        "%.1f s (restart %d)", self.name, process.pid, code, delay,
                        self.restarts)
            if self._stopping.wait(delay):
                return
            self._spawn()
            if self.process is not None:
                log.info("the embedded %s is running again (pid %d)", self.name,
                         self.process.pid)

    def stop(self) -> None:
        """Stop supervising; SIGTERM the child (a warm shutdown), SIGKILL it after a while."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Supervisor:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
