"""A blind rating panel in Chromium against a real `voicelab serve` with users (issue 14): a lead
opens the panel from the board, three designers rank it blind in three browsers, the lead sees
their progress and disagreements, overrides a line and locks.

No rater's page ever holds another rater's ranks or name, a take's file name or its settings
(the DOM is searched, not only what is visible: the synced traits are checked in
tests/unit/test_board_panel.py). The consensus on disk (metadata and ranked/) is the Borda count
worked out by hand below (the rule: voicelab/panel/consensus.py). Every page's console stays
free of errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch
from tests.browser import test_sign_in
from tests.browser.harness import Page, ServeProcess, wait_until
from tests.browser.test_rank_board import DISK_TIMEOUT_S, ranked_links, ranks_on_disk, take
from tests.browser.test_sign_in import sign_in_to_board
from voicelab import panel, people, store

pytestmark = pytest.mark.browser
RATERS = ("annika", "bertram", "cornelia")
IDENTITIES = r"\.mp3|_take_|\bstab \d|\bstability\b|\bsimilarity|\bspeed \d|\bseed\b"
"""What would tell a take's file or settings (the board's settings label reads "stab 0.40")."""
LEAD = "leonie"
T = {(line, n): f"Line_{line}_take_{n}.mp3" for line in (1, 2) for n in (1, 2, 3)}

# What each rater gives, in the order they press the keys (rank 1 first, so nothing cascades).
PLAN = {
    "annika": [(T[1, 1], 1), (T[1, 2], 2), (T[1, 3], 3), (T[2, 3], 1)],
    "bertram": [(T[1, 2], 1), (T[1, 1], 2), (T[1, 3], 3), (T[2, 1], 1), (T[2, 3], 2)],
    "cornelia": [(T[1, 2], 1), (T[1, 3], 2), (T[1, 1], 3), (T[2, 1], 2)],
}
# Borda by hand: a rank r earns 6 - r points from each rater who ranked the line.
# Line 1: take 1 = 5+4+3 = 12, take 2 = 4+5+5 = 14, take 3 = 3+3+4 = 10 -> 2, 1, 3.
# Line 2: take 1 = 5+4 = 9, take 3 = 5+4 = 9: a tie on points and on first and second places,
# so take order decides (take 1 first); take 2 has no points and stays unranked.
CONSENSUS = {T[1, 2]: 1, T[1, 1]: 2, T[1, 3]: 3, T[2, 1]: 1, T[2, 3]: 2}
# The lead then gives Line 2's take 2 the final rank 1: the consensus cascades below it.
OVERRIDDEN = {**CONSENSUS, T[2, 2]: 1, T[2, 1]: 2, T[2, 3]: 3}


@pytest.fixture(scope="module")
def panel_root(team_root: Path) -> Path:
    return team_root


@pytest.fixture(scope="module")
def panel_server(team_serve: ServeProcess) -> ServeProcess:
    """The session's server with users (the lead and raters among them; see
    tests/browser/conftest.py), room for four boards at once."""
    return team_serve.settled()


browsers = test_sign_in.browsers  # a page per person, each in a browser context of its own


def console_errors(page: Page) -> list[str]:
    """Start collecting the page's console errors; the list fills as they come."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    return errors


def signed_in_board(browsers: Any, server: ServeProcess, team: dict[str, people.Credentials],
                    name: str, batch: Path) -> tuple[Page, list[str]]:
    page = browsers(name)
    errors = console_errors(page)
    sign_in_to_board(page, server, name, team[name].password, batch)
    return page, errors


def own_ranks(batch: Path, rater: str) -> dict[str, int]:
    with store.batch_lock(batch):
        takes = store.load_metadata(batch)["takes"]
    return {t["file"]: t["ranks_by"][rater] for t in takes if rater in (t.get("ranks_by") or {})}


def keys_of(batch: Path, rater: str) -> dict[str, str]:
    """file -> the opaque id the rater's board shows it under."""
    metadata = store.load_metadata(batch)
    return {t["file"]: key for t, key, _ in panel.blind_lines(metadata, rater)}


def shown_ranks(page: Page) -> dict[str, int]:
    """key -> rank as the rater's page shows it (every take row's data-rank)."""
    rows = page.eval_on_selector_all(".vl-rank-board .vl-take[data-file]",
                                     "rows => rows.map(r => [r.dataset.file, r.dataset.rank])")
    return {key: int(rank) for key, rank in rows if rank}


def assert_blind(page: Page, rater: str, batch: Path) -> None:
    """The whole DOM of a rater's page names no file, setting or other person, and shows only
    their own ranks."""
    html = page.content()
    found = re.search(IDENTITIES, html)
    assert found is None, f"{rater}'s page: …{html[found.start() - 200:found.end() + 100]}…"
    for other in (*RATERS, LEAD):
        if other != rater:
            assert not re.search(rf"\b{other}\b", html), f"{rater}'s page names {other}"
    keys = keys_of(batch, rater)
    assert shown_ranks(page) == {keys[f]: r for f, r in own_ranks(batch, rater).items()}


