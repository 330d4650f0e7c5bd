"""The quality gate before lock on the board (issue 16), in Chromium against `voicelab serve`:
the lead's Lock lists the lines to check (a flagged selected take, no selection), Escape
cancels, "Go to line" focuses the line, Enter locks anyway, recorded; a clean batch asks the
plain question. The board's export offers the delivery presets (a zip laid out for the tool).
Every step checked on disk; no console errors."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.batches import flag_take, make_batch
from tests.browser.harness import SCREENSHOTS, Page, ServeProcess, wait_until
from tests.browser.test_rank_board import DISK_TIMEOUT_S, open_board
from voicelab import history, ranking, store

pytestmark = pytest.mark.browser

DIALOG = ".vl-rank-board .vl-confirm"


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def keep(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep)
    return errors


def test_lock_lists_the_lines_to_check_and_locks_anyway(server: ServeProcess, served_root: Path,
                                                        page: Page) -> None:
    batch = make_batch(served_root, skin="Gate", lines=3, takes_per_line=3,
                       ranks={"Line_1_take_2.mp3": 1, "Line_3_take_1.mp3": 1})
    flag_take(batch, "Line_1_take_2.mp3", "clipping", "words")
    console = _console_errors(page)
    open_board(page, server, batch)
    page.click(".vl-rank-board .vl-lock-button")
    page.wait_for_selector(f"{DIALOG}:not([hidden]) .vl-gate-problem")
    rows = page.locator(f"{DIALOG} .vl-gate-problem")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\n")[:3] == ["Line_1", "clipping, wrong words",
                                                        "Take 2"]
    assert rows.nth(1).inner_text().split("\n")[:2] == ["Line_2", "no selection"]
    assert "2 lines need a look" in page.inner_text(f"{DIALOG} .vl-confirm-text")
    assert page.inner_text(f"{DIALOG} .vl-confirm-lock") == "Lock anyway"
    assert page.evaluate("document.activeElement.className") == "vl-confirm-lock"
    page.screenshot_as("rank_board_lock_gate")
    page.locator(DIALOG).screenshot(path=str(SCREENSHOTS / "rank_board_lock_gate_dialog.png"))

    page.keyboard.press("Escape")  # cancels: nothing locked
    page.wait_for_selector(DIALOG, state="hidden")
    assert not store.is_locked(batch)

    page.click(".vl-rank-board .vl-lock-button")
    page.click(f"{DIALOG} .vl-gate-problem[data-line='Line_2'] .vl-gate-jump")
    page.wait_for_selector(DIALOG, state="hidden")
    page.wait_for_selector(".vl-rank-board[data-focused-file='Line_2_take_1.mp3']")
    assert not store.is_locked(batch)

    page.click(".vl-rank-board .vl-lock-button")
    page.wait_for_selector(f"{DIALOG}:not([hidden])")
    page.keyboard.press("ArrowDown")  # along the dialog's buttons, and back
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")  # Lock anyway
    wait_until(lambda: store.is_locked(batch), DISK_TIMEOUT_S, "the LOCKED marker")
    page.wait_for_selector(".vl-rank-board.vl-readonly")
    entry = history.read(batch)[-1]
    assert (entry["action"], entry["forced"]) == ("lock", True)
    assert [p["line"] for p in entry["problems"]] == ["Line_1", "Line_2"]
    page.wait_for_selector(".vl-rank-board .vl-notice:not([hidden])")
    assert "locked anyway, past 2 lines" in page.inner_text(".vl-rank-board .vl-notice")
    assert page.errors == [] and console == []


def test_a_clean_batch_asks_the_plain_question(server: ServeProcess, served_root: Path,
                                               page: Page) -> None:
    batch = make_batch(served_root, skin="Clean", lines=2, takes_per_line=2,
                       ranks={"Line_1_take_1.mp3": 1, "Line_2_take_2.mp3": 1})
    console = _console_errors(page)
    open_board(page, server, batch)
    page.click(".vl-rank-board .vl-lock-button")
    page.wait_for_selector(f"{DIALOG}:not([hidden])")
    assert page.locator(f"{DIALOG} .vl-confirm-problems").is_hidden()
    assert page.inner_text(f"{DIALOG} .vl-confirm-lock") == "Lock"
    assert page.inner_text(f"{DIALOG} .vl-confirm-text") == (
        f"Lock batch {batch.name}? Ranks can no longer change after this.")
    page.keyboard.press("Enter")
    wait_until(lambda: store.is_locked(batch), DISK_TIMEOUT_S, "the LOCKED marker")
    assert "forced" not in history.read(batch)[-1]
    assert page.errors == [] and console == []


def test_export_offers_the_delivery_presets(server: ServeProcess, served_root: Path,
                                            page: Page, tmp_path: Path) -> None:
    batch = make_batch(served_root, skin="Export", lines=2, takes_per_line=2,
                       ranks={"Line_1_take_2.mp3": 1, "Line_2_take_1.mp3": 1})
    ranking.lock(batch, person="cli")
    console = _console_errors(page)
    open_board(page, server, batch)
    page.click(".vl-rank-board .vl-export-button")
    dialog = ".vl-rank-board .vl-export-dialog"
    page.wait_for_selector(f"{dialog}:not([hidden])")
    assert page.evaluate("document.activeElement.className") == "vl-export-preset"
    presets = page.locator(f"{dialog} .vl-export-preset option")
    assert presets.all_inner_texts() == ["plain", "unreal", "wwise", "fmod"]
    page.select_option(f"{dialog} .vl-export-preset", "wwise")
    assert page.input_value(f"{dialog} .vl-export-format") == "wav"  # Wwise imports no MP3
    assert page.inner_text(f"{dialog} .vl-export-layout") == "→ Voices/en/<Function>.wav"
    page.locator(dialog).screenshot(path=str(SCREENSHOTS / "rank_board_export_dialog.png"))
    page.focus(f"{dialog} .vl-export-preset")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert f"{batch.name}/Voices/en/Line_1.wav" in archive.namelist()
        assert f"{batch.name}/Voices/en/Line_2.wav" in archive.namelist()
    page.wait_for_selector(f"{dialog}", state="hidden")
    page.click(".vl-rank-board .vl-export-button")  # Escape closes it, nothing sent
    page.wait_for_selector(f"{dialog}:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{dialog}", state="hidden")
    assert page.errors == [] and console == []
