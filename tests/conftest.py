"""Shared fixtures: a clean environment for every test, and settings on a temp AUDIO_ROOT."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import REDIS_BIN, RedisServer
from voicelab.config import Settings

_PREFIXES = ("AUDIO_ROOT", "ELEVENLABS_", "CELERY_", "VOICELAB_", "LOG_", "SECRET_KEY", "FLASK_",
             "HTTP_X_VOICELAB_", "VOILA_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own VoiceLab variables."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty AUDIO_ROOT."""
    path = tmp_path / "audio"
    path.mkdir()
    return path


@pytest.fixture
def settings(root: Path) -> Settings:
    return Settings(audio_root=root)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port, stopped after the test."""
    if not Path(REDIS_BIN).exists():
        pytest.fail("redis-server is not installed (make system-deps installs it)")
    with RedisServer(tmp_path / "redis") as server:
        yield server


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

