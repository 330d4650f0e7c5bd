"""voicelab.fsck on real batches: every kind of drift is named, repair restores ranked/."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.batches import make_batch, ranked_on_disk, ranks_in
from voicelab import fsck, ranking, store

RANKS = {"Line_1_take_1.mp3": 1, "Line_1_take_2.mp3": 2, "Line_2_take_3.mp3": 1}


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, ranks=RANKS)


def _problems(batch: Path) -> list[str]:
    return fsck.check_batch(batch).problems


def test_a_fresh_batch_is_ok(batch: Path) -> None:
    ranking.set_rank(batch, "Line_3_take_1.mp3", 1)
    ranking.lock(batch)
    report = fsck.check_batch(batch)
    assert report.ok and report.problems == []
    assert str(report) == f"{batch}: ok"


def test_check_root_reports_every_batch_by_path(root: Path, batch: Path) -> None:
    other = make_batch(root, skin="Other")
    (other / "takes" / "Line_1_take_1.mp3").unlink()
    reports = fsck.check_root(root)
    assert [r.path for r in reports] == sorted([batch, other])
    by_path = {r.path: r for r in reports}
    assert by_path[batch].ok
    assert by_path[other].problems == ["take file takes/Line_1_take_1.mp3 is missing"]


def test_broken_metadata_is_a_problem_not_a_crash(root: Path, batch: Path) -> None:
    (batch / store.METADATA_NAME).write_text("{", encoding="utf-8")
    stray = root / "Skin" / "Voice-v1" / "not-a-batch"
    stray.mkdir()
    reports = {r.path: r for r in fsck.check_root(root)}
    assert len(reports[batch].problems) == 1
    assert reports[batch].problems[0].startswith("metadata.json: not valid JSON")
    assert reports[stray].problems == ["metadata.json: missing"]


def test_schema_violations_are_named(batch: Path) -> None:
    data = store.load_metadata(batch)
    data["takes"][3]["rank"] = "1"
    (batch / store.METADATA_NAME).write_text(json.dumps(data), encoding="utf-8")
    assert _problems(batch) == [
        "metadata.json: takes[3] (Line_2_take_1.mp3): field 'rank' must be an integer 1-5 "
        "or null, got '1'"
    ]


def test_every_missing_take_file_is_listed(batch: Path) -> None:
    for name in ("Line_1_take_3.mp3", "Line_3_take_2.mp3"):
        (batch / "takes" / name).unlink()
    assert _problems(batch) == [
        "take file takes/Line_1_take_3.mp3 is missing",
        "take file takes/Line_3_take_2.mp3 is missing",
    ]


def test_batch_id_must_match_the_folder(root: Path) -> None:
    batch = make_batch(root, batch_id="20250101-000000-v1")
    moved = batch.with_name("20250101-000000-v1-copy")
    batch.rename(moved)
    assert _problems(moved) == [
        "metadata.json: batch_id '20250101-000000-v1' does not match the folder name "
        "'20250101-000000-v1-copy'"
    ]


def test_ranked_drift_of_every_kind_is_named(batch: Path) -> None:
    ranked = batch / "ranked"
    (ranked / "02" / "Line_1_take_2.mp3").unlink()  # missing
    os.symlink("../../takes/Line_3_take_3.mp3", ranked / "03" / "Line_3_take_3.mp3")  # extra
    os.symlink("../../takes/Line_1_take_1.mp3", ranked / "04" / "Line_1_take_1.mp3")  # other rank
    (ranked / "01" / "Line_2_take_3.mp3").unlink()
    os.symlink("../../takes/Line_1_take_3.mp3", ranked / "01" / "Line_2_take_3.mp3")  # wrong
    os.symlink("/etc/hostname", ranked / "05" / "abs.mp3")  # escaping
    os.symlink("../../../../x.mp3", ranked / "05" / "up.mp3")  # escaping
    (ranked / "05" / "plain.mp3").write_bytes(b"x")  # not a link
    (ranked / "notes.txt").write_text("x")
    assert _problems(batch) == [
        "ranked/notes.txt: unexpected entry",
        "ranked/01/Line_2_take_3.mp3 -> ../../takes/Line_1_take_3.mp3: wrong target, "
        "expected ../../takes/Line_2_take_3.mp3",
        "ranked/02/Line_1_take_2.mp3: missing link (metadata ranks it 2)",
        "ranked/03/Line_3_take_3.mp3: extra link (no ranked take has this name)",
        "ranked/04/Line_1_take_1.mp3: extra link (metadata ranks it 1)",
        "ranked/05/abs.mp3 -> /etc/hostname: escapes the batch's takes/",
        "ranked/05/plain.mp3: not a symlink",
        "ranked/05/up.mp3 -> ../../../../x.mp3: escapes the batch's takes/",
    ]


def test_missing_rank_folders_and_ranked_are_named(batch: Path) -> None:
    store.remove_path(batch / "ranked" / "03")
    assert _problems(batch) == ["ranked/03/ is missing or not a folder"]
    store.remove_path(batch / "ranked")
    assert _problems(batch) == ["ranked/ is missing or not a folder"]


def test_leftover_temp_files_are_named_but_the_lock_file_is_not(batch: Path) -> None:
    with store.batch_lock(batch):
        pass
    (batch / store.temp_name("metadata.json")).write_text("{")
    (batch / "takes" / store.temp_name("Line_1_take_1.mp3")).write_bytes(b"ID3")
    (batch / store.temp_name("ranked")).mkdir()
    problems = _problems(batch)
    assert len(problems) == 3
    assert all(p.startswith("leftover temp file ") for p in problems)
    assert any(p.startswith("leftover temp file takes/.Line_1_take_1.mp3.") for p in problems)
    assert not any(".lock" in p for p in problems)


def test_report_prints_one_problem_per_line(batch: Path) -> None:
    (batch / "takes" / "Line_1_take_3.mp3").unlink()
    text = str(fsck.check_batch(batch))
    assert text == f"{batch}: 1 problem(s)\n  - take file takes/Line_1_take_3.mp3 is missing"


def test_repair_restores_ranked_and_removes_temp_files(batch: Path) -> None:
    store.remove_path(batch / "ranked" / "01")
    os.symlink("/etc/hostname", batch / "ranked" / "05" / "evil.mp3")
    (batch / store.temp_name("metadata.json")).write_text("{")
    old_temp = batch / "takes" / store.temp_name("Line_1_take_1.mp3")
    old_temp.write_bytes(b"ID3")
    hour_ago = time.time() - 3600
    os.utime(old_temp, (hour_ago, hour_ago))
    report = fsck.repair_batch(batch)
    assert report.ok, report
    assert ranked_on_disk(batch) == ranks_in(store.load_metadata(batch)) == RANKS
    assert sorted(r.split(" ")[0] for r in report.repairs) == ["rebuilt", "removed", "removed"]
    assert "rebuilt ranked/ from metadata.json" in report.repairs
    assert store.temp_files(batch) == []
    assert "  * rebuilt ranked/ from metadata.json" in str(report)


def test_repair_keeps_a_fresh_temp_file_in_takes(batch: Path) -> None:
    fresh = batch / "takes" / store.temp_name("Line_9_take_1.mp3")
    fresh.write_bytes(b"ID3")  # may be an MP3 that generation is writing right now
    report = fsck.repair_batch(batch)
    assert fresh.exists()
    assert report.repairs == [
        f"kept recent temp file takes/{fresh.name} (may still be being written)"
    ]
    assert report.problems == [f"leftover temp file takes/{fresh.name}"]


def test_repair_of_a_healthy_batch_changes_nothing(batch: Path) -> None:
    inode = (batch / "ranked" / "01" / "Line_1_take_1.mp3").lstat().st_ino
    report = fsck.repair_batch(batch)
    assert report.ok and report.repairs == []
    assert (batch / "ranked" / "01" / "Line_1_take_1.mp3").lstat().st_ino == inode


def test_repair_cannot_fix_broken_metadata_and_says_so(batch: Path) -> None:
    (batch / store.METADATA_NAME).write_text("[]", encoding="utf-8")
    (batch / store.temp_name("metadata.json")).write_text("{")
    report = fsck.repair_batch(batch)
    assert report.repairs[0].startswith("removed leftover temp file .metadata.json.")
    assert report.problems == ["metadata.json: top level must be a JSON object, got list"]
    assert ranked_on_disk(batch) == RANKS  # left as it was
