"""Helpers shared by the API tests and benchmark: a real `api.serve` process on a free port.

The server runs in its own process (waitress, as in production) on port 0; the port is read
from waitress's "Serving on" log line. Its stderr is collected, so tests can read the log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from tests.environment import child_env

REPO = Path(__file__).resolve().parent.parent
_SERVE = "import api, voicelab.config as c; api.serve(c.load_settings(), '127.0.0.1', 0)"
_READY = re.compile(r"Serving on http://127\.0\.0\.1:(\d+)")

server_env = child_env
"""This environment minus VoiceLab's variables, plus AUDIO_ROOT and `extra`."""


class ApiServer:
    """`with ApiServer(root, VOICELAB_API_TOKEN="t") as server: requests.get(server.url + ...)`."""

    def __init__(self, audio_root: Path, **env: str) -> None:
        self.env = server_env(audio_root, **env)
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.port = 0
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        return "".join(self.lines)

    def _drain(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if not self._ready.is_set() and (match := _READY.search(line)):
                self.port = int(match.group(1))
                self._ready.set()
        self._ready.set()

    def start(self, timeout: float = 30.0) -> ApiServer:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVE], env=self.env, cwd=REPO, text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(timeout) or not self.port:
            self.stop()
            raise RuntimeError(f"the API server did not start:\n{self.log()[-3000:]}")
        return self

    def wait_for_log(self, text: str, timeout: float = 5.0) -> bool:
        """Whether `text` shows up in the log within `timeout` (log lines arrive async)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def make_team(folder: Path, members: tuple[tuple[str, str], ...]) -> Path:
    """Add each `(name, role)` as a user of AUDIO_ROOT `folder`, keeping each one's API token
    in `<folder>/<name>.token`; return `folder`. Argon2 is slow on purpose: make a team once
    per module and give each test a copy of its users file (`copy_team`)."""
    from voicelab import people

    for name, role in members:
        (folder / f"{name}.token").write_text(people.add_user(folder, name, role).token)
    return folder


def bearer(team: Path, name: str) -> dict[str, str]:
    """The headers `name` of a `make_team` team sends: their API token as a Bearer token."""
    return {"Authorization": f"Bearer {(team / f'{name}.token').read_text()}"}


def copy_team(team: Path, root: Path) -> Path:
    """A fresh AUDIO_ROOT `root` holding `team`'s users file (see `make_team`)."""
    from voicelab.people.users import users_path

    (root / ".voicelab").mkdir(parents=True)
    users_path(root).write_bytes(users_path(team).read_bytes())
    return root
