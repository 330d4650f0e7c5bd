"""The `voicelab` command's read-side subcommands, run in-process on real batches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.batches import make_batch
from voicelab import __version__, cli
from voicelab.config import get_settings


@pytest.fixture
def run(root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("AUDIO_ROOT", str(root))
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        try:
            code = cli.main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_version(run) -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"voicelab {__version__}"


def test_batches_table_and_json(run, root: Path) -> None:
    older = make_batch(root, skin="Aldric", ranks={"Line_1_take_1.mp3": 1})
    newer = make_batch(root, skin="Brom", locked=True)
    code, out, _ = run("batches", "--json")
    records = json.loads(out)
    assert code == 0 and [r["batch_id"] for r in records] == [newer.name, older.name]
    assert records[1]["ranked_count"] == 1 and records[0]["locked"] is True
    code, out, _ = run("batches")
    assert code == 0 and newer.name in out and "Aldric" in out and "yes" in out


def test_batches_on_an_empty_root(run, root: Path) -> None:
    code, out, _ = run("batches")
    assert code == 0 and "no batches" in out


def test_fsck_finds_and_repairs_a_broken_link(run, root: Path) -> None:
    batch = make_batch(root, ranks={"Line_1_take_2.mp3": 1})
    assert run("fsck")[0] == 0
    link = batch / "ranked" / "01" / "Line_1_take_2.mp3"
    link.unlink()
    os.symlink("/etc/passwd", batch / "ranked" / "02" / "evil.mp3")
    code, out, _ = run("fsck")
    assert code == 1 and "Line_1_take_2.mp3" in out and "evil.mp3" in out
    code, out, _ = run("fsck", "--repair")
    assert code == 0 and "0 with problems" in out
    assert link.is_symlink() and os.readlink(link) == "../../takes/Line_1_take_2.mp3"
    assert not (batch / "ranked" / "02" / "evil.mp3").exists()


def test_bad_environment_is_one_clear_message(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    code, _, err = run("batches")
    assert code == 1 and "LOG_LEVEL='LOUD'" in err and "Traceback" not in err


def test_export_command(run, root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 1})
    code, out, err = run("export", batch.name, "--to", str(tmp_path / "game"), "--zip")
    assert code == 2 and out.strip().endswith(f"{batch.name}_rank1.zip")
    assert "missing: line Line_2 has no take ranked 1" in err and "not locked" in err
    assert (tmp_path / "game" / batch.name / "Line_1.mp3").is_file()
    code, _, err = run("export", "nope", "--to", str(tmp_path / "game"))
    assert code == 1 and "no batch with id 'nope'" in err


def test_voices_lists_the_bundled_piper_voice(run) -> None:
    code, out, _ = run("voices", "--json")
    voices = json.loads(out)
    assert code == 0
    [joe] = [v for v in voices if v["id"] == "en_US-joe-medium"]
    assert joe["engine"] == "piper" and "no effect with Piper" in joe["notes"]
    assert all(v["engine"] == "piper" for v in voices)  # no key: no ElevenLabs voices


def test_main_leaves_logging_as_it_found_it(run) -> None:
    """In-process callers (tests, notebooks) keep their handlers; none points at a dead stream."""
    import logging

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    assert run("batches")[0] == 0
    assert run("doctor", "--json")[0] in (0, 1)
    assert root.handlers == before and root.level == level
