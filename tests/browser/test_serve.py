"""`voicelab serve`: stable URLs, one origin for pages, API and audio, nothing off the host,
a bounded number of kernels, a demo batch on a first run, the worker ending with the server."""

from __future__ import annotations

import json
import re
import signal
import socket
from pathlib import Path

import psutil
import pytest
import requests

import voicelab.dashboards.server as vl_server
from api import create_app
from tests.batches import make_batch
from tests.browser.harness import Page, ServeProcess, is_worker, wait_until
from voicelab import store
from voicelab.config import Settings
from voicelab.dashboards import dashboard_kernels
from voicelab.errors import ConfigError

# --- without a server ----------------------------------------------------------------------


def test_api_pattern_takes_the_projects_paths_and_leaves_jupyters(settings: Settings) -> None:
    rules = vl_server._flask_rules(create_app(settings))  # /healthz stays with serve
    pattern = re.compile(vl_server.api_path_pattern(rules) + "$")
    for path in ("/api/batches", "/api/batch/b1", "/api/batch/b1/take/x.mp3", "/api/batch/b/lock",
                 "/api/generate", "/api/generate/t1/status", "/api/estimate", "/api/voices",
                 "/api/openapi.json", "/audio/Skin/Voice/b1/takes/x.mp3"):
        assert pattern.match(path), path
    for path in ("/api/kernels", "/api/kernels/abc/channels", "/api/batchesx", "/voila/render/x",
                 "/api/contents", "/", "/audio", "/healthz"):
        assert not pattern.match(path), path


def test_dashboard_urls_are_stable() -> None:
    base = "http://127.0.0.1:8866"
    assert vl_server.dashboard_url(base, "rank.ipynb", batch_id="20260101-090000-k1") == (
        "http://127.0.0.1:8866/voila/render/rank.ipynb?batch_id=20260101-090000-k1")
    assert vl_server.urls("127.0.0.1", 8866)["batches"] == "http://127.0.0.1:8866/"


def test_serve_refuses_a_busy_port_naming_it(settings: Settings) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--port={port}.*already in use"):
            vl_server.serve(settings, port=port, worker=False, demo=False)


def test_children_get_an_absolute_audio_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    env = vl_server.child_env(Settings(audio_root=Path("output")))
    assert env["AUDIO_ROOT"] == str(tmp_path / "output")


# --- against the session's server ----------------------------------------------------------


@pytest.mark.integration
def test_root_redirects_to_the_batch_list(server: ServeProcess) -> None:
    response = requests.get(server.url + "/", allow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert response.headers["Location"] == "/voila/render/batches.ipynb"


@pytest.mark.integration
def test_prints_its_urls(server: ServeProcess) -> None:
    log = server.log()
    assert f"http://127.0.0.1:{server.port}/\n" in log
    assert f"http://127.0.0.1:{server.port}/voila/render/rank.ipynb?batch_id=<id>" in log
    assert f"http://127.0.0.1:{server.port}/api/openapi.json" in log


@pytest.mark.integration
def test_api_and_audio_answer_on_the_same_origin(server: ServeProcess, served_root: Path) -> None:
    listed = requests.get(server.url + "/api/batches", timeout=30).json()["data"]
    assert {"20260101-090000-k1", "20250101-090000-a1"} <= {b["batch_id"] for b in listed}
    take = store.find_batch(served_root, "20260101-090000-k1") / "takes" / "Line_1_take_1.mp3"
    relpath = take.relative_to(served_root).as_posix()
    audio = requests.get(f"{server.url}/audio/{relpath}", headers={"Range": "bytes=0-99"},
                         timeout=30)
    assert audio.status_code == 206
    assert audio.headers["Content-Type"].startswith("audio/mpeg")
    assert audio.content == take.read_bytes()[:100]


@pytest.mark.integration
def test_healthz_is_answered_by_serve_without_a_kernel(server: ServeProcess) -> None:
    pool = len(vl_server.PREHEATED)
    # Earlier tests on this shared server may still be shutting a kernel down or refilling a
    # pool: wait until the books and the processes agree, then check that asking starts nothing.
    wait_until(lambda: len(server.kernels()) == pool and server.health()["kernels"] == pool, 60,
               "only the preheated kernels, in the books and as processes")
    before = {p.pid for p in server.kernels()}
    for _ in range(5):
        body = server.health()  # serve's own answer (the kernel books), not Flask's
        assert body["status"] == "ok" and body["kernels"] == pool
    low, high = dashboard_kernels.MAX_KERNELS_DEFAULT
    assert low <= body["max_kernels"] <= high
    assert {p.pid for p in server.kernels()} == before


@pytest.mark.integration
def test_jupyter_kernel_api_is_not_taken_by_flask(server: ServeProcess) -> None:
    response = requests.get(server.url + "/api/kernels/00000000-0000-0000-0000-000000000000",
                            timeout=30)
    # Jupyter's answer, not Flask's envelope: a kernel that is not the asker's page's is
    # forbidden before anything says whether it exists (voicelab.dashboards.sign_in.KernelOwners).
    assert response.status_code == 403
    assert "message" in response.json() and "error" not in response.json()


@pytest.mark.browser
def test_batch_list_page_makes_no_request_off_the_host(server: ServeProcess, page: Page) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector(".vl-batch-row[data-batch-id='20260101-090000-k1']")
    assert page.url == server.url + "/voila/render/batches.ipynb"
    page.screenshot_as("serve_batch_list")
    # Font Awesome comes from Voila's own bundle, not a CDN: an icon gets the real font.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i id=\"fa-probe\" "
                  "class=\"fa fa-check\"></i>')")
    family = page.evaluate("getComputedStyle(document.getElementById('fa-probe')).fontFamily")
    assert "Font Awesome" in family
    own = (server.url + "/", f"ws://127.0.0.1:{server.port}/", "blob:", "data:")
    off_host = [u for u in page.requests + page.sockets if not u.startswith(own)]
    assert off_host == []
    assert any("/api/kernels/" in u for u in page.sockets)  # widgets talk to the kernel here


