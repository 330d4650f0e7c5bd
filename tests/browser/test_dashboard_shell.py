"""One shell around the dashboards (issue 12), in Chromium against the session's `voicelab serve`.

Every dashboard (the batch list, a board, the launch form, the job list) starts with the same
header: VoiceLab, Batches, Launch, Jobs, its own page marked, a slot kept for the signed-in
person; its links go where they say; the board keeps the keyboard; and the browser console of
every dashboard holds no error and no version warning (the extensions installed for JupyterLab
and Notebook 7 stay out of Voila's page).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import voicelab.dashboards.server as vl_server
from tests.batches import make_batch
from tests.browser.harness import Page, ServeProcess, wait_until
from voicelab import store

pytestmark = pytest.mark.browser

BOARD_BATCH = "20260101-090000-k1"  # made by conftest's served_root
# What each dashboard shows once its kernel has run, and the header link it marks.
DASHBOARDS = {
    "batches": (vl_server.BATCH_LIST, {}, ".vl-batch-list .vl-batch-row", "Batches"),
    "board": (vl_server.RANK_BOARD, {"batch_id": BOARD_BATCH}, ".vl-rank-board .vl-take[data-file]",
              None),
    "launch": (vl_server.LAUNCH, {}, ".vl-launch button:has-text('Start generation')", "Launch"),
    "jobs": (vl_server.JOBS, {}, ".vl-jobs", "Jobs"),
}


@dataclass
class Console:
    """Everything a page logged to its console, and the exceptions it did not catch."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    uncaught: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        return [text for kind, text in self.messages if kind == "error"] + self.uncaught

    def version_warnings(self) -> list[str]:
        return [text for kind, text in self.messages
                if kind == "warning" and "version" in text.lower()]


@pytest.fixture
def console(page: Page) -> Iterator[Console]:
    """Listening from before the first navigation, so nothing the page logs is missed."""
    seen = Console()
    page.on("console", lambda m: seen.messages.append((m.type, m.text)))
    page.on("pageerror", lambda e: seen.uncaught.append(str(e)))
    yield seen


def url_of(server: ServeProcess, name: str) -> str:
    notebook, query, *_ = DASHBOARDS[name]
    return vl_server.dashboard_url(server.url, notebook, **query)


def open_dashboard(page: Page, server: ServeProcess, name: str) -> None:
    page.goto(url_of(server, name))
    page.wait_for_selector(DASHBOARDS[name][2])


def header_facts(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => {
        const header = document.querySelector('header.vl-shell');
        if (!header) return null;
        const links = [...header.querySelectorAll('nav a.vl-shell-link')];
        const box = header.getBoundingClientRect();
        return {
            first: document.body.firstElementChild === header,
            top: box.top, height: box.height,
            brand: header.querySelector('.vl-shell-brand')?.textContent,
            brandHref: header.querySelector('.vl-shell-brand')?.getAttribute('href'),
            labels: links.map(a => a.textContent.trim()),
            hrefs: links.map(a => a.href),
            current: links.filter(a => a.getAttribute('aria-current') === 'page')
                          .map(a => a.textContent.trim()),
            person: header.querySelector('.vl-shell-person')?.innerHTML,
            personRight: header.querySelector('.vl-shell-person')?.getBoundingClientRect().right,
            width: box.width,
            sheets: [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href),
        };
    }""")


@pytest.mark.parametrize("name", list(DASHBOARDS))
def test_every_dashboard_has_the_header_and_a_clean_console(
        server: ServeProcess, page: Page, console: Console, name: str) -> None:
    open_dashboard(page, server, name)
    facts = header_facts(page)
    assert facts is not None, "no header.vl-shell on the page"
    assert facts["first"] and facts["top"] == 0, "the header is the top of the page"
    assert 30 <= facts["height"] <= 48, "a slim bar"
    assert facts["brand"] == "VoiceLab"
    assert facts["brandHref"] == "/voila/render/batches.ipynb"
    assert facts["labels"] == ["Batches", "Launch", "Jobs"]
    assert facts["hrefs"] == [vl_server.dashboard_url(server.url, nb)
                              for nb in (vl_server.BATCH_LIST, vl_server.LAUNCH, vl_server.JOBS)]
    marked = DASHBOARDS[name][3]
    assert facts["current"] == ([marked] if marked else [])
    assert facts["person"] == ""  # the slot for the signed-in person: empty until sign-in
    assert abs(facts["personRight"] - facts["width"]) <= 24, "the person's slot is on the right"
    assert all(href.startswith(server.url + "/") for href in facts["sheets"]), facts["sheets"]
    page.screenshot_as(f"shell_{name}")

    assert console.errors() == [], "\n".join(console.errors())
    assert console.version_warnings() == [], "\n".join(console.version_warnings())
    assert not [t for _, t in console.messages if "Failed to create module" in t]


@pytest.mark.parametrize(("start", "link", "lands"), [
    ("board", "Batches", "batches"),
    ("batches", "Launch", "launch"),
    ("launch", "Jobs", "jobs"),
    ("jobs", "VoiceLab", "batches"),
])
def test_the_header_links_go_where_they_say(server: ServeProcess, page: Page, console: Console,
                                            start: str, link: str, lands: str) -> None:
    open_dashboard(page, server, start)
    selector = ".vl-shell-brand" if link == "VoiceLab" else f".vl-shell-link:text-is('{link}')"
    page.click(f"header.vl-shell {selector}")
    page.wait_for_selector(DASHBOARDS[lands][2])
    assert page.url == url_of(server, lands)
    marked = DASHBOARDS[lands][3]
    assert header_facts(page)["current"] == ([marked] if marked else [])
    assert console.errors() == [], "\n".join(console.errors())


def test_the_board_keeps_the_keyboard_under_the_header(server: ServeProcess, served_root: Path,
                                                       page: Page) -> None:
    """The header takes no focus and no key: the board has focus when it opens and its keys
    rank; a header link, focused, is an ordinary link."""
    batch = make_batch(served_root, skin="Shell", lines=2, takes_per_line=2)
    page.goto(vl_server.dashboard_url(server.url, vl_server.RANK_BOARD, batch_id=batch.name))
    page.wait_for_selector(".vl-rank-board .vl-take[data-file]")
    wait_until(lambda: page.evaluate(
        "() => !!document.activeElement?.closest('.vl-rank-board')"), 30, "focus in the board")
    focused = page.get_attribute(".vl-rank-board", "data-focused-file")
    assert focused
    page.keyboard.press("2")

    def ranked() -> bool:
        with store.batch_lock(batch):
            takes = store.load_metadata(batch)["takes"]
        return {t["file"]: t["rank"] for t in takes}[focused] == 2

    wait_until(ranked, 30, f"{focused} ranked 2 on disk")
    assert page.evaluate("() => !!document.activeElement?.closest('.vl-rank-board')")
    assert page.evaluate("() => document.querySelectorAll('.vl-shell [tabindex]').length") == 0

    # A header link is a plain keyboard link: keys typed on it are not the board's, Enter follows.
    page.focus("header.vl-shell .vl-shell-link:text-is('Batches')")
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    page.wait_for_selector(DASHBOARDS["batches"][2])
    assert page.url == url_of(server, "batches")
    with store.batch_lock(batch):
        ranks = {t["file"]: t["rank"] for t in store.load_metadata(batch)["takes"]}
    assert ranks[focused] == 2 and 4 not in ranks.values()
