"""Who changed what, and undo: history.jsonl, `ranked_by`, undo and unlock, `voicelab history`."""

from __future__ import annotations

import json
import multiprocessing
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batches import fast_dir, make_batch, ranked_on_disk, ranks_in
from tests.unit.test_cli import run  # noqa: F401  # the CLI fixture
from voicelab import fsck, history, ranking, store
from voicelab.errors import BatchLocked, InvalidName, MetadataError, UndoRefused
from voicelab.store import schema

# --- schema: the optional `ranked_by` ----------------------------------------------------------


@pytest.mark.parametrize("ranked_by", ["absent", None, "alice", "cli"])
def test_schema_accepts_takes_with_and_without_ranked_by(root: Path, ranked_by: object) -> None:
    batch = make_batch(root, ranks={"Line_1_take_1.mp3": 1})
    data = store.load_metadata(batch)
    for take in data["takes"]:
        if ranked_by != "absent":
            take["ranked_by"] = ranked_by
        assert ("ranked_by" in take) == (ranked_by != "absent")
    store.save_metadata(batch, data)
    loaded = store.load_metadata(batch)
    assert [t.get("ranked_by", "absent") for t in loaded["takes"]] == [ranked_by] * 9


@pytest.mark.parametrize("bad", [3, True, ["alice"], {"name": "alice"}])
def test_schema_rejects_a_ranked_by_that_is_not_a_string(root: Path, bad: object) -> None:
    batch = make_batch(root)
    data = store.load_metadata(batch)
    data["takes"][4]["ranked_by"] = bad
    with pytest.raises(MetadataError) as caught:
        store.save_metadata(batch, data)
    assert caught.value.reason == (
        f"takes[4] (Line_2_take_2.mp3): field 'ranked_by' must be a name (string) or null, "
        f"got {bad!r}"
    )


