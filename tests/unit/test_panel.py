"""Rating panels, the core: opening, raters' own ranks, the consensus, undo, a lead's decisions,
what each person may see, and the history that replays to all of it (voicelab.panel)."""

from __future__ import annotations

import json
import multiprocessing
import random
from pathlib import Path

import pytest

from tests.batches import fast_dir, make_batch, ranked_on_disk, ranks_in
from voicelab import fsck, history, panel, ranking, store
from voicelab.errors import (
    BatchLocked,
    InvalidRank,
    LineClosed,
    MetadataError,
    NotARater,
    PanelRefused,
    UndoRefused,
    UnknownTake,
)
from voicelab.panel import consensus

RATERS = ["alice", "bob", "carol"]


def take(line: int, number: int) -> str:
    return f"Line_{line}_take_{number}.mp3"


def raw(batch: Path) -> bytes:
    return (batch / store.METADATA_NAME).read_bytes()


def own(batch: Path, rater: str) -> dict[str, int]:
    return {t["file"]: t["ranks_by"][rater] for t in store.load_metadata(batch)["takes"]
            if rater in (t.get("ranks_by") or {})}


def check_sound(batch: Path) -> None:
    """fsck is clean and the history replays to the consensus and to every rater's ranks."""
    assert fsck.check_batch(batch).ok, fsck.check_batch(batch).problems
    metadata = store.load_metadata(batch)
    entries = history.read(batch)
    assert history.replay(entries, [t["file"] for t in metadata["takes"]]) == {
        t["file"]: t["rank"] for t in metadata["takes"]}
    replayed = {name: ranks for name, ranks in history.replay_raters(entries).items() if ranks}
    assert replayed == {name: ranks for name in metadata["panel"]["raters"]
                        if (ranks := own(batch, name))}
    assert ranked_on_disk(batch) == ranks_in(metadata)


@pytest.fixture
def batch(root: Path) -> Path:
    path = make_batch(root, lines=3, takes_per_line=5)
    panel.open_panel(path, RATERS, person="lena")
    return path


# --- opening a panel -------------------------------------------------------------------------


def test_a_panel_opens_blind_by_default_with_its_raters_and_is_recorded(root: Path) -> None:
    path = make_batch(root)
    metadata = panel.open_panel(path, "alice, bob", person="lena")
    stored = store.load_metadata(path)["panel"]
    assert stored == metadata["panel"]
    assert stored["raters"] == ["alice", "bob"] and stored["blind"] is True
    assert stored["opened_by"] == "lena" and stored["method"] == "borda"
    assert [e["action"] for e in history.read(path)] == ["panel"]
    assert panel.open_panel(make_batch(root), ["x"], blind=False)["panel"]["blind"] is False


def test_solo_ranks_become_the_openers_ranking_and_seed_the_consensus(root: Path) -> None:
    path = make_batch(root, ranks={take(1, 2): 1, take(1, 3): 3, take(2, 1): 1})
    panel.open_panel(path, RATERS, person="lena")
    metadata = store.load_metadata(path)
    assert metadata["panel"]["raters"] == [*RATERS, "lena"]
    assert own(path, "lena") == {take(1, 2): 1, take(1, 3): 3, take(2, 1): 1}
    # one rater's ranks 1 and 3 give the consensus 1 and 2: ranks are positions
    assert ranks_in(metadata) == {take(1, 2): 1, take(1, 3): 2, take(2, 1): 1}
    check_sound(path)


@pytest.mark.parametrize(("raters", "words"), [
    ([], "at least one rater"), ("", "at least one rater"), (["alice", "alice"], "named twice"),
    (["alice", ""], "1-64 characters"), ([3], "1-64 characters"), ({"a": 1}, "a list"),
    ([f"r{i}" for i in range(panel.MAX_RATERS + 1)], "at most"),
])
def test_bad_raters_are_refused_saying_why_and_change_nothing(
        root: Path, raters: object, words: str) -> None:
    path = make_batch(root)
    before = raw(path)
    with pytest.raises(PanelRefused, match=words):
        panel.open_panel(path, raters)
    assert raw(path) == before and not history.history_path(path).exists()


