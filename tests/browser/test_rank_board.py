"""The ranking flow in Chromium against `voicelab serve`: batch list -> board, rank with keys
and by drag-and-drop, lock; every step checked on disk (metadata.json and ranked/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import voicelab.dashboards.server as vl_server
from tests.batches import make_batch
from tests.browser.harness import Page, ServeProcess, wait_until
from voicelab import store

pytestmark = pytest.mark.browser

DISK_TIMEOUT_S = 30


def ranks_on_disk(batch_dir: Path) -> dict[str, int]:
    """file -> rank for every ranked take, as metadata.json says."""
    with store.batch_lock(batch_dir):  # a writer saves metadata, then moves links
        takes = store.load_metadata(batch_dir)["takes"]
    return {t["file"]: t["rank"] for t in takes if t["rank"] is not None}


def ranked_links(batch_dir: Path) -> dict[str, str]:
    """`NN/file` -> link target for every link under ranked/."""
    ranked = batch_dir / store.RANKED_DIR
    with store.batch_lock(batch_dir):
        return {f"{d.name}/{link.name}": os.readlink(link)
                for d in sorted(ranked.iterdir()) for link in sorted(d.iterdir())}


def wait_for_ranks(batch_dir: Path, expected: dict[str, int]) -> None:
    wait_until(lambda: ranks_on_disk(batch_dir) == expected, DISK_TIMEOUT_S,
               f"ranks {expected} on disk")


def open_board(page: Page, server: ServeProcess, batch_dir: Path) -> None:
    page.goto(vl_server.dashboard_url(server.url, "rank.ipynb", batch_id=batch_dir.name))
    page.wait_for_selector(".vl-rank-board .vl-take[data-file]")


def take(file: str) -> str:
    return f".vl-rank-board .vl-take[data-file='{file}']"


def slot(line: str, rank: int) -> str:
    return f".vl-rank-board .vl-slot[data-line='{line}'][data-rank='{rank}']"


def test_batch_list_opens_the_board_of_a_batch(server: ServeProcess, page: Page) -> None:
    page.goto(server.url + "/")
    page.click(".vl-batch-row[data-batch-id='20260101-090000-k1'] a.vl-batch-link")
    page.wait_for_selector(".vl-rank-board .vl-take[data-file]")
    assert page.url == vl_server.dashboard_url(server.url, "rank.ipynb",
                                               batch_id="20260101-090000-k1")
    assert "20260101-090000-k1" in page.inner_text(".vl-rank-board .vl-title")
    # The saved rank shows: Line_1_take_2 holds rank 1.
    assert page.get_attribute(take("Line_1_take_2.mp3"), "data-rank") == "1"
    assert page.get_attribute(slot("Line_1", 1), "data-file") == "Line_1_take_2.mp3"
    page.screenshot_as("rank_board_opened")


def test_the_keys_live_behind_a_question_mark_and_the_takes_fill_the_screen(
        server: ServeProcess, served_root: Path, page: Page) -> None:
    batch = make_batch(served_root, skin="Help", lines=2, takes_per_line=3)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_board(page, server, batch)
    overlay = page.locator(".vl-rank-board .vl-keys")
    assert overlay.is_hidden()
    # Nothing but a line of header and the toolbar above the first take.
    first = page.locator(take("Line_1_take_1.mp3")).bounding_box()
    page.screenshot_as("rank_board_full_screen")
    assert first is not None and first["y"] < 0.3 * page.viewport_size["height"], first
    page.click(take("Line_1_take_1.mp3") + " .vl-take-number")
    page.keyboard.press("?")
    overlay.wait_for(state="visible")
    text = overlay.inner_text()
    assert "rank the focused take" in text and "How to rank" in text
    page.screenshot_as("rank_board_keys")
    page.keyboard.press("2")  # the overlay has the keys: take 1 gets no rank
    page.keyboard.press("Escape")
    overlay.wait_for(state="hidden")
    page.keyboard.press("j")  # back on the board, the keys move and rank again
    page.keyboard.press("1")
    wait_for_ranks(batch, {"Line_1_take_2.mp3": 1})
    page.click(".vl-rank-board .vl-keys-button")
    overlay.wait_for(state="visible")
    page.click(".vl-rank-board .vl-keys-close")
    overlay.wait_for(state="hidden")
    assert page.errors == [] and errors == []


def test_rank_with_keys_cascades_on_disk(server: ServeProcess, served_root: Path,
                                         page: Page) -> None:
    batch = make_batch(served_root, skin="Keys", lines=2, takes_per_line=3)
    open_board(page, server, batch)
    page.click(take("Line_1_take_1.mp3") + " .vl-take-number")
    page.keyboard.press("1")
    wait_for_ranks(batch, {"Line_1_take_1.mp3": 1})
    page.keyboard.press("j")  # next take of the line
    page.keyboard.press("1")  # takes rank 1; take 1 moves down to 2 (docs/design.md, decision 1)
    wait_for_ranks(batch, {"Line_1_take_1.mp3": 2, "Line_1_take_2.mp3": 1})
    page.keyboard.press("ArrowDown")
    page.keyboard.press("3")
    wait_for_ranks(batch, {"Line_1_take_1.mp3": 2, "Line_1_take_2.mp3": 1,
                           "Line_1_take_3.mp3": 3})
    page.keyboard.press("0")  # clears the focused take's rank
    wait_for_ranks(batch, {"Line_1_take_1.mp3": 2, "Line_1_take_2.mp3": 1})
    assert ranked_links(batch) == {"01/Line_1_take_2.mp3": "../../takes/Line_1_take_2.mp3",
                                   "02/Line_1_take_1.mp3": "../../takes/Line_1_take_1.mp3"}
    page.wait_for_selector(slot("Line_1", 1) + "[data-file='Line_1_take_2.mp3']")
    page.screenshot_as("rank_board_keys")
    assert page.errors == []


def test_rank_by_drag_and_drop(server: ServeProcess, served_root: Path, page: Page) -> None:
    batch = make_batch(served_root, skin="Drag", lines=2, takes_per_line=3)
    open_board(page, server, batch)
    page.drag_and_drop(take("Line_2_take_3.mp3"), slot("Line_2", 1))
    wait_for_ranks(batch, {"Line_2_take_3.mp3": 1})
    page.drag_and_drop(take("Line_2_take_1.mp3"), slot("Line_2", 1))
    wait_for_ranks(batch, {"Line_2_take_1.mp3": 1, "Line_2_take_3.mp3": 2})
    # A ranked take's chip moves from its slot to another.
    chip = slot("Line_2", 2) + " .vl-slot-take"
    page.wait_for_selector(chip)
    page.drag_and_drop(chip, slot("Line_2", 4))
    wait_for_ranks(batch, {"Line_2_take_1.mp3": 1, "Line_2_take_3.mp3": 4})
    # A take dropped on another line's slot changes nothing there.
    page.drag_and_drop(take("Line_2_take_2.mp3"), slot("Line_1", 1))
    page.drag_and_drop(take("Line_1_take_1.mp3"), slot("Line_1", 5))
    wait_for_ranks(batch, {"Line_2_take_1.mp3": 1, "Line_2_take_3.mp3": 4,
                           "Line_1_take_1.mp3": 5})
    assert ranked_links(batch) == {"01/Line_2_take_1.mp3": "../../takes/Line_2_take_1.mp3",
                                   "04/Line_2_take_3.mp3": "../../takes/Line_2_take_3.mp3",
                                   "05/Line_1_take_1.mp3": "../../takes/Line_1_take_1.mp3"}
    page.screenshot_as("rank_board_drag")
    assert page.errors == []


def test_lock_makes_the_board_read_only(server: ServeProcess, served_root: Path,
                                        page: Page) -> None:
    batch = make_batch(served_root, skin="Lock", lines=2, takes_per_line=2,
                       ranks={"Line_1_take_1.mp3": 1})
    open_board(page, server, batch)
    page.click(".vl-rank-board .vl-lock-button")
    page.click(".vl-rank-board .vl-confirm-lock")
    wait_until(lambda: store.is_locked(batch), DISK_TIMEOUT_S, "the LOCKED marker")
    assert store.load_metadata(batch)["ranked_at_utc"] is not None
    page.wait_for_selector(".vl-rank-board.vl-readonly")
    before = (batch / store.METADATA_NAME).read_bytes()
    # Keys and drags no longer rank: the board says why, and the disk stays as it was.
    page.click(take("Line_2_take_1.mp3") + " .vl-take-number")
    page.keyboard.press("2")
    page.wait_for_selector(".vl-rank-board .vl-message:not([hidden])")
    assert "locked" in page.inner_text(".vl-rank-board .vl-message").lower()
    page.drag_and_drop(take("Line_2_take_2.mp3"), slot("Line_2", 1))
    page.screenshot_as("rank_board_locked")
    # A fresh visit opens it read-only too.
    open_board(page, server, batch)
    page.wait_for_selector(".vl-rank-board.vl-readonly .vl-readonly-banner:not([hidden])")
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert ranks_on_disk(batch) == {"Line_1_take_1.mp3": 1}
    assert page.errors == []
