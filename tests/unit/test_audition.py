"""The audition grid: every combination, limits checked, and real takes from Piper."""

from __future__ import annotations

import pytest

from voicelab import audition
from voicelab.engines.piper import BUNDLED_VOICE, Piper
from voicelab.errors import JobConfigError


def test_grid_is_every_combination() -> None:
    settings = audition.grid_settings({"stability": [0.2, 0.8], "speed": [0.9, 1.0, 1.1]})
    assert len(settings) == 6
    assert {(s.stability, s.speed) for s in settings} == {
        (a, b) for a in (0.2, 0.8) for b in (0.9, 1.0, 1.1)}
    assert {s.style for s in settings} == {0.0}


def test_grid_refuses_bad_values_and_large_grids() -> None:
    with pytest.raises(JobConfigError) as info:
        audition.grid_settings({"speed": [2.0], "pitch": [1.0]})
    assert "speed=2.0 is outside 0.7-1.2" in str(info.value) and "pitch" in str(info.value)
    with pytest.raises(JobConfigError, match="at most 16"):
        audition.grid_settings({"stability": [0.1, 0.2, 0.3, 0.4, 0.5],
                                "style": [0.1, 0.2, 0.3, 0.4]})


@pytest.mark.integration
def test_audition_with_piper() -> None:
    takes = audition.audition("Hold the line.", BUNDLED_VOICE, Piper(), {"speed": [0.8, 1.2]})
    assert len(takes) == 2 and all(len(t.mp3) > 1000 for t in takes)
    slow, fast = takes
    assert slow.facts["duration_s"] > fast.facts["duration_s"]
    assert "speed 0.80" in slow.label and "peaks" not in slow.facts