def test_a_second_panel_and_a_locked_batch_are_refused(batch: Path, root: Path) -> None:
    before = raw(batch)
    with pytest.raises(PanelRefused, match="already ranked by a panel \\(alice, bob, carol\\)"):
        panel.open_panel(batch, ["dan"])
    assert raw(batch) == before
    locked = make_batch(root, locked=True)
    with pytest.raises(BatchLocked):
        panel.open_panel(locked, ["dan"])
    assert "panel" not in store.load_metadata(locked)


def test_the_schema_refuses_a_broken_panel_object(batch: Path) -> None:
    data = store.load_metadata(batch)
    for bad in ({"raters": [], "blind": True}, {"raters": ["a", "a"], "blind": True},
                {"raters": ["a"], "blind": "yes"}, {"raters": ["a"], "blind": True, "lines": []}):
        with pytest.raises(MetadataError, match="panel"):
            store.save_metadata(batch, {**data, "panel": bad})
    bad_take = json.loads(json.dumps(data))
    bad_take["takes"][0]["ranks_by"] = {"alice": 1}
    bad_take["takes"][1]["ranks_by"] = {"alice": 1}
    with pytest.raises(MetadataError, match="alice's rank 1 of line 'Line_1' is also held"):
        store.save_metadata(batch, bad_take)


# --- raters rank, the consensus follows ------------------------------------------------------


def test_three_raters_give_the_hand_computed_borda_consensus(batch: Path) -> None:
    # alice: t1 1, t2 2, t3 3; bob: t2 1, t1 2; carol: t3 1, t2 2, t4 3
    # points (6 - rank): t1 5+4 = 9, t2 4+5+4 = 13, t3 3+5 = 8, t4 3, t5 0
    for rater, order in (("alice", [1, 2, 3]), ("bob", [2, 1]), ("carol", [3, 2, 4])):
        for rank, number in enumerate(order, start=1):
            panel.rate(batch, take(1, number), rank, person=rater)
    metadata = store.load_metadata(batch)
    line = {t["file"]: t for t in metadata["takes"] if t["line"] == "Line_1"}
    assert {f: t["rank"] for f, t in line.items()} == {
        take(1, 2): 1, take(1, 1): 2, take(1, 3): 3, take(1, 4): 4, take(1, 5): None}
    assert {t["ranked_by"] for t in line.values() if t["rank"]} == {panel.PANEL_NAME}
    assert line[take(1, 2)]["ranks_by"] == {"alice": 2, "bob": 1, "carol": 2}
    assert ranked_on_disk(batch) == ranks_in(metadata)
    check_sound(batch)


def test_borda_breaks_ties_by_first_places_then_take_order() -> None:
    files = [f"t{i}" for i in range(1, 6)]
    ranks = {"alice": {f: i for i, f in enumerate(files, start=1)},
             "bob": {f: 6 - i for i, f in enumerate(files, start=1)}}  # every take 6 points
    assert consensus.borda(ranks, files) == {"t1": 1, "t5": 2, "t2": 3, "t4": 4, "t3": 5}
    assert consensus.borda({"a": {"t2": 1}, "b": {"t1": 1}}, files)["t1"] == 1  # take order
    assert consensus.borda({"a": {"t2": 1}, "b": {"t2": 2, "t1": 1}}, files) == {
        "t1": 2, "t2": 1, "t3": None, "t4": None, "t5": None}


def test_kendalls_w_is_one_for_agreement_and_zero_for_opposites() -> None:
    files = ["a", "b", "c"]
    same = {name: {"a": 1, "b": 2, "c": 3} for name in ("x", "y", "z")}
    assert consensus.kendalls_w(same, files) == 1.0
    assert consensus.kendalls_w({"x": {"a": 1, "b": 2}, "y": {"b": 1, "a": 2}}, ["a", "b"]) == 0
    assert consensus.kendalls_w({"x": {"a": 1}}, files) is None  # one rater: no agreement
    assert consensus.rater_tau({"a": 1, "b": 2, "c": 3}, {"a": 3, "b": 2, "c": 1}, files) == -1


