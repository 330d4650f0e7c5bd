"""voicelab.ranking on real batches: the per-line cascade (docs/design.md, decision 1), errors,
lock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.batches import make_batch, ranked_on_disk, ranks_in
from voicelab import ranking, store
from voicelab.errors import BatchLocked, InvalidRank, MetadataError, UnknownTake

A, B, C, D, E, F = (f"Line_1_take_{n}.mp3" for n in range(1, 7))


@pytest.fixture
def batch(root: Path) -> Path:
    """Line_1 has six takes A-F; the starting ranks {A:1, B:2, C:4} of the example in
    docs/design.md, decision 1."""
    return make_batch(root, lines=2, takes_per_line=6, ranks={A: 1, B: 2, C: 4})


def _line_ranks(takes: list[dict[str, object]]) -> dict[object, object]:
    return {t["file"]: t["rank"] for t in takes if t["rank"] is not None}


def test_design_example_cascades_down_and_fills_the_first_free_rank(batch: Path) -> None:
    assert _line_ranks(ranking.set_rank(batch, C, 1)) == {C: 1, A: 2, B: 3}
    assert _line_ranks(ranking.set_rank(batch, D, 2)) == {C: 1, D: 2, A: 3, B: 4}
    assert ranks_in(store.load_metadata(batch)) == {C: 1, D: 2, A: 3, B: 4}
    assert ranked_on_disk(batch) == {C: 1, D: 2, A: 3, B: 4}


def test_a_take_pushed_past_5_becomes_unranked(root: Path) -> None:
    batch = make_batch(root, takes_per_line=6, ranks={A: 1, B: 2, C: 3, D: 4, E: 5})
    takes = ranking.set_rank(batch, F, 1)
    assert _line_ranks(takes) == {F: 1, A: 2, B: 3, C: 4, D: 5}
    pushed_out = next(t for t in takes if t["file"] == E)
    assert pushed_out["rank"] is None and pushed_out["ranked_at"] is None
    assert ranked_on_disk(batch) == {F: 1, A: 2, B: 3, C: 4, D: 5}


def test_moving_a_take_down_frees_its_old_rank_without_closing_gaps(batch: Path) -> None:
    assert _line_ranks(ranking.set_rank(batch, A, 2)) == {A: 2, B: 3, C: 4}
    assert _line_ranks(ranking.set_rank(batch, B, 5)) == {A: 2, C: 4, B: 5}


def test_none_clears_a_rank_and_its_link(batch: Path) -> None:
    takes = ranking.set_rank(batch, B, None)
    assert _line_ranks(takes) == {A: 1, C: 4}
    assert next(t for t in takes if t["file"] == B)["ranked_at"] is None
    assert ranked_on_disk(batch) == {A: 1, C: 4}


def test_set_rank_returns_only_the_line_sorted_by_take_number(batch: Path) -> None:
    takes = ranking.set_rank(batch, "Line_2_take_4.mp3", 3)
    assert [t["file"] for t in takes] == [f"Line_2_take_{n}.mp3" for n in range(1, 7)]
    assert [t["take_number"] for t in takes] == [1, 2, 3, 4, 5, 6]
    assert ranks_in(store.load_metadata(batch)) == {A: 1, B: 2, C: 4, "Line_2_take_4.mp3": 3}


def test_ranked_at_changes_only_on_takes_whose_rank_changed(batch: Path) -> None:
    before = {t["file"]: t for t in store.load_metadata(batch)["takes"]}
    takes = {t["file"]: t for t in ranking.set_rank(batch, D, 2)}  # D in, B 2->3, C stays 4
    assert takes[A]["ranked_at"] == before[A]["ranked_at"]
    assert takes[C]["ranked_at"] == before[C]["ranked_at"]
    assert takes[B]["ranked_at"] == takes[D]["ranked_at"] != before[B]["ranked_at"]
    stamp = datetime.fromisoformat(str(takes[D]["ranked_at"]))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0


def test_only_the_changed_links_are_touched(batch: Path) -> None:
    def inode(rank: int, name: str) -> int:
        return (batch / "ranked" / f"0{rank}" / name).lstat().st_ino

    kept = inode(1, A), inode(4, C)
    change = ranking.change_rank(batch, D, 2)
    assert change.moves == {D: (None, 2), B: (2, 3)}
    assert (inode(1, A), inode(4, C)) == kept
    assert ranked_on_disk(batch) == {A: 1, D: 2, B: 3, C: 4}


def test_every_change_bumps_the_revision_and_a_no_op_writes_nothing(batch: Path) -> None:
    first = ranking.change_rank(batch, D, 3)
    second = ranking.change_rank(batch, E, 5)
    assert (first.revision, second.revision) == (1, 2)
    before = (batch / store.METADATA_NAME).stat()
    same = ranking.change_rank(batch, E, 5)
    assert same.moves == {} and same.revision == 2
    after = (batch / store.METADATA_NAME).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert store.load_metadata(batch)["revision"] == 2


@pytest.mark.parametrize("rank", [0, 6, -1, "3", 2.5, True, False, [1], "null"])
def test_invalid_ranks_are_refused_and_nothing_changes(batch: Path, rank: object) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    with pytest.raises(InvalidRank) as caught:
        ranking.set_rank(batch, A, rank)
    assert caught.value.value == rank
    assert repr(rank) in str(caught.value)
    assert (batch / store.METADATA_NAME).read_bytes() == before


def test_an_unknown_take_is_refused(batch: Path) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    for name in ("Line_9_take_1.mp3", "../metadata.json", ""):
        with pytest.raises(UnknownTake) as caught:
            ranking.set_rank(batch, name, 1)
        assert caught.value.filename == name
    assert (batch / store.METADATA_NAME).read_bytes() == before


def test_invalid_rank_is_reported_before_an_unknown_take(batch: Path) -> None:
    with pytest.raises(InvalidRank):
        ranking.set_rank(batch, "Line_9_take_1.mp3", 7)


def test_a_broken_batch_is_a_metadata_error(batch: Path) -> None:
    (batch / store.METADATA_NAME).write_text("[]", encoding="utf-8")
    with pytest.raises(MetadataError, match="top level must be a JSON object"):
        ranking.set_rank(batch, A, 1)


def test_set_rank_restores_a_missing_rank_folder_from_metadata(batch: Path) -> None:
    store.remove_path(batch / "ranked" / "04")
    ranking.set_rank(batch, E, 5)
    assert ranked_on_disk(batch) == {A: 1, B: 2, C: 4, E: 5}


def test_lock_writes_locked_and_ranked_at_utc_and_freezes_ranks(batch: Path) -> None:
    metadata = ranking.lock(batch, force=True)
    assert store.is_locked(batch)
    assert metadata["ranked_at_utc"] is not None
    assert store.load_metadata(batch)["ranked_at_utc"] == metadata["ranked_at_utc"]
    before = (batch / store.METADATA_NAME).read_bytes()
    with pytest.raises(BatchLocked) as caught:
        ranking.set_rank(batch, D, 1)
    assert caught.value.batch_id == batch.name
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert ranked_on_disk(batch) == {A: 1, B: 2, C: 4}


def test_lock_is_idempotent_and_keeps_the_first_time(batch: Path) -> None:
    first = ranking.lock(batch, force=True)["ranked_at_utc"]
    second = ranking.lock(batch, force=True)
    assert second["ranked_at_utc"] == first
    assert store.load_metadata(batch)["ranked_at_utc"] == first


def test_lock_completes_a_batch_locked_by_hand(batch: Path) -> None:
    store.lock_batch(batch)  # LOCKED without ranked_at_utc, e.g. touched by someone
    assert ranking.lock(batch)["ranked_at_utc"] is not None  # already locked: not gated again


@pytest.mark.parametrize(
    ("ranks", "name", "rank", "expected"),
    [
        ({"a": 1, "b": 2, "c": 4}, "c", 1, {"c": 1, "a": 2, "b": 3}),
        ({"a": 1, "b": 2, "c": 4, "d": None}, "d", 2, {"a": 1, "d": 2, "b": 3, "c": 4}),
        ({"a": 1, "b": 2}, "a", 1, {"a": 1, "b": 2}),
        ({"a": 1, "b": 2, "c": 3}, "a", 3, {"b": 2, "a": 3, "c": 4}),
        ({"a": 5, "b": None}, "b", 5, {"b": 5}),
        ({"a": 2}, "a", None, {}),
    ],
)
def test_cascade_is_a_pure_function_of_the_line(
    ranks: dict[str, int | None], name: str, rank: int | None, expected: dict[str, int]
) -> None:
    original = dict(ranks)
    result = ranking.cascade(ranks, name, rank)
    assert {k: v for k, v in result.items() if v is not None} == expected
    assert set(result) == set(ranks)
    assert ranks == original
