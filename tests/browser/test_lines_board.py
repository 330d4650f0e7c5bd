"""A batch's lines on the board in Chromium against a real `voicelab serve` with users (issue 15):
a designer writes a director note with `n`, a stale take is struck through and refuses a rank
key, takes a job adds to a line appear on the open board with their waveforms, and the "more
takes" dialog shows its estimate before anything is spent and queues the job.

Every step is checked on disk (metadata.json, ranked/, the job registry), and every page's
console stays free of errors. The server runs with `--no-worker`: a queued job stays queued, and
the takes "land" by being appended to metadata.json the way generation does (real MP3s, their
waveform overviews from quality.measure).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.batches import SAMPLE_RATE, make_batch, take_name
from tests.browser import test_sign_in
from tests.browser.harness import Page, ServeProcess, wait_until
from tests.browser.test_panel_board import console_errors
from tests.browser.test_rank_board import DISK_TIMEOUT_S, ranked_links, take
from tests.browser.test_sign_in import sign_in_to_board
from voicelab import lines, people, quality, store
from voicelab.audio import encode_mp3
from voicelab.jobs import registry

pytestmark = pytest.mark.browser
DESIGNER = "dorit"
UPDATE_S = 20  # a refresh every 1.5 s; a busy machine's kernel answers late

browsers = test_sign_in.browsers  # a page per person, each in a browser context of its own


@pytest.fixture(scope="module")
def lines_root(team_root: Path) -> Path:
    return team_root


@pytest.fixture(scope="module")
def lines_server(team_serve: ServeProcess) -> ServeProcess:
    """The session's server with users (the designer among them; see tests/browser/conftest.py):
    each test signs in (the batch list) and opens a board, beside the preheated kernels."""
    return team_serve.settled()


@pytest.fixture
def board_page(browsers: Any, lines_server: ServeProcess,
               team: dict[str, people.Credentials]) -> Iterator[Any]:
    """`board_page(batch)`: the designer's page on the batch's board, and its console errors."""
    opened: list[tuple[Page, list[str]]] = []

    def open_for(batch: Path) -> tuple[Page, list[str]]:
        page = browsers(DESIGNER)
        errors = console_errors(page)
        sign_in_to_board(page, lines_server, DESIGNER, team[DESIGNER].password, batch)
        opened.append((page, errors))
        return page, errors

    yield open_for
    for page, errors in opened:
        assert page.errors == [] and errors == [], (page.errors, errors)
    assert "Traceback" not in lines_server.log()


def snapshot(batch: Path) -> tuple[bytes, dict[str, str]]:
    return (batch / store.METADATA_NAME).read_bytes(), ranked_links(batch)


def line_row(line: str) -> str:
    return f".vl-rank-board .vl-line[data-line='{line}']"


def land_takes(batch: Path, line: str, count: int) -> list[str]:
    """Append `count` takes of `line` as a landing job does: a real MP3 each, its quality facts
    (the waveform overview the board draws at once), after the line's last take."""
    seconds = np.arange(int(SAMPLE_RATE * 0.4)) / SAMPLE_RATE
    metadata = store.load_metadata(batch)
    mine = [t for t in metadata["takes"] if t["line"] == line]
    first = max(t["take_number"] for t in mine) + 1
    made = []
    for i in range(count):
        samples = 0.5 * np.sin(2 * np.pi * (300 + 90 * i) * seconds) * np.hanning(len(seconds))
        name = take_name(line, first + i)
        store.atomic_write_bytes(batch / store.TAKES_DIR / name, encode_mp3(samples, SAMPLE_RATE))
        base = {k: v for k, v in mine[-1].items() if k not in ("stale", "removed", "quality")}
        made.append({**base, "file": name, "take_number": first + i, "rank": None,
                     "ranked_at": None, "ranked_by": None, "seed": 7000 + i,
                     "quality": quality.measure(samples, SAMPLE_RATE)})

    def append(data: store.Metadata) -> None:
        last = max(i for i, t in enumerate(data["takes"]) if t["line"] == line)
        data["takes"][last + 1:last + 1] = made

    store.update_metadata(batch, append)
    return [t["file"] for t in made]


def on_screen(page: Page, file: str) -> float:
    """Where a take's row is in the list's viewport (px below the list's top edge)."""
    return float(page.eval_on_selector(take(file), """row => row.getBoundingClientRect().top
        - row.closest(".vl-scroll").getBoundingClientRect().top"""))


def wave_ink(page: Page, file: str) -> int:
    """How many pixels of the take's waveform canvas are painted."""
    return int(page.eval_on_selector(take(file) + " .vl-wave-canvas", """canvas => {
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink += 1;
        return ink;
    }"""))


