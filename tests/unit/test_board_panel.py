"""The board on a panel batch (issue 14): what each person's synced state holds, and the panel's
messages. Real batches and the users file as `voicelab users add` leaves it; the person is set as
`voicelab serve` sets it (test_board_people's `visit`).

Blind means blind in every synced trait: a rater's board is searched as JSON, every trait but
the widget's own code (`_esm`, `_css`: the same for everyone), for file names, settings, seeds,
other raters' names and the consensus.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch
from tests.conftest import install_team
from tests.unit import test_board_people
from tests.unit.test_board_people import Visit, board_for, history_of, snapshot
from tests.unit.test_widgets import on_disk
from voicelab import panel, people, ranking, store
from voicelab.people.users import users_path
from voicelab.widgets.rank_board import LEAD_RANKS, RankBoard
from voicelab.widgets.rank_state import SETTING_KEYS, pack_peaks, take_record

RATERS = ["dana", "dora", "dave"]
ORDER_KEY = "0123456789abcdef"  # a fixed shuffle: the orders asserted below hold every run
BLIND_FIELDS = {"file", "line", "take_number", "label", "rank", "ranked_at", "ranked_by",
                "settings", "duration_s", "flags", "gain_db"}


@pytest.fixture(scope="session")
def panel_team_file(team_file: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """test_board_people's team (vic viewer, dana designer, lena lead) and two more designers,
    dora and dave: a panel of three. Made once (Argon2 is slow on purpose)."""
    made = tmp_path_factory.mktemp("panel-team")
    install_team(made, team_file)
    for name in ("dora", "dave"):
        people.add_user(made, name, "designer")
    return users_path(made).read_bytes()


@pytest.fixture
def team(root: Path, panel_team_file: bytes) -> None:
    """Overrides test_board_people's `team` (which `visit` asks for): five users."""
    install_team(root, panel_team_file)


visit = test_board_people.visit  # the fixture, with this module's `team`


@pytest.fixture
def batch(root: Path) -> Path:
    """Two lines of five takes, each with its own waveform, so the order of `peaks` shows."""
    batch_dir = make_batch(root, lines=2, takes_per_line=5)
    metadata = store.load_metadata(batch_dir)
    for index, take in enumerate(metadata["takes"]):
        take["quality"] = {"peaks": base64.b64encode(bytes([10 + 20 * index] * 100)).decode()}
    store.save_metadata(batch_dir, metadata)
    return batch_dir


def files_of(batch_dir: Path, line: str | None = None) -> list[str]:
    return [t["file"] for t in store.load_metadata(batch_dir)["takes"]
            if line is None or t["line"] == line]


def open_blind(batch_dir: Path, raters: list[str] = RATERS, *, blind: bool = True) -> None:
    """Open a panel as lena does, with the fixed ORDER_KEY."""
    panel.open_panel(batch_dir, raters, blind=blind, person="lena")
    with store.batch_lock(batch_dir):
        metadata = store.load_metadata(batch_dir)
        metadata["panel"]["order_key"] = ORDER_KEY
        store.save_metadata(batch_dir, metadata)


def real(batch_dir: Path, rater: str, key: str) -> str:
    file = panel.resolve_blind(store.load_metadata(batch_dir), rater, key)
    assert file is not None, key
    return file


def key_of(batch_dir: Path, rater: str, file: str) -> str:
    return next(key for take, key, _ in panel.blind_lines(store.load_metadata(batch_dir), rater)
                if take["file"] == file)


def ranks_by(batch_dir: Path, rater: str) -> dict[str, int]:
    return {t["file"]: t["ranks_by"][rater] for t in store.load_metadata(batch_dir)["takes"]
            if rater in (t.get("ranks_by") or {})}


def consensus(batch_dir: Path) -> dict[str, int]:
    return {t["file"]: t["rank"] for t in store.load_metadata(batch_dir)["takes"]
            if t["rank"] is not None}


def synced_text(board: RankBoard) -> str:
    """Every synced trait but the widget's code, as the JSON the browser gets (bytes as text)."""
    state = {k: v for k, v in board.get_state().items() if k not in ("_esm", "_css")}
    return json.dumps(state, default=lambda v: bytes(v).decode("latin-1"))


def by_key(board: RankBoard) -> dict[str, dict[str, Any]]:
    return {t["file"]: t for t in board.takes}


