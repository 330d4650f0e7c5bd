"""Sign-in, roles, who changed what, and undo, in Chromium against a real `voicelab serve`
whose AUDIO_ROOT has users (issue 13). Every step is checked on disk: metadata.json (ranks and
`ranked_by`), ranked/ and history.jsonl."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

import voicelab.dashboards.server as vl_server
from tests.batches import make_batch
from tests.browser.harness import VIEWPORT, Page, ServeProcess, wait_until
from tests.browser.test_rank_board import (
    DISK_TIMEOUT_S,
    ranked_links,
    ranks_on_disk,
    take,
    wait_for_ranks,
)
from voicelab import history, people, store

pytestmark = pytest.mark.browser
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@pytest.fixture(scope="module")
def team_server(team_serve: ServeProcess, team_root: Path) -> ServeProcess:
    """The session's server with users (alice lead, bob designer, vera viewer among them; see
    tests/browser/conftest.py), room for three boards at once, and a batch of the team's."""
    make_batch(team_root, skin="Team", voice="Edric-k1", batch_id="20260102-090000-k1", lines=2)
    return team_serve.settled()


@pytest.fixture
def browsers(browser_context: Any) -> Iterator[Any]:
    """`browsers(name)`: a Page in a browser context of its own (its own cookies)."""
    contexts: list[Any] = []

    def open_browser(_label: str) -> Page:
        contexts.append(browser_context.browser.new_context(viewport=VIEWPORT))
        return Page(contexts[-1].new_page())

    yield open_browser
    for context in contexts:
        for raw in context.pages:
            raw.goto("about:blank")  # fires unload, so Voila shuts this page's kernel down
        context.close()


def sign_in(page: Page, server: ServeProcess, name: str, password: str,
            next_path: str = "/") -> None:
    page.goto(f"{server.url}/login?next={quote(next_path, safe='/')}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_to_board(page: Page, server: ServeProcess, name: str, password: str,
                     batch: Path) -> None:
    """Sign in from the board's address, as from a shared link, and land on the board.

    Landing on the batch list first and leaving it before its page connected would keep its
    kernel until the connect deadline (30 s), and the next module waits for it to go."""
    sign_in(page, server, name, password,
            vl_server.dashboard_url("", "rank.ipynb", batch_id=batch.name))
    page.wait_for_selector(".vl-rank-board .vl-take[data-file]")
    page.wait_for_selector(".vl-shell .vl-shell-name")
    assert page.inner_text(".vl-shell .vl-shell-name") == name


def entries(batch: Path) -> list[dict[str, Any]]:
    with store.batch_lock(batch):
        return history.read(batch)


