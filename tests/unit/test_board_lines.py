"""The board and a batch's lines over time (issue 15): director notes, stale and removed takes,
more takes of a line (estimate, queue, pending) and takes that land while the board is open.

Real batches and the users file as `voicelab users add` leaves it; the person is set as
`voicelab serve` sets it (test_board_people's `visit`). The "more" jobs go to a recording
stand-in passed to the board (`more_jobs=`), the board's documented seam: queueing a real job
needs a worker (tests/integration covers lines.more itself).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch, take_name, tone_mp3
from tests.unit import test_board_panel, test_board_people
from tests.unit.test_board_panel import open_blind
from tests.unit.test_board_people import Visit, history_of, snapshot
from voicelab import lines, ranking, store
from voicelab.config import Settings
from voicelab.errors import BatchLocked, LineError
from voicelab.jobs import registry
from voicelab.widgets import views
from voicelab.widgets.rank_board import RankBoard
from voicelab.widgets.rank_state import PEAK_POINTS

panel_team_file = test_board_panel.panel_team_file  # five users: vic, dana, lena, dora, dave
team = test_board_panel.team
visit = test_board_people.visit  # the fixture, with this module's `team`
TAKE = {(line, n): take_name(f"Line_{line}", n) for line in (1, 2, 3) for n in (1, 2, 3, 4)}


class FakeMore:
    """Stands in for voicelab.lines.more: records what the board asks, answers like it."""

    def __init__(self, *, refuse: Exception | None = None) -> None:
        self.estimates: list[dict[str, Any]] = []
        self.submitted: list[dict[str, Any]] = []
        self.queued: dict[str, str] = {}
        self.refuse = refuse

    def estimate_more(self, settings: Settings, metadata: store.Metadata, line: str, *,
                      takes: Any, like: Any, text: Any) -> dict[str, Any]:
        if self.refuse:
            raise self.refuse
        self.estimates.append({"line": line, "takes": takes, "like": like, "text": text})
        said = text or next(t["script_text"] for t in metadata["takes"] if t["line"] == line)
        return {"line": line, "takes": takes, "requests": takes,
                "characters": len(said) * takes, "quota": None}

    def submit_more(self, settings: Settings, batch_dir: Path, line: str, *, takes: Any,
                    like: Any, text: Any, person: str) -> str:
        if self.refuse:
            raise self.refuse
        self.submitted.append({"batch_dir": batch_dir, "line": line, "takes": takes,
                               "like": like, "text": text, "person": person})
        task_id = f"task-{len(self.submitted)}"
        self.queued[line] = task_id
        return task_id

    def pending_lines(self, root: Path, batch_id: str) -> dict[str, str]:
        return dict(self.queued)


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, lines=3, takes_per_line=3, ranks={TAKE[1, 1]: 1, TAKE[2, 2]: 1})


@pytest.fixture
def more() -> FakeMore:
    return FakeMore()


def board_with(batch: Path, root: Path, more: FakeMore) -> tuple[RankBoard, list[dict[str, Any]]]:
    board = RankBoard(batch, root=root, more_jobs=more, settings=Settings(audio_root=root))
    sent: list[dict[str, Any]] = []
    board.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    return board, sent


def record(board: RankBoard, file: str) -> dict[str, Any]:
    return next(t for t in board.takes if t["file"] == file)


def add_takes(batch: Path, line: str, count: int) -> list[str]:
    """Append `count` takes of `line` with real MP3s and waveforms, as a landing job does."""
    metadata = store.load_metadata(batch)
    mine = [t for t in metadata["takes"] if t["line"] == line]
    start = max(t["take_number"] for t in mine) + 1
    names = []
    for n in range(start, start + count):
        names.append(name := take_name(line, n))
        (batch / store.TAKES_DIR / name).write_bytes(tone_mp3())
    peaks = base64.b64encode(bytes([200] * 100)).decode()

    model = {key: value for key, value in mine[-1].items() if key not in ("stale", "removed")}

    def append(data: store.Metadata) -> None:
        data["takes"] += [{**model, "file": name, "take_number": start + i, "rank": None,
                           "ranked_at": None, "ranked_by": None, "seed": 5000 + i,
                           "quality": {"peaks": peaks}} for i, name in enumerate(names)]

    store.update_metadata(batch, append)
    return names


# --- director notes --------------------------------------------------------------------------


def test_a_designer_writes_a_note_through_a_message_and_the_board_shows_it(
        batch: Path, root: Path, more: FakeMore, visit: Visit) -> None:
    visit("dana")
    board, _ = board_with(batch, root, more)
    assert board.notes == {} and "note" in board.allowed
    board.handle({"kind": "note", "line": "Line_2", "text": "  Angrier, and slower.  ",
                  "needs_pass": True})
    saved = store.load_metadata(batch)["notes"]["Line_2"]
    assert (saved["text"], saved["by"], saved["needs_pass"]) == ("Angrier, and slower.", "dana",
                                                                 True)
    assert board.notes == {"Line_2": saved}
    assert board.error == "" and board.notice == "Note saved on line Line_2."
    entry = history_of(batch)[-1]
    assert (entry["action"], entry["person"], entry["line"]) == ("note", "dana", "Line_2")
    board.handle({"kind": "note", "line": "Line_2", "text": "", "needs_pass": False})
    assert "Line_2" not in (store.load_metadata(batch).get("notes") or {})
    assert board.notes == {} and board.notice == "Note removed from line Line_2."


def test_a_note_another_session_writes_shows_at_the_next_refresh(
        batch: Path, root: Path, more: FakeMore) -> None:
    board, _ = board_with(batch, root, more)
    lines.set_note(batch, "Line_3", "Too breathy", needs_pass=False, person="lena")
    board.refresh()
    assert board.notes["Line_3"]["text"] == "Too breathy"
    assert board.notes["Line_3"]["by"] == "lena" and not board.notes["Line_3"]["needs_pass"]


def test_a_viewer_sees_notes_but_may_not_write_one(
        batch: Path, root: Path, more: FakeMore, visit: Visit) -> None:
    lines.set_note(batch, "Line_1", "Keep this one", person="lena")
    visit("vic")
    board, _ = board_with(batch, root, more)
    assert board.notes["Line_1"]["text"] == "Keep this one" and "note" not in board.allowed
    before = snapshot(batch)
    board.handle({"kind": "note", "line": "Line_1", "text": "mine now", "needs_pass": True})
    assert board.error == "vic is a viewer: only a designer may write director notes"
    assert snapshot(batch) == before and board.notes["Line_1"]["text"] == "Keep this one"


@pytest.mark.parametrize(("message", "error"), [
    ({"line": "Line_9", "text": "x"}, "has no line 'Line_9'"),
    ({"line": "Line_1", "text": 5}, "a note is text, not int"),
    ({"line": "Line_1", "text": "x" * 2001}, "at most 2000 characters"),
    ({"line": "Line_1", "text": "x", "needs_pass": "yes"}, "needs_pass is true or false"),
    ({"line": ["Line_1"], "text": "x"}, "a note is on a line of this batch"),
])
def test_a_bad_note_is_refused_naming_the_problem_and_changes_nothing(
        batch: Path, root: Path, more: FakeMore, message: dict[str, Any], error: str) -> None:
    board, _ = board_with(batch, root, more)
    before = snapshot(batch)
    board.handle({"kind": "note", **message})
    assert error in board.error
    assert snapshot(batch) == before and board.notes == {}


def test_notes_may_be_written_on_a_locked_batch(root: Path, more: FakeMore) -> None:
    batch = make_batch(root, lines=2, locked=True)
    board, _ = board_with(batch, root, more)
    board.handle({"kind": "note", "line": "Line_1", "text": "For the next session"})
    assert board.notes["Line_1"]["text"] == "For the next session" and board.error == ""
    assert store.is_locked(batch) and board.locked


def test_a_panel_rater_neither_sees_nor_writes_notes_and_the_lead_sees_them(
        batch: Path, root: Path, more: FakeMore, visit: Visit) -> None:
    lines.set_note(batch, "Line_1", "Take 3 is the one", needs_pass=True, person="lena")
    open_blind(batch, ["dana", "dora"])
    visit("dana")
    board, sent = board_with(batch, root, more)
    assert board.mode == "blind" and board.notes == {}
    assert "note" not in board.allowed and "more" not in board.allowed
    before = snapshot(batch)
    board.handle({"kind": "note", "line": "Line_1", "text": "B is best"})
    assert board.error.startswith("a panel's raters rank alone")
    board.handle({"kind": "more", "line": "Line_1", "takes": 2, "like": None, "text": None})
    assert board.error.startswith("a panel's raters rank alone") and more.submitted == []
    assert sent[-1]["ok"] is False
    assert snapshot(batch) == before
    visit("lena")
    lead, _ = board_with(batch, root, more)
    assert lead.mode == "lead" and lead.notes["Line_1"]["text"] == "Take 3 is the one"


# --- stale and removed takes -----------------------------------------------------------------


def test_stale_takes_say_so_and_the_line_shows_its_current_text(
        batch: Path, root: Path, more: FakeMore) -> None:
    lines.mark_stale(batch, {"Line_2": "Text of Line_2."})
    add_takes(batch, "Line_2", 1)

    def retext(data: store.Metadata) -> None:
        data["takes"][-1]["script_text"] = "The new text of Line_2."

    store.update_metadata(batch, retext)
    board, _ = board_with(batch, root, more)
    old = record(board, TAKE[2, 2])
    assert (old["stale"], old["text_was"], old["rank"]) == (True, "Text of Line_2.", None)
    new = record(board, TAKE[2, 4])
    assert "stale" not in new and "removed" not in new and "text_was" not in new
    line_2 = next(line for line in board.lines if line["line"] == "Line_2")
    assert line_2 == {"line": "Line_2", "script_text": "The new text of Line_2.", "removed": False}


def test_a_line_whose_takes_are_all_stale_shows_their_text_until_new_ones_land(
        batch: Path, root: Path, more: FakeMore) -> None:
    lines.mark_stale(batch, {"Line_3": None})
    board, _ = board_with(batch, root, more)
    assert all(record(board, TAKE[3, n])["stale"] for n in (1, 2, 3))
    assert board.lines[2] == {"line": "Line_3", "script_text": "Text of Line_3.",
                              "removed": False}


@pytest.mark.parametrize(("mark", "file", "why"), [
    ("stale", TAKE[2, 2], "is stale (its line's text changed; rank its new takes)"),
    ("removed", TAKE[3, 1], "is removed (its line is gone from the script)"),
])
def test_a_rank_on_a_stale_or_removed_take_is_refused_and_changes_nothing(
        batch: Path, root: Path, more: FakeMore, mark: str, file: str, why: str) -> None:
    if mark == "stale":
        lines.mark_stale(batch, {"Line_2": None})
    else:
        lines.mark_removed(batch, ["Line_3"])
    board, sent = board_with(batch, root, more)
    assert record(board, file)[mark] is True
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": file, "rank": 1, "seq": "v:1"})
    assert board.error == f"take {file} {why}: it can no longer be ranked"
    assert sent == [{"kind": "ack", "seq": "v:1", "ok": False}]
    assert snapshot(batch) == before


def test_removed_lines_are_marked_and_keep_their_ranks(
        batch: Path, root: Path, more: FakeMore) -> None:
    lines.mark_removed(batch, ["Line_1"])
    board, _ = board_with(batch, root, more)
    assert board.lines[0] == {"line": "Line_1", "script_text": "Text of Line_1.",
                              "removed": True}
    assert [line["removed"] for line in board.lines] == [True, False, False]
    assert record(board, TAKE[1, 1])["removed"] is True and record(board, TAKE[1, 1])["rank"] == 1


# --- takes that land while the board is open -------------------------------------------------


def test_takes_added_to_a_line_appear_at_the_next_refresh_with_their_waveforms(
        batch: Path, root: Path, more: FakeMore) -> None:
    board, _ = board_with(batch, root, more)
    assert len(board.peaks) == 9 * PEAK_POINTS
    names = add_takes(batch, "Line_1", 2)
    assert names == [TAKE[1, 4], take_name("Line_1", 5)]
    board.refresh()
    assert [t["file"] for t in board.takes][-2:] == names
    assert [record(board, name)["take_number"] for name in names] == [4, 5]
    assert len(board.peaks) == 11 * PEAK_POINTS
    assert board.peaks[-PEAK_POINTS:] == bytes([200] * PEAK_POINTS)
    assert board.notice == "Updated from disk: 2 new takes."
    assert record(board, TAKE[1, 1])["rank"] == 1, "ranks stay"


# --- more takes of a line --------------------------------------------------------------------


def test_the_estimate_is_asked_for_and_answered_before_anything_is_spent(
        batch: Path, root: Path, more: FakeMore, visit: Visit) -> None:
    visit("dana")
    board, sent = board_with(batch, root, more)
    before = snapshot(batch)
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 4, "like": 1,
                  "text": None, "seq": "e:1"})
    assert more.estimates == [{"line": "Line_1", "takes": 4, "like": 1, "text": None}]
    assert sent == [{"kind": "more_estimate", "seq": "e:1", "line": "Line_1", "takes": 4,
                     "like": 1, "text": None,
                     "estimate": {"line": "Line_1", "takes": 4, "requests": 4,
                                  "characters": 4 * len("Text of Line_1."), "quota": None}}]
    assert more.submitted == [] and snapshot(batch) == before and board.error == ""


def test_more_takes_are_queued_in_the_persons_name_and_the_line_shows_pending(
        batch: Path, root: Path, more: FakeMore, visit: Visit) -> None:
    visit("dana")
    board, sent = board_with(batch, root, more)
    assert board.pending == {}
    board.handle({"kind": "more", "line": "Line_2", "takes": 5, "like": None,
                  "text": "Text of Line_2, louder."})
    assert more.submitted == [{"batch_dir": batch, "line": "Line_2", "takes": 5, "like": None,
                               "text": "Text of Line_2, louder.", "person": "dana"}]
    assert sent == [{"kind": "more", "line": "Line_2", "takes": 5, "ok": True,
                     "task_id": "task-1"}]
    assert board.pending == {"Line_2": "task-1"}
    assert board.notice == "Asked for 5 more takes of Line_2 (job task-1)."
    more.queued.clear()  # the job finished
    board.refresh()
    assert board.pending == {}
    board.handle({"kind": "more", "line": "Line_1", "takes": 1, "like": 1, "text": None})
    assert board.notice == "Asked for 1 more take of Line_1 (job task-2)."


def test_pending_lines_of_other_sessions_show_at_each_refresh(
        batch: Path, root: Path, more: FakeMore) -> None:
    more.queued["Line_3"] = "their-task"
    board, _ = board_with(batch, root, more)
    assert board.pending == {"Line_3": "their-task"}
    more.queued["Line_1"] = "another"
    board.refresh()
    assert board.pending == {"Line_3": "their-task", "Line_1": "another"}


def test_a_viewer_may_not_ask_for_more_takes_nor_an_estimate(
        batch: Path, root: Path, more: FakeMore, visit: Visit) -> None:
    visit("vic")
    board, sent = board_with(batch, root, more)
    assert "more" not in board.allowed
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 3, "like": 1, "seq": "e"})
    board.handle({"kind": "more", "line": "Line_1", "takes": 3, "like": 1, "text": None})
    refusal = "vic is a viewer: only a designer may ask for more takes of a line"
    assert sent[0]["error"] == refusal and "estimate" not in sent[0]
    assert sent[1] == {"kind": "more", "line": "Line_1", "takes": 3, "ok": False,
                       "error": refusal}
    assert more.estimates == [] and more.submitted == [] and board.pending == {}


def test_a_locked_batch_refuses_more_takes_until_a_lead_unlocks(
        root: Path, more: FakeMore) -> None:
    batch = make_batch(root, lines=2, locked=True)
    board, sent = board_with(batch, root, more)
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 3, "like": None})
    board.handle({"kind": "more", "line": "Line_1", "takes": 3, "like": None, "text": None})
    refusal = f"batch {batch.name} is locked: a lead unlocks first"
    assert [message["error"] for message in sent] == [refusal, refusal]
    assert board.error == refusal and more.submitted == [] and more.estimates == []
    ranking.unlock(batch, person="lena")
    board.refresh()
    board.handle({"kind": "more", "line": "Line_1", "takes": 3, "like": None, "text": None})
    assert sent[-1]["ok"] is True and more.submitted[0]["person"] == "cli"


@pytest.mark.parametrize("refusal", [
    LineError("line Line_1 has no rank-2 take to make more like"),
    BatchLocked("x"),
])
def test_what_lines_more_refuses_is_shown_and_nothing_is_pending(
        batch: Path, root: Path, refusal: Exception) -> None:
    more = FakeMore(refuse=refusal)
    board, sent = board_with(batch, root, more)
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 3, "like": 2, "seq": 1})
    board.handle({"kind": "more", "line": "Line_1", "takes": 3, "like": 2, "text": None})
    assert sent[0]["error"] == str(refusal) and sent[0]["seq"] == 1
    assert sent[1]["error"] == str(refusal) and board.error == str(refusal)
    assert board.pending == {}


# --- the real voicelab.lines.more (no worker runs here: the job stays queued) ----------------


def test_the_real_estimate_counts_the_lines_characters_and_checks_the_request(
        batch: Path, root: Path) -> None:
    board = RankBoard(batch, root=root, settings=Settings(audio_root=root))
    sent: list[dict[str, Any]] = []
    board.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    before = snapshot(batch)
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 4, "like": 1,
                  "text": None, "seq": "a"})
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 2, "like": None,
                  "text": "Louder now.", "seq": "b"})
    board.handle({"kind": "more_estimate", "line": "Line_3", "takes": 2, "like": 1,
                  "text": None, "seq": "c"})
    board.handle({"kind": "more_estimate", "line": "Line_1", "takes": 21, "like": 1,
                  "text": None, "seq": "d"})
    first, edited, no_best, too_many = sent
    assert first["estimate"] | {"quota": None} == {
        "line": "Line_1", "takes": 4, "requests": 4, "characters": 4 * len("Text of Line_1."),
        "text": "Text of Line_1.", "text_changed": False, "like": 1, "first_take": 4,
        "quota": None}, "Piper has no quota"
    assert edited["estimate"]["characters"] == 2 * len("Louder now.")
    assert edited["estimate"]["text_changed"] and edited["estimate"]["like"] is None
    assert no_best["error"].startswith("line Line_3 has no rank-1 take to make more like")
    assert "takes must be a whole number from 1 to 20" in too_many["error"]
    assert snapshot(batch) == before and board.error == ""


def test_the_real_submit_queues_a_more_job_that_the_board_shows_pending(
        batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board = RankBoard(batch, root=root, settings=Settings(audio_root=root))
    sent: list[dict[str, Any]] = []
    board.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    before = snapshot(batch)
    board.handle({"kind": "more", "line": "Line_2", "takes": 2, "like": 1, "text": None})
    task_id = sent[-1]["task_id"]
    assert sent[-1]["ok"] and board.pending == {"Line_2": task_id}
    config = registry.get(root, task_id)["config"]
    assert (config["kind"], config["line"], config["takes"], config["requested_by"]) == (
        "more", "Line_2", 2, "dana")
    assert snapshot(batch) == before, "queued: nothing is made until a worker runs it"
    again = RankBoard(batch, root=root, settings=Settings(audio_root=root))
    assert again.pending == {"Line_2": task_id}, "another board sees it pending"


# --- the batch list counts notes -------------------------------------------------------------


def test_note_counts_count_lines_with_a_note_and_those_needing_another_pass() -> None:
    assert views.note_counts({"takes": []}) == {"notes": 0, "needs_pass": 0}
    notes = {"A": {"text": "x", "needs_pass": True}, "B": {"text": "", "needs_pass": True},
             "C": {"text": "y", "needs_pass": False}}
    assert views.note_counts({"notes": notes}) == {"notes": 3, "needs_pass": 2}
    assert views.note_counts({"notes": "broken"}) == {"notes": 0, "needs_pass": 0}


def test_the_batch_list_shows_each_batchs_notes_and_follows_new_ones(
        batch: Path, root: Path) -> None:
    quiet = make_batch(root, skin="Quiet", lines=2)
    lines.set_note(batch, "Line_1", "Warmer", needs_pass=True, person="lena")
    lines.set_note(batch, "Line_2", "Fine as is", person="lena")
    box = views.batches_view(root=root)
    (search, refresh), table = box.children[0].children, box.children[1]
    assert f'data-batch-id="{batch.name}" data-locked="false" data-notes="2" ' \
           'data-needs-pass="1"' in table.value
    assert "2 notes · <span class=\"vl-batch-pass\">1 needs another pass</span>" in table.value
    assert f'data-batch-id="{quiet.name}" data-locked="false" data-notes="0"' in table.value
    lines.set_note(quiet, "Line_2", "", needs_pass=True, person="lena")
    lines.set_note(batch, "Line_2", "Again", needs_pass=True, person="lena")
    refresh.click()
    assert f'data-batch-id="{quiet.name}" data-locked="false" data-notes="1" ' \
           'data-needs-pass="1"' in table.value
    assert "2 notes · <span class=\"vl-batch-pass\">2 need another pass</span>" in table.value
    search.value = "Quiet"
    assert f'data-batch-id="{batch.name}"' not in table.value and "1 note · " in table.value


def test_a_checked_take_tells_the_board_what_was_heard() -> None:
    """The "words" flag's tooltip needs what the speech check heard: solo and blind records
    carry `heard` and `wer` for a checked take, nothing for an unchecked one."""
    from voicelab.widgets.rank_state import blind_record, take_record

    take = {"file": "Gate_take_1.mp3", "line": "Gate", "take_number": 1, "rank": None,
            "ranked_at": None, "generation_settings": {"stability": 0.5}, "duration_s": 1.2,
            "quality": {"lufs": -20.0, "speech": {"wer": 0.9, "heard": "hold the great",
                                                  "engine": "pocketsphinx"}}}
    solo = take_record(take, ["words"], -20.0)
    blind = blind_record(take, "k1", "A", 1, ["words"], -20.0, "dana")
    for record in (solo, blind):
        assert (record["heard"], record["wer"]) == ("hold the great", 0.9)
    assert "pocketsphinx" not in str(blind) and "stability" not in str(blind)
    unchecked = {**take, "quality": {"lufs": -20.0}}
    assert "heard" not in take_record(unchecked, [], -20.0)
    assert "heard" not in take_record({**take, "quality": {"speech": {"skipped": "fr"}}}, [], 0)