_take = st.fixed_dictionaries(
    {
        "file": st.sampled_from(["a.mp3", "b.mp3", "c.mp3"]),
        "line": st.just("L1"),
        "script_text": st.just("hi"),
        "take_number": st.just(1),
        "generation_settings": st.just({}),
        "rank": st.sampled_from([None, 1, 2]),
        "ranked_at": st.sampled_from([None, "2025-01-01T00:00:00Z"]),
    },
    optional={"ranked_by": st.sampled_from([None, "alice", "", 3, False, ["x"]])},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(takes=st.lists(_take, max_size=4))
def test_fast_take_check_agrees_with_the_explaining_one_on_optional_fields(
    takes: list[dict[str, Any]],
) -> None:
    """The column-wise fast path reads optional fields too, and agrees with the explanation."""
    try:
        schema.raise_take_problem(takes, "m.json")
        slow_ok = True
    except MetadataError:
        slow_ok = False
    assert schema.takes_ok(takes) == slow_ok


# --- history: what a change records ------------------------------------------------------------

A, B, C, D, E, F = (f"Line_1_take_{n}.mp3" for n in range(1, 7))
L2 = [f"Line_2_take_{n}.mp3" for n in range(1, 7)]


@pytest.fixture
def batch(root: Path) -> Path:
    """Two lines of six takes, nothing ranked (so no baseline)."""
    return make_batch(root, lines=2, takes_per_line=6)


def _metadata_ranks(batch: Path) -> dict[str, int | None]:
    return {t["file"]: t["rank"] for t in store.load_metadata(batch)["takes"]}


def _consistent(batch: Path) -> list[dict[str, Any]]:
    """The history replays to metadata.json, ranked/ equals metadata, seqs run 1..N."""
    entries = history.read(batch)
    metadata = store.load_metadata(batch)
    ranks = {t["file"]: t["rank"] for t in metadata["takes"]}
    assert history.replay(entries, ranks) == ranks
    assert ranked_on_disk(batch) == ranks_in(metadata)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    revisions = [e["revision"] for e in entries]
    assert revisions == sorted(set(revisions))
    assert revisions[-1:] in ([], [metadata.get("revision", 0)])
    return entries


def test_a_rank_change_appends_one_entry_with_the_cascade_moves(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    change = ranking.change_rank(batch, B, 1, person="bob")
    assert change.line == "Line_1" and change.moves == {B: (None, 1), A: (1, 2)}
    entries = _consistent(batch)
    assert [(e["seq"], e["person"], e["action"]) for e in entries] == [
        (1, "alice", "rank"), (2, "bob", "rank")]
    second = entries[1]
    assert second["line"] == "Line_1" and second["take"] == B
    assert second["before"] == {A: 1, B: None} and second["after"] == {A: 2, B: 1}
    assert second["revision"] == change.revision == 2
    assert "undoes" not in second
    stamp = datetime.fromisoformat(second["time"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    lines = (batch / "history.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 2 and all(line.endswith(b"\n") for line in lines)


def test_clear_is_its_own_action_and_a_no_op_writes_no_entry(batch: Path) -> None:
    ranking.set_rank(batch, A, 2, person="alice")
    ranking.set_rank(batch, A, None, person="alice")
    before = (batch / "history.jsonl").read_bytes()
    assert ranking.change_rank(batch, A, None, person="alice").moves == {}
    ranking.set_rank(batch, C, 3, person="bob")
    assert ranking.change_rank(batch, C, 3, person="bob").moves == {}
    entries = _consistent(batch)
    assert [e["action"] for e in entries] == ["rank", "clear", "rank"]
    assert entries[1]["before"] == {A: 2} and entries[1]["after"] == {A: None}
    assert (batch / "history.jsonl").read_bytes().startswith(before)


def test_ranked_by_is_set_on_every_moved_take_and_cleared_with_the_rank(root: Path) -> None:
    batch = make_batch(root, takes_per_line=6, ranks={A: 1, B: 2, C: 3, D: 4, E: 5})
    takes = {t["file"]: t for t in ranking.set_rank(batch, F, 1, person="carol")}
    assert {n: takes[n]["ranked_by"] for n in (F, A, B, C, D)} == dict.fromkeys(
        (F, A, B, C, D), "carol")
    assert takes[E]["rank"] is None and takes[E]["ranked_by"] is None  # pushed past 5
    ranking.set_rank(batch, F, None, person="dan")
    saved = {t["file"]: t for t in store.load_metadata(batch)["takes"]}
    assert saved[F]["rank"] is None and saved[F]["ranked_by"] is None
    assert saved[F]["ranked_at"] is None and saved[A]["ranked_by"] == "carol"
    assert "ranked_by" not in saved["Line_2_take_1.mp3"]  # untouched takes stay as they were


def test_the_default_person_is_cli_and_an_empty_person_is_refused(batch: Path) -> None:
    assert ranking.set_rank(batch, A, 1)[0]["ranked_by"] == "cli"
    before = (batch / store.METADATA_NAME).read_bytes()
    for person in ("", None, 3):
        with pytest.raises(InvalidName):
            ranking.set_rank(batch, B, 1, person=person)  # type: ignore[arg-type]
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert history.read(batch)[-1]["person"] == "cli"


def test_a_batch_ranked_before_history_gets_a_baseline_first(root: Path) -> None:
    batch = make_batch(root, lines=2, takes_per_line=6,
                       ranks={A: 1, B: 2, "Line_2_take_3.mp3": 1})
    shown = history.read(batch)  # before any change: the baseline the first one will write
    assert history.replay(shown, _metadata_ranks(batch)) == _metadata_ranks(batch)
    assert not (batch / "history.jsonl").exists()  # reading never writes
    ranking.set_rank(batch, C, 1, person="alice")
    baseline, first = entries = _consistent(batch)
    assert shown == [baseline]
    assert baseline["action"] == "baseline" and baseline["person"] == "voicelab"
    assert baseline["seq"] == 1 and baseline["line"] is None and baseline["take"] is None
    assert baseline["before"] == {} and baseline["after"] == {A: 1, B: 2, "Line_2_take_3.mp3": 1}
    assert baseline["revision"] == 0 and first["revision"] == 1 and first["seq"] == 2
    assert history.replay(entries[:1], _metadata_ranks(batch)) == {
        **dict.fromkeys(_metadata_ranks(batch)), A: 1, B: 2, "Line_2_take_3.mp3": 1}
    ranking.set_rank(batch, D, 5, person="alice")
    assert [e["action"] for e in _consistent(batch)] == ["baseline", "rank", "rank"]


def test_an_unranked_batch_gets_no_baseline(batch: Path) -> None:
    assert history.read(batch) == []
    ranking.lock(batch, person="lena", force=True)
    assert [e["action"] for e in _consistent(batch)] == ["lock"]


# --- lock and unlock ---------------------------------------------------------------------------


def test_lock_and_unlock_are_recorded_once_each(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    first = ranking.lock(batch, person="lena", force=True)
    ranking.lock(batch, person="lena", force=True)  # already locked: nothing new
    assert store.is_locked(batch) and first["ranked_at_utc"] is not None
    opened = ranking.unlock(batch, person="lena")
    assert not store.is_locked(batch)
    assert opened["ranked_at_utc"] is None
    assert store.load_metadata(batch)["ranked_at_utc"] is None
    before = (batch / store.METADATA_NAME).read_bytes()
    ranking.unlock(batch, person="lena")  # already open: nothing written
    assert (batch / store.METADATA_NAME).read_bytes() == before
    ranking.set_rank(batch, B, 1, person="alice")  # ranks may change again
    entries = _consistent(batch)
    assert [(e["action"], e["person"]) for e in entries] == [
        ("rank", "alice"), ("lock", "lena"), ("unlock", "lena"), ("rank", "alice")]
    for entry in entries[1:3]:
        assert entry["line"] is None and entry["take"] is None
        assert entry["before"] == {} and entry["after"] == {}
    assert [e["revision"] for e in entries] == [1, 2, 3, 4]


def test_locking_again_after_an_unlock_takes_a_new_time(batch: Path) -> None:
    first = ranking.lock(batch, person="lena", force=True)["ranked_at_utc"]
    ranking.unlock(batch, person="lena")
    again = ranking.lock(batch, person="lena", force=True)["ranked_at_utc"]
    assert again is not None and again >= first
    assert [e["action"] for e in _consistent(batch)] == ["lock", "unlock", "lock"]


def test_unlock_removes_the_sentinel_durably(batch: Path) -> None:
    store.lock_batch(batch)
    store.unlock_batch(batch)
    store.unlock_batch(batch)  # idempotent
    assert not (batch / store.LOCKED_NAME).exists()


# --- undo --------------------------------------------------------------------------------------


def test_undo_restores_the_line_on_disk_and_in_links(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, B, 2, person="alice")
    before = _metadata_ranks(batch)
    ranking.set_rank(batch, C, 1, person="alice")  # C:1, A:2, B:3
    change = ranking.undo(batch, person="alice")
    assert change.line == "Line_1" and change.moves == {A: (2, 1), B: (3, 2), C: (1, None)}
    assert {t["file"]: t["rank"] for t in change.takes} == {
        f: r for f, r in before.items() if f.startswith("Line_1_")}
    assert [t["take_number"] for t in change.takes] == [1, 2, 3, 4, 5, 6]
    assert _metadata_ranks(batch) == before
    assert ranked_on_disk(batch) == {A: 1, B: 2}
    saved = {t["file"]: t for t in store.load_metadata(batch)["takes"]}
    assert saved[A]["ranked_by"] == "alice" and saved[C]["ranked_by"] is None
    undo = _consistent(batch)[-1]
    assert undo["action"] == "undo" and undo["undoes"] == 3 and undo["person"] == "alice"
    assert undo["line"] == "Line_1" and undo["take"] == C
    assert undo["before"] == {A: 2, B: 3, C: 1} and undo["after"] == {A: 1, B: 2, C: None}


def test_undo_again_walks_further_back_then_says_nothing_is_left(batch: Path) -> None:
    states = [_metadata_ranks(batch)]
    for name, rank in ((A, 1), (L2[0], 2), (B, 1), (A, None)):
        ranking.set_rank(batch, name, rank, person="alice")
        states.append(_metadata_ranks(batch))
    for expected in reversed(states[:-1]):
        ranking.undo(batch, person="alice")
        assert _metadata_ranks(batch) == expected
        assert ranked_on_disk(batch) == {f: r for f, r in expected.items() if r is not None}
    with pytest.raises(UndoRefused, match="nothing to undo"):
        ranking.undo(batch, person="alice")
    entries = _consistent(batch)
    assert [e.get("undoes") for e in entries[4:]] == [4, 3, 2, 1]


def test_a_change_after_an_undo_is_undone_first(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, B, 1, person="alice")
    ranking.undo(batch, person="alice")  # back to {A: 1}
    ranking.set_rank(batch, C, 3, person="alice")
    ranking.undo(batch, person="alice")  # takes back C, not the undo
    assert {f: r for f, r in _metadata_ranks(batch).items() if r} == {A: 1}
    ranking.undo(batch, person="alice")  # then A
    assert ranks_in(store.load_metadata(batch)) == {}
    _consistent(batch)


def test_undo_is_refused_naming_who_changed_the_line_since(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, B, 1, person="bob")
    bob_time = history.read(batch)[-1]["time"]
    before = (batch / store.METADATA_NAME).read_bytes()
    with pytest.raises(UndoRefused) as caught:
        ranking.undo(batch, person="alice")
    when = datetime.fromisoformat(bob_time).strftime("%Y-%m-%d %H:%M UTC")
    assert str(caught.value) == f"line Line_1 was changed since by bob at {when}"
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert len(history.read(batch)) == 2
    ranking.undo(batch, person="bob")  # bob's own change is his to take back
    assert ranks_in(store.load_metadata(batch)) == {A: 1}


def test_one_persons_undo_leaves_anothers_lines_alone(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, L2[0], 1, person="bob")
    ranking.set_rank(batch, L2[1], 1, person="bob")
    ranking.set_rank(batch, B, 2, person="alice")
    bobs = {f: r for f, r in _metadata_ranks(batch).items() if f.startswith("Line_2_")}
    ranking.undo(batch, person="alice")
    ranking.undo(batch, person="alice")
    assert ranks_in(store.load_metadata(batch)) == {L2[1]: 1, L2[0]: 2}
    assert {f: r for f, r in _metadata_ranks(batch).items() if f.startswith("Line_2_")} == bobs
    saved = {t["file"]: t for t in store.load_metadata(batch)["takes"]}
    assert saved[L2[0]]["ranked_by"] == saved[L2[1]]["ranked_by"] == "bob"
    with pytest.raises(UndoRefused, match="nothing to undo"):
        ranking.undo(batch, person="alice")
    _consistent(batch)


def test_undo_ignores_lock_and_unlock_and_is_refused_on_a_locked_batch(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="lena")
    ranking.lock(batch, person="lena", force=True)
    with pytest.raises(BatchLocked):
        ranking.undo(batch, person="lena")
    ranking.unlock(batch, person="lena")
    ranking.undo(batch, person="lena")  # takes back the rank, not the unlock
    assert ranks_in(store.load_metadata(batch)) == {} and not store.is_locked(batch)
    assert [e["action"] for e in _consistent(batch)] == ["rank", "lock", "unlock", "undo"]


def test_undo_refuses_a_line_changed_outside_the_history(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    data = store.load_metadata(batch)
    next(t for t in data["takes"] if t["file"] == A)["rank"] = 4  # by hand
    store.save_metadata(batch, data)
    with pytest.raises(UndoRefused, match="changed outside the history"):
        ranking.undo(batch, person="alice")


def test_undo_does_not_take_back_the_baseline(root: Path) -> None:
    batch = make_batch(root, ranks={"Line_1_take_1.mp3": 1})
    ranking.set_rank(batch, "Line_1_take_2.mp3", 1, person="voicelab")
    ranking.undo(batch, person="voicelab")
    with pytest.raises(UndoRefused, match="nothing to undo"):
        ranking.undo(batch, person="voicelab")
    assert ranks_in(store.load_metadata(batch)) == {"Line_1_take_1.mp3": 1}


def test_plan_undo_is_pure_and_names_the_latest_other_change() -> None:
    def entry(seq: int, person: str, line: str | None, action: str = "rank",
              **extra: Any) -> dict[str, Any]:
        return {"seq": seq, "time": f"2026-11-29T10:0{seq}:00.000Z", "person": person,
                "action": action, "line": line, "take": None, "before": {}, "after": {},
                "revision": seq, **extra}

    entries = [
        entry(1, "alice", "L1", before={"a": None}, after={"a": 1}),
        entry(2, "bob", "L1"), entry(3, "carol", "L1"), entry(4, "dan", "L2"),
        entry(5, "eve", None, "lock"),
    ]
    frozen = repr(entries)
    with pytest.raises(UndoRefused, match="changed since by carol at 2026-11-29 10:03 UTC"):
        history.plan_undo(entries, "alice", {"a": 1})
    plan = history.plan_undo(entries[:1], "alice", {"a": 1, "b": None})
    assert plan == history.UndoPlan(undoes=1, line="L1", take=None, moves={"a": (1, None)})
    assert repr(entries) == frozen


# --- crash left-overs and damage ---------------------------------------------------------------


def test_an_entry_left_by_a_crash_before_the_save_is_ignored_then_dropped(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    # A crash between the append and the save: the entry is there, the metadata is not.
    history.append(batch, history.make_entry(
        person="alice", action="rank", line="Line_1", take=B, moves={B: (None, 1)},
        revision=2))
    assert len((batch / "history.jsonl").read_bytes().splitlines()) == 2
    assert [e["seq"] for e in history.read(batch)] == [1]  # readers ignore it
    ranking.set_rank(batch, C, 2, person="bob")  # the next append drops it
    raw = (batch / "history.jsonl").read_bytes().splitlines()
    assert len(raw) == 2 and b'"bob"' in raw[1]
    entries = _consistent(batch)
    assert [(e["seq"], e["person"], e["revision"]) for e in entries] == [
        (1, "alice", 1), (2, "bob", 2)]


def test_a_torn_last_line_is_ignored_then_dropped(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    with open(batch / "history.jsonl", "ab") as handle:
        handle.write(b'{"seq": 2, "time": "2026-')
    assert len(history.read(batch)) == 1
    ranking.set_rank(batch, B, 2, person="alice")
    assert [e["seq"] for e in _consistent(batch)] == [1, 2]
    assert b"2026-\n" not in (batch / "history.jsonl").read_bytes()


def test_a_left_over_behind_a_long_line_is_found_from_the_tail(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "_TAIL_CHUNK", 64)  # so the baseline is longer than a read
    ranks = {f"Line_{i}_take_{n}.mp3": n for i in range(1, 5) for n in range(1, 5)}
    batch = make_batch(root, lines=4, takes_per_line=5, ranks=ranks)
    ranking.set_rank(batch, "Line_1_take_5.mp3", 1, person="alice")
    assert len((batch / "history.jsonl").read_bytes().splitlines()[0]) > 4 * 64
    history.append(batch, history.make_entry(person="x", action="lock", revision=2))
    with open(batch / "history.jsonl", "ab") as handle:
        handle.write(b"\0\0\0\n{")
    ranking.set_rank(batch, "Line_2_take_5.mp3", 1, person="bob")
    entries = _consistent(batch)
    assert [(e["seq"], e["action"], e["person"]) for e in entries] == [
        (1, "baseline", "voicelab"), (2, "rank", "alice"), (3, "rank", "bob")]


def test_a_damaged_line_inside_the_history_is_a_clear_error(batch: Path) -> None:
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, B, 2, person="alice")
    path = batch / "history.jsonl"
    _first, second = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"not json\n" + second)
    with pytest.raises(MetadataError, match="line 1 is not a history entry"):
        history.read(batch)


def test_a_bad_entry_is_refused_before_anything_is_written(batch: Path) -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        history.append(batch, {"person": "a", "action": "dance", "revision": 1,
                               "before": {}, "after": {}})
    with pytest.raises(ValueError, match="which seq it undoes"):
        history.append(batch, history.make_entry(person="a", action="undo", revision=1))
    assert not (batch / "history.jsonl").exists()


def test_format_entries_is_a_readable_table(batch: Path) -> None:
    assert history.format_entries([]) == "no changes recorded"
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, B, 1, person="bob")
    ranking.undo(batch, person="bob")
    ranking.lock(batch, person="lena", force=True)
    text = history.format_entries(history.read(batch))
    rows = text.splitlines()
    assert rows[0].split() == ["#", "time", "(UTC)", "person", "action", "line", "take",
                               "ranks", "before->after"]
    assert len(rows) == 5
    assert "bob" in rows[2] and "Line_1_take_2.mp3" in rows[2]
    assert rows[2].endswith("take_2: - -> 1, take_1: 1 -> 2")
    assert rows[3].endswith("take_2: 1 -> -, take_1: 2 -> 1 (undoes #2)")
    assert "lena" in rows[4] and "lock" in rows[4]
    assert datetime.fromisoformat(history.read(batch)[0]["time"]).strftime(
        "%Y-%m-%d %H:%M:%S") in rows[1]


# --- the property: whatever happens, the history replays to the metadata -----------------------

PERSONS = ["ann", "ben", "cat"]
P_FILES = [f"Line_{i}_take_{n}.mp3" for i in (1, 2) for n in range(1, 6)]
_steps = st.lists(
    st.tuples(
        st.sampled_from(["rank"] * 6 + ["undo"] * 3 + ["lock", "unlock"]),
        st.sampled_from(PERSONS),
        st.sampled_from(P_FILES),
        st.sampled_from([None, 1, 2, 3, 4, 5]),
    ),
    max_size=24,
)


def _line(name: str) -> str:
    return name.split("_take_")[0]


@pytest.mark.timeout(120)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_steps, ranked_before=st.booleans())
def test_random_changes_undos_and_locks_always_replay_to_the_metadata(
    steps: list[tuple[str, str, str, int | None]], ranked_before: bool
) -> None:
    with fast_dir() as root:
        initial = {"Line_1_take_1.mp3": 1, "Line_2_take_3.mp3": 2} if ranked_before else {}
        batch = make_batch(root, lines=2, takes_per_line=5, ranks=initial)
        snapshots: dict[int, dict[str, int | None]] = {}  # seq -> all ranks before it
        locked = False
        for kind, person, name, rank in steps:
            now = _metadata_ranks(batch)
            seen = history.read(batch)
            if kind == "lock":
                ranking.lock(batch, person=person, force=True)
                locked = True
            elif kind == "unlock":
                ranking.unlock(batch, person=person)
                locked = False
            elif locked:
                with pytest.raises(BatchLocked):
                    if kind == "rank":
                        ranking.set_rank(batch, name, rank, person=person)
                    else:
                        ranking.undo(batch, person=person)
            elif kind == "rank":
                ranking.set_rank(batch, name, rank, person=person)
            else:
                try:
                    change = ranking.undo(batch, person=person)
                except UndoRefused as refused:
                    assert _metadata_ranks(batch) == now and history.read(batch) == seen
                    message = str(refused)
                    if "changed since by" in message:
                        assert f"by {person} at" not in message
                    else:
                        assert message.startswith("nothing to undo")
                else:
                    undone = history.read(batch)[-1]["undoes"]
                    target = next(e for e in seen if e["seq"] == undone)
                    assert target["person"] == person and target["action"] in ("rank", "clear")
                    others = [e for e in seen if e["seq"] > undone
                              and e["line"] == change.line and e["person"] != person]
                    assert others == []
                    assert _metadata_ranks(batch) == {
                        f: snapshots[undone][f] if _line(f) == change.line else r
                        for f, r in now.items()}
            entries = _consistent(batch)
            assert store.is_locked(batch) == locked
            for entry in entries[len(seen):]:
                snapshots[entry["seq"]] = now
        entries = _consistent(batch)
        assert [e["seq"] for e in entries if e["action"] == "baseline"] == [1] * ranked_before


# --- real processes ranking one batch at once --------------------------------------------------


def _ranker(batch: str, person: str, seed: int, go: Any, results: Any) -> None:
    rng = random.Random(seed)
    written = 0
    go.wait(30)
    for _ in range(MP_CHANGES):
        if rng.random() < 0.2:
            try:
                ranking.undo(Path(batch), person=person)
                written += 1
            except UndoRefused:
                pass
        else:
            change = ranking.change_rank(Path(batch), rng.choice(P_FILES),
                                         rng.choice([None, 1, 2, 3, 4, 5]), person=person)
            written += bool(change.moves)
    results.put((person, written))


MP_CHANGES = 60


@pytest.mark.integration
@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers", [2, 4])
def test_processes_ranking_at_once_leave_a_history_that_replays(workers: int) -> None:
    context = multiprocessing.get_context("fork")
    with fast_dir() as root:
        batch = make_batch(root, lines=2, takes_per_line=5, ranks={"Line_1_take_2.mp3": 1})
        go, results = context.Event(), context.Queue()
        procs = [context.Process(target=_ranker, args=(str(batch), PERSONS[w % 3] + str(w), w,
                                                        go, results))
                 for w in range(workers)]
        for proc in procs:
            proc.start()
        go.set()
        written = dict(results.get(timeout=100) for _ in procs)
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0
        entries = _consistent(batch)  # replays to metadata, links agree, seqs 1..N
        assert entries[0]["action"] == "baseline"
        assert len(entries) == 1 + sum(written.values())
        for person, count in written.items():
            assert len([e for e in entries if e["person"] == person]) == count
        assert [e["revision"] for e in entries[1:]] == list(range(1, len(entries)))
        assert fsck.check_batch(batch).problems == []


# --- voicelab history --------------------------------------------------------------------------


def test_the_history_command_prints_a_table_and_json(run, batch: Path) -> None:  # noqa: F811
    code, out, _ = run("history", batch.name)
    assert code == 0 and out.strip() == "no changes recorded"
    ranking.set_rank(batch, A, 1, person="alice")
    ranking.set_rank(batch, B, 1, person="bob")
    ranking.lock(batch, person="lena", force=True)
    code, out, _ = run("history", batch.name, "--json")
    assert code == 0 and json.loads(out) == history.read(batch)
    assert [e["person"] for e in json.loads(out)] == ["alice", "bob", "lena"]
    code, out, _ = run("history", batch.name)
    assert code == 0 and out == history.format_entries(history.read(batch)) + "\n"
    assert "take_2: - -> 1, take_1: 1 -> 2" in out


def test_the_history_command_names_an_unknown_batch(run) -> None:  # noqa: F811
    code, out, err = run("history", "20260101-000000-nope")
    assert code == 1 and out == ""
    assert err.strip() == "error: no batch with id '20260101-000000-nope'"
