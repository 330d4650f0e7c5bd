"""Kernels are a bounded resource (docs/design.md, decision 14), against a real `voicelab serve`.

One server for the module with a small cap (VOICELAB_MAX_KERNELS: the preheated kernels, one
per dashboard, and two pages), one kernel starting at a time (VOICELAB_KERNEL_STARTS=1) and a
short connect deadline (VOICELAB_KERNEL_CONNECT_S=5). Page requests past the start slot wait
their turn and open; a burst of clients that give up after 0.2 s never takes the server past the
cap, the kernels they leave behind are shut down, and a real board opens fine afterwards; a
client that reads a page but never connects loses its kernel after the deadline; past the cap,
Chromium gets the plain busy page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

import voicelab.dashboards.server as vl_server
from tests.batches import make_batch
from tests.browser.harness import Page, Peaks, ServeProcess, wait_until
from voicelab import doctor
from voicelab.config import Settings
from voicelab.dashboards import dashboard_kernels

POOL = len(vl_server.PREHEATED)
CAP = POOL + 2
CONNECT_S = 5.0
BATCH = "20260101-090000-c1"
BURST = 40
GIVE_UP_S = 0.2


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    base = tmp_path_factory.mktemp("capped")
    root = base / "audio"
    make_batch(root, skin="Knight", voice="Edric-c1", batch_id=BATCH, lines=3)
    with ServeProcess(root, "--no-worker", "--no-demo", log_path=base / "serve.log",
                      VOICELAB_MAX_KERNELS=str(CAP), VOICELAB_KERNEL_STARTS="1",
                      VOICELAB_KERNEL_CONNECT_S=str(CONNECT_S)) as server:
        yield server


def settled(server: ServeProcess) -> bool:
    """Only the preheated kernels are left, by the server's books and by the process table."""
    return len(server.kernels()) == POOL and server.health()["kernels"] == POOL


def impatient_get(url: str) -> tuple[int, str, str | None] | str:
    """GET `url`, giving up after 0.2 s as a reload-happy user or a link-preview bot does."""
    try:
        response = requests.get(url, timeout=GIVE_UP_S)
    except requests.RequestException:
        return "gave up"
    return response.status_code, response.text, response.headers.get("Retry-After")


def board_url(server: ServeProcess) -> str:
    return vl_server.dashboard_url(server.url, vl_server.RANK_BOARD, batch_id=BATCH)


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


@pytest.mark.integration
def test_healthz_reads_the_books_and_starts_no_kernel(capped: ServeProcess) -> None:
    wait_until(lambda: settled(capped), 120, "the preheated kernels only")
    before = {p.pid for p in capped.kernels()}
    answers = [requests.get(capped.url + "/healthz", timeout=10) for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    assert answers[-1].headers["Content-Type"].startswith("application/json")
    assert answers[-1].json() == {"status": "ok", "kernels": POOL, "alive": POOL, "starting": 0,
                                  "waiting": 0, "max_kernels": CAP, "start_slots": 1}
    assert {p.pid for p in capped.kernels()} == before
    # `voicelab doctor` finds the server by its record under AUDIO_ROOT and shows its books.
    row = doctor.check_dashboards(Settings(audio_root=capped.audio_root))
    assert row.status == "ok", row
    assert row.detail == (f"{capped.url}: {POOL} kernel(s) of at most {CAP} ({POOL} alive, "
                          f"0 starting, at most 1 at once), 0 page(s) waiting")


@pytest.mark.integration
@pytest.mark.browser
def test_a_burst_of_abandoned_requests_stays_under_the_cap(capped: ServeProcess, page: Page,
                                                           ) -> None:
    wait_until(lambda: settled(capped), 120, "the preheated kernels only")
    urls = [f"{capped.url}/voila/render/{vl_server.BATCH_LIST}" if n % 2 else board_url(capped)
            for n in range(BURST)]
    timeline: list[tuple[float, str, int]] = []  # what the probes read, to explain a failure

    def noted(name: str, value: int) -> int:
        timeline.append((time.monotonic(), name, value))
        return value

    with Peaks(processes=lambda: noted("processes", len(capped.kernels())),
               books=lambda: noted("books", capped.health()["kernels"])) as peaks:
        with ThreadPoolExecutor(BURST) as pool:
            outcomes = list(pool.map(impatient_get, urls))
        # What the burst left behind is shut down: its clients are gone.
        wait_until(lambda: settled(capped), CONNECT_S + 90, "kernels back to the pools",
                   interval=0.5)
    over = [at for at, _, value in timeline if value > CAP]
    assert not over, (peaks.high, [(round(at - over[0], 2), name, value)
                                   for at, name, value in timeline if abs(at - over[0]) < 2],
                      "\n".join(line for line in capped.log().splitlines()
                                if "ernel" in line)[-6000:])
    assert capped.health()["waiting"] == 0  # those whose client left while waiting, left
    refused = [o for o in outcomes if isinstance(o, tuple) and o[0] == 503]
    for _, text, retry_after in refused:  # only at the cap
        assert dashboard_kernels.BUSY_MESSAGE in text.lower()
        assert retry_after == str(dashboard_kernels.RETRY_AFTER_S)
    assert all(o == "gave up" or o[0] in (200, 503) for o in outcomes), outcomes
    assert "its client left" in capped.log()

    # A real user comes along afterwards: the board opens and works.
    errors = console_errors(page)
    page.goto(board_url(capped))
    page.wait_for_selector(".vl-rank-board .vl-take[data-file]")
    assert page.errors == [] and errors == []
    assert len(capped.kernels()) <= CAP


@pytest.mark.integration
def test_requests_past_the_start_slot_wait_their_turn_and_open(capped: ServeProcess) -> None:
    """Two pages at once on one start slot: the second waits for the first's kernel start
    (a fraction of a second: it is not refused), then both are whole pages. Neither connects:
    their kernels go after the deadline."""
    wait_until(lambda: settled(capped), 120, "the preheated kernels only")
    urls = [board_url(capped), f"{capped.url}/voila/render/{vl_server.BATCH_LIST}"]
    with Peaks(waiting=lambda: capped.health()["waiting"]) as peaks, ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(lambda url: requests.get(url, timeout=120), urls))
    assert [p.status_code for p in pages] == [200, 200]
    assert all("window.voila_finish()" in p.text for p in pages)
    assert peaks.high["waiting"] <= 1 and capped.health()["waiting"] == 0
    wait_until(lambda: settled(capped), CONNECT_S + 60, "the unconnected kernels shut down",
               interval=0.5)