def test_a_blind_panel_of_three_ranks_a_consensus_the_lead_overrides_and_locks(
        panel_server: ServeProcess, panel_root: Path, team: dict[str, people.Credentials],
        browsers: Any) -> None:
    batch = make_batch(panel_root, skin="Panel", lines=2, takes_per_line=3)
    lead, lead_errors = signed_in_board(browsers, panel_server, team, LEAD, batch)
    lead.click(".vl-rank-board .vl-panel-button")
    dialog = lead.locator(".vl-rank-board .vl-panel-dialog")
    dialog.wait_for(state="visible")
    assert dialog.locator(".vl-panel-blind").is_checked(), "blind by default"
    for name in RATERS:
        dialog.get_by_label(name, exact=True).check()
    lead.screenshot_as("panel_open_dialog")
    dialog.locator(".vl-panel-open").click()
    lead.wait_for_selector(".vl-rank-board[data-mode='lead']")
    opened = panel.panel_of(store.load_metadata(batch))
    assert opened is not None and tuple(opened["raters"]) == RATERS and opened["blind"]
    assert opened["opened_by"] == LEAD

    pages = {}
    for rater in RATERS:
        page, errors = signed_in_board(browsers, panel_server, team, rater, batch)
        page.wait_for_selector(".vl-rank-board[data-mode='blind']")
        pages[rater] = (page, errors)
        keys = keys_of(batch, rater)
        assert page.inner_text(take(keys[T[1, 1]]) + " .vl-take-number").startswith("Take ")
        assert_blind(page, rater, batch)
        for file, rank in PLAN[rater]:
            page.click(take(keys[file]) + " .vl-take-number")
            page.keyboard.press(str(rank))
        expected = dict(PLAN[rater])
        wait_until(lambda r=rater, e=expected: own_ranks(batch, r) == e, DISK_TIMEOUT_S,
                   f"{rater}'s own ranks on disk")
        page.wait_for_selector(".vl-rank-board[data-pending='0']")
        assert_blind(page, rater, batch)
    pages["annika"][0].screenshot_as("panel_rater_blind_board")

    assert ranks_on_disk(batch) == CONSENSUS
    assert ranked_links(batch) == {f"0{rank}/{file}": f"../../takes/{file}"
                                   for file, rank in CONSENSUS.items()}

    lead.wait_for_selector(".vl-rater-progress[data-rater='cornelia'][data-done='2']")
    for rater in RATERS:
        chip = lead.locator(f".vl-rater-progress[data-rater='{rater}']")
        assert chip.inner_text() == f"{rater} 2/2"
    lead.screenshot_as("panel_lead_bar")
    lead.click(".vl-rank-board .vl-disagreements-button")
    lead.wait_for_selector(".vl-rank-board.vl-disagreements")
    report = panel.consensus_report(store.load_metadata(batch))
    least_first = [line["line"] for line in panel.disagreements(report)]
    headers = lead.eval_on_selector_all(  # rows are placed by `top`, mounted in any order
        ".vl-rank-board .vl-line",
        "rows => rows.map(r => [parseFloat(r.style.top), r.dataset.line])")
    assert [line for _, line in sorted(headers)] == least_first
    first = lead.locator(".vl-rank-board .vl-line").first
    assert first.locator(".vl-agreement").inner_text().startswith("W 0.")
    assert lead.locator(take(T[1, 1]) + " .vl-rater-rank[data-rater='cornelia']").inner_text() \
        == "cornelia 3"
    lead.screenshot_as("panel_disagreements")
    lead.click(take(T[2, 2]) + " .vl-take-number")
    lead.keyboard.press("1")  # the line's final ranks: an override, which closes it
    wait_until(lambda: ranks_on_disk(batch) == OVERRIDDEN, DISK_TIMEOUT_S, "the override")
    lead.wait_for_selector(".vl-line[data-line='Line_2'] .vl-line-reopen")
    state = panel.line_state(panel.panel_of(store.load_metadata(batch)) or {}, "Line_2")
    assert state["override"] and state["closed_by"] == LEAD

    annika, _ = pages["annika"]
    annika.click(take(keys_of(batch, "annika")[T[2, 2]]) + " .vl-take-number")
    annika.keyboard.press("1")  # the line is closed: her key changes nothing
    annika.wait_for_selector(".vl-rank-board .vl-message:not([hidden])")
    assert "closed by someone" in annika.inner_text(".vl-rank-board .vl-message")
    for rater, (page, _) in pages.items():
        assert_blind(page, rater, batch)
    assert ranks_on_disk(batch) == OVERRIDDEN, "the override sticks"
    assert own_ranks(batch, "annika") == dict(PLAN["annika"])

    lead.click(".vl-rank-board .vl-lock-button")
    lead.click(".vl-rank-board .vl-confirm-lock")
    wait_until(lambda: store.is_locked(batch), DISK_TIMEOUT_S, "the LOCKED marker")
    bertram, _ = pages["bertram"]
    bertram.wait_for_selector(".vl-rank-board.vl-readonly[data-mode='solo']")  # the consensus
    assert bertram.get_attribute(take(T[2, 2]), "data-rank") == "1"
    before = (batch / store.METADATA_NAME).read_bytes(), ranked_links(batch)
    bertram.click(take(T[1, 3]) + " .vl-take-number")
    bertram.keyboard.press("1")
    bertram.wait_for_selector(".vl-rank-board .vl-message:not([hidden])")
    assert "locked" in bertram.inner_text(".vl-rank-board .vl-message")
    assert ((batch / store.METADATA_NAME).read_bytes(), ranked_links(batch)) == before

    for page, errors in [(lead, lead_errors), *pages.values()]:
        assert page.errors == [] and errors == []
        page.goto("about:blank")  # its kernel goes: the cap stays out of other tests
    assert "Refused" not in panel_server.log()
