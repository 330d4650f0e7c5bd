"""Engine-ready export of real batches of speech-like takes, each preset end to end: the files
decode, rates and depths are right, loudness is on target (measured again with pyloudnorm and a
VHQ 4x true peak, not the export's own meter), names match the template, the dialogue sheet and
the manifest match the files, the zip holds them, and `voicelab export` prints the summary."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pyloudnorm
import pytest
import soundfile
import soxr

from tests.delivery_batches import speech_batch
from voicelab import cli
from voicelab.config import get_settings
from voicelab.delivery.deliver import deliver
from voicelab.delivery.options import DeliveryOptions
from voicelab.delivery.sheet import SHEET_FIELDS

pytestmark = pytest.mark.integration

LEVELS = [0.03, 0.15, 0.5, 0.9, 0.4]  # quiet to hot; line 5 has sharp clicks
PEAKY = {4, 5}


def lufs(samples: np.ndarray, rate: int) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)))


def true_peak_vhq(samples: np.ndarray, rate: int) -> float:
    up = soxr.resample(samples.astype(np.float32), rate, rate * 4, quality="VHQ")
    return float(20 * np.log10(np.abs(up).max()))


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


@pytest.fixture
def batch(root: Path) -> Path:
    return speech_batch(root, LEVELS, skin="Knight", peaky=PEAKY)


@pytest.mark.parametrize(("preset", "fmt", "rate", "depth", "target", "expected"), [
    ("plain", "flac", 44100, 24, -16.0, "Line_{n}.flac"),
    ("unreal", None, 48000, 16, -23.0, "de/Line_{n}.wav"),
    ("wwise", "wav", 48000, 24, -18.0, "Voices/de/Line_{n}.wav"),
    ("fmod", "ogg", 48000, None, -14.0, "de/Knight_Line_{n}.ogg"),
    ("fmod", "mp3", 44100, None, -20.0, "de/Knight_Line_{n}.mp3"),
])
def test_each_preset_delivers_what_the_engine_imports(
        batch: Path, tmp_path: Path, preset: str, fmt: str | None, rate: int,
        depth: int | None, target: float, expected: str) -> None:
    options = DeliveryOptions(format=fmt, sample_rate=rate, bit_depth=depth, loudness=target,
                              true_peak=-1.0, preset=preset, lang="de", make_zip=True)
    result = deliver(batch, tmp_path / "game", options)
    names = [expected.format(n=n) for n in range(1, len(LEVELS) + 1)]
    assert result.files == names and result.missing == []
    on_disk = sorted(p.relative_to(result.folder).as_posix()
                     for p in result.folder.rglob("*") if p.is_file())
    assert on_disk == sorted([*names, "manifest.csv", "dialogue.csv", "dialogue.xlsx"])
    manifest = {row["line"]: row for row in read_csv(result.manifest)}
    limited = 0
    for n, name in enumerate(names, start=1):
        samples, file_rate = soundfile.read(result.folder / name, dtype="float32")
        info = soundfile.info(result.folder / name)
        assert file_rate == rate
        if depth:
            assert info.subtype == f"PCM_{depth}"
        measured = lufs(samples, file_rate)
        tolerance = 0.5 if fmt not in ("mp3", "ogg") else 0.6  # lossy codecs move it a little
        assert abs(measured - target) <= tolerance, (name, measured)
        peak = true_peak_vhq(samples, file_rate)
        assert peak <= -1.0 + (0.0 if fmt not in ("mp3", "ogg") else 0.5), (name, peak)
        row = manifest[f"Line_{n}"]
        assert row["exported_as"] == name and row["status"] == "exported"
        assert abs(float(row["lufs_after"]) - target) <= 0.5
        assert float(row["true_peak_after"]) <= -1.0
        limited += row["limited"] == "True"
    assert limited >= 1  # the hot, clicky takes needed the limiter
    sheet = read_csv(result.sheet) if result.sheet else []
    assert [r["file"] for r in sheet] == names
    assert [r["line"] for r in sheet] == [f"Line_{n}" for n in range(1, len(LEVELS) + 1)]
    assert all(r["skin"] == "Knight" and r["take"] == f"{r['line']}_take_1.mp3" and r["rank"] == "1"
               and r["seed"] == "1001" and r["settings"].startswith("{") for r in sheet)
    assert [r["lufs_after"] for r in sheet] == [manifest[r["line"]]["lufs_after"] for r in sheet]
    workbook = openpyxl.load_workbook(result.folder / "dialogue.xlsx", read_only=True)
    cells = [list(row) for row in workbook["Dialogue"].iter_rows(values_only=True)]
    assert cells[0] == list(SHEET_FIELDS)
    assert [dict(zip(SHEET_FIELDS, row, strict=True))["file"] for row in cells[1:]] == names
    assert all(isinstance(row[SHEET_FIELDS.index("lufs_after")], int | float) for row in cells[1:])
    assert result.archive is not None
    with zipfile.ZipFile(result.archive) as archive:
        assert sorted(archive.namelist()) == sorted(f"{batch.name}/{p}" for p in on_disk)
        first = archive.read(f"{batch.name}/{names[0]}")
    assert first == (result.folder / names[0]).read_bytes()


def test_a_template_names_files_and_folders(batch: Path, tmp_path: Path) -> None:
    result = deliver(batch, tmp_path, DeliveryOptions(
        format="wav", naming="{voice}/{lang}/{line}_{function}_t{take}_r{rank}", lang="ja"))
    assert result.files[:2] == ["Voice-v1/ja/001_Line_1_t1_r1.wav",
                                "Voice-v1/ja/002_Line_2_t1_r1.wav"]
    for name in result.files:
        info = soundfile.info(result.folder / name)
        assert (info.samplerate, info.subtype) == (22050, "PCM_16")  # as generated, 16-bit
    rows = read_csv(result.manifest)
    assert all(r["lufs_before"] == r["lufs_after"] and r["gain_db"] == "0.0" for r in rows)


@pytest.fixture
def run(root: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("AUDIO_ROOT", str(root))

    def invoke(*args: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        try:
            code = cli.main(list(args))
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_the_command(run: Callable[..., tuple[int, str, str]], batch: Path,
                     tmp_path: Path) -> None:
    code, out, err = run("export", batch.name, "--to", str(tmp_path / "game"), "--preset",
                         "wwise", "--sample-rate", "48000", "--loudness", "-20", "--zip")
    assert code == 0, err
    assert out.strip().endswith(f"{batch.name}_rank1.zip")
    assert f"{len(LEVELS)} take(s) exported, 0 missing" in err
    assert "loudness after: -20.0 to -20." in err or "loudness after: -20.1 to -20." in err, err
    assert (tmp_path / "game" / batch.name / "Voices" / "en" / "Line_1.wav").is_file()
    code, _, err = run("export", batch.name, "--to", str(tmp_path / "bad"), "--loudness", "3")
    assert code == 1 and "loudness: 3 LUFS is above 0 LUFS" in err
    assert not (tmp_path / "bad").exists()
    code, _, err = run("export", batch.name, "--to", str(tmp_path / "bad"), "--naming",
                       "{function}/../../{function}")
    assert code == 1 and "outside the export folder" in err and not (tmp_path / "bad").exists()


def test_the_scripts_category_reaches_the_takes_and_picks_their_loudness(
        root: Path, tmp_path: Path) -> None:
    """A script's Category column is kept on every take (more takes of a line too), so
    `--loudness-by-category` gives barks and cinematics their own targets."""
    from tests.fake_elevenlabs import FakeElevenLabs
    from tests.integration.test_generation import config
    from voicelab import generation, ranking, store
    from voicelab.engines.elevenlabs import ElevenLabs
    from voicelab.lines.plan import plan_line

    script = tmp_path / "script.csv"
    script.write_text("Function,Line,Category\nBark_1,Over here!,barks\n"
                      "Intro_1,Long ago the gates were closed.,cinematics\nPlain_1,Hello.,\n")
    with FakeElevenLabs("sk-test-cat", voices=1, latency=0.0) as fake, \
            ElevenLabs("sk-test-cat", fake.url) as engine:
        [batch] = generation.generate(config(fake, script, variants=1), root, engine).batch_dirs
    meta = store.load_metadata(batch)
    assert {t["line"]: t.get("category") for t in meta["takes"]} == {
        "Bark_1": "barks", "Intro_1": "cinematics", "Plain_1": None}
    assert {t.line.category for t in plan_line(meta, "Bark_1", "Over here!", 2)} == {"barks"}
    for take in meta["takes"]:
        ranking.change_rank(batch, take["file"], 1, person="dana")
    targets = tmp_path / "targets.csv"
    targets.write_text("Category,LUFS\nbarks,-14\ncinematics,-24\n")
    result = deliver(batch, tmp_path / "out", DeliveryOptions(
        format="wav", loudness=-20, loudness_by_category=targets))
    rows = {r["line"]: r for r in read_csv(result.manifest)}
    assert {line: float(r["lufs_target"]) for line, r in rows.items()} == {
        "Bark_1": -14.0, "Intro_1": -24.0, "Plain_1": -20.0}
