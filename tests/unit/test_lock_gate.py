"""The quality gate before lock (issue 16): ranking.lock_gate lists the lines whose selected take
has a QC flag or is stale, or that have no selection; ranking.lock refuses them unless forced,
and a forced lock is recorded in the history. On real batches on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.batches import flag_take, make_batch
from voicelab import history, panel, ranking, store
from voicelab.errors import LockGateRefused, RankError
from voicelab.ranking import GateProblem

Take = dict[str, Any]
SINCE = "2026-12-01T10:00:00.000Z"


def _all_selected(root: Path, lines: int = 3) -> Path:
    """A batch whose every line has a rank-1 take (take 1) and no QC facts: clean."""
    return make_batch(root, lines=lines, ranks={f"Line_{i}_take_1.mp3": 1
                                                for i in range(1, lines + 1)})


def _edit(batch: Path, change: Callable[[dict[str, Take]], None]) -> None:
    """Change takes of the batch's metadata by file name, as generation or a check would."""
    metadata = store.load_metadata(batch)
    change({take["file"]: take for take in metadata["takes"]})
    store.save_metadata(batch, metadata)


def _snapshot(batch: Path) -> tuple[bytes, bytes, bool]:
    log = history.history_path(batch)
    return ((batch / store.METADATA_NAME).read_bytes(),
            log.read_bytes() if log.exists() else b"", store.is_locked(batch))


def test_a_clean_batch_passes_the_gate_and_locks_as_before(root: Path) -> None:
    batch = _all_selected(root)
    flag_take(batch, "Line_2_take_2.mp3", "clipping")  # flagged, but not the selected take
    assert ranking.check_lock(batch) == []
    metadata = ranking.lock(batch, person="lena")
    assert store.is_locked(batch) and metadata["ranked_at_utc"] is not None
    entry = history.read(batch)[-1]
    assert entry["action"] == "lock" and entry["person"] == "lena"
    assert "forced" not in entry and "problems" not in entry


def test_the_gate_lists_flags_stale_and_missing_selections_in_script_order(root: Path) -> None:
    batch = make_batch(root, lines=5, ranks={"Line_1_take_2.mp3": 1, "Line_2_take_1.mp3": 1,
                                             "Line_3_take_3.mp3": 1, "Line_4_take_2.mp3": 2})

    def change(takes: dict[str, Take]) -> None:
        takes["Line_1_take_2.mp3"]["quality"] = {"lufs": -20.0,
                                                 "flags": ["clipping", "words"]}
        takes["Line_3_take_3.mp3"]["stale"] = {"text_was": "Old text.", "since": SINCE}
    _edit(batch, change)
    assert ranking.check_lock(batch) == [
        GateProblem("Line_1", ("clipping", "words"), "Line_1_take_2.mp3"),
        GateProblem("Line_3", ("stale",), "Line_3_take_3.mp3"),
        GateProblem("Line_4", ("no_selection",), None),  # a rank 2 is not a selection
        GateProblem("Line_5", ("no_selection",), None),
    ]


def test_any_flag_counts_and_reads_in_words(root: Path) -> None:
    batch = _all_selected(root, lines=2)
    flag_take(batch, "Line_1_take_1.mp3", "mostly_silence", "duration_outlier")
    flag_take(batch, "Line_2_take_1.mp3", "some_new_flag")
    problems = ranking.check_lock(batch)
    assert [p.problems for p in problems] == [("mostly_silence", "duration_outlier"),
                                              ("some_new_flag",)]
    assert problems[0].describe() == "mostly silence, duration outlier"
    assert problems[1].describe() == "some new flag"
    assert GateProblem("L", ("words", "stale"), "f").describe() == (
        "wrong words, stale (the line's text changed)")
    assert GateProblem("L", ("no_selection",), None).as_dict() == {
        "line": "L", "problems": ["no_selection"], "take": None}