def test_without_a_session_nothing_opens(team_server: ServeProcess, team_root: Path,
                                         team: dict[str, people.Credentials]) -> None:
    kernels_before = team_server.health()["kernels"]
    for notebook in ("batches.ipynb", "rank.ipynb", "launch.ipynb", "jobs.ipynb"):
        answer = requests.get(vl_server.dashboard_url(team_server.url, notebook),
                              allow_redirects=False, timeout=30)
        assert answer.status_code == 302, notebook
        assert answer.headers["Location"].startswith("/login?next=")
    assert team_server.health()["kernels"] == kernels_before  # no kernel started for them
    api = requests.get(team_server.url + "/api/batches", timeout=30)
    assert api.status_code == 401 and "sign in" in api.json()["error"]
    audio = requests.get(team_server.url + "/audio/Team/Edric-k1/20260102-090000-k1/takes/"
                         "Line_1_take_1.mp3", timeout=30)
    assert audio.status_code == 401
    static = requests.get(team_server.url + "/voila/static/voila.js", timeout=30)
    assert static.status_code == 403
    assert requests.get(team_server.url + "/healthz", timeout=30).status_code == 200
    assert requests.get(team_server.url + "/session", timeout=30).json() == {"data": None}
    # A kernel websocket (here a made-up id) is refused without a person.
    socket = requests.get(team_server.url + "/api/kernels/" + "0" * 8 + "-0000-0000-0000-"
                          + "0" * 12 + "/channels", headers=UPGRADE, timeout=30)
    assert socket.status_code == 403
    assert "Uncaught exception" not in team_server.log()  # a plain 403, no error page crash
    # With a personal token, a tool gets in; with the wrong one, a JSON 401.
    token = team["bob"].token
    mine = requests.get(team_server.url + "/api/me", timeout=30,
                        headers={"Authorization": f"Bearer {token}"})
    assert mine.json()["data"] == {"name": "bob", "role": "designer", "sign_in": True,
                                   "allowed": ["listen", "rank", "undo", "note", "more"]}
    wrong = requests.get(team_server.url + "/api/me", timeout=30,
                         headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401 and "error" in wrong.json()


def test_sign_in_page_wrong_password_and_sign_out(team_server: ServeProcess,
                                                  team: dict[str, people.Credentials],
                                                  browsers: Any) -> None:
    page = browsers("signin")
    page.goto(vl_server.dashboard_url(team_server.url, "batches.ipynb"))
    page.wait_for_selector("form")
    assert page.url.startswith(team_server.url + "/login?next=")
    assert page.get_by_label("Name").is_visible() and page.get_by_label("Password").is_visible()
    assert all(url.startswith(team_server.url) for url in page.requests)  # no CDN
    page.screenshot_as("sign_in_page")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(team["alice"].password + "-wrong")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".message.error")
    assert page.inner_text(".message.error") == "Wrong name or password."
    assert page.get_by_label("Name").input_value() == "alice"
    page.screenshot_as("sign_in_wrong_password")
    assert "-wrong" not in team_server.log()  # the password never reaches the log
    assert "Failed sign-in for 'alice'" in team_server.log()
    page.get_by_label("Password").fill(team["alice"].password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".vl-batch-list")  # back where they were going
    page.wait_for_selector(".vl-shell .vl-shell-name")
    assert page.inner_text(".vl-shell .vl-shell-name") == "alice"
    assert page.inner_text(".vl-shell .vl-shell-role") == "lead"
    cookie = next(c for c in page.context.cookies() if c["name"] == "voicelab_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.screenshot_as("sign_in_header")
    page.click(".vl-shell .vl-shell-signout")
    page.wait_for_selector(".message.info")
    assert "signed out" in page.inner_text(".message.info")
    page.goto(vl_server.dashboard_url(team_server.url, "batches.ipynb"))
    page.wait_for_selector("form")
    assert page.url.startswith(team_server.url + "/login")
    assert page.errors == []


def test_viewer_designer_lead_and_undo(team_server: ServeProcess, team_root: Path,
                                       team: dict[str, people.Credentials],
                                       browsers: Any) -> None:
    batch = make_batch(team_root, skin="Roles", lines=2, takes_per_line=3)
    viewer = browsers("vera")
    # The kernel's person comes from the session, never from what the browser sends.
    viewer.context.set_extra_http_headers({"X-Voicelab-Person": "alice"})
    sign_in_to_board(viewer, team_server, "vera", team["vera"].password, batch)
    viewer.click(take("Line_1_take_1.mp3") + " .vl-take-number")
    viewer.keyboard.press("1")
    viewer.wait_for_selector(".vl-rank-board .vl-message:not([hidden])")
    assert "viewer" in viewer.inner_text(".vl-rank-board .vl-message").lower()
    assert viewer.locator(".vl-rank-board .vl-lock-button:visible").count() == 0
    viewer.screenshot_as("sign_in_viewer_refused")
    assert ranks_on_disk(batch) == {}
    assert not (batch / "history.jsonl").exists()
    viewer.goto("about:blank")  # her board's kernel goes: the cap stays out of the test

    designer = browsers("bob")
    sign_in_to_board(designer, team_server, "bob", team["bob"].password, batch)
    designer.click(take("Line_1_take_2.mp3") + " .vl-take-number")
    designer.keyboard.press("1")
    wait_for_ranks(batch, {"Line_1_take_2.mp3": 1})
    designer.keyboard.press("j")
    designer.keyboard.press("1")  # take 3 takes rank 1, take 2 moves to 2
    wait_for_ranks(batch, {"Line_1_take_2.mp3": 2, "Line_1_take_3.mp3": 1})
    by = {t["file"]: t.get("ranked_by") for t in store.load_metadata(batch)["takes"]}
    assert by["Line_1_take_3.mp3"] == by["Line_1_take_2.mp3"] == "bob"
    assert designer.locator(".vl-rank-board .vl-lock-button:visible").count() == 0

    designer.keyboard.press("u")  # undo: back to {take 2: 1}, links included
    wait_for_ranks(batch, {"Line_1_take_2.mp3": 1})
    assert ranked_links(batch) == {"01/Line_1_take_2.mp3": "../../takes/Line_1_take_2.mp3"}
    designer.keyboard.press("Control+z")  # and again: nothing ranked
    wait_for_ranks(batch, {})
    assert ranked_links(batch) == {}
    designer.screenshot_as("sign_in_designer_undo")
    actions = [(e["person"], e["action"]) for e in entries(batch)]
    assert actions == [("bob", "rank"), ("bob", "rank"), ("bob", "undo"), ("bob", "undo")]

    lead = browsers("alice")
    sign_in_to_board(lead, team_server, "alice", team["alice"].password, batch)
    lead.click(".vl-rank-board .vl-lock-button")
    lead.click(".vl-rank-board .vl-confirm-lock")
    wait_until(lambda: store.is_locked(batch), DISK_TIMEOUT_S, "the LOCKED marker")
    assert entries(batch)[-1]["person"] == "alice" and entries(batch)[-1]["action"] == "lock"
    lead.screenshot_as("sign_in_lead_locked")
    lead.click(".vl-rank-board .vl-unlock-button")
    lead.click(".vl-rank-board .vl-confirm-unlock")
    wait_until(lambda: not store.is_locked(batch), DISK_TIMEOUT_S, "LOCKED gone")
    assert (entries(batch)[-1]["person"], entries(batch)[-1]["action"]) == ("alice", "unlock")
    designer.wait_for_selector(".vl-rank-board:not(.vl-readonly)")  # noticed without a reload
    for page in (viewer, designer, lead):
        assert page.errors == []
    assert "Refused" not in team_server.log()  # the kernel cap stayed out of the test


def test_two_people_rank_one_batch_and_undo_only_their_own(
        team_server: ServeProcess, team_root: Path, team: dict[str, people.Credentials],
        browsers: Any) -> None:
    batch = make_batch(team_root, skin="Pair", lines=2, takes_per_line=3)
    alice, bob = browsers("alice2"), browsers("bob2")
    for page, name in ((alice, "alice"), (bob, "bob")):
        sign_in_to_board(page, team_server, name, team[name].password, batch)
    # A kernel answers only its own page's person: bob cannot open alice's kernel socket.
    alices_kernel = next(url for url in alice.sockets if "/channels" in url)
    cookies = {c["name"]: c["value"] for c in bob.context.cookies()}
    stolen = requests.get(alices_kernel.replace("ws://", "http://"), cookies=cookies,
                          headers=UPGRADE, timeout=30)
    assert stolen.status_code == 403
    alice.click(take("Line_1_take_1.mp3") + " .vl-take-number")
    alice.keyboard.press("1")
    bob.click(take("Line_2_take_3.mp3") + " .vl-take-number")
    bob.keyboard.press("2")
    wait_for_ranks(batch, {"Line_1_take_1.mp3": 1, "Line_2_take_3.mp3": 2})
    bob.keyboard.press("u")  # bob's undo takes back bob's rank only
    wait_for_ranks(batch, {"Line_1_take_1.mp3": 1})
    bob.keyboard.press("u")  # nothing of bob's is left to undo: a message, no change
    bob.wait_for_selector(".vl-rank-board .vl-message:not([hidden])")
    assert ranks_on_disk(batch) == {"Line_1_take_1.mp3": 1}
    people_and_actions = [(e["person"], e["action"], e["line"]) for e in entries(batch)]
    assert people_and_actions == [("alice", "rank", "Line_1"), ("bob", "rank", "Line_2"),
                                  ("bob", "undo", "Line_2")]
    answer = requests.get(f"{team_server.url}/api/batch/{batch.name}/history", timeout=30,
                          headers={"Authorization": f"Bearer {team['vera'].token}"})
    assert [e["person"] for e in answer.json()["data"]] == ["alice", "bob", "bob"]
    replayed = history.replay(entries(batch), [t["file"] for t in
                                               store.load_metadata(batch)["takes"]])
    assert {f: r for f, r in replayed.items() if r is not None} == ranks_on_disk(batch)
    assert json.loads((batch / "metadata.json").read_text())["takes"][0]["ranked_by"] == "alice"
    for page in (alice, bob):
        assert page.errors == []


def test_people_on_one_board_see_each_other_and_the_batch_list_counts_them(
        team_server: ServeProcess, team_root: Path, team: dict[str, people.Credentials],
        browsers: Any) -> None:
    batch = make_batch(team_root, skin="Present", lines=3, takes_per_line=2)
    alice, bob = browsers("alice3"), browsers("bob3")
    for page, name in ((alice, "alice"), (bob, "bob")):
        sign_in_to_board(page, team_server, name, team[name].password, batch)
    bob.click(take("Line_2_take_1.mp3") + " .vl-take-number")
    badge = alice.locator(".vl-rank-board .vl-presence")
    badge.filter(has_text="Also here: bob (Line_2)").wait_for(timeout=15_000)
    alice.screenshot_as("presence_board")
    viewer = browsers("vera3")
    sign_in(viewer, team_server, "vera", team["vera"].password)
    row = f".vl-batch-row[data-batch-id='{batch.name}']"
    viewer.wait_for_selector(f"{row}[data-here='2']", timeout=15_000)
    assert viewer.inner_text(f"{row} td.vl-batch-here") == "2"
    viewer.screenshot_as("presence_batch_list")
    bob.goto("about:blank")  # bob leaves: gone from alice's board within seconds
    badge.wait_for(state="hidden", timeout=15_000)
    for page in (alice, bob, viewer):
        assert page.errors == []