def test_a_raters_cascade_moves_only_their_own_ranks(batch: Path) -> None:
    panel.rate(batch, take(1, 1), 1, person="bob")
    panel.rate(batch, take(1, 1), 1, person="alice")
    panel.rate(batch, take(1, 2), 2, person="alice")
    panel.rate(batch, take(1, 3), 1, person="alice")  # alice: t3 1, t1 2, t2 3
    assert own(batch, "alice") == {take(1, 3): 1, take(1, 1): 2, take(1, 2): 3}
    assert own(batch, "bob") == {take(1, 1): 1}
    panel.rate(batch, take(1, 1), None, person="alice")
    assert own(batch, "alice") == {take(1, 3): 1, take(1, 2): 3}
    check_sound(batch)


@pytest.mark.parametrize(("call", "error"), [
    (lambda b: panel.rate(b, take(1, 1), 1, person="mallory"), NotARater),
    (lambda b: panel.rate(b, "nope.mp3", 1, person="alice"), UnknownTake),
    (lambda b: panel.rate(b, take(1, 1), 6, person="alice"), InvalidRank),
    (lambda b: panel.rate(b, take(1, 1), True, person="alice"), InvalidRank),
    (lambda b: ranking.change_rank(b, take(1, 1), 1, person="alice"), PanelRefused),
    (lambda b: ranking.undo(b, person="alice"), PanelRefused),
    (lambda b: panel.close_line(b, "Line_9"), PanelRefused),
])
def test_refused_changes_change_nothing(batch: Path, call, error) -> None:  # type: ignore[no-untyped-def]
    panel.rate(batch, take(1, 2), 1, person="alice")
    before, entries = raw(batch), len(history.read(batch))
    with pytest.raises(error):
        call(batch)
    assert raw(batch) == before and len(history.read(batch)) == entries


def test_a_non_rater_is_told_who_the_raters_are(batch: Path) -> None:
    with pytest.raises(NotARater, match="ranked by a panel \\(alice, bob, carol\\)"):
        panel.rate(batch, take(1, 1), 1, person="dana")


def test_solo_batches_rank_through_panel_rate_exactly_as_before(root: Path) -> None:
    path = make_batch(root)
    change = panel.rate(path, take(1, 1), 1, person="dana")
    panel.rate(path, take(1, 2), 1, person="dana")
    assert ranks_in(store.load_metadata(path)) == {take(1, 2): 1, take(1, 1): 2}
    assert change.revision == 1 and "panel" not in store.load_metadata(path)
    assert "ranks_by" not in store.load_metadata(path)["takes"][0]
    panel.undo(path, person="dana")
    assert ranks_in(store.load_metadata(path)) == {take(1, 1): 1}


# --- undo, a lead's decisions, lock ----------------------------------------------------------


def test_a_rater_undoes_their_own_change_even_after_others_ranked_the_line(batch: Path) -> None:
    panel.rate(batch, take(1, 1), 1, person="alice")
    panel.rate(batch, take(1, 2), 1, person="alice")
    panel.rate(batch, take(1, 3), 1, person="bob")
    panel.undo(batch, person="alice")
    assert own(batch, "alice") == {take(1, 1): 1}
    assert own(batch, "bob") == {take(1, 3): 1}
    panel.undo(batch, person="alice")
    assert own(batch, "alice") == {}
    with pytest.raises(UndoRefused, match="nothing to undo"):
        panel.undo(batch, person="alice")
    check_sound(batch)


