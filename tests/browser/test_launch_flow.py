"""The launch dashboard in Chromium against a real `voicelab serve` with its worker.

Fill the form, upload a script, see the estimate, start a local-engine job, watch it reach
SUCCESS, follow its link to the ranking board. Screenshots at each step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import Page, ServeProcess
from voicelab import store
from voicelab.jobs import registry

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

SCRIPT = b'Function,Line\nGreet_1,"Well met, traveller."\nWarn_1,Halt! Who goes there?\n'


@pytest.fixture(scope="module")
def launch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("launch") / "audio"
    root.mkdir()
    log = tmp_path_factory.mktemp("logs") / "serve-launch.log"
    with ServeProcess(root, "--no-demo", log_path=log) as process:
        yield process


def field(page: Page, label: str) -> str:
    return f".vl-launch .widget-inline-hbox:has(label:text-is('{label}'))"


def test_launch_a_batch_watch_it_finish_and_open_its_board(
        launch_server: ServeProcess, page: Page, tmp_path: Path) -> None:
    root = launch_server.audio_root
    page.goto(f"{launch_server.url}/voila/render/launch.ipynb")
    start = page.locator(".vl-launch button:has-text('Start generation')")
    start.wait_for()
    assert start.is_disabled()
    page.locator(".vl-launch .vl-errors").wait_for()
    page.screenshot_as("launch_empty")

    page.locator(f"{field(page, 'Skin name')} input").fill("Aldric")
    page.locator(".vl-launch select[multiple]").select_option(
        label="Joe (en_US, medium) (en_US-joe-medium)")
    page.locator(f"{field(page, 'Variants per line')} input").fill("1")
    page.locator(f"{field(page, 'Variants per line')} input").press("Enter")
    script = tmp_path / "knight.csv"
    script.write_bytes(SCRIPT)
    with page.expect_file_chooser() as chooser:
        page.locator(".vl-launch button:has-text('Script CSV')").click()
    chooser.value.set_files(str(script))
    page.locator(".vl-launch .vl-table").wait_for()
    assert "Well met, traveller." in page.locator(".vl-launch .vl-table").inner_text()
    estimate = page.locator(".vl-launch .vl-estimate")
    estimate.wait_for()
    assert "2 takes" in estimate.inner_text() and "characters" in estimate.inner_text()
    page.wait_for_function("() => !document.querySelector("
                           "'.vl-launch .jupyter-button.mod-primary').disabled")
    page.screenshot_as("launch_ready")

    start.click()
    page.locator(".vl-jobs .vl-job").first.wait_for()
    [record] = registry.recent(root)
    assert record["skin"] == "Aldric" and record["engine"] == "piper"
    page.locator(".vl-jobs .vl-state[data-state='SUCCESS']").wait_for(timeout=240_000)
    assert page.locator(".vl-no-worker").count() == 0, "the worker ran the job: it is alive"
    row = page.locator(".vl-jobs .vl-job").first
    row.scroll_into_view_if_needed()
    assert "2/2 takes" in row.inner_text() and "0 failed" in row.inner_text()
    page.screenshot_as("launch_job_done")

    link = page.locator(".vl-jobs a.vl-rank-link").first
    batch_id = link.get_attribute("href").split("batch_id=")[1]
    assert store.load_metadata(store.find_batch(root, batch_id))["complete"] is True
    # the same page updates that batch from an edited script: the plan first, then a sync job
    page.reload()
    choose = page.locator(f"{field(page, 'Batch')} select")
    choose.select_option(choose.locator(f"option:has-text('{batch_id}')").get_attribute("value"))
    page.locator(".vl-launch h3:has-text('Update an existing batch')").wait_for()
    edited = tmp_path / "edited.csv"
    edited.write_bytes(SCRIPT.replace(b"Well met, traveller.", b"Well met, stranger."))
    with page.expect_file_chooser() as chooser:
        page.locator(".vl-launch button:has-text('Script CSV')").click()
    chooser.value.set_files(str(edited))
    plan = page.locator(".vl-launch .vl-estimate")
    plan.filter(has_text="1 changed").wait_for()
    assert "'Well met, traveller.' -> 'Well met, stranger.'" in plan.inner_text()
    update = page.locator(".vl-launch button:has-text('Update batch')")
    page.wait_for_function("() => !document.querySelector("
                           "'.vl-launch .jupyter-button.mod-primary').disabled")
    page.screenshot_as("launch_update_plan")
    update.click()
    page.locator(".vl-jobs .vl-state[data-state='SUCCESS']").nth(1).wait_for(timeout=240_000)
    takes = store.load_metadata(store.find_batch(root, batch_id))["takes"]
    assert sum(bool(t.get("stale")) for t in takes) == 1 and len(takes) == 3
    page.goto(f"{launch_server.url}/voila/render/{link.get_attribute('href')}")
    page.locator(".vl-rank-board .vl-take").first.wait_for(timeout=60_000)
    assert page.locator(".vl-rank-board").get_attribute("data-batch-id") == batch_id
    assert page.locator(".vl-rank-board .vl-take").count() >= 2
    page.screenshot_as("launch_to_board")
    assert page.errors == []


def test_the_monitor_says_when_no_worker_runs_and_what_to_do(server: ServeProcess,
                                                             page: Page) -> None:
    """The session's server runs with --no-worker: a job would wait, and the page says so."""
    page.goto(f"{server.url}/voila/render/launch.ipynb")
    warning = page.locator(".vl-no-worker")
    warning.wait_for()
    text = warning.inner_text()
    assert "No job worker is running" in text and "voicelab worker" in text
    assert "voicelab doctor" in text
    assert warning.bounding_box()["y"] < page.locator(".vl-launch").bounding_box()["y"]
    page.screenshot_as("launch_no_worker")
    assert page.errors == []