# --- a blind rater's board ---------------------------------------------------------------------


def test_a_blind_raters_synced_state_tells_no_file_setting_other_rater_or_consensus(
        batch: Path, root: Path, visit: Visit) -> None:
    line_1, line_2 = files_of(batch, "Line_1"), files_of(batch, "Line_2")
    open_blind(batch)
    for file, rank in ((line_1[0], 1), (line_1[1], 2), (line_2[3], 1)):
        panel.rate(batch, file, rank, person="dora")
        panel.rate(batch, file, rank, person="dave")
    panel.rate(batch, line_1[4], 1, person="dana")
    panel.close_line(batch, "Line_2", person="lena")
    visit("dana")
    board, _ = board_for(batch, root)
    board.handle({"kind": "rank", "file": key_of(batch, "dana", line_2[0]), "rank": 1})
    assert board.error == "line 'Line_2' was closed by someone: its final ranks are set " \
                          "(a lead can reopen it)"
    board.handle({"kind": "undo"})
    assert board.notice == "Undid your last change on line Line_1."

    text = synced_text(board)
    for file in files_of(batch):
        assert file not in text and file.removesuffix(".mp3") not in text
    assert "_take_" not in text and ".mp3" not in text
    for word in (*SETTING_KEYS, "seed", "generation_settings", "ranks_by", "consensus"):
        assert f'"{word}"' not in text, word
    for name in ("dora", "dave", "lena"):
        assert name not in text, name
    assert (board.mode, board.audio_path, board.panel, board.raters_offered) == (
        "blind", "", {}, [])
    for record in board.takes:
        assert set(record) == BLIND_FIELDS and record["settings"] == {}
        assert record["ranked_at"] is None and record["ranked_by"] in (None, "dana")
    # Dana undid her only rank: she sees nothing ranked, though the consensus ranks 3 takes.
    assert [t["rank"] for t in board.takes] == [None] * 10
    assert consensus(batch) == {line_1[0]: 1, line_1[1]: 2, line_2[3]: 1}


def test_blind_order_is_shuffled_stable_across_reloads_and_different_per_rater(
        batch: Path, root: Path, visit: Visit) -> None:
    open_blind(batch)
    orders = {}
    for rater in RATERS:
        visit(rater)
        board = RankBoard(batch, root=root)
        shown = [(t["line"], t["take_number"], t["label"], real(batch, rater, t["file"]))
                 for t in board.takes]
        assert [(line, n, label) for line, n, label, _ in shown] == [
            (f"Line_{i}", n, "ABCDE"[n - 1]) for i in (1, 2) for n in range(1, 6)]
        orders[rater] = [file for *_, file in shown]
        assert orders[rater] != files_of(batch), "shuffled"
        assert sorted(orders[rater]) == sorted(files_of(batch))
        again = RankBoard(batch, root=root)
        assert again.takes == board.takes and again.peaks == board.peaks, "stable"
        packed = {t["file"]: pack_peaks(t["quality"]["peaks"])
                  for t in store.load_metadata(batch)["takes"]}
        assert board.peaks == b"".join(packed[file] for file in orders[rater]), "peaks follow"
    assert len({tuple(order) for order in orders.values()}) == 3, "one order per rater"
    keys = [{t["file"] for t in RankBoard(batch, root=root).takes}]
    visit("dora")
    keys.append({t["file"] for t in RankBoard(batch, root=root).takes})
    assert not keys[0] & keys[1], "ids are per rater too"