def test_override_sets_final_ranks_closes_the_line_and_reopen_recomputes(batch: Path) -> None:
    panel.rate(batch, take(1, 1), 1, person="alice")
    panel.rate(batch, take(1, 1), 1, person="bob")
    panel.override(batch, take(1, 4), 1, person="lena")
    metadata = store.load_metadata(batch)
    assert ranks_in(metadata) == {take(1, 4): 1, take(1, 1): 2}
    state = metadata["panel"]["lines"]["Line_1"]
    assert state["closed_by"] == "lena" and state["override"] is True
    assert next(t for t in metadata["takes"] if t["file"] == take(1, 4))["ranked_by"] == "lena"
    with pytest.raises(LineClosed, match="closed by lena"):
        panel.rate(batch, take(1, 2), 1, person="carol")
    with pytest.raises(UndoRefused, match="changed since by lena"):
        panel.undo(batch, person="bob")
    panel.rate(batch, take(2, 1), 1, person="carol")  # other lines stay open
    panel.reopen_line(batch, "Line_1", person="lena")
    assert ranks_in(store.load_metadata(batch))[take(1, 1)] == 1
    assert take(1, 4) not in ranks_in(store.load_metadata(batch))
    assert [e["action"] for e in history.read(batch)][-3:] == ["override", "rank", "reopen"]
    check_sound(batch)


def test_a_closed_line_keeps_its_consensus_until_reopened(batch: Path) -> None:
    panel.rate(batch, take(2, 3), 1, person="alice")
    panel.close_line(batch, "Line_2", person="lena")
    revision = store.load_metadata(batch)["revision"]
    panel.close_line(batch, "Line_2", person="lena")  # closing again writes nothing
    assert store.load_metadata(batch)["revision"] == revision
    with pytest.raises(LineClosed):
        panel.rate(batch, take(2, 1), 1, person="bob")
    assert ranks_in(store.load_metadata(batch)) == {take(2, 3): 1}
    check_sound(batch)


def test_lock_freezes_the_consensus_and_every_rater(batch: Path) -> None:
    panel.rate(batch, take(1, 2), 1, person="alice")
    ranking.lock(batch, person="lena", force=True)
    before = raw(batch)
    for call in (lambda: panel.rate(batch, take(1, 1), 1, person="bob"),
                 lambda: panel.undo(batch, person="alice"),
                 lambda: panel.override(batch, take(1, 1), 1, person="lena"),
                 lambda: panel.close_line(batch, "Line_1", person="lena")):
        with pytest.raises(BatchLocked):
            call()
    assert raw(batch) == before
    assert ranks_in(store.load_metadata(batch)) == {take(1, 2): 1}


def test_fsck_names_a_rank_that_is_not_the_consensus_and_a_stranger(batch: Path) -> None:
    panel.rate(batch, take(1, 2), 1, person="alice")
    data = store.load_metadata(batch)
    for t in data["takes"]:
        if t["file"] == take(3, 1):
            t["ranks_by"] = {"mallory": 1}
    store.save_metadata(batch, data)
    problems = fsck.check_batch(batch).problems
    assert any("mallory" in p and "not raters" in p for p in problems)
    data["takes"][0]["ranks_by"] = {"alice": 1}
    data["takes"][1]["ranks_by"] = {}
    store.save_metadata(batch, data)
    assert any("line Line_1" in p and "consensus" in p for p in fsck.check_batch(batch).problems)


# --- what each person sees -------------------------------------------------------------------


def test_a_blind_raters_view_holds_no_file_settings_seed_or_other_ranks(root: Path) -> None:
    path = make_batch(root, lines=2, takes_per_line=4)
    panel.open_panel(path, RATERS, person="lena")
    panel.rate(path, take(1, 1), 1, person="bob")
    panel.rate(path, take(1, 2), 2, person="carol")
    panel.rate(path, take(1, 3), 1, person="alice")
    metadata = store.load_metadata(path)
    view = panel.rater_metadata(metadata, name="alice", blind=True)
    text = json.dumps(view)
    for secret in ("take_", ".mp3", "stability", "seed", "bob", "carol", "order_key",
                   metadata["panel"]["order_key"], "ranks_by", "ranked_by"):
        assert secret not in text, secret
    ranked = [t for t in view["takes"] if t["rank"] is not None]
    assert len(ranked) == 1 and ranked[0]["rank"] == 1  # alice's own, not the consensus
    assert panel.resolve_blind(metadata, "alice", ranked[0]["id"]) == take(1, 3)
    assert panel.resolve_blind(metadata, "bob", ranked[0]["id"]) is None
    assert [t["label"] for t in view["takes"]] == ["A", "B", "C", "D"] * 2


