"""The speech check's pure parts: normalising text, WER, the "words" flag, the recogniser setting,
the non-English skip and the facts it writes (no recogniser runs here)."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.batches import make_batch
from voicelab import quality, store
from voicelab.config import Settings, load_settings
from voicelab.errors import ConfigError
from voicelab.speech import check, recognizers
from voicelab.speech.recognizers import FASTER_WHISPER, RecognizerSpec
from voicelab.speech.text import normalize, number_words, ordinal_words, word_error_rate


@pytest.mark.parametrize(("text", "expected"), [
    ("The 3 gates, 21st of May!", "the three gates twenty first of may"),
    ("I have 1,000 men & 2.5 horses.", "i have one thousand men and two point five horses"),
    ("Don\u2019t 'go' there -- twenty-one!", "don't go there twenty one"),
    ("HOLD... the LINE?!", "hold the line"),
    ("100% of 12th", "one hundred percent of twelfth"),
    ("...", ""),
])
def test_normalize_case_punctuation_and_numbers(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (3, "three"), (13, "thirteen"), (21, "twenty one"), (40, "forty"),
    (105, "one hundred five"), (1999, "one thousand nine hundred ninety nine"),
    (2_000_021, "two million twenty one"), (-7, "minus seven"),
])
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


def test_ordinal_words() -> None:
    assert [ordinal_words(n) for n in (1, 2, 3, 5, 12, 20, 21, 100)] == [
        "first", "second", "third", "fifth", "twelfth", "twentieth", "twenty first",
        "one hundredth"]


def test_wer_ignores_case_punctuation_and_how_numbers_are_written() -> None:
    assert word_error_rate("Wave 21, go!", "wave twenty one go") == 0.0
    assert word_error_rate("For the Ward!", "for the war") == pytest.approx(1 / 3, abs=1e-3)
    assert word_error_rate("Hold fast. Strike true.", "") == 1.0
    assert word_error_rate("Make way!", "make a way now") == 1.0  # two insertions
    assert word_error_rate("...", "anything") is None  # nothing to check


def take(wer: float | None = None, **speech: Any) -> dict[str, Any]:
    facts = {"wer": wer, **speech} if wer is not None or speech else None
    return {"file": "a.mp3", "line": "L", "quality": {"duration_s": 1.0, "silence_ratio": 0.1,
                                                       **({"speech": facts} if facts else {})}}


def test_words_flag_above_the_threshold_only() -> None:
    assert "words" in quality.FLAGS
    limit = quality.WORDS_WER_MAX
    flags = quality.flag_takes([take(limit + 0.01), take(limit), take(0.0), take(None),
                                take(skipped="language fr"), take(error="boom"), take(wer=None)])
    assert flags == [["words"], [], [], [], [], [], []]


def test_words_flag_sits_with_the_other_flags() -> None:
    loud = {**take(1.2), "quality": {**take(1.2)["quality"], "clipped_samples": 50}}
    assert quality.flag_batch([loud]) == [["clipping", "words"]]


def test_stt_model_setting(tmp_path: Path) -> None:
    assert load_settings({"AUDIO_ROOT": str(tmp_path)}).stt_model is None
    model = tmp_path / "whisper"
    model.mkdir()
    assert load_settings({"AUDIO_ROOT": str(tmp_path),
                          "VOICELAB_STT_MODEL": str(model)}).stt_model == model.resolve()
    with pytest.raises(ConfigError) as caught:
        load_settings({"AUDIO_ROOT": str(tmp_path), "VOICELAB_STT_MODEL": str(tmp_path / "no")})
    assert caught.value.variable == "VOICELAB_STT_MODEL"
    assert str(tmp_path / "no") in str(caught.value) and "not a folder" in str(caught.value)


def test_a_missing_faster_whisper_model_or_package_names_the_variable(tmp_path: Path) -> None:
    spec = RecognizerSpec.from_settings(Settings(audio_root=tmp_path, stt_model=tmp_path / "m"))
    assert spec.engine == FASTER_WHISPER and not spec.processes
    with pytest.raises(ConfigError, match=r"VOICELAB_STT_MODEL=.*not a folder") as caught:
        spec.build()
    assert str(tmp_path / "m") in str(caught.value)
    (tmp_path / "m").mkdir()
    with pytest.raises(ConfigError, match=r"VOICELAB_STT_MODEL=.*no model\.bin"):
        spec.build()
    (tmp_path / "m" / "model.bin").write_bytes(b"")
    if "faster_whisper" not in sys.modules:  # not installed here: the error says so
        with pytest.raises(ConfigError, match=r"VOICELAB_STT_MODEL=.*faster-whisper package is "
                                              r"not installed"):
            spec.build()


def test_faster_whisper_is_used_through_its_model_folder(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class WhisperModel:
        def __init__(self, path: str, **options: Any) -> None:
            seen.update(path=path, **options)

        def transcribe(self, samples: np.ndarray, **options: Any) -> tuple[list[Any], None]:
            seen["language"] = options["language"]
            return [types.SimpleNamespace(text=" Hold fast."),
                    types.SimpleNamespace(text=" Strike true. ")], None

    module = types.ModuleType("faster_whisper")
    module.__spec__ = importlib.machinery.ModuleSpec("faster_whisper", None)
    module.WhisperModel = WhisperModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "faster_whisper", module)
    (tmp_path / "model.bin").write_bytes(b"")
    recognizer = RecognizerSpec(FASTER_WHISPER, tmp_path).build()
    assert recognizer.name == "faster-whisper"
    assert recognizer.transcribe(np.zeros(16_000, np.float32)) == "Hold fast. Strike true."
    assert seen["path"] == str(tmp_path) and seen["local_files_only"] and seen["language"] == "en"


def test_default_recognizer_is_pocketsphinx(tmp_path: Path) -> None:
    spec = RecognizerSpec.from_settings(Settings(audio_root=tmp_path))
    assert spec.engine == "pocketsphinx" and spec.processes
    assert recognizers.default_workers(spec) >= 1


@pytest.mark.parametrize(("extra", "language"), [
    ({}, None), ({"lang": "fr"}, "fr"), ({"language": "en-GB"}, "en-GB"),
    ({"generation_params": {"lang": "de_DE"}}, "de_DE"),
])
def test_batch_language(extra: dict[str, Any], language: str | None) -> None:
    assert check.batch_language({"generation_params": {}, **extra}) == language


def test_is_english() -> None:
    assert all(map(check.is_english, (None, "en", "EN", "en-US", "en_GB")))
    assert not any(map(check.is_english, ("fr", "de-DE", "eng_x", "es")))


def test_a_non_english_batch_is_skipped_with_a_note(root: Path) -> None:
    batch = make_batch(root, lines=2, takes_per_line=2, ranks={"Line_1_take_1.mp3": 1})
    metadata = store.load_metadata(batch)
    metadata["lang"] = "fr"
    store.save_metadata(batch, metadata)
    summary = check.check_batch(batch, RecognizerSpec("no-such-engine"))  # never built
    assert (summary.total, summary.skipped, summary.checked, summary.mean_wer) == (4, 4, 0, None)
    takes = store.load_metadata(batch)["takes"]
    assert {t["quality"]["speech"]["skipped"] for t in takes} == {
        "language fr: the speech check knows English only"}
    assert all(t["quality"]["flags"] == [] for t in takes) and takes[0]["rank"] == 1
    assert check.check_batch(batch).total == 0  # a skipped take counts as checked


def test_write_facts_sets_speech_and_flags_of_those_takes_only(root: Path) -> None:
    batch = make_batch(root, lines=1, takes_per_line=3, ranks={"Line_1_take_2.mp3": 1})
    flagged = check.write_facts(batch, {"Line_1_take_1.mp3": {"wer": 0.9, "heard": "x"},
                                        "Line_1_take_2.mp3": {"wer": 0.1, "heard": "y"}})
    assert flagged == ["Line_1_take_1.mp3"]
    takes = store.load_metadata(batch)["takes"]
    assert takes[0]["quality"] == {"speech": {"wer": 0.9, "heard": "x"}, "flags": ["words"]}
    assert takes[1]["quality"]["flags"] == [] and takes[1]["rank"] == 1
    assert "quality" not in takes[2]
    assert [check.needs_check(t) for t in takes] == [False, False, True]
    assert check.needs_check(takes[0], force=True)


def test_after_job_never_raises_and_notes_the_failure(root: Path) -> None:
    batch = make_batch(root, lines=1, takes_per_line=2)
    settings = Settings(audio_root=root, stt_model=root / "missing-model")
    assert check.after_job(settings, [batch]) == []
    speech = [t["quality"]["speech"] for t in store.load_metadata(batch)["takes"]]
    assert all("VOICELAB_STT_MODEL" in s["error"] and s["engine"] == FASTER_WHISPER
               for s in speech)
    assert all(check.needs_check(t) for t in store.load_metadata(batch)["takes"])  # tried again


def test_the_speech_check_can_be_switched_off(tmp_path: Path) -> None:
    """VOICELAB_SPEECH_CHECK=off: a job's step after generation hears nothing (and changes
    nothing); a bad value is named."""
    def settings(value: str) -> Settings:
        return load_settings({"AUDIO_ROOT": str(tmp_path), "VOICELAB_SPEECH_CHECK": value})

    assert settings("on").speech_check and load_settings(
        {"AUDIO_ROOT": str(tmp_path)}).speech_check
    assert settings("OFF").speech_check is False and settings("0").speech_check is False
    with pytest.raises(ConfigError) as caught:
        settings("maybe")
    assert caught.value.variable == "VOICELAB_SPEECH_CHECK" and "on or off" in str(caught.value)
    batch = make_batch(tmp_path, lines=1, takes_per_line=1)
    before = (batch / store.METADATA_NAME).read_bytes()
    assert check.after_job(settings("off"), [batch]) == []
    assert (batch / store.METADATA_NAME).read_bytes() == before
    [summary] = check.after_job(settings("on"), [batch])
    assert summary.checked == 1 and "speech" in store.load_metadata(batch)["takes"][0]["quality"]