def test_a_raters_keys_land_in_their_own_ranking_and_undo_takes_them_back(
        batch: Path, root: Path, visit: Visit) -> None:
    line_1 = files_of(batch, "Line_1")
    open_blind(batch)
    panel.rate(batch, line_1[2], 1, person="dora")
    visit("dana")
    board, sent = board_for(batch, root)
    first, second = key_of(batch, "dana", line_1[0]), key_of(batch, "dana", line_1[1])
    board.handle({"kind": "rank", "file": first, "rank": 1, "seq": "d:1"})
    board.handle({"kind": "rank", "file": second, "rank": 1, "seq": "d:2"})
    assert board.error == ""
    assert sent == [{"kind": "ack", "seq": "d:1", "ok": True},
                    {"kind": "ack", "seq": "d:2", "ok": True}]
    assert ranks_by(batch, "dana") == {line_1[1]: 1, line_1[0]: 2}, "her own cascade"
    assert ranks_by(batch, "dora") == {line_1[2]: 1}, "dora's untouched"
    shown = by_key(board)
    assert (shown[second]["rank"], shown[first]["rank"]) == (1, 2)
    assert shown[second]["ranked_by"] == "dana" and shown[second]["ranked_at"] is None
    # Borda: take 2 (5 points) and take 3 (5) tie on points and first places: take order
    # puts take 2 first; take 1 has 4.
    assert consensus(batch) == {line_1[1]: 1, line_1[2]: 2, line_1[0]: 3}
    assert on_disk(batch) == consensus(batch)
    assert by_key(board)[key_of(batch, "dana", line_1[2])]["rank"] is None, "not the consensus"
    assert {t["rank"] for t in board.takes} == {1, 2, None}, "only her own ranks"
    assert [(e["person"], e["action"], e.get("rater")) for e in history_of(batch)][-2:] == [
        ("dana", "rank", "dana"), ("dana", "rank", "dana")]
    board.handle({"kind": "undo"})
    assert ranks_by(batch, "dana") == {line_1[0]: 1}
    assert (by_key(board)[first]["rank"], by_key(board)[second]["rank"]) == (1, None)
    board.handle({"kind": "rank", "file": line_1[0], "rank": 3})  # a real name is no key here
    assert board.error == f"no take named {line_1[0]!r} in this batch"
    assert ranks_by(batch, "dana") == {line_1[0]: 1}


def test_each_rater_sees_only_their_own_progress(batch: Path, root: Path, visit: Visit) -> None:
    open_blind(batch)
    for file in files_of(batch):
        panel.rate(batch, file, 1, person="dora")  # dora ranks every line
    visit("dana")
    board = RankBoard(batch, root=root)
    assert all(t["rank"] is None for t in board.takes), "the board's counter counts her ranks"
    board.handle({"kind": "rank", "file": board.takes[0]["file"], "rank": 1})
    assert [t["rank"] for t in board.takes].count(1) == 1


def test_someone_not_rating_the_panel_only_listens(batch: Path, root: Path,
                                                   visit: Visit) -> None:
    open_blind(batch, ["dana", "dora"])
    visit("dave")
    board, sent = board_for(batch, root)
    assert board.mode == "blind" and board.allowed == ["listen"]
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": board.takes[0]["file"], "rank": 1, "seq": "x:1"})
    assert board.error == "dave is not one of this panel's raters: only its raters rank here"
    assert sent == [{"kind": "ack", "seq": "x:1", "ok": False}]
    assert snapshot(batch) == before
    assert "dana" not in synced_text(board) and "dora" not in synced_text(board)


def test_a_rater_of_a_panel_that_is_not_blind_sees_settings_but_only_their_own_ranks(
        batch: Path, root: Path, visit: Visit) -> None:
    line_1 = files_of(batch, "Line_1")
    open_blind(batch, blind=False)
    panel.rate(batch, line_1[0], 1, person="dora")
    visit("dana")
    board, _ = board_for(batch, root)
    assert board.mode == "rater" and board.audio_path.endswith("/takes/")
    assert [t["file"] for t in board.takes] == files_of(batch), "real names, take order"
    assert board.takes[0]["settings"]["stability"] == 0.4
    assert all(t["rank"] is None and t["ranked_by"] is None for t in board.takes)
    text = synced_text(board)
    assert "dora" not in text and "lena" not in text and "panel" not in json.dumps(board.takes)
    board.handle({"kind": "rank", "file": line_1[3], "rank": 1})
    assert ranks_by(batch, "dana") == {line_1[3]: 1}
    assert by_key(board)[line_1[3]]["rank"] == 1 and by_key(board)[line_1[0]]["rank"] is None


def test_audio_comes_by_the_opaque_id_and_never_by_a_file_name(batch: Path, root: Path,
                                                               visit: Visit) -> None:
    open_blind(batch)
    visit("dana")
    board, sent = board_for(batch, root)
    key = board.takes[0]["file"]
    assert board.audio_bytes(key) == (batch / "takes" / real(batch, "dana", key)).read_bytes()
    board.handle({"kind": "audio", "file": key})
    assert sent == [{"kind": "audio", "file": key}]
    file = files_of(batch)[0]
    board.handle({"kind": "audio", "file": file})
    assert sent[-1]["kind"] == "audio" and sent[-1]["file"] == file and "error" in sent[-1]
    (batch / "takes" / real(batch, "dana", key)).unlink()
    board.handle({"kind": "audio", "file": key})
    assert sent[-1]["error"] == f"no take named {key!r} in this batch", "the id, not the file"


