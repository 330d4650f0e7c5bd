"""The board's quality gate before lock (issue 16), without a browser: the `lock_problems` trait
(a lead's, on an open batch, in solo or lead mode), a lock refused when the gate finds lines the
dialog did not list, "Lock anyway" (`force`) recorded, a clean batch as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.batches import flag_take, make_batch
from tests.unit.test_board_people import (  # noqa: F401
    Visit,
    board_for,
    history_of,
    snapshot,
    team,  # the users the visits need
    visit,
)
from voicelab import panel, ranking, store

TAKE_1, TAKE_2 = "Line_1_take_1.mp3", "Line_1_take_2.mp3"


@pytest.fixture
def batch(root: Path) -> Path:
    """Line_1's selected take (take 2) clips and mumbles; Line_2 has no selection."""
    batch = make_batch(root, lines=2, takes_per_line=3, ranks={TAKE_2: 1})
    flag_take(batch, TAKE_2, "clipping", "words")
    return batch


PROBLEMS: list[dict[str, Any]] = [
    {"line": "Line_1", "problems": ["clipping", "words"], "take": TAKE_2,
     "words": "clipping, wrong words"},
    {"line": "Line_2", "problems": ["no_selection"], "take": None, "words": "no selection"},
]


def test_a_lead_sees_the_gates_lines(batch: Path, root: Path, visit: Visit) -> None:  # noqa: F811
    visit("lena")
    board, _ = board_for(batch, root)
    assert board.lock_problems == PROBLEMS


def test_only_a_lead_on_an_open_batch_gets_them(batch: Path, root: Path,
                                                visit: Visit) -> None:  # noqa: F811
    visit("dana")
    assert board_for(batch, root)[0].lock_problems == []
    visit("lena")
    ranking.lock(batch, person="lena", force=True)
    assert board_for(batch, root)[0].lock_problems == []


def test_lock_without_force_is_refused_and_the_board_lists_what_changed(
        batch: Path, root: Path, visit: Visit) -> None:  # noqa: F811
    visit("lena")
    ranking.set_rank(batch, "Line_2_take_1.mp3", 1, person="lena")
    flag_take(batch, TAKE_2)  # clean now
    board, _ = board_for(batch, root)
    assert board.lock_problems == []
    flag_take(batch, "Line_2_take_1.mp3", "mostly_silence")  # a check lands meanwhile
    before = snapshot(batch)
    board.handle({"kind": "lock"})
    assert not board.locked and snapshot(batch) == before
    assert "1 line(s) to check" in board.error and "Line_2 (mostly silence)" in board.error
    assert board.lock_problems == [{"line": "Line_2", "problems": ["mostly_silence"],
                                    "take": "Line_2_take_1.mp3", "words": "mostly silence"}]


def test_lock_anyway_locks_and_is_recorded(batch: Path, root: Path,
                                           visit: Visit) -> None:  # noqa: F811
    visit("lena")
    board, _ = board_for(batch, root)
    board.handle({"kind": "lock", "force": True})
    assert board.error == "" and board.locked and store.is_locked(batch)
    assert board.notice == ("Batch locked anyway, past 2 lines to check (recorded): ranks can "
                            "no longer change.")
    assert board.lock_problems == []
    entry = history_of(batch)[-1]
    assert (entry["person"], entry["action"], entry["forced"]) == ("lena", "lock", True)
    assert entry["problems"] == [{key: p[key] for key in ("line", "problems", "take")}
                                 for p in PROBLEMS]


def test_force_must_be_true_itself(batch: Path, root: Path, visit: Visit) -> None:  # noqa: F811
    visit("lena")
    board, _ = board_for(batch, root)
    board.handle({"kind": "lock", "force": "yes"})  # not True: no force
    assert not store.is_locked(batch) and "to check" in board.error


def test_a_designer_may_not_lock_even_with_force(batch: Path, root: Path,
                                                 visit: Visit) -> None:  # noqa: F811
    visit("dana")
    board, _ = board_for(batch, root)
    before = snapshot(batch)
    board.handle({"kind": "lock", "force": True})
    assert "only a lead may lock" in board.error and snapshot(batch) == before


def test_a_clean_batch_locks_as_before(root: Path, visit: Visit) -> None:  # noqa: F811
    visit("lena")
    clean = make_batch(root, lines=2, ranks={TAKE_1: 1, "Line_2_take_3.mp3": 1})
    board, _ = board_for(clean, root)
    assert board.lock_problems == []
    board.handle({"kind": "lock"})
    assert board.locked and board.notice == "Batch locked: ranks can no longer change."
    assert "forced" not in history_of(clean)[-1]


def test_a_leads_panel_board_lists_the_consensus_problems(root: Path,
                                                          visit: Visit) -> None:  # noqa: F811
    visit("lena")
    batch = make_batch(root, lines=1, takes_per_line=3)
    panel.open_panel(batch, ["dana", "lena"], blind=True, person="lena")
    panel.rate(batch, TAKE_2, 1, person="dana")
    flag_take(batch, TAKE_2, "duration_outlier")
    board, _ = board_for(batch, root)
    assert board.mode == "lead"
    assert board.lock_problems == [{"line": "Line_1", "problems": ["duration_outlier"],
                                    "take": TAKE_2, "words": "duration outlier"}]
    visit("dana")  # a blind rater never learns which take is the consensus #1
    rater, _ = board_for(batch, root)
    assert rater.mode == "blind" and rater.lock_problems == []