def test_removed_lines_and_takes_are_ignored(root: Path) -> None:
    batch = _all_selected(root, lines=3)

    def change(takes: dict[str, Take]) -> None:
        for n in (1, 2, 3):  # Line_3 left the script: its takes are removed, ranks kept
            takes[f"Line_3_take_{n}.mp3"]["removed"] = {"since": SINCE}
        takes["Line_2_take_1.mp3"]["removed"] = {"since": SINCE}  # a removed #1: no selection
        takes["Line_3_take_1.mp3"]["quality"] = {"flags": ["clipping"]}
    _edit(batch, change)
    assert ranking.check_lock(batch) == [GateProblem("Line_2", ("no_selection",), None)]


def test_flags_of_a_take_measured_before_flags_were_stored_are_computed(root: Path) -> None:
    batch = _all_selected(root, lines=1)

    def change(takes: dict[str, Take]) -> None:
        takes["Line_1_take_1.mp3"]["quality"] = {"clipped_samples": 40, "duration_s": 1.0}
    _edit(batch, change)
    assert ranking.check_lock(batch) == [
        GateProblem("Line_1", ("clipping",), "Line_1_take_1.mp3")]


def test_a_refused_lock_changes_nothing_and_names_the_lines(root: Path) -> None:
    batch = make_batch(root, lines=8, ranks={"Line_1_take_1.mp3": 1})
    flag_take(batch, "Line_1_take_1.mp3", "words")
    before = _snapshot(batch)
    with pytest.raises(LockGateRefused) as refused:
        ranking.lock(batch, person="lena")
    assert isinstance(refused.value, RankError)
    assert refused.value.batch_id == batch.name
    assert [p.line for p in refused.value.problems] == [f"Line_{i}" for i in range(1, 9)]
    message = str(refused.value)
    assert "8 line(s) to check" in message and "Line_1 (wrong words)" in message
    assert "Line_2 (no selection)" in message and "and 3 more" in message
    assert "Line_8" not in message and "force" in message
    assert _snapshot(batch) == before


def test_force_locks_and_the_history_records_it(root: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_1_take_3.mp3": 1})
    flag_take(batch, "Line_1_take_3.mp3", "clipping")
    metadata = ranking.lock(batch, person="lena", force=True)
    assert store.is_locked(batch) and metadata["ranked_at_utc"] is not None
    entry = history.read(batch)[-1]
    assert entry["action"] == "lock" and entry["person"] == "lena"
    assert entry["revision"] == metadata["revision"]
    assert entry["forced"] is True
    assert entry["problems"] == [
        {"line": "Line_1", "problems": ["clipping"], "take": "Line_1_take_3.mp3"},
        {"line": "Line_2", "problems": ["no_selection"], "take": None}]
    assert "forced past 2 line(s) to check" in history.format_entries(history.read(batch))
    ranking.unlock(batch, person="lena")
    assert not store.is_locked(batch)
    assert history.read(batch)[-1]["action"] == "unlock"


def test_an_already_locked_batch_is_not_gated_again(root: Path) -> None:
    batch = make_batch(root, lines=2)
    ranking.lock(batch, person="lena", force=True)
    entries = history.read(batch)
    first = store.load_metadata(batch)["ranked_at_utc"]
    assert ranking.lock(batch, person="lena")["ranked_at_utc"] == first  # no refusal
    assert history.read(batch) == entries


def test_a_panel_batch_is_gated_on_its_consensus(root: Path) -> None:
    batch = make_batch(root, lines=1, takes_per_line=3)
    panel.open_panel(batch, ["dana", "bob"], blind=False, person="lena")
    for rater in ("dana", "bob"):
        panel.rate(batch, "Line_1_take_2.mp3", 1, person=rater)
        panel.rate(batch, "Line_1_take_1.mp3", 2, person=rater)
    consensus = {t["file"]: t["rank"] for t in store.load_metadata(batch)["takes"]}
    assert consensus["Line_1_take_2.mp3"] == 1
    flag_take(batch, "Line_1_take_1.mp3", "clipping")  # a rater's #2: not the selection
    assert ranking.check_lock(batch) == []
    flag_take(batch, "Line_1_take_2.mp3", "mostly_silence")
    assert ranking.check_lock(batch) == [
        GateProblem("Line_1", ("mostly_silence",), "Line_1_take_2.mp3")]
    with pytest.raises(LockGateRefused):
        ranking.lock(batch, person="lena")
    assert not store.is_locked(batch)
