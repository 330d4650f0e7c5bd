"""The board knows who is looking: each action asks the server's word (the request's person, as
`voicelab serve` sets it) and the users file's role, at that moment; refusals change nothing.

The person is set the way the server sets it: the PERSON_ENV variable Voila hands the kernel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch
from tests.conftest import install_team
from tests.unit.test_widgets import on_disk
from voicelab import people, ranking, store
from voicelab.people.sessions import PERSON_ENV
from voicelab.widgets.rank_board import RankBoard

Visit = Callable[[str], None]
LEAD = ["listen", "rank", "undo", "note", "more", "lock", "unlock", "jobs", "export", "panel"]
TAKE_1, TAKE_2, TAKE_3 = (f"Line_1_take_{n}.mp3" for n in (1, 2, 3))


def snapshot(batch_dir: Path) -> tuple[bytes, dict[str, int], bool]:
    """Everything a refused action must leave as it was."""
    return ((batch_dir / store.METADATA_NAME).read_bytes(), on_disk(batch_dir),
            store.is_locked(batch_dir))


def history_of(batch_dir: Path) -> list[dict[str, Any]]:
    """The batch's history.jsonl, oldest first (empty when nothing was recorded)."""
    path = batch_dir / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def saved(batch_dir: Path, filename: str) -> dict[str, Any]:
    take = next(t for t in store.load_metadata(batch_dir)["takes"] if t["file"] == filename)
    return {key: take.get(key) for key in ("rank", "ranked_by")}


def shown(board: RankBoard, filename: str) -> dict[str, Any]:
    take = next(t for t in board.takes if t["file"] == filename)
    return {key: take[key] for key in ("rank", "ranked_by")}


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, lines=2, takes_per_line=3, ranks={TAKE_1: 1})


@pytest.fixture
def team(root: Path, team_file: bytes) -> None:
    """Three users, as `voicelab users add` makes them: vic, dana and lena."""
    install_team(root, team_file)


@pytest.fixture
def visit(monkeypatch: pytest.MonkeyPatch, team: None) -> Visit:
    """Make the kernel serve a page request from `name`, as `voicelab serve` does."""

    def as_person(name: str) -> None:
        monkeypatch.setenv("VOILA_BASE_URL", "/")
        monkeypatch.setenv(PERSON_ENV, name)

    return as_person


def board_for(batch: Path, root: Path) -> tuple[RankBoard, list[dict[str, Any]]]:
    """A board and the messages it sends to the browser."""
    board = RankBoard(batch, root=root)
    sent: list[dict[str, Any]] = []
    board.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    return board, sent


# --- who the board shows ---------------------------------------------------------------------


def test_outside_voila_the_board_acts_for_the_cli_lead(batch: Path, root: Path) -> None:
    board = RankBoard(batch, root=root)
    assert (board.person, board.role, board.allowed) == ("cli", "lead", LEAD)


def test_the_board_shows_the_visitor_and_what_their_role_allows(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("vic")
    board = RankBoard(batch, root=root)
    assert (board.person, board.role, board.allowed) == ("vic", "viewer", ["listen"])
    visit("dana")
    assert RankBoard(batch, root=root).allowed == ["listen", "rank", "undo", "note", "more"]


def test_a_voila_kernel_never_told_its_person_only_looks(
        batch: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    board, _ = board_for(batch, root)
    before = snapshot(batch)
    assert (board.person, board.role) == ("unknown", "viewer")
    assert not board.rank(TAKE_2, 1)
    assert board.error == "unknown is a viewer: only a designer may rank takes"
    assert snapshot(batch) == before


# --- a viewer ----------------------------------------------------------------------------------


def test_a_viewer_is_refused_every_change_and_nothing_on_disk_changes(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("vic")
    board, sent = board_for(batch, root)
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1, "seq": "v:1"})
    assert board.error == "vic is a viewer: only a designer may rank takes"
    assert sent == [{"kind": "ack", "seq": "v:1", "ok": False}]
    assert shown(board, TAKE_1)["rank"] == 1 and shown(board, TAKE_2)["rank"] is None
    board.handle({"kind": "undo"})
    assert board.error == "vic is a viewer: only a designer may undo ranks"
    board.handle({"kind": "lock", "force": True})
    assert board.error == "vic is a viewer: only a lead may lock a batch"
    assert not board.locked
    board.handle({"kind": "unlock"})
    assert board.error == "vic is a viewer: only a lead may unlock a batch"
    assert snapshot(batch) == before
    assert not (batch / "history.jsonl").exists() or (batch / "history.jsonl").read_text() == ""


def test_a_viewer_listens(batch: Path, root: Path, visit: Visit) -> None:
    visit("vic")
    board, sent = board_for(batch, root)
    board.handle({"kind": "audio", "file": TAKE_1})
    assert sent == [{"kind": "audio", "file": TAKE_1}]


def test_the_same_refusal_twice_is_shown_twice(batch: Path, root: Path, visit: Visit) -> None:
    visit("vic")
    board, _ = board_for(batch, root)
    seen: list[str] = []
    board.observe(lambda change: seen.append(change["new"]), names="error")
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1})
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1})
    refusal = "vic is a viewer: only a designer may rank takes"
    assert seen == [refusal, "", refusal]