def test_blind_order_is_stable_per_rater_and_differs_between_raters(root: Path) -> None:
    path = make_batch(root, lines=6, takes_per_line=6)
    panel.open_panel(path, RATERS, person="lena")
    metadata = store.load_metadata(path)

    def order(rater: str) -> list[str]:
        return [t["file"] for t, _id, _label in panel.blind_lines(metadata, rater)]

    assert order("alice") == order("alice")
    assert order("alice") != order("bob") != order("carol")
    assert order("alice") != [t["file"] for t in metadata["takes"]]
    assert sorted(order("alice")) == sorted(t["file"] for t in metadata["takes"])
    lines = [t["line"] for t, _id, _label in panel.blind_lines(metadata, "alice")]
    assert lines == sorted(lines)  # lines stay in script order, only takes are shuffled


@pytest.mark.parametrize(("role", "locked", "expected"), [
    ("lead", False, "lead"), ("lead", True, "lead"), ("designer", False, "blind"),
    ("viewer", False, "blind"), ("designer", True, "solo")])
def test_view_modes(batch: Path, role: str, locked: bool, expected: str) -> None:
    metadata = store.load_metadata(batch)
    assert panel.view_mode(metadata, locked=locked, name="alice", role=role) == expected
    metadata["panel"]["blind"] = False
    if expected == "blind":
        assert panel.view_mode(metadata, locked=locked, name="alice", role=role) == "rater"
    metadata.pop("panel")
    assert panel.view_mode(metadata, locked=locked, name="alice", role=role) == "solo"


def test_the_consensus_report_and_disagreements(batch: Path) -> None:
    for rater in RATERS:  # everyone agrees on line 1
        panel.rate(batch, take(1, 1), 1, person=rater)
        panel.rate(batch, take(1, 2), 2, person=rater)
    panel.rate(batch, take(2, 1), 1, person="alice")  # line 2: opposite orders
    panel.rate(batch, take(2, 2), 2, person="alice")
    panel.rate(batch, take(2, 2), 1, person="bob")
    panel.rate(batch, take(2, 1), 2, person="bob")
    report = panel.consensus_report(store.load_metadata(batch))
    lines = {line["line"]: line for line in report["lines"]}
    assert lines["Line_1"]["agreement"] == 1.0
    assert lines["Line_2"]["agreement"] < 0.5
    assert lines["Line_3"]["agreement"] is None and lines["Line_3"]["raters_ranked"] == []
    assert lines["Line_2"]["ranks_by"]["bob"] == {take(2, 2): 1, take(2, 1): 2}
    assert [line["line"] for line in panel.disagreements(report)] == ["Line_2", "Line_1"]
    assert report["progress"] == {"alice": {"done": 2, "total": 3},
                                  "bob": {"done": 2, "total": 3},
                                  "carol": {"done": 1, "total": 3}}
    assert report["rater_agreement"]["carol"] == 1.0
    assert panel.consensus_report(store.load_metadata(make_batch(batch.parents[2]))) == {}


# --- many changes, many processes ------------------------------------------------------------


def test_random_panel_sessions_keep_every_rule(root: Path) -> None:
    path = make_batch(root, lines=2, takes_per_line=6)
    panel.open_panel(path, RATERS, person="lena")
    rng = random.Random(14)
    files = [take(line, n) for line in (1, 2) for n in range(1, 7)]
    for _ in range(120):
        who, roll = rng.choice(RATERS), rng.random()
        try:
            if roll < 0.7:
                panel.rate(path, rng.choice(files), rng.choice([1, 2, 3, 4, 5, None]), person=who)
            elif roll < 0.85:
                panel.undo(path, person=who)
            elif roll < 0.93:
                panel.override(path, rng.choice(files), rng.randint(1, 5), person="lena")
            else:
                panel.reopen_line(path, rng.choice(["Line_1", "Line_2"]), person="lena")
        except (UndoRefused, LineClosed):
            pass
    check_sound(path)


