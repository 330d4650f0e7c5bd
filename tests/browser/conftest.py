"""Browser-test fixtures: one real `voicelab serve` per session, Chromium, pages, screenshots.

The server runs with `--no-worker --no-demo` on a temp AUDIO_ROOT that holds two batches from
the start (the batch list's preheated kernel lists what exists when it warms up); tests that
change ranks make their own batch, since the board reads its batch when the page opens.
Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch
from tests.browser.harness import CHROMIUM, Page, ServeProcess, chromium


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
