"""The tests' own servers survive a port taken between choosing it and binding it (another
test's server or kernel on a loaded machine): they start again on another port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.browser.harness import ServeProcess
from tests.redis_server import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def taken() -> Iterator[int]:
    """A port something listens on for the test's whole length."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_redis_starts_on_another_port_when_its_port_is_taken(tmp_path: Path, taken: int) -> None:
    with RedisServer(tmp_path / "redis", port=taken) as redis:
        assert redis.port != taken and redis.ping()


def test_serve_starts_on_another_port_when_its_port_is_taken(tmp_path: Path, taken: int) -> None:
    root = tmp_path / "audio"
    root.mkdir()
    serve = ServeProcess(root, "--no-worker", "--no-demo", log_path=tmp_path / "serve.log")
    serve.port = taken
    with serve:
        assert serve.port != taken
        assert requests.get(serve.url + "/healthz", timeout=30).ok
    assert "already in use" in (tmp_path / "serve.log").read_text("utf-8")
