"""Audition one line across a small grid of settings, quickly, without writing a batch.

For audio leads in explore.ipynb: hear how stability, style and speed change a line before
spending a batch on it. Takes stay in memory; nothing is written under AUDIO_ROOT.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

from voicelab import quality
from voicelab.engines import Engine, TakeSettings
from voicelab.errors import JobConfigError, Problem
from voicelab.jobspec import SETTING_LIMITS

MAX_TAKES = 16
DEFAULT_SETTINGS = TakeSettings()


@dataclass(frozen=True)
class Audition:
    """One audition take, held in memory only: its settings, its MP3 and its quality facts."""

    settings: TakeSettings
    mp3: bytes
    facts: dict[str, Any]

    @property
    def label(self) -> str:
        s = self.settings
        return (f"stability {s.stability:.2f} · similarity {s.similarity_boost:.2f} · "
                f"style {s.style:.2f} · speed {s.speed:.2f}")


def grid_settings(grid: dict[str, list[float]],
                  base: TakeSettings = DEFAULT_SETTINGS) -> list[TakeSettings]:
    """Every combination of the grid's values (settings not in the grid keep `base`)."""
    problems = [Problem(f"unknown setting {name!r}", field=name)
                for name in grid if name not in SETTING_LIMITS]
    for name, values in grid.items():
        low, high, _ = SETTING_LIMITS.get(name, (0, 0, 0))
        problems += [Problem(f"{name}={v!r} is outside {low}-{high}", field=name, value=v)
                     for v in values if name in SETTING_LIMITS and not low <= v <= high]
    names = [n for n in grid if grid[n]]
    combos = list(itertools.product(*(grid[n] for n in names)))
    if len(combos) > MAX_TAKES:
        problems.append(Problem(f"{len(combos)} combinations; at most {MAX_TAKES} for an "
                                "audition (launch a batch for more)"))
    if problems:
        raise JobConfigError(problems)
    overrides: list[dict[str, Any]] = [dict(zip(names, values, strict=True)) for values in combos]
    return [replace(base, **changed) for changed in overrides]


def audition(text: str, voice_id: str, engine: Engine, grid: dict[str, list[float]],
             *, model_id: str | None = None, seed: int | None = None) -> list[Audition]:
    """Speak `text` once per grid point; each take with its measured quality facts."""
    takes = []
    for settings in grid_settings(grid):
        result = engine.synthesize(text, voice_id, settings, seed, model_id)
        facts = quality.measure(result.samples, result.sample_rate)
        facts.pop("peaks", None)
        takes.append(Audition(settings, result.mp3, facts))
    return takes