@pytest.mark.integration
def test_a_page_read_without_connecting_loses_its_kernel_after_the_deadline(
        capped: ServeProcess) -> None:
    wait_until(lambda: settled(capped), 120, "the preheated kernels only")
    page = requests.get(board_url(capped), timeout=120)  # read whole, as a bot does: no JS
    assert page.status_code == 200 and "window.voila_finish()" in page.text  # all of it
    assert capped.health()["kernels"] == POOL + 1  # its kernel, the pool's refill, no more
    wait_until(lambda: settled(capped), CONNECT_S + 60, "the unconnected kernel shut down",
               interval=0.5)
    assert f"no page connected to it within {CONNECT_S:g} s" in capped.log()


@pytest.mark.integration
@pytest.mark.browser
def test_past_the_cap_a_page_is_a_plain_busy_page(capped: ServeProcess, browser_context: Any,
                                                  ) -> None:
    wait_until(lambda: settled(capped), 120, "the preheated kernels only")
    boards = [Page(browser_context.new_page()) for _ in range(CAP - POOL)]
    busy = Page(browser_context.new_page())
    errors = console_errors(busy)
    try:
        for board in boards:  # connected pages keep their kernels: the cap is reached
            board.goto(board_url(capped))
            board.wait_for_selector(".vl-rank-board .vl-take[data-file]")
        assert capped.health()["kernels"] == CAP

        response = busy.goto(capped.url + "/")
        assert response is not None and response.status == 503
        assert response.headers["retry-after"] == str(dashboard_kernels.RETRY_AFTER_S)
        assert dashboard_kernels.BUSY_MESSAGE in busy.inner_text("body").lower()
        busy.screenshot_as("serve_too_many_dashboards")
        assert all(u.startswith(capped.url + "/") for u in busy.requests), busy.requests
        assert busy.errors == []
        assert [e for e in errors if "503 (Service Unavailable)" not in e] == []
        assert len(capped.kernels()) <= CAP

        # Closing a tab frees its kernel (the unload beacon), and trying again works.
        boards[0].goto("about:blank")
        wait_until(lambda: capped.health()["kernels"] < CAP, 60, "a kernel freed")
        response = busy.reload()
        assert response is not None and response.status == 200
        busy.wait_for_selector(".vl-batch-row")
    finally:
        for each in (*boards, busy):
            each.goto("about:blank")
            each.close()


def test_the_busy_page_is_self_contained() -> None:
    page = dashboard_kernels.busy_page(CAP)
    assert "http" not in page and "<script" not in page and "@import" not in page
    assert f"{dashboard_kernels.BUSY_MESSAGE}." in page.lower()
    assert f"at most\n{CAP} at a time" in page
