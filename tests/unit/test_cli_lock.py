"""`voicelab lock [--force]` and `voicelab unlock` (issue 16), run in-process on real batches."""

from __future__ import annotations

from pathlib import Path

from tests.batches import flag_take, make_batch
from tests.unit.test_cli import run  # noqa: F401  # the CLI fixture
from voicelab import history, store


def test_lock_lists_the_problems_and_exits_1_changing_nothing(run, root: Path) -> None:  # noqa: F811
    batch = make_batch(root, lines=3, ranks={"Line_1_take_2.mp3": 1, "Line_3_take_1.mp3": 1})
    flag_take(batch, "Line_1_take_2.mp3", "clipping", "words")
    before = (batch / store.METADATA_NAME).read_bytes()
    code, out, err = run("lock", batch.name)
    assert code == 1
    assert f"batch {batch.name} was not locked: 2 line(s) to check first" in err
    assert f"voicelab lock {batch.name} --force" in err and "Traceback" not in err
    rows = [line for line in out.splitlines() if "Line_" in line]
    assert len(rows) == 2
    assert "Line_1" in rows[0] and "clipping, wrong words" in rows[0]
    assert "Line_1_take_2.mp3" in rows[0]
    assert "Line_2" in rows[1] and "no selection" in rows[1]
    assert not store.is_locked(batch)
    assert (batch / store.METADATA_NAME).read_bytes() == before


def test_lock_force_locks_says_so_and_is_recorded(run, root: Path) -> None:  # noqa: F811
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 1})
    code, out, err = run("lock", batch.name, "--force")
    assert code == 0, err
    assert f"batch {batch.name} locked anyway, past 1 line(s) to check" in out
    assert "Line_2" in out and "no selection" in out
    assert store.is_locked(batch)
    entry = history.read(batch)[-1]
    assert (entry["person"], entry["action"], entry["forced"]) == ("cli", "lock", True)
    assert entry["problems"] == [{"line": "Line_2", "problems": ["no_selection"], "take": None}]
    code, out, _ = run("lock", batch.name)  # already locked: nothing to gate
    assert code == 0 and "already locked" in out
    assert history.read(batch)[-1] == entry


def test_a_clean_batch_locks_and_unlocks(run, root: Path) -> None:  # noqa: F811
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 1, "Line_2_take_2.mp3": 1})
    code, out, err = run("lock", batch.name)
    assert code == 0, err
    assert out.strip() == f"batch {batch.name} locked: ranks can no longer change"
    assert store.is_locked(batch) and "forced" not in history.read(batch)[-1]
    code, out, _ = run("unlock", batch.name)
    assert code == 0 and f"batch {batch.name} unlocked: ranks can change again" in out
    assert not store.is_locked(batch)
    assert (history.read(batch)[-1]["person"], history.read(batch)[-1]["action"]) == (
        "cli", "unlock")
    code, out, _ = run("unlock", batch.name)
    assert code == 0 and "is not locked" in out


def test_an_unknown_batch_is_one_line(run) -> None:  # noqa: F811
    for command in ("lock", "unlock"):
        code, out, err = run(command, "nope")
        assert code == 1 and "no batch with id 'nope'" in err and out == ""
        assert len(err.strip().splitlines()) == 1
