"""Exporting selects: files named by line, a manifest that lists missing lines, the zip."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from tests.batches import make_batch, tone_mp3
from voicelab import store
from voicelab.delivery import deliver
from voicelab.errors import InvalidRank


def test_export_copies_selects_named_by_line(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=3, ranks={"Line_1_take_2.mp3": 1, "Line_2_take_1.mp3": 1,
                                             "Line_3_take_3.mp3": 2})
    result = deliver.export_batch(batch, tmp_path / "out", make_zip=True)
    assert sorted(p.name for p in result.folder.iterdir()) == [
        "Line_1.mp3", "Line_2.mp3", "manifest.csv"]
    assert (result.folder / "Line_1.mp3").read_bytes() == (
        batch / "takes" / "Line_1_take_2.mp3").read_bytes()
    assert result.missing == ["Line_3"]
    rows = list(csv.DictReader(io.StringIO(result.manifest.read_text())))
    assert [(r["line"], r["status"], r["take_file"]) for r in rows] == [
        ("Line_1", "exported", "Line_1_take_2.mp3"), ("Line_2", "exported", "Line_2_take_1.mp3"),
        ("Line_3", "missing", "")]
    meta = store.load_metadata(batch)
    assert rows[0]["voice"] == meta["voice_name"] and rows[0]["text"]
    with zipfile.ZipFile(result.archive) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"{batch.name}/{n}" for n in ("Line_1.mp3", "Line_2.mp3", "manifest.csv"))
    assert tone_mp3() and len(list(tmp_path.joinpath("out").iterdir())) == 2


def test_export_other_rank_and_replace(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 2})
    deliver.export_batch(batch, tmp_path, rank=1)
    again = deliver.export_batch(batch, tmp_path, rank=2)
    assert sorted(p.name for p in again.folder.iterdir()) == ["Line_1.mp3", "manifest.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("rank", [0, 6, True])
def test_export_rejects_bad_ranks(root: Path, tmp_path: Path, rank: object) -> None:
    with pytest.raises(InvalidRank):
        deliver.export_batch(make_batch(root), tmp_path, rank=rank)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == [root]
