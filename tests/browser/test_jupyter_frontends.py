"""The ranking board in JupyterLab 4 and Notebook 7: it renders, and a key press ranks on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import requests

from tests.batches import make_batch
from tests.browser.harness import REPO, Page, free_port, wait_until
from voicelab import store

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(params=[("lab", "lab/tree/rank.ipynb"), ("notebook", "notebooks/rank.ipynb")],
                ids=["jupyterlab", "notebook7"])
def frontend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Jupyter server of one kind over a copy of rank.ipynb set to a fresh batch."""
    app, path = request.param
    root = tmp_path / "audio"
    root.mkdir()
    batch = make_batch(root, lines=3, takes_per_line=3, ranks={"Line_1_take_2.mp3": 1})
    work = tmp_path / "work"
    work.mkdir()
    notebook = nbformat.read(REPO / "notebooks" / "rank.ipynb", as_version=4)
    notebook.cells[1].source = f'batch_id = "{batch.name}"'
    nbformat.write(notebook, work / "rank.ipynb")
    port = free_port()
    with (tmp_path / "jupyter.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={port}",
             "--ServerApp.token=", "--ServerApp.password=", "--allow-root",
             f"--ServerApp.root_dir={work}", "--expose-app-in-browser",
             # Kernels on Unix sockets: a TCP port chosen for a kernel can be taken by another
             # test's server before the kernel binds it, and jupyter_client's restarts then
             # keep the taken control port (seen: five restarts, then a dead kernel).
             "--KernelManager.transport=ipc"],
            env={**os.environ, "AUDIO_ROOT": str(root)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/api", timeout=2).ok
            except requests.ConnectionError:
                return False

        wait_until(up, 60, f"jupyter {app} answering")
        yield f"http://127.0.0.1:{port}/{path}", batch
    finally:
        process.terminate()
        process.wait(30)


def test_board_renders_and_ranks_in_jupyter(frontend: tuple[str, Path], page: Page,
                                            request: pytest.FixtureRequest) -> None:
    url, batch = frontend
    page.goto(url)
    page.wait_for_function(
        "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(".vl-rank-board .vl-take[data-file]")
    assert page.locator(".vl-rank-board .vl-take").count() == 9
    page.locator(".vl-rank-board .vl-take[data-file='Line_2_take_3.mp3']").click()
    page.keyboard.press("1")

    def ranked() -> bool:
        with store.batch_lock(batch):  # a rank change writes metadata, then links, under it
            takes = store.load_metadata(batch)["takes"]
            if {t["file"]: t["rank"] for t in takes}["Line_2_take_3.mp3"] != 1:
                return False
            assert (batch / "ranked" / "01" / "Line_2_take_3.mp3").is_symlink()
            return True

    wait_until(ranked, 30, "the rank on disk")
    page.screenshot_as(f"{request.node.callspec.id}_rank_board")
