"""Random sequences of set_rank/lock against a slot model; the disk must agree after every step.

The model knows the lock's quality gate too: a line without a rank-1 take stops a lock without
force (and nothing changes); the test then locks with force, as a lead would."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batches import fast_dir, make_batch, ranked_on_disk, ranks_in
from voicelab import fsck, ranking, store
from voicelab.errors import BatchLocked, InvalidRank, LockGateRefused

LINES, TAKES = 2, 6
FILES = [f"Line_{i}_take_{n}.mp3" for i in range(1, LINES + 1) for n in range(1, TAKES + 1)]
VALID = [None, 1, 2, 3, 4, 5]
INVALID = [0, 6, -2, "3", 2.5, True, False]


class SlotModel:
    """Each line is five slots, best first; written independently of ranking.cascade."""

    def __init__(self) -> None:
        self.slots = {f"Line_{i}": [None] * 5 for i in range(1, LINES + 1)}
        self.locked = False

    def set(self, name: str, rank: int | None) -> None:
        slots = self.slots[name.split("_take_")[0]]
        if name in slots:
            slots[slots.index(name)] = None
        if rank is None:
            return
        at = rank - 1
        free = next((i for i in range(at, 5) if slots[i] is None), None)
        if free is None:
            slots[at:] = [name, *slots[at:4]]  # the fifth falls off: unranked
        else:
            slots[at + 1 : free + 1] = slots[at:free]
            slots[at] = name

    def unselected(self) -> list[str]:
        """The lines without a rank-1 take: what the lock's gate lists (no flags here)."""
        return [line for line, slots in self.slots.items() if slots[0] is None]

    def ranks(self) -> dict[str, int]:
        return {n: i + 1 for slots in self.slots.values() for i, n in enumerate(slots) if n}


# (dice, file, a valid rank, an invalid one): dice 0 locks, 1-2 tries the invalid rank.
_ops = st.lists(
    st.tuples(
        st.integers(0, 19), st.sampled_from(FILES), st.sampled_from(VALID), st.sampled_from(INVALID)
    ),
    max_size=25,
)


def _check(batch: Path, model: SlotModel) -> store.Metadata:
    metadata = store.load_metadata(batch)  # valid schema v1, every take file present
    ranks = ranks_in(metadata)
    assert ranks == model.ranks()
    per_line = [(t["line"], t["rank"]) for t in metadata["takes"] if t["rank"] is not None]
    assert len(per_line) == len(set(per_line))
    assert all(1 <= rank <= 5 for _, rank in per_line)
    assert all((t["rank"] is None) == (t["ranked_at"] is None) for t in metadata["takes"])
    assert ranked_on_disk(batch) == ranks
    assert fsck.check_batch(batch).problems == []
    assert store.is_locked(batch) == model.locked
    return metadata


@pytest.mark.timeout(120)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
def test_random_rank_and_lock_sequences_keep_every_invariant(
    ops: list[tuple[int, str, int | None, object]],
) -> None:
    with fast_dir() as root:
        batch = make_batch(root, lines=LINES, takes_per_line=TAKES)
        model = SlotModel()
        first_lock: str | None = None
        metadata = _check(batch, model)
        for dice, name, rank, bad_rank in ops:
            if dice == 0:
                if not model.locked and model.unselected():
                    before = (batch / store.METADATA_NAME).read_bytes()
                    with pytest.raises(LockGateRefused) as refused:
                        ranking.lock(batch)
                    assert [p.line for p in refused.value.problems] == model.unselected()
                    assert (batch / store.METADATA_NAME).read_bytes() == before
                    assert not store.is_locked(batch)
                metadata = ranking.lock(batch, force=True)
                first_lock = first_lock or metadata["ranked_at_utc"]
                assert metadata["ranked_at_utc"] == first_lock
                model.locked = True
            elif dice <= 2:
                with pytest.raises(InvalidRank):
                    ranking.set_rank(batch, name, bad_rank)
            elif model.locked:
                with pytest.raises(BatchLocked):
                    ranking.set_rank(batch, name, rank)
            else:
                takes = ranking.set_rank(batch, name, rank)
                model.set(name, rank)
                line = name.split("_take_")[0]
                assert [t["take_number"] for t in takes] == list(range(1, TAKES + 1))
                assert {t["line"] for t in takes} == {line}
                expected = {n: r for n, r in model.ranks().items() if n.startswith(line + "_")}
                assert {t["file"]: t["rank"] for t in takes if t["rank"]} == expected
            metadata = _check(batch, model)
        assert metadata["ranked_at_utc"] == first_lock


def test_the_slot_model_reproduces_the_design_example() -> None:
    model = SlotModel()
    a, b, c, d = (f"Line_1_take_{n}.mp3" for n in range(1, 5))
    for name, rank in ((a, 1), (b, 2), (c, 4)):
        model.set(name, rank)
    model.set(c, 1)
    assert model.ranks() == {c: 1, a: 2, b: 3}
    model.set(d, 2)
    assert model.ranks() == {c: 1, d: 2, a: 3, b: 4}
