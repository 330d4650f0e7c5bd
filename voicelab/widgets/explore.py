"""What explore.ipynb shows: an audition grid with a player, and the settings-vs-ranks analysis."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import display

from voicelab import analysis, audition
from voicelab.config import get_settings
from voicelab.engines import get_engine
from voicelab.widgets.take_player import TakePlayer


def audition_view(text: str, voice_id: str, engine: str, grid: dict[str, list[float]],
                  model_id: str | None = None) -> TakePlayer:
    """Synthesize the grid and return a player over its takes."""
    takes = audition.audition(text, voice_id, get_engine(engine, get_settings()), grid,
                              model_id=model_id)
    return TakePlayer([(t.label, _facts(t.facts), t.mp3) for t in takes])


def _facts(facts: dict[str, Any]) -> str:
    lufs = facts.get("lufs")
    return (f"{facts['duration_s']:.2f} s · "
            + (f"{lufs:.1f} LUFS" if lufs is not None else "loudness n/a")
            + f" · peak {facts['peak_dbfs']} dBFS")


def _html_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>"
                                    for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def analysis_view(root: Path | None = None) -> w.Widget:
    """Correlations per voice, the scatter plots, the rank-1 settings and suggested ranges."""
    rows = analysis.ranked_rows(root or get_settings().audio_root)
    if not rows:
        return w.HTML("<p>No ranked takes yet: rank some batches, then run this again.</p>")
    corr = [{"voice": voice, **{k: "n/a" if v is None else v for k, v in values.items()}}
            for voice, values in analysis.correlations(rows).items()]
    suggestions = analysis.suggest_ranges(rows)
    suggested = [{"voice": voice, "rank-1 takes": s["winners"],
                  **{k: f"{lo:.2f} to {hi:.2f}" for k, (lo, hi) in s["settings"].items()}}
                 for voice, s in suggestions.items()]
    columns = ["voice", *analysis.SETTINGS]
    plot = w.Output()
    with plot:
        import matplotlib.pyplot as plt

        figure = analysis.plot_settings_vs_rank(rows)
        display(figure)
        plt.close(figure)
    winners = analysis.winners(rows)
    return w.VBox([
        w.HTML(f"<h3>Settings against ranks</h3><p>{len(rows)} takes on ranked lines. "
               "Spearman correlation of each setting with the score (5 = rank 1, "
               "0 = unranked): positive means higher values placed better.</p>"
               + _html_table(corr, columns)),
        plot,
        w.HTML("<h3>Rank-1 takes</h3>" + _html_table(winners, ["voice", "line", "file",
                                                                 *analysis.SETTINGS])),
        w.HTML("<h3>Suggested ranges for the next batch</h3>"
               + (_html_table(suggested, ["voice", "rank-1 takes", *analysis.SETTINGS])
                  if suggested else "<p>Not enough rank-1 takes per voice yet (3 needed).</p>")),
    ])
