"""Browser-test fixtures: real `voicelab serve`s shared by the session, Chromium, pages,
screenshots.

`server` runs with `--no-worker --no-demo` on a temp AUDIO_ROOT that holds two batches from
the start (the batch list's preheated kernel lists what exists when it warms up); tests that
change ranks make their own batch, since the board reads its batch when the page opens.
`team_serve` is the same with users (sign-in on), shared by the modules that need people
(test_sign_in, test_panel_board, test_lines_board): each takes it `settled()`, once only the
preheated kernels run, with a log that begins with the module.
Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch
from tests.browser.harness import CHROMIUM, Page, ServeProcess, chromium
from voicelab import people

TEAM = {"alice": "lead", "bob": "designer", "vera": "viewer",  # test_sign_in
        "leonie": "lead", "annika": "designer", "bertram": "designer",  # test_panel_board
        "cornelia": "designer",
        "dorit": "designer"}  # test_lines_board
"""Everyone the signed-in modules need, in the users file of the one server they share."""
TEAM_KERNELS = 12  # four boards at once, beside the preheated kernels and those shutting down


@pytest.fixture(scope="session")
def served_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AUDIO_ROOT of the session's server, with an open and a locked batch made up front."""
    root = tmp_path_factory.mktemp("served") / "audio"
    root.mkdir()
    make_batch(root, skin="Knight", voice="Edric-k1", batch_id="20260101-090000-k1", lines=4,
               ranks={"Line_1_take_2.mp3": 1})
    make_batch(root, skin="Archive", voice="Old-a1", batch_id="20250101-090000-a1", lines=2,
               locked=True)
    return root


@pytest.fixture(scope="session")
def server(served_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    with ServeProcess(served_root, "--no-worker", "--no-demo", log_path=log) as process:
        yield process


@pytest.fixture(scope="session")
def team_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AUDIO_ROOT of the session's signed-in server (each test makes its own batches)."""
    root = tmp_path_factory.mktemp("team") / "audio"
    root.mkdir()
    return root


@pytest.fixture(scope="session")
def team(team_root: Path) -> dict[str, people.Credentials]:
    return {name: people.add_user(team_root, name, role) for name, role in TEAM.items()}


@pytest.fixture(scope="session")
def team_serve(team_root: Path, team: dict[str, people.Credentials],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """The session's server with users; modules take it as `team_serve.settled()`."""
    log = tmp_path_factory.mktemp("logs") / "serve-team.log"
    with ServeProcess(team_root, "--no-worker", "--no-demo", log_path=log,
                      VOICELAB_MAX_KERNELS=str(TEAM_KERNELS)) as process:
        yield process


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` (apt-get install chromium)")
    with chromium() as context:
        yield context


@pytest.fixture
def page(browser_context: Any) -> Iterator[Page]:
    raw = browser_context.new_page()
    try:
        yield Page(raw)
    finally:
        raw.goto("about:blank")  # fires unload, so Voila shuts this page's kernel down
        raw.close()