@pytest.mark.browser
@pytest.mark.parametrize("notebook", vl_server.PREHEATED)
def test_every_dashboard_renders_at_its_address(server: ServeProcess, page: Page,
                                                notebook: str) -> None:
    response = page.goto(f"{server.url}/voila/render/{notebook}")
    assert response is not None and response.ok
    # rank.ipynb without ?batch_id= says so instead of failing
    page.wait_for_selector(".vl-batch-list, .vl-rank-missing, .vl-launch, .vl-jobs")
    assert page.errors == []


@pytest.mark.browser
def test_batch_list_shows_a_batch_made_after_the_server_started(
        server: ServeProcess, served_root: Path, page: Page) -> None:
    late = make_batch(served_root, skin="Late", lines=1)
    page.goto(server.url + "/")
    page.wait_for_selector(".vl-batch-row")
    assert page.locator(f".vl-batch-row[data-batch-id='{late.name}']").count() == 1


@pytest.mark.browser
def test_kernels_stay_bounded_after_many_visits(server: ServeProcess, page: Page) -> None:
    visits = 4
    for n in range(visits):
        if n % 2:
            page.goto(server.url + "/")
            page.wait_for_selector(".vl-batch-list")
        else:
            page.goto(vl_server.dashboard_url(server.url, "rank.ipynb",
                                              batch_id="20260101-090000-k1"))
            page.wait_for_selector(".vl-rank-board .vl-take")
    page.goto("about:blank")
    # Every page left asked for its kernel's shutdown, and the server agreed.
    wait_until(lambda: server.log().count("204 POST /voila/api/shutdown/") >= visits, 60,
               "a shutdown beacon accepted per visit")
    assert "403 POST /voila/api/shutdown/" not in server.log()
    # What remains: one warm kernel per preheated dashboard, nothing leaked.
    warm = len(vl_server.PREHEATED)
    wait_until(lambda: len(server.kernels()) <= warm, 60, f"at most {warm} kernels")
    # Kernels talk to the server over Unix sockets: no TCP port to race for or to reach.
    assert "Kernel is running over TCP" not in server.log()
    assert {json.loads(Path(kernel.cmdline()[-1]).read_text())["transport"]
            for kernel in server.kernels()} == {"ipc"}


# --- a server of its own -------------------------------------------------------------------


@pytest.mark.integration
def test_first_run_makes_a_demo_batch_and_the_worker_ends_with_the_server(tmp_path: Path,
                                                                         ) -> None:
    root = tmp_path / "audio"
    root.mkdir()
    serve = ServeProcess(root, log_path=tmp_path / "serve.log")  # worker and demo: the defaults
    try:
        serve.start(timeout=240)
        assert "made a demo batch" in serve.log()
        (batch,) = requests.get(serve.url + "/api/batches", timeout=30).json()["data"]
        assert batch["take_count"] == 12 and batch["skin"] == "Demo"
        worker = wait_until(lambda: [p for p in serve.descendants() if is_worker(p)], 60,
                            "the embedded worker process")[0]
        assert serve.process is not None
        serve.process.send_signal(signal.SIGTERM)
        assert serve.process.wait(timeout=60) == 0
        assert not psutil.pid_exists(worker.pid) or worker.status() == psutil.STATUS_ZOMBIE
    finally:
        family = serve.stop()
    assert all(not p.is_running() for p in family)


def test_no_demo_when_batches_exist(tmp_path: Path) -> None:
    from voicelab.dashboards.demo import ensure_demo_batch

    root = tmp_path / "audio"
    make_batch(root)
    assert ensure_demo_batch(Settings(audio_root=root)) is None
    assert len(store.find_batches(root)) == 1
