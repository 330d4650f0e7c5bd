"""The board's "Export selects…" with the delivery presets (issue 16), without a browser: the
`export_presets` trait, and an `export` message with a preset and a format answered by the zip
`voicelab.delivery.deliver` writes (real files, decoded), or a refusal naming the problem."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import soundfile

from tests.batches import make_batch
from voicelab import ranking
from voicelab.delivery import naming
from voicelab.widgets.rank_board import RankBoard


@pytest.fixture
def board(root: Path) -> tuple[RankBoard, list[tuple[dict[str, Any], list[Any]]]]:
    batch = make_batch(root, skin="Knight", lines=2, ranks={"Line_1_take_2.mp3": 1})
    ranking.lock(batch, force=True)  # Line_2 has no selection: the export says it is missing
    board = RankBoard(batch, root)
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    board.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    return board, sent


def _zip(sent: list[tuple[dict[str, Any], list[Any]]]) -> tuple[dict[str, Any], zipfile.ZipFile]:
    content, buffers = sent[-1]
    assert content["kind"] == "export" and "error" not in content, content
    return content, zipfile.ZipFile(io.BytesIO(bytes(buffers[0])))


def test_the_board_offers_every_delivery_preset(board: Any) -> None:
    presets = board[0].export_presets
    assert [p["name"] for p in presets] == list(naming.PRESET_LAYOUTS)
    assert {p["name"] for p in presets} == {"plain", "wwise", "unreal", "fmod"}
    wwise = next(p for p in presets if p["name"] == "wwise")
    assert wwise == {"name": "wwise", "layout": "Voices/{lang}/{function}", "format": "wav",
                     "formats": ["wav"]}


@pytest.mark.parametrize(("preset", "audio_format", "path"), [
    ("wwise", "wav", "Voices/en/Line_1.wav"),
    ("unreal", "wav", "en/Line_1.wav"),
    ("fmod", "wav", "en/Knight_Line_1.wav"),
    ("plain", "wav", "Line_1.wav"),
])
def test_a_preset_in_wav_is_laid_out_for_its_tool(board: Any, preset: str, audio_format: str,
                                                  path: str) -> None:
    rank_board, sent = board
    rank_board.handle({"kind": "export", "rank": 1, "preset": preset, "format": audio_format})
    content, archive = _zip(sent)
    batch_id = rank_board.batch_id
    assert content["name"] == f"{batch_id}_rank1.zip" and content["missing"] == ["Line_2"]
    assert sorted(archive.namelist()) == sorted([f"{batch_id}/{path}", f"{batch_id}/manifest.csv",
                                                 f"{batch_id}/dialogue.csv",
                                                 f"{batch_id}/dialogue.xlsx"])
    audio, rate = soundfile.read(io.BytesIO(archive.read(f"{batch_id}/{path}")))
    assert rate > 0 and len(audio) > 0
    assert "Line_2" in rank_board.notice and rank_board.error == ""


def test_as_generated_is_the_classic_export_for_plain_and_mp3_for_fmod(board: Any) -> None:
    rank_board, sent = board
    batch_id = rank_board.batch_id
    rank_board.handle({"kind": "export", "rank": 1, "preset": "plain", "format": None})
    assert sorted(_zip(sent)[1].namelist()) == [f"{batch_id}/Line_1.mp3",
                                                f"{batch_id}/manifest.csv"]
    rank_board.handle({"kind": "export", "rank": 1})  # an older board: the same
    assert sorted(_zip(sent)[1].namelist()) == [f"{batch_id}/Line_1.mp3",
                                                f"{batch_id}/manifest.csv"]
    rank_board.handle({"kind": "export", "rank": 1, "preset": "fmod", "format": None})
    assert f"{batch_id}/en/Knight_Line_1.mp3" in _zip(sent)[1].namelist()


@pytest.mark.parametrize(("msg", "named"), [
    ({"preset": "wwise", "format": None}, "preset wwise imports wav, not 'mp3'"),
    ({"preset": "nuendo", "format": "wav"}, "unknown preset 'nuendo'"),
    ({"preset": "plain", "format": "flac"}, "format: 'flac' is not one the board offers"),
    ({"preset": ["plain"], "format": "wav"}, "is not a preset's name"),
])
def test_a_refused_export_names_the_problem(board: Any, msg: dict[str, Any], named: str) -> None:
    rank_board, sent = board
    rank_board.handle({"kind": "export", "rank": 1, **msg})
    assert sent[-1] == ({"kind": "export", "error": rank_board.error}, [])
    assert named in rank_board.error
