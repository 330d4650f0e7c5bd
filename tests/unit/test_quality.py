"""Quality facts on synthetic signals whose answers are known, and flags on built line sets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from voicelab import quality

SR = 22050


def tone(seconds: float, amplitude: float = 0.5, freq: float = 440.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(seconds * sr), dtype=np.float32)


def facts(duration: float, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {"duration_s": duration, "peak_dbfs": -3.0, "clipped_samples": 0,
                               "silence_ratio": 0.1, "lufs": -20.0}
    return base | extra


def test_sine_peak_matches_its_amplitude() -> None:
    result = quality.measure(tone(1.0, amplitude=0.5), SR)
    assert result["peak_dbfs"] == pytest.approx(20 * math.log10(0.5), abs=0.05)
    assert result["duration_s"] == pytest.approx(1.0, abs=0.001)
    assert result["clipped_samples"] == 0


def test_clipped_square_counts_its_full_scale_samples() -> None:
    square = np.sign(tone(0.5, amplitude=1.0)).astype(np.float32)
    expected = int(np.count_nonzero(np.abs(square) >= 0.999))
    result = quality.measure(square, SR)
    assert expected > SR * 0.4  # nearly every sample of a square sits at full scale
    assert result["clipped_samples"] == expected
    assert result["peak_dbfs"] == pytest.approx(0.0, abs=0.01)


def test_silence_padding_is_measured_at_both_ends() -> None:
    take = np.concatenate([silence(0.3), tone(1.0), silence(0.7)])
    result = quality.measure(take, SR)
    assert result["leading_silence_s"] == pytest.approx(0.3, abs=0.015)
    assert result["trailing_silence_s"] == pytest.approx(0.7, abs=0.015)
    assert result["silence_ratio"] == pytest.approx(1.0 / 2.0, abs=0.02)


def test_quiet_noise_floor_counts_as_silence() -> None:
    rng = np.random.default_rng(1)
    floor = (rng.standard_normal(int(0.5 * SR)) * 10 ** (-60 / 20)).astype(np.float32)
    result = quality.measure(np.concatenate([floor, tone(0.5)]), SR)
    assert result["leading_silence_s"] == pytest.approx(0.5, abs=0.015)
    assert result["trailing_silence_s"] == pytest.approx(0.0, abs=0.015)


def test_lufs_difference_follows_the_gain() -> None:
    loud = quality.measure(tone(2.0, amplitude=0.5, freq=1000.0), SR)
    quiet = quality.measure(tone(2.0, amplitude=0.05, freq=1000.0), SR)
    assert loud["lufs"] is not None and quiet["lufs"] is not None
    assert loud["lufs"] - quiet["lufs"] == pytest.approx(20.0, abs=0.1)
    # a full-scale 1 kHz sine reads about -3 LUFS, so amplitude 0.5 is about -9
    assert loud["lufs"] == pytest.approx(-3.0 + 20 * math.log10(0.5), abs=0.5)


def test_silence_has_no_loudness_no_peak_and_is_all_silence() -> None:
    result = quality.measure(silence(1.0), SR)
    assert result["lufs"] is None
    assert result["peak_dbfs"] is None
    assert result["leading_silence_s"] == result["trailing_silence_s"] == 1.0
    assert result["silence_ratio"] == 1.0
    assert quality.flag_takes([result]) == [["mostly_silence"]]


def test_take_shorter_than_a_gating_block_has_no_loudness_but_a_peak() -> None:
    result = quality.measure(tone(0.3), SR)
    assert result["lufs"] is None
    assert result["peak_dbfs"] is not None
    assert quality.flag_takes([result]) == [[]]


def test_empty_take_is_measured_without_error() -> None:
    result = quality.measure(np.zeros(0, dtype=np.float32), SR)
    assert result["duration_s"] == 0.0
    assert quality.flag_takes([result]) == [["mostly_silence"]]


def test_stereo_input_is_refused() -> None:
    with pytest.raises(ValueError, match="mono"):
        quality.measure(np.zeros((100, 2), dtype=np.float32), SR)


def test_measure_returns_plain_json_and_compact_peaks() -> None:
    take = np.concatenate([silence(0.5), tone(3.0), silence(0.5)])
    result = quality.measure(take, SR)
    assert json.loads(json.dumps(result)) == result
    plain = (int, float, str, type(None))
    assert all(type(v) in plain for v in result.values()), {k: type(v) for k, v in result.items()}
    values = quality.peak_values(result["peaks"])
    assert len(values) == quality.PEAKS_POINTS
    assert values[0] == 0.0
    assert values[50] == pytest.approx(0.5, abs=0.005)
    assert len(json.dumps(result["peaks"])) < 150


def test_peaks_of_a_short_take_has_one_point_per_sample() -> None:
    stored = quality.peaks(np.array([0.1, -0.5, 0.25], dtype=np.float32))
    assert quality.peak_values(stored) == pytest.approx([0.1, 0.5, 0.25], abs=0.003)
    assert quality.peak_values(None).size == 0
    assert list(quality.peak_values([0.2, -0.4])) == [0.2, 0.4]


def test_clipping_flag_needs_more_than_a_single_full_scale_sample() -> None:
    flags = quality.flag_takes([facts(1.0, clipped_samples=1), facts(1.0, clipped_samples=40)])
    assert flags == [[], ["clipping"]]


def test_mostly_silence_flag_uses_the_silent_share() -> None:
    flags = quality.flag_takes([facts(2.0, silence_ratio=0.59), facts(2.0, silence_ratio=0.75)])
    assert flags == [[], ["mostly_silence"]]


def test_duration_outlier_is_judged_against_the_other_takes() -> None:
    flags = quality.flag_takes([facts(2.0), facts(2.1), facts(1.9), facts(4.0), facts(1.0)])
    assert flags == [[], [], [], ["duration_outlier"], ["duration_outlier"]]


def test_duration_outlier_needs_three_takes() -> None:
    assert quality.flag_takes([facts(1.0), facts(5.0)]) == [[], []]


def test_flags_skip_missing_fields() -> None:
    assert quality.flag_takes([{}, {"duration_s": 1.0}, {"duration_s": 1.1}]) == [[], [], []]


def test_flags_read_a_take_record_with_facts_under_quality() -> None:
    records = [{"file": f"A_take_{n}.mp3", "line": "A", "duration_s": d,
                "quality": {"clipped_samples": c, "silence_ratio": r, "peak_dbfs": -1.0}}
               for n, (d, c, r) in enumerate([(1.0, 0, 0.1), (1.1, 50, 0.1), (3.0, 0, 0.8)])]
    records.append({"file": "A_take_4.mp3", "line": "A", "duration_s": 1.05})
    assert quality.flag_takes(records) == [[], ["clipping"], ["mostly_silence", "duration_outlier"],
                                           []]


def test_flag_batch_compares_takes_within_their_own_line() -> None:
    takes = [facts(1.0, line="A"), facts(3.0, line="B"), facts(1.1, line="A"),
             facts(3.1, line="B"), facts(0.9, line="A"), facts(2.9, line="B")]
    assert quality.flag_batch(takes) == [[]] * 6
    takes[4] = facts(3.0, line="A")
    flags = quality.flag_batch(takes)
    assert flags[4] == ["duration_outlier"]
    assert flags[1] == flags[3] == flags[5] == []


def test_loudness_gain_reaches_the_target_within_limits() -> None:
    assert quality.loudness_gain_db(-17.0) == -6.0
    assert quality.loudness_gain_db(-30.0, target=-23.0) == 7.0
    assert quality.loudness_gain_db(-60.0) == quality.GAIN_LIMIT_DB
    assert quality.loudness_gain_db(-30.0, peak_dbfs=-4.0) == 3.0
    assert quality.loudness_gain_db(None) == 0.0
    assert quality.loudness_gain_db(float("-inf")) == 0.0