def _rate_many(batch: str, rater: str, line: int) -> None:
    for number in range(1, 6):
        panel.rate(Path(batch), take(line, number), number, person=rater)


def test_raters_in_separate_processes_lose_nothing() -> None:
    with fast_dir() as root:
        path = make_batch(root, lines=3, takes_per_line=5)
        panel.open_panel(path, RATERS, person="lena")
        context = multiprocessing.get_context("fork")  # nine processes, not nine interpreters
        workers = [context.Process(target=_rate_many, args=(str(path), rater, line))
                   for rater in RATERS for line in (1, 2, 3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
            assert worker.exitcode == 0
        for rater in RATERS:
            assert own(path, rater) == {take(line, n): n for line in (1, 2, 3)
                                        for n in range(1, 6)}
        assert ranks_in(store.load_metadata(path)) == {
            take(line, n): n for line in (1, 2, 3) for n in range(1, 6)}
        assert len(history.read(path)) == 1 + 45
        check_sound(path)


def test_export_of_a_locked_panel_batch_takes_the_consensus(batch: Path, tmp_path: Path) -> None:
    from voicelab.delivery import deliver, rows

    panel.rate(batch, take(1, 3), 1, person="alice")
    panel.rate(batch, take(1, 3), 1, person="bob")
    panel.rate(batch, take(1, 2), 1, person="carol")  # consensus: t3 (10 points) over t2 (5)
    panel.override(batch, take(2, 5), 1, person="lena")
    ranking.lock(batch, person="lena", force=True)
    result = deliver.export_batch(batch, tmp_path / "out")
    chosen = {row["line"]: row for row in rows.selects(store.load_metadata(batch))}
    assert chosen["Line_1"]["take_file"] == take(1, 3)
    assert chosen["Line_2"]["take_file"] == take(2, 5)
    assert result.exported == ["Line_1.mp3", "Line_2.mp3"] and result.missing == ["Line_3"]
    assert (result.folder / "Line_1.mp3").read_bytes() == (
        batch / store.TAKES_DIR / take(1, 3)).read_bytes()


def test_the_batch_listing_says_a_batch_is_a_panel_but_not_who_rates(batch: Path) -> None:
    record = next(r for r in store.find_batches(batch.parents[2]) if r["path"] == str(batch))
    assert record["panel"] == {"raters": 3, "blind": True}
    assert "alice" not in json.dumps(record)


def test_a_raters_view_of_an_open_panel_shows_no_consensus_time(batch: Path) -> None:
    panel.rate(batch, take(1, 1), 1, person="bob")
    view = panel.rater_metadata(store.load_metadata(batch), name="alice", blind=False)
    assert {t["ranked_at"] for t in view["takes"]} == {None}
    assert {t["rank"] for t in view["takes"]} == {None}
    assert view["takes"][0]["generation_settings"]["stability"] == 0.4


def test_solo_changes_from_before_the_panel_cannot_be_undone_on_it(root: Path) -> None:
    path = make_batch(root)
    ranking.change_rank(path, take(1, 1), 1, person="dana")
    panel.open_panel(path, RATERS, person="lena")
    before = raw(path)
    for person in ("dana", "lena"):
        with pytest.raises(UndoRefused, match="nothing to undo"):
            panel.undo(path, person=person)
    assert raw(path) == before
    assert own(path, "lena") == {take(1, 1): 1}
    check_sound(path)


def test_rater_tau_is_scipys_kendall_tau_b() -> None:
    from scipy import stats

    rng = random.Random(3)
    for _ in range(200):
        n = rng.randint(2, 8)
        files = [f"t{i}" for i in range(n)]
        mine = {f: r for f, r in zip(rng.sample(files, n), range(1, 6), strict=False)
                if rng.random() < 0.8}
        theirs = {f: r for f, r in zip(rng.sample(files, n), range(1, 6), strict=False)}
        ours = consensus.rater_tau(mine, theirs, files)
        x = consensus.complete_ranking(mine, files)
        y = consensus.complete_ranking(theirs, files)
        if len(set(x)) < 2 or len(set(y)) < 2:
            assert ours is None
        else:
            assert ours == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-4)