# --- a designer --------------------------------------------------------------------------------


def test_a_designer_ranks_and_the_take_says_by_whom(batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, sent = board_for(batch, root)
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1, "seq": "d:1"})
    assert board.error == ""
    assert sent == [{"kind": "ack", "seq": "d:1", "ok": True}]
    assert saved(batch, TAKE_2) == {"rank": 1, "ranked_by": "dana"}
    assert shown(board, TAKE_2) == {"rank": 1, "ranked_by": "dana"}
    assert shown(board, TAKE_1)["rank"] == 2, "the cascade moved take 1 down"
    assert on_disk(batch) == {TAKE_2: 1, TAKE_1: 2}


def test_a_designer_may_not_lock_or_export(batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, sent = board_for(batch, root)
    before = snapshot(batch)
    board.handle({"kind": "lock", "force": True})
    assert board.error == "dana is a designer: only a lead may lock a batch"
    assert snapshot(batch) == before and not board.locked
    ranking.lock(batch, force=True)  # locked by someone else: exporting is still a lead's
    board.handle({"kind": "export", "rank": 1})
    assert board.error == "dana is a designer: only a lead may export"
    assert sent == [{"kind": "export", "error": board.error}]


def test_a_role_changed_meanwhile_counts_at_the_next_action(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    assert board.rank(TAKE_2, 1)
    people.remove_user(root, "dana")  # a removed user may only look
    before = snapshot(batch)
    assert not board.rank(TAKE_3, 1)
    assert board.error == "dana is a viewer: only a designer may rank takes"
    assert (board.role, board.allowed) == ("viewer", ["listen"])
    assert snapshot(batch) == before


def test_refresh_shows_a_changed_role(batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    people.remove_user(root, "dana")
    board.handle({"kind": "refresh"})
    assert (board.person, board.role, board.allowed) == ("dana", "viewer", ["listen"])


def test_a_broken_users_file_refuses_every_change(batch: Path, root: Path, visit: Visit) -> None:
    visit("lena")
    board, _ = board_for(batch, root)
    people.users_path(root).write_text("{not json")
    before = snapshot(batch)
    assert not board.rank(TAKE_2, 1)
    assert "users" in board.error
    assert snapshot(batch) == before
    board.refresh()
    assert board.role == "viewer"


# --- a lead ------------------------------------------------------------------------------------


def test_a_lead_locks_and_exports(batch: Path, root: Path, visit: Visit) -> None:
    visit("lena")
    ranking.set_rank(batch, "Line_2_take_1.mp3", 1, person="lena")  # every line selected
    board, sent = board_for(batch, root)
    assert board.lock_problems == []
    board.handle({"kind": "lock"})
    assert board.error == "" and board.locked and store.is_locked(batch)
    assert board.notice == "Batch locked: ranks can no longer change."
    board.handle({"kind": "export", "rank": 1})
    assert board.error == ""
    assert sent[-1]["kind"] == "export" and sent[-1]["name"].endswith(".zip")


def test_a_lead_unlocks_and_the_unlock_is_recorded(batch: Path, root: Path,
                                                    visit: Visit) -> None:
    visit("lena")
    ranking.lock(batch, person="lena", force=True)
    board, sent = board_for(batch, root)
    assert board.locked
    board.handle({"kind": "unlock"})
    assert board.error == "" and not board.locked
    assert board.notice == "Batch unlocked: ranks can change again."
    assert not store.is_locked(batch)
    assert store.load_metadata(batch)["ranked_at_utc"] is None
    assert [(e["person"], e["action"]) for e in history_of(batch)][-2:] == [
        ("lena", "lock"), ("lena", "unlock")]
    assert sent == [], "no reply message"
    assert board.rank(TAKE_2, 1), "the board is writable again"
    assert shown(board, TAKE_2) == {"rank": 1, "ranked_by": "lena"}


def test_a_designer_may_not_unlock_and_nothing_changes(batch: Path, root: Path,
                                                       visit: Visit) -> None:
    visit("dana")
    ranking.lock(batch, person="lena", force=True)
    board, _ = board_for(batch, root)
    before = snapshot(batch), history_of(batch)
    board.handle({"kind": "unlock"})
    assert board.error == "dana is a designer: only a lead may unlock a batch"
    assert board.locked and board.notice == ""
    assert (snapshot(batch), history_of(batch)) == before
    assert store.load_metadata(batch)["ranked_at_utc"] is not None


def test_refresh_after_an_unlock_elsewhere_makes_the_board_writable(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    ranking.lock(batch, person="lena", force=True)
    board, _ = board_for(batch, root)
    assert not board.rank(TAKE_2, 1) and "locked" in board.error
    ranking.unlock(batch, person="lena")  # a lead in another session
    board.handle({"kind": "refresh"})
    assert not board.locked
    assert board.notice == "Updated from disk: the batch was unlocked elsewhere."
    assert board.rank(TAKE_2, 1) and board.error == ""
    assert saved(batch, TAKE_2) == {"rank": 1, "ranked_by": "dana"}


# --- undo --------------------------------------------------------------------------------------


def test_undo_restores_the_line_on_disk_links_included(batch: Path, root: Path,
                                                        visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    before = on_disk(batch)
    board.handle({"kind": "rank", "file": TAKE_3, "rank": 1})
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1})
    assert on_disk(batch) == {TAKE_2: 1, TAKE_3: 2, TAKE_1: 3}
    board.handle({"kind": "undo"})
    assert board.error == ""
    assert board.notice == "Undid your last change on line Line_1."
    assert on_disk(batch) == {TAKE_3: 1, TAKE_1: 2}
    assert {f: shown(board, f)["rank"] for f in (TAKE_1, TAKE_2, TAKE_3)} == {
        TAKE_1: 2, TAKE_2: None, TAKE_3: 1}
    notices: list[str] = []
    board.observe(lambda change: notices.append(change["new"]), names="notice")
    board.handle({"kind": "undo"})
    assert notices == ["", "Undid your last change on line Line_1."], "shown again"
    assert on_disk(batch) == before
    assert shown(board, TAKE_1) == saved(batch, TAKE_1)
    assert shown(board, TAKE_3) == {"rank": None, "ranked_by": saved(batch, TAKE_3)["ranked_by"]}
    history = [json.loads(line) for line in (batch / "history.jsonl").read_text().splitlines()]
    assert [(e["person"], e["action"]) for e in history if e["person"] == "dana"] == [
        ("dana", "rank"), ("dana", "rank"), ("dana", "undo"), ("dana", "undo")
    ], "an undo is a new entry, never an edit of the past"


def test_undo_with_nothing_to_undo_says_so_and_changes_nothing(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    before = snapshot(batch)
    board.handle({"kind": "undo"})
    assert board.error and "undo" in board.error.lower()
    assert board.notice == ""
    assert snapshot(batch) == before


def test_undo_after_someone_else_changed_the_line_names_them(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1})
    ranking.set_rank(batch, TAKE_3, 1, person="lena")
    before = snapshot(batch)
    board.handle({"kind": "undo"})
    assert "lena" in board.error
    assert snapshot(batch) == before
    assert shown(board, TAKE_3) == {"rank": 1, "ranked_by": "lena"}, "the board shows the disk"


def test_undo_on_a_locked_batch_is_refused(batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    board.handle({"kind": "rank", "file": TAKE_2, "rank": 1})
    ranking.lock(batch, person="lena", force=True)
    before = snapshot(batch)
    board.handle({"kind": "undo"})
    assert "locked" in board.error
    assert board.locked
    assert snapshot(batch) == before
