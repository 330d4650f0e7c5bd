"""Shared fixtures: a clean environment for every test, and settings on a temp AUDIO_ROOT."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.environment import STRIPPED_PREFIXES
from tests.redis_server import REDIS_BIN, RedisServer
from voicelab.config import Settings

# Rich's consoles (voicelab.cli.common's, made at import) keep the width COLUMNS gives when they
# are made, and an xdist worker starts with COLUMNS=80 LINES=24: a test's own COLUMNS (the CLI
# fixture's 200) would then be ignored and messages wrapped. Each test sets the size it needs.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

XDIST_GROUPS = {
    # tests/browser/conftest.py's `team_serve` (the signed-in server)
    "tests/browser/test_lines_board.py": "browser-2",
    "tests/browser/test_panel_board.py": "browser-2",
    "tests/browser/test_sign_in.py": "browser-2",
    # servers of their own: with these, the two browser groups take about as long
    "tests/browser/test_kernel_cap.py": "browser-2",
    "tests/browser/test_jupyter_frontends.py": "browser-2",
}
"""Browser files run together on one xdist worker; every other one runs in group browser-1
(those using the session's `server`). A file in the wrong group still passes: its worker starts
the server it needs (slower)."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` and `make test-fast` run `-n 2 --dist loadgroup`: a file's tests run on one
    worker (its module fixtures start once), and tests/browser's files in two groups
    (XDIST_GROUPS), so each session server starts once and each worker runs one Chromium.

    This scheduler, not xdist_group marks: pytest 9.2 drops the node-id suffix loadgroup reads
    (pytest-xdist issue 1386). Groups go out in collection order (browser first: the longest).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByFileAndServer(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.startswith("tests/browser/"):
                return XDIST_GROUPS.get(path, "browser-1")
            return path

    config.option.loadscopereorder = False
    return ByFileAndServer(config, log)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own VoiceLab variables (tests/environment.py says which)."""
    for name in list(os.environ):
        if name.startswith(STRIPPED_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """Argon2id at its lowest cost for the users tests make in this process.

    The default (64 MiB, 3 passes, 4 lanes) costs 0.1 to 1.5 s a hash on two busy cores, and
    the suite makes hundreds (every user added, every failed sign-in's dummy hash). The hash is
    still Argon2id in the same format, and a hash says its own parameters, so servers and CLIs
    started by tests verify these passwords as cheaply. Users made in child processes keep the
    product's cost.
    """
    from argon2 import PasswordHasher

    from voicelab.people import users

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty AUDIO_ROOT."""
    path = tmp_path / "audio"
    path.mkdir()
    return path


@pytest.fixture
def settings(root: Path) -> Settings:
    return Settings(audio_root=root)


@pytest.fixture(scope="session")
def redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's redis-server on a free loopback port (tests take `redis_server`)."""
    if not Path(REDIS_BIN).exists():
        pytest.fail("redis-server is not installed (make system-deps installs it)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


_redis_dbs = itertools.count()


@pytest.fixture
def redis_server(redis_process: RedisServer) -> RedisServer:
    """A Redis for this test alone: the session's server, on a database emptied for it (the
    next of its 16 in turn, so nothing an earlier test's leftovers write lands in this one)."""
    if redis_process.process is None or redis_process.process.poll() is not None:
        pytest.fail(f"the session's redis-server is gone: {redis_process.log_text()}")
    return redis_process.database(next(_redis_dbs) % RedisServer.DATABASES)


@pytest.fixture(scope="session")
def team_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A users file holding vic (viewer), dana (designer) and lena (lead), made once: Argon2
    hashing is slow on purpose. Write it with `install_team`."""
    from voicelab import people
    from voicelab.people.users import users_path

    made = tmp_path_factory.mktemp("team-file")
    for name, role in (("vic", "viewer"), ("dana", "designer"), ("lena", "lead")):
        people.add_user(made, name, role)
    return users_path(made).read_bytes()


def install_team(root: Path, team_file: bytes) -> None:
    """Give AUDIO_ROOT `root` the users of `team_file`, as `voicelab users add` leaves them."""
    from voicelab.people.users import users_path

    users_path(root).parent.mkdir(parents=True, exist_ok=True)
    users_path(root).write_bytes(team_file)