# --- a lead's board ----------------------------------------------------------------------------


def test_a_lead_sees_the_consensus_progress_and_disagreements(batch: Path, root: Path,
                                                              visit: Visit) -> None:
    line_1, line_2 = files_of(batch, "Line_1"), files_of(batch, "Line_2")
    open_blind(batch)
    for rater in RATERS:  # Line_1: all agree
        panel.rate(batch, line_1[0], 1, person=rater)
        panel.rate(batch, line_1[1], 2, person=rater)
    panel.rate(batch, line_2[0], 1, person="dana")  # Line_2: dana and dora disagree
    panel.rate(batch, line_2[0], 2, person="dora")
    panel.rate(batch, line_2[1], 1, person="dora")
    visit("lena")
    board, _ = board_for(batch, root)
    assert board.mode == "lead" and board.audio_path.endswith("/takes/")
    assert [t["file"] for t in board.takes] == files_of(batch)
    assert {t["file"]: t["rank"] for t in board.takes if t["rank"]} == consensus(batch)
    assert board.takes[0]["ranked_by"] == panel.PANEL_NAME
    report = board.panel
    assert report["raters"] == RATERS and report["blind"] and report["method"] == "borda"
    assert report["progress"] == {"dana": {"done": 2, "total": 2},
                                  "dora": {"done": 2, "total": 2},
                                  "dave": {"done": 1, "total": 2}}
    assert [line["line"] for line in report["lines"]] == ["Line_2", "Line_1"], "least first"
    worst, best = report["lines"]
    assert worst["agreement"] < best["agreement"] == 1.0
    assert worst["ranks_by"] == {"dana": {line_2[0]: 1}, "dora": {line_2[0]: 2, line_2[1]: 1},
                                 "dave": {}}
    assert worst["closed"] is False and worst["override"] is False
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": line_1[1], "rank": 1})
    assert board.error == LEAD_RANKS
    assert snapshot(batch) == before


def test_a_lead_overrides_closes_and_reopens_a_line(batch: Path, root: Path,
                                                   visit: Visit) -> None:
    line_1 = files_of(batch, "Line_1")
    open_blind(batch)
    panel.rate(batch, line_1[0], 1, person="dana")
    visit("lena")
    board, sent = board_for(batch, root)
    board.handle({"kind": "override", "file": line_1[3], "rank": 1, "seq": "l:1"})
    assert board.error == "" and sent == [{"kind": "ack", "seq": "l:1", "ok": True}]
    assert consensus(batch) == {line_1[3]: 1, line_1[0]: 2}, "cascade on the consensus"
    assert on_disk(batch) == consensus(batch)
    assert board.notice == "Final ranks set on line Line_1: the line is closed."
    line = next(line for line in board.panel["lines"] if line["line"] == "Line_1")
    assert line["closed"] and line["override"] and line["closed_by"] == "lena"
    assert {t["file"]: t["rank"] for t in board.takes if t["rank"]} == consensus(batch)
    assert by_key(board)[line_1[3]]["ranked_by"] == "lena"
    board.handle({"kind": "reopen", "line": "Line_1"})
    assert board.notice == "Line Line_1 reopened: it holds the raters' consensus again."
    assert consensus(batch) == {line_1[0]: 1}
    board.handle({"kind": "close", "line": "Line_2"})
    assert board.error == ""
    assert next(x for x in board.panel["lines"] if x["line"] == "Line_2")["closed"]
    board.handle({"kind": "close", "line": "Line_9"})
    assert "Line_9" in board.error
    assert [e["action"] for e in history_of(batch) if e["person"] == "lena"] == [
        "panel", "override", "reopen", "close"]


