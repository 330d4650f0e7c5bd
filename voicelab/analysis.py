"""Which settings win: ranks given across batches, related to the settings each take used.

For audio leads in explore.ipynb. Every ranked take becomes one row; a take's score is
6 - rank (rank 1 scores 5), and unranked takes of ranked lines score 0, so "how high did this
take place" can be compared with its stability, similarity, style and speed per voice.
"""

from __future__ import annotations

import statistics
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import store
from voicelab.jobspec import SETTING_LIMITS

SETTINGS = tuple(SETTING_LIMITS)


@dataclass(frozen=True)
class TakeRow:
    """One take of a ranked line: the settings it used beside its score (6 - rank, 0 unranked)."""

    voice: str
    batch_id: str
    line: str
    file: str
    rank: int | None
    score: int
    settings: dict[str, float]
    lufs: float | None


def ranked_rows(root: Path) -> list[TakeRow]:
    """Every take of every line that has at least one rank, across all batches under root."""
    rows = []
    for record in store.find_batches(root):
        meta = store.load_metadata(Path(record["path"]), check_files=False)
        ranked_lines = {t["line"] for t in meta["takes"] if t.get("rank")}
        for take in meta["takes"]:
            if take["line"] not in ranked_lines:
                continue
            settings = take.get("generation_settings") or {}
            rows.append(TakeRow(
                voice=meta["voice_name"], batch_id=meta["batch_id"], line=take["line"],
                file=take["file"], rank=take.get("rank"),
                score=6 - take["rank"] if take.get("rank") else 0,
                settings={k: float(settings[k]) for k in SETTINGS if k in settings},
                lufs=(take.get("quality") or {}).get("lufs")))
    return rows


def _spearman(xs: list[float], ys: list[float]) -> float | None:
    """Rank correlation; None when either side does not vary."""
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2
            i = j + 1
        return result

    return round(statistics.correlation(ranks(xs), ranks(ys)), 3)


def correlations(rows: list[TakeRow]) -> dict[str, dict[str, float | None]]:
    """Per voice, per setting: Spearman correlation of the setting with the take's score."""
    result: dict[str, dict[str, float | None]] = {}
    for voice in sorted({r.voice for r in rows}):
        mine = [r for r in rows if r.voice == voice]
        result[voice] = {name: _spearman([r.settings[name] for r in mine if name in r.settings],
                                         [r.score for r in mine if name in r.settings])
                         for name in SETTINGS}
    return result


def winners(rows: list[TakeRow]) -> list[dict[str, Any]]:
    """The settings of every rank-1 take, for a table."""
    return [{"voice": r.voice, "batch": r.batch_id, "line": r.line, "file": r.file,
             **r.settings} for r in rows if r.rank == 1]


def suggest_ranges(rows: list[TakeRow], *, min_winners: int = 3) -> dict[str, dict[str, Any]]:
    """Per voice, per setting: a range for the next batch, from where the rank-1 takes sit.

    The middle half of the winners' values (quartiles), widened to at least 0.1 of the
    setting's scale and kept within the API's limits. With fewer than `min_winners` rank-1
    takes a voice gets no suggestion: too little evidence.
    """
    suggestions: dict[str, dict[str, Any]] = {}
    for voice in sorted({r.voice for r in rows}):
        top = [r for r in rows if r.voice == voice and r.rank == 1]
        if len(top) < min_winners:
            continue
        ranges = {}
        for name in SETTINGS:
            values = sorted(r.settings[name] for r in top if name in r.settings)
            if not values:
                continue
            low_limit, high_limit, _ = SETTING_LIMITS[name]
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
            middle, half = (q1 + q3) / 2, max((q3 - q1) / 2, 0.05 * (high_limit - low_limit))
            ranges[name] = [round(max(low_limit, middle - half), 2),
                            round(min(high_limit, middle + half), 2)]
        suggestions[voice] = {"winners": len(top), "settings": ranges}
    return suggestions


def plot_settings_vs_rank(rows: list[TakeRow]) -> Any:
    """One scatter per setting (columns) and voice (rows): value against score, jittered."""
    import matplotlib.pyplot as plt

    voices = sorted({r.voice for r in rows}) or ["(no ranked takes)"]
    fig, axes = plt.subplots(len(voices), len(SETTINGS), figsize=(3.2 * len(SETTINGS),
                             2.6 * len(voices)), squeeze=False, sharey=True)
    for i, voice in enumerate(voices):
        mine = [r for r in rows if r.voice == voice]
        for j, name in enumerate(SETTINGS):
            ax = axes[i][j]
            points = [(r.settings[name], r.score + (zlib.crc32(r.file.encode()) % 7 - 3) * 0.04)
                      for r in mine if name in r.settings]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.scatter(xs, ys, s=14, alpha=0.6)
            ax.set_xlabel(name)
            if j == 0:
                ax.set_ylabel(f"{voice[:28]}\nscore (5 = rank 1)")
    fig.tight_layout()
    return fig
