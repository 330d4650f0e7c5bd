"""Planning more takes for lines of an existing batch (pure; docs/design.md, decision 13).

A line's take numbers continue after its highest (stale and removed takes included, so no file
name is ever reused). Settings come one of two ways:

- **like a ranked take** ("more like #1"): new seeds, settings spread tightly around that take's
  (LIKE_SPREAD of each setting's range either side, clipped to its limits);
- **the batch's ranges**: spread over the ranges in the batch's `generation_params`, as a new
  batch would be.

Either way the variants sit at the centres of equal strata, shuffled per setting (a Latin
hypercube, as `generation.plan_takes` does), and the plan depends only on the batch, the line
and the take numbers, so planning again gives the same takes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voicelab.engines import TakeSettings
from voicelab.errors import LineError
from voicelab.generation import PlannedTake, stable_int
from voicelab.jobspec import SETTING_LIMITS
from voicelab.lines.diff import current_texts, is_current
from voicelab.script import ScriptLine
from voicelab.store.schema import Metadata

MAX_MORE = 20
"""At most this many takes are added to one line at once."""
LIKE_SPREAD = 0.05
"""How far "like" spreads each setting either side of the liked take's: a share of its range."""


@dataclass(frozen=True)
class MorePlan:
    """What a "more takes" request will make: the line, its (possibly edited) text, whether the
    text changed (so the line's current takes go stale), how settings were chosen, the takes."""

    line: str
    text: str
    text_changed: bool
    like: int | None
    takes: list[PlannedTake]

    @property
    def characters(self) -> int:
        """Characters the engine is sent (before any pronunciation substitution)."""
        return len(self.text) * len(self.takes)


def _spans_like(settings: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    spans = {}
    for name, (low, high, default) in SETTING_LIMITS.items():
        centre = float(settings.get(name, default))
        reach = LIKE_SPREAD * (high - low)
        spans[name] = (max(low, centre - reach), min(high, centre + reach))
    return spans


def _spans_of_batch(params: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    settings = params.get("settings") or {}
    spans = {}
    for name, (_low, _high, default) in SETTING_LIMITS.items():
        value = settings.get(name, default)
        low, high = (value, value) if isinstance(value, int | float) else value
        spans[name] = (float(low), float(high))
    return spans


def _spread(spans: Mapping[str, tuple[float, float]], count: int, key: str
            ) -> list[dict[str, float]]:
    values: dict[str, list[float]] = {}
    for name, (low, high) in spans.items():
        strata = [(k + 0.5) / count for k in range(count)]
        random.Random(stable_int(key, name)).shuffle(strata)
        values[name] = [round(low + s * (high - low), 3) for s in strata]
    return [{name: vals[k] for name, vals in values.items()} for k in range(count)]


def plan_more(metadata: Metadata, line: str, *, takes: int = 3, like: int | str | None = "auto",
              text: str | None = None) -> MorePlan:
    """Plan `takes` more takes of `line` (see the module).

    `like` is the rank of the take to spread around (1-5), None for the batch's ranges, or
    "auto": like the rank-1 take when the line has one, else the batch's ranges. `text` is an
    edited text for the line (None or the same text: unchanged).

    Raises:
        LineError: no such line (or only removed takes), `takes` outside 1..MAX_MORE, no take at
            the rank asked for, or an empty text.
    """
    members = [t for t in metadata["takes"] if t["line"] == line]
    texts = current_texts(metadata)
    if not members or line not in texts:
        raise LineError(f"batch {metadata['batch_id']} has no line {line!r} (or it was removed "
                        "from the script)")
    if isinstance(takes, bool) or not isinstance(takes, int) or not 1 <= takes <= MAX_MORE:
        raise LineError(f"takes must be a whole number from 1 to {MAX_MORE}, got {takes!r}")
    current = [t for t in members if is_current(t)]
    by_rank = {t["rank"]: t for t in current if t["rank"] is not None}
    if like == "auto":
        like = 1 if 1 in by_rank else None
    if like is not None and (isinstance(like, bool) or like not in by_rank):
        raise LineError(f"line {line} has no rank-{like} take to make more like: rank one "
                        "first, or ask for the batch's ranges")
    old_text = texts[line]
    if text is not None and not text.strip():
        raise LineError("the edited text is empty")
    new_text = text.strip() if text is not None else (old_text or members[-1]["script_text"])
    if like is not None:
        liked = by_rank[like]
        spans = _spans_like(liked.get("generation_settings") or {})
        boost = bool((liked.get("generation_settings") or {}).get("use_speaker_boost", True))
        planned = _planned(metadata, line, new_text, takes, spans, boost)
    else:
        planned = plan_line(metadata, line, new_text, takes)
    return MorePlan(line=line, text=new_text, text_changed=new_text != old_text,
                    like=like if isinstance(like, int) else None, takes=planned)


def plan_line(metadata: Metadata, line: str, text: str, takes: int,
              category: str | None = None) -> list[PlannedTake]:
    """`takes` takes of `line` saying `text`, spread over the batch's ranges, numbered on from
    the line's highest take (1 for a line the batch never had); `category` (the script's, else
    the line's takes') rides along for export."""
    params = metadata.get("generation_params") or {}
    boost = bool((params.get("settings") or {}).get("use_speaker_boost", True))
    return _planned(metadata, line, text, takes, _spans_of_batch(params), boost, category)


def _planned(metadata: Metadata, line: str, text: str, takes: int,
             spans: Mapping[str, tuple[float, float]], boost: bool,
             category: str | None = None) -> list[PlannedTake]:
    first = max((t["take_number"] for t in metadata["takes"] if t["line"] == line),
                default=0) + 1
    key = f"{metadata['batch_id']}\x1f{line}\x1f{first}"
    category = category or next((t["category"] for t in metadata["takes"]
                                 if t["line"] == line and t.get("category")), None)
    script_line = ScriptLine(function=line, text=text, row=0, category=category)
    return [
        PlannedTake(script_line, number, TakeSettings(**values, use_speaker_boost=boost),
                    stable_int(metadata["batch_id"], line, number, "more"))
        for number, values in zip(range(first, first + takes), _spread(spans, takes, key),
                                  strict=True)]