def test_designers_may_not_override_close_reopen_or_open_a_panel(batch: Path, root: Path,
                                                                visit: Visit) -> None:
    open_blind(batch)
    visit("dana")
    board, sent = board_for(batch, root)
    before = snapshot(batch), history_of(batch)
    refusal = ("dana is a designer: only a lead may run a rating panel (open it, override or "
               "close a line)")
    for message in ({"kind": "override", "file": board.takes[0]["file"], "rank": 1, "seq": "d:1"},
                    {"kind": "close", "line": "Line_1"}, {"kind": "reopen", "line": "Line_1"},
                    {"kind": "panel", "raters": ["dana"], "blind": True}):
        board.handle(message)
        assert board.error == refusal, message
    assert sent == [{"kind": "ack", "seq": "d:1", "ok": False}]
    assert (snapshot(batch), history_of(batch)) == before


def test_a_lead_opens_a_panel_from_the_board(batch: Path, root: Path, visit: Visit) -> None:
    visit("lena")
    board, _ = board_for(batch, root)
    assert board.mode == "solo" and board.panel == {}
    assert board.raters_offered == ["dana", "dave", "dora", "lena"], "designers and leads"
    board.handle({"kind": "panel", "raters": ["dana", "dora"], "blind": "yes"})
    assert board.error == "blind is true or false, got 'yes'"
    assert panel.panel_of(store.load_metadata(batch)) is None
    board.handle({"kind": "panel", "raters": [], "blind": True})
    assert "at least one rater" in board.error
    board.handle({"kind": "panel", "raters": ["dana", "dora"], "blind": True})
    assert board.error == ""
    assert board.notice == ("Panel opened (blind): dana, dora rank this batch alone; their "
                            "consensus holds the ranks.")
    opened = panel.panel_of(store.load_metadata(batch))
    assert opened is not None and opened["raters"] == ["dana", "dora"] and opened["blind"]
    assert opened["opened_by"] == "lena"
    assert board.mode == "lead" and board.panel["raters"] == ["dana", "dora"]
    assert board.raters_offered == []
    board.handle({"kind": "panel", "raters": ["dave"], "blind": True})
    assert "already ranked by a panel" in board.error
    visit("dana")
    assert RankBoard(make_batch(root), root=root).raters_offered == [], "a designer's board"


def test_after_lock_a_rater_sees_the_consensus_read_only(batch: Path, root: Path,
                                                         visit: Visit) -> None:
    line_1 = files_of(batch, "Line_1")
    open_blind(batch)
    panel.rate(batch, line_1[2], 1, person="dora")
    visit("dana")
    board, _ = board_for(batch, root)
    assert board.mode == "blind"
    ranking.lock(batch, person="lena", force=True)
    board.handle({"kind": "refresh"})
    assert board.mode == "solo" and board.locked
    assert board.notice == ("Updated from disk: the batch was locked elsewhere; the board "
                            "shows the batch's ranks, the same for everyone.")
    assert [t["file"] for t in board.takes] == files_of(batch)
    assert by_key(board)[line_1[2]]["rank"] == 1
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": line_1[0], "rank": 1})
    assert "locked" in board.error
    assert snapshot(batch) == before


def test_a_panel_opened_elsewhere_turns_an_open_board_blind(batch: Path, root: Path,
                                                            visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    stale = board.takes[0]["file"]
    open_blind(batch)
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": stale, "rank": 1})  # a key pressed before it knew
    assert board.error == ("this board now shows your own blind ranking (takes shuffled and "
                           "labelled; settings hidden): nothing was changed, try again")
    assert snapshot(batch) == before
    assert board.mode == "blind" and ".mp3" not in synced_text(board)
    visit("dora")
    board.handle({"kind": "refresh"})  # the same kernel, now someone else's: their own view
    assert board.person == "dora"
    assert {real(batch, "dora", t["file"]) for t in board.takes} == set(files_of(batch))


# --- solo stays as it was ----------------------------------------------------------------------


def test_a_solo_board_is_unchanged(batch: Path, root: Path, visit: Visit) -> None:
    visit("dana")
    board, _ = board_for(batch, root)
    assert (board.mode, board.panel, board.raters_offered) == ("solo", {}, [])
    metadata = store.load_metadata(batch)
    assert [{k: v for k, v in t.items() if k != "flags"} for t in board.takes] == [
        {k: v for k, v in take_record(t, [], -23.0).items() if k != "flags"}
        for t in metadata["takes"]]
    board.handle({"kind": "rank", "file": files_of(batch)[0], "rank": 1})
    assert consensus(batch) == {files_of(batch)[0]: 1}
    assert board.takes[0]["ranked_by"] == "dana"
    assert "ranks_by" not in store.load_metadata(batch)["takes"][0]