def test_a_designer_writes_a_note_with_n_and_it_shows_after_a_reload(
        lines_server: ServeProcess, lines_root: Path, board_page: Any) -> None:
    batch = make_batch(lines_root, skin="Notes", lines=3, takes_per_line=3)
    page, _ = board_page(batch)
    page.click(take(take_name("Line_2", 1)) + " .vl-take-number")
    page.keyboard.press("n")
    editor = page.locator(".vl-rank-board .vl-note-editor")
    editor.wait_for(state="visible")
    assert page.evaluate("document.activeElement.classList.contains('vl-note-input')")
    page.keyboard.type("Warmer, and hold the pause before 'never'.")
    editor.locator(".vl-note-pass").check()
    page.screenshot_as("lines_note_editor")
    page.keyboard.press("Control+Enter")
    editor.wait_for(state="hidden")
    wait_until(lambda: "Line_2" in (store.load_metadata(batch).get("notes") or {}),
               DISK_TIMEOUT_S, "the note on disk")
    note = store.load_metadata(batch)["notes"]["Line_2"]
    assert (note["text"], note["by"], note["needs_pass"]) == (
        "Warmer, and hold the pause before 'never'.", DESIGNER, True)
    page.reload()
    page.wait_for_selector(line_row("Line_2") + " .vl-line-note:not([hidden])")
    shown = page.locator(line_row("Line_2") + " .vl-line-note")
    assert shown.locator(".vl-note-text").inner_text() == note["text"]
    assert shown.locator(".vl-needs-pass").is_visible()
    assert DESIGNER in (shown.get_attribute("title") or "")
    assert page.locator(line_row("Line_1") + " .vl-line-note").is_hidden()
    page.screenshot_as("lines_note_shown")
    page.keyboard.press("Escape")  # nothing open: Escape does nothing
    page.click(line_row("Line_2") + " .vl-note-button")
    editor.wait_for(state="visible")
    assert editor.locator(".vl-note-input").input_value() == note["text"]
    page.keyboard.press("Escape")  # cancel: nothing sent
    editor.wait_for(state="hidden")
    assert store.load_metadata(batch)["notes"]["Line_2"] == note


def test_a_stale_take_is_struck_through_and_a_rank_key_on_it_changes_nothing(
        lines_server: ServeProcess, lines_root: Path, board_page: Any) -> None:
    batch = make_batch(lines_root, skin="Stale", lines=3, takes_per_line=3,
                       ranks={take_name("Line_1", 1): 1, take_name("Line_3", 2): 1})
    lines.mark_stale(batch, {"Line_1": "Text of Line_1."})
    lines.mark_removed(batch, ["Line_3"])
    fresh = land_takes(batch, "Line_1", 1)[0]

    def retext(data: store.Metadata) -> None:
        for t in data["takes"]:
            if t["file"] == fresh:
                t["script_text"] = "The new text of Line_1."

    store.update_metadata(batch, retext)
    page, _ = board_page(batch)
    stale = take_name("Line_1", 1)
    row = page.locator(take(stale))
    assert "vl-stale" in (row.get_attribute("class") or "")
    badge = row.locator(".vl-retired")
    assert badge.inner_text() == "stale" and "text was: “Text of Line_1.”" in (
        badge.get_attribute("title") or "")
    decoration = page.eval_on_selector(take(stale) + " .vl-take-number",
                                       "n => getComputedStyle(n).textDecorationLine")
    assert decoration == "line-through"
    assert page.inner_text(line_row("Line_1") + " .vl-line-script") == "The new text of Line_1."
    assert page.locator(line_row("Line_1") + " .vl-slot.vl-filled").count() == 0
    assert page.get_attribute(".vl-rank-board .vl-progress", "data-done") == "0"
    before = snapshot(batch)
    page.click(take(stale) + " .vl-take-number")
    page.keyboard.press("1")
    page.wait_for_selector(".vl-rank-board .vl-message:not([hidden])")
    assert "is stale" in page.inner_text(".vl-rank-board .vl-message")
    assert page.get_attribute(".vl-rank-board", "data-pending") == "0"
    page.screenshot_as("lines_stale_take")
    page.wait_for_timeout(2000)  # a refresh or two: nothing was sent, nothing changes
    assert snapshot(batch) == before
    assert page.locator(line_row("Line_3")).count() == 0, "a removed line is hidden"
    page.check(".vl-rank-board .vl-show-removed-toggle")
    page.wait_for_selector(line_row("Line_3") + ".vl-removed")
    assert "vl-removed" in (page.get_attribute(take(take_name("Line_3", 2)), "class") or "")
    assert page.get_attribute(take(take_name("Line_3", 2)), "data-rank") == "1", "ranks kept"
    assert page.get_attribute(".vl-rank-board .vl-progress", "data-total") == "2"
    page.screenshot_as("lines_show_removed")
    page.click(take(take_name("Line_3", 2)) + " .vl-take-number")
    page.keyboard.press("2")
    page.wait_for_function("() => document.querySelector('.vl-rank-board .vl-message-text')"
                           ".textContent.includes('is removed')")
    page.click(take(fresh) + " .vl-take-number")
    page.keyboard.press("1")  # its new take ranks as usual
    wait_until(lambda: any(t["file"] == fresh and t["rank"] == 1
                           for t in store.load_metadata(batch)["takes"]),
               DISK_TIMEOUT_S, "the new take's rank")


