"""Start and stop `voicelab worker` processes for tests and benchmarks.

Workers run in their own session (process group); `kill()` sends SIGKILL to the group and to
every descendant that left it (Jupyter kernels start their own session), then reaps them.
Readiness is the worker's "ready." log line; its whole output goes to a log file to read back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import psutil
import pytest

from tests.environment import child_env

REPO = Path(__file__).resolve().parent.parent


worker_env = child_env
"""An environment for a worker: this one minus VoiceLab's variables, plus the given ones."""


class Worker:
    """One `voicelab worker` process and its log file."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *extra: str) -> None:
        self.env, self.log_path, self.extra = dict(env), Path(log_path), extra
        self.process: subprocess.Popen[bytes] | None = None
        self.family: list[psutil.Process] = []

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Worker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voicelab", "worker", *self.extra], env=self.env,
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def wait_for(self, text: str, timeout: float = 60.0, after: int = 0) -> None:
        """Wait until `text` appears in the log (past offset `after`); fail with the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log()[after:]:
                return
            if self.process is None or self.process.poll() is not None:
                pytest.fail(f"worker exited before {text!r}:\n{self.log()[-4000:]}")
            time.sleep(0.05)
        pytest.fail(f"no {text!r} in the worker log after {timeout} s:\n{self.log()[-4000:]}")

    def wait_ready(self, timeout: float = 60.0) -> Worker:
        self.wait_for(" ready.", timeout)
        return self

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the worker, its process group and every descendant; reap them."""
        if self.process is None:
            return
        family = self.descendants()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for child in family:
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.process.wait(timeout=10)
        psutil.wait_procs(family, timeout=10)
        self.process = None

    def stop(self, timeout: float = 15.0) -> None:
        """Ask for a warm shutdown (SIGTERM); kill whatever is left after `timeout`."""
        if self.process is None:
            return
        family = self.descendants()
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        if self.process.poll() is None:
            self.kill()
        for child in family:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(family, timeout=10)
        self.process = None


class Workers:
    """Every worker a test starts; all killed on leaving the `with` block."""

    def __init__(self, base: Path) -> None:
        self.base, self.started = base, []

    def start(self, env: Mapping[str, str], *extra: str, ready: bool = True) -> Worker:
        worker = Worker(env, self.base / f"worker-{len(self.started) + 1}.log", *extra)
        self.started.append(worker)
        worker.start()
        return worker.wait_ready() if ready else worker

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
