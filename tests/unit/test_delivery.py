"""The engine-ready export's parts: option checks, naming templates and presets, the loudness
meter against pyloudnorm, the per-category file, and refusals that write nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from tests.batches import make_batch
from tests.delivery_batches import speech_batch, speech_mp3
from voicelab.audio import decode_mp3
from voicelab.delivery import loudness, naming
from voicelab.delivery.deliver import deliver, export_batch
from voicelab.delivery.options import (
    FORMATS,
    PRESETS,
    DeliveryError,
    DeliveryOptions,
    check_options,
    is_classic,
    output_format,
)
from voicelab.errors import InvalidRank, VoicelabError


def test_the_interface_other_code_relies_on() -> None:
    assert PRESETS == ("plain", "wwise", "unreal", "fmod")
    assert FORMATS == ("wav", "flac", "mp3", "ogg")
    assert issubclass(DeliveryError, VoicelabError)
    options = DeliveryOptions()
    assert (options.rank, options.format, options.true_peak, options.preset, options.lang,
            options.make_zip) == (1, None, -1.0, "plain", "en", False)
    assert is_classic(options) and not is_classic(DeliveryOptions(preset="unreal"))
    assert output_format(options) == "mp3"
    assert [output_format(DeliveryOptions(preset=p)) for p in ("wwise", "unreal", "fmod")] == [
        "wav"] * 3


@pytest.mark.parametrize(("options", "field", "value"), [
    (DeliveryOptions(preset="godot"), "preset", "godot"),
    (DeliveryOptions(format="aiff"), "format", "aiff"),
    (DeliveryOptions(loudness=3.0), "loudness", "3"),
    (DeliveryOptions(loudness=-90.0), "loudness", "-90"),
    (DeliveryOptions(format="wav", bit_depth=20), "bit_depth", "20"),
    (DeliveryOptions(format="mp3", bit_depth=16), "bit_depth", "mp3"),
    (DeliveryOptions(format="wav", sample_rate=4000), "sample_rate", "4000"),
    (DeliveryOptions(format="wav", sample_rate=384000), "sample_rate", "384000"),
    (DeliveryOptions(format="mp3", sample_rate=96000), "sample_rate", "96000"),
    (DeliveryOptions(true_peak=2.0), "true_peak", "2.0"),
    (DeliveryOptions(lang="../etc"), "lang", "../etc"),
    (DeliveryOptions(naming="{function}_{mood}"), "naming", "{mood}"),
    (DeliveryOptions(naming="{skin}"), "naming", "neither"),
    (DeliveryOptions(naming="../{function}"), "naming", "outside"),
    (DeliveryOptions(naming="/abs/{function}"), "naming", "outside"),
    (DeliveryOptions(naming="a\\{function}"), "naming", "backslash"),
    (DeliveryOptions(naming="{function}.wav"), "naming", "extension"),
    (DeliveryOptions(naming=".hidden/{function}"), "naming", "'.hidden'"),
    (DeliveryOptions(naming="{function!r}"), "naming", "plain fields"),
    (DeliveryOptions(preset="wwise", format="mp3"), "format", "wwise imports wav"),
    (DeliveryOptions(preset="unreal", format="mp3"), "format", "unreal"),
])
def test_bad_options_are_named(options: DeliveryOptions, field: str, value: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        check_options(options)
    message = str(caught.value)
    assert message.startswith(f"{field}:") and value in message, message


@pytest.mark.parametrize("rank", [0, 6, True, "1"])
def test_bad_ranks_are_invalid_rank(rank: object) -> None:
    with pytest.raises(InvalidRank):
        check_options(DeliveryOptions(rank=rank))  # type: ignore[arg-type]


@pytest.mark.parametrize("options", [
    DeliveryOptions(), DeliveryOptions(format="wav", sample_rate=48000, bit_depth=24,
                                       loudness=-23, true_peak=-2, preset="wwise", lang="fr-FR"),
    DeliveryOptions(format="ogg", preset="fmod", naming="{lang}/{skin}/{line}_{function}"),
    DeliveryOptions(format="flac", preset="unreal", bit_depth=16, loudness=0),
    DeliveryOptions(naming="VO {voice}/{function}_t{take:02d}_r{rank}"),
])
def test_good_options_pass(options: DeliveryOptions) -> None:
    check_options(options)


def test_presets_name_files_for_their_tools() -> None:
    row = {"skin": "Knight", "voice": "Joe-v1", "function": "Greet", "line": "001", "take": 3,
           "rank": 1, "lang": "de"}
    rendered = {preset: naming.render(layout.template, row, layout.format)
                for preset, layout in naming.PRESET_LAYOUTS.items()}
    assert rendered == {"plain": "Greet.mp3", "unreal": "de/Greet.wav",
                        "wwise": "Voices/de/Greet.wav", "fmod": "de/Knight_Greet.wav"}
    assert naming.render("{voice}/{line}_{function}_t{take:02d}", row, "ogg") == (
        "Joe-v1/001_Greet_t03.ogg")


def test_two_lines_with_one_name_are_refused() -> None:
    rows = [{"skin": "S", "voice": "V", "function": f, "line": f"00{i}", "take": 1, "rank": 1,
             "lang": "en"} for i, f in enumerate(["Greet", "greet"], start=1)]
    with pytest.raises(DeliveryError, match="lines Greet and greet the same file name"):
        naming.name_files("{function}", rows, "wav")
    with pytest.raises(DeliveryError, match=r"same file name 'en/1\.wav'"):
        naming.name_files("{lang}/{take}", [{**r, "function": f"L{i}"}
                                            for i, r in enumerate(rows)], "wav")
    assert naming.name_files("{line}_{function}", rows, "wav") == ["001_Greet.wav",
                                                                   "002_greet.wav"]


def test_loudness_meter_matches_pyloudnorm() -> None:
    for seed, rate in ((1, 22050), (2, 48000), (3, 16000)):
        samples, source = decode_mp3(speech_mp3(2.5, 0.1 * seed, seed))
        samples = samples if rate == source else np.interp(
            np.arange(int(len(samples) * rate / source)) * source / rate,
            np.arange(len(samples)), samples).astype(np.float32)
        ours = loudness.integrated_loudness(samples, rate)
        reference = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
        assert ours == pytest.approx(reference, abs=0.001)
    assert loudness.integrated_loudness(np.zeros(48000, np.float32), 48000) is None
    assert loudness.integrated_loudness(np.ones(100, np.float32), 48000) is None
    assert loudness.true_peak(np.zeros(10, np.float32), 48000) is None


def test_true_peak_sees_between_samples() -> None:
    rate = 48000
    t = np.arange(rate) / rate
    # A sine at a quarter of the rate sampled 45 degrees off its crests: the samples peak 3 dB
    # under the wave.
    wave = (0.5 * np.sin(2 * np.pi * (rate / 4) * t + np.pi / 4)).astype(np.float32)
    assert 20 * np.log10(np.abs(wave).max()) == pytest.approx(-9.03, abs=0.01)
    assert loudness.true_peak(wave, rate) == pytest.approx(20 * np.log10(0.5), abs=0.1)


def test_normalize_hits_the_target_under_the_ceiling() -> None:
    quiet, rate = decode_mp3(speech_mp3(2.5, 0.05, 1))
    leveled = loudness.normalize(quiet, rate, -23.0, -1.0)
    assert not leveled.limited and leveled.lufs_after == -23.0
    assert loudness.integrated_loudness(leveled.samples, rate) == pytest.approx(-23, abs=0.01)
    peaky, rate = decode_mp3(speech_mp3(2.5, 0.5, 4, True))
    hot = loudness.normalize(peaky, rate, -14.0, -1.0)
    assert hot.limited and hot.true_peak_before is not None
    assert abs(loudness.integrated_loudness(hot.samples, rate) - (-14.0)) <= 0.5  # type: ignore[operator]
    assert (loudness.true_peak(hot.samples, rate) or 0) <= -1.0


def _category_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text(text, "utf-8")
    return path


def test_category_targets(tmp_path: Path) -> None:
    path = _category_file(tmp_path, "Category,LUFS\nbarks,-16\n\nCinematics, -23.5\n")
    targets = loudness.read_category_targets(path)
    assert targets == {"barks": -16.0, "Cinematics": -23.5}
    assert loudness.target_for("BARKS", targets, -20.0) == -16.0
    assert loudness.target_for(None, targets, -20.0) == -20.0
    assert loudness.target_for("other", targets, None) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Category,LUFS\nbarks,loud\n", "row 2: LUFS 'loud' is not a number"),
    ("Category,LUFS\nbarks,-16\nbarks,-18\n", "row 3: Category 'barks' is listed twice"),
    ("Category,LUFS\nbarks,4\n", "row 2: LUFS: 4 LUFS is above 0 LUFS"),
    ("Category,LUFS\n,-16\n", "row 2: Category is empty"),
    ("Kind,Level\nbarks,-16\n", "row 1: the header must name Category and LUFS"),
    ("", "is empty"),
])
def test_bad_category_files_are_named(tmp_path: Path, text: str, expected: str) -> None:
    path = _category_file(tmp_path, text)
    with pytest.raises(DeliveryError) as caught:
        check_options(DeliveryOptions(loudness_by_category=path))
    assert str(caught.value).startswith(f"loudness_by_category: {path}") or "cannot" in str(
        caught.value)
    assert expected in str(caught.value)
    with pytest.raises(DeliveryError, match="cannot read"):
        loudness.read_category_targets(tmp_path / "nope.csv")


def test_refusals_write_nothing_and_keep_an_older_export(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 1, "Line_2_take_2.mp3": 1})
    out = tmp_path / "out"
    first = export_batch(batch, out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for options in (DeliveryOptions(preset="nope"), DeliveryOptions(loudness=1.0),
                    DeliveryOptions(naming="{skin}/{rank}"), DeliveryOptions(naming="{x}"),
                    DeliveryOptions(naming="..{function}/../../{function}"),
                    DeliveryOptions(format="wav", bit_depth=8)):
        with pytest.raises(DeliveryError):
            deliver(batch, out, options)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert (first.folder / "Line_1.mp3").exists()
    with pytest.raises(DeliveryError):
        deliver(batch, tmp_path / "never", DeliveryOptions(preset="unreal", naming="{take}"))
    assert not (tmp_path / "never").exists()


def test_an_undecodable_take_writes_nothing(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 1, "Line_2_take_1.mp3": 1})
    (batch / "takes" / "Line_2_take_1.mp3").write_bytes(b"not audio at all" * 10)
    with pytest.raises(DeliveryError, match=r"cannot decode take Line_2_take_1\.mp3"):
        deliver(batch, tmp_path / "out", DeliveryOptions(format="wav"))
    assert list((tmp_path / "out").iterdir()) == []


def test_default_options_write_the_classic_export(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_1_take_3.mp3": 1})
    classic = export_batch(batch, tmp_path / "a", make_zip=True)
    result = deliver(batch, tmp_path / "b", DeliveryOptions(make_zip=True))
    assert result.sheet is None and result.files == classic.exported == ["Line_1.mp3"]
    for name in ("Line_1.mp3", "manifest.csv"):
        assert (result.folder / name).read_bytes() == (classic.folder / name).read_bytes()
    assert sorted(p.name for p in result.folder.iterdir()) == ["Line_1.mp3", "manifest.csv"]
    assert result.archive is not None and classic.archive is not None
    assert result.archive.read_bytes() == classic.archive.read_bytes()


def test_categories_pick_targets(root: Path, tmp_path: Path) -> None:
    batch = speech_batch(root, [0.1, 0.3, 0.2], categories={1: "barks", 2: "cinematics"})
    targets = _category_file(tmp_path, "Category,LUFS\nbarks,-16\ncinematics,-23\n")
    result = deliver(batch, tmp_path / "out", DeliveryOptions(
        format="wav", loudness=-20, loudness_by_category=targets))
    rows = list(csv.DictReader(io.StringIO(result.manifest.read_text())))
    assert [(r["category"], r["lufs_target"], r["lufs_after"]) for r in rows] == [
        ("barks", "-16.0", "-16.0"), ("cinematics", "-23.0", "-23.0"), ("", "-20", "-20.0")]


def test_the_workbook_keeps_text_that_looks_like_a_formula_as_text(tmp_path: Path) -> None:
    import openpyxl

    from voicelab.delivery.sheet import SHEET_FIELDS, write_workbook

    rows = [{"line": "Line_1", "text": '=HYPERLINK("http://x", "click")', "lufs_after": -16.0,
             "seed": 7}, {"line": "Line_2", "text": None}]
    write_workbook(rows, tmp_path / "dialogue.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "dialogue.xlsx")["Dialogue"]
    text = sheet.cell(row=2, column=SHEET_FIELDS.index("text") + 1)
    assert text.value == '=HYPERLINK("http://x", "click")' and text.data_type == "s"
    assert sheet.cell(row=2, column=SHEET_FIELDS.index("lufs_after") + 1).value == -16.0
    assert sheet.cell(row=3, column=SHEET_FIELDS.index("text") + 1).value is None
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