def test_takes_landing_on_a_line_appear_on_the_open_board_with_their_waveforms(
        lines_server: ServeProcess, lines_root: Path, board_page: Any) -> None:
    batch = make_batch(lines_root, skin="Landing", lines=8, takes_per_line=2,
                       ranks={take_name("Line_2", 1): 1})
    page, _ = board_page(batch)
    watched = take_name("Line_6", 1)  # below the new takes, in a list that scrolls
    page.click(take(take_name("Line_1", 1)) + " .vl-take-number")
    for _ in range(5):
        page.keyboard.press("l")
    wait_until(lambda: page.get_attribute(".vl-rank-board", "data-focused-file") == watched,
               UPDATE_S, "the focus on Line_6")
    focused_top = on_screen(page, watched)
    new = land_takes(batch, "Line_2", 2)
    page.wait_for_selector(take(new[-1]), timeout=UPDATE_S * 1000)
    assert page.url.endswith(batch.name), "no reload"
    for file in new:
        wait_until(lambda f=file: wave_ink(page, f) > 200, UPDATE_S, f"{file}'s waveform")
    assert page.get_attribute(".vl-rank-board", "data-focused-file") == watched
    moved = on_screen(page, watched) - focused_top
    assert abs(moved) < 2, f"the focused take moved {moved} px in the list's view"
    numbers = page.eval_on_selector_all(
        ".vl-rank-board .vl-take[data-line='Line_2'] .vl-take-number",
        "nodes => nodes.map(n => n.textContent)")
    assert sorted(numbers) == ["Take 1", "Take 2", "Take 3", "Take 4"]
    page.keyboard.press("h")  # to Line_5, Line_4, ... Line_2: its header and takes in view
    page.keyboard.press("h")
    page.keyboard.press("h")
    page.keyboard.press("h")
    page.keyboard.press("j")
    page.keyboard.press("j")
    wait_until(lambda: page.get_attribute(".vl-rank-board", "data-focused-file") == new[0],
               UPDATE_S, "the focus on the first landed take")
    page.keyboard.press("2")  # a landed take ranks like any other
    wait_until(lambda: any(t["file"] == new[0] and t["rank"] == 2
                           for t in store.load_metadata(batch)["takes"]),
               DISK_TIMEOUT_S, "the landed take's rank")
    page.wait_for_selector(take(new[0]) + "[data-rank='2']:not(.vl-pending)")
    page.screenshot_as("lines_takes_landed")


def test_more_takes_show_their_estimate_first_and_queue_a_job_the_line_shows_pending(
        lines_server: ServeProcess, lines_root: Path, board_page: Any) -> None:
    batch = make_batch(lines_root, skin="More", lines=2, takes_per_line=2,
                       ranks={take_name("Line_1", 2): 1})
    page, _ = board_page(batch)
    page.click(take(take_name("Line_1", 1)) + " .vl-take-number")
    page.keyboard.press("g")
    dialog = page.locator(".vl-rank-board .vl-more-dialog")
    dialog.wait_for(state="visible")
    assert dialog.locator(".vl-more-like").input_value() == "1", "like the #1 by default"
    estimate = dialog.locator(".vl-more-estimate")
    wait_until(lambda: estimate.get_attribute("data-kind") == "estimate", UPDATE_S,
               "the estimate")
    assert estimate.inner_text().startswith("Estimate: 3 takes · 3 requests · 45 characters")
    dialog.locator(".vl-more-count").fill("5")
    wait_until(lambda: "5 takes · 5 requests · 75 characters" in estimate.inner_text(),
               UPDATE_S, "the estimate for 5")
    assert dialog.locator(".vl-more-submit").inner_text() == "Ask for 5 takes"
    page.screenshot_as("lines_more_dialog")
    assert registry.unfinished(lines_root) == [], "nothing queued before asking"
    dialog.locator(".vl-more-submit").click()
    dialog.wait_for(state="hidden")
    badge = page.locator(line_row("Line_1") + " .vl-line-pending")
    badge.wait_for(state="visible")
    assert badge.inner_text() == "5 takes coming"  # the ⟳ is the styles' (::before)
    queued = registry.unfinished(lines_root)
    assert [(r["config"]["line"], r["config"]["takes"], r["config"]["like"],
             r["config"]["requested_by"]) for r in queued] == [("Line_1", 5, 1, DESIGNER)]
    assert badge.get_attribute("data-task") == queued[0]["task_id"]
    assert f"job {queued[0]['task_id']}" in page.inner_text(".vl-rank-board .vl-notice")
    page.screenshot_as("lines_more_pending")
