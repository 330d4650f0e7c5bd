"""A real `voicelab serve` process on a free port, and Debian's Chromium driven by Playwright.

Shared by tests/browser and benchmarks/bench_dashboard.py. The server runs in its own session;
stopping it sends SIGTERM (Voila shuts its kernels down, the embedded worker is terminated),
then SIGKILLs whatever is left of it and its descendants (kernels start their own sessions).
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
import requests

from tests.environment import child_env
from tests.redis_server import PortTaken, start_on_a_free_port

REPO = Path(__file__).resolve().parent.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
READY_LINE = "VoiceLab is serving"
PORT_TAKEN = ("already in use on 127.0.0.1; pick another port",  # serve's own check
              "could not be started because no available port could be found")  # Voila's
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 860}
PAGE_TIMEOUT_MS = 60_000  # a cold kernel on a busy 2-core machine can take a while


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


serve_env = child_env
"""This environment minus VoiceLab's variables, plus AUDIO_ROOT and `extra`."""


def is_kernel(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "ipykernel_launcher" in " ".join(process.cmdline())
    return False


def is_worker(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        cmdline = process.cmdline()
        return "voicelab" in cmdline and "worker" in cmdline
    return False


class ServeProcess:
    """`with ServeProcess(root, "--no-worker") as server: page.goto(server.url)`."""

    def __init__(self, audio_root: Path, *args: str, log_path: Path, **env: str) -> None:
        self.audio_root, self.args, self.log_path = Path(audio_root), args, Path(log_path)
        self.env = serve_env(self.audio_root, **env)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_start = 0  # where log() begins (see `settled`)
        self.owner = True  # whether stop() stops the process (a `settled` view does not)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        text = self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""
        return text[self.log_start:]

    def settled(self, timeout: float = 120.0) -> ServeProcess:
        """This server once only its preheated kernels run (kernels earlier tests' pages left
        have shut down, pools are refilled), as a view whose log() begins now: for a module
        sharing a session's server. Stopping the view stops nothing."""
        from voicelab.dashboards.server import PREHEATED

        pool = len(PREHEATED)
        wait_until(lambda: len(self.kernels()) == pool and self.health()["kernels"] == pool,
                   timeout, f"only the {pool} preheated kernels, in the books and as processes")
        view = copy.copy(self)
        view.log_start, view.owner = len(self.log()) + self.log_start, False
        return view

    def start(self, timeout: float = 120.0) -> ServeProcess:
        """Start `voicelab serve` and wait until it prints its URLs and answers HTTP; on a port
        taken between choosing it and binding it (another test's server or kernel), again on
        another (three tries)."""
        return start_on_a_free_port(self, timeout)  # type: ignore[no-any-return]

    def _start(self, timeout: float) -> ServeProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "voicelab", "serve", "--port", str(self.port),
                   *self.args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, cwd=REPO, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = self.log()[-4000:]
                self.process = None
                if any(words in text for words in PORT_TAKEN):
                    raise PortTaken(f"port {self.port}:\n{text}")
                raise RuntimeError(f"voicelab serve exited:\n{text}")
            if READY_LINE in self.log():
                with contextlib.suppress(requests.ConnectionError):
                    if requests.get(self.url + "/healthz", timeout=10).ok:
                        return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"voicelab serve not ready after {timeout} s:\n{self.log()[-4000:]}")

    def descendants(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kernels(self) -> list[psutil.Process]:
        """The Jupyter kernels this server runs now."""
        return [p for p in self.descendants() if is_kernel(p)]

    def health(self) -> dict[str, Any]:
        """What `GET /healthz` answers (serve's kernel books)."""
        response = requests.get(self.url + "/healthz", timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def stop(self, timeout: float = 30.0) -> list[psutil.Process]:
        """SIGTERM, then SIGKILL what is left; returns the descendants it had (all reaped)."""
        if self.process is None or not self.owner:
            return []
        family = self.descendants()
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        _, alive = psutil.wait_procs(family, timeout=10)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(alive, timeout=10)
        self.process = None
        return family

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class Peaks:
    """The highest value each named probe returned, sampled in a thread until the block ends.

    `with Peaks(kernels=lambda: len(server.kernels())) as peaks: ...; peaks.high["kernels"]`
    """

    def __init__(self, every_s: float = 0.05, **probes: Callable[[], int]) -> None:
        self.probes, self.every_s = probes, every_s
        self.high = dict.fromkeys(probes, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, probe in self.probes.items():
                self.high[name] = max(self.high[name], probe())
            self._stop.wait(self.every_s)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


class Page:
    """A Playwright page that records every request and WebSocket it makes."""

    def __init__(self, page: Any) -> None:
        self.page, self.requests, self.sockets, self.errors = page, [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.sockets.append(ws.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.set_default_timeout(PAGE_TIMEOUT_MS)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def screenshot_as(self, name: str) -> Path:
        """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium with a new, empty context; yields that Playwright context.

    `context.browser.new_context()` gives another person their own cookies in the same browser
    (one Playwright per thread: the sync API cannot run two).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        context = browser.new_context(viewport=VIEWPORT)
        try:
            yield context
        finally:
            for each in browser.contexts:
                for page in each.pages:  # unload fires only on navigation, never on close
                    with contextlib.suppress(Exception):
                        page.goto("about:blank")
            browser.close()


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `predicate()` until it returns something truthy; AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
