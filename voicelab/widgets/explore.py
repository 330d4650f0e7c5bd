"""What explore.ipynb shows: an audition grid with a player, and which settings win."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import display

from voicelab import analysis, audition, strength
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


def analysis_view(root: Path | None = None, *,
                  resamples: int = strength.DEFAULT_RESAMPLES) -> w.Widget:
    """Which settings win, from every rater's orderings: Plackett-Luce strengths per settings
    bucket per voice with 95 % intervals, their plot, suggested ranges with how sure they are,
    and the rank-1 takes (the consensus in panel batches) to listen to."""
    root = root or get_settings().audio_root
    found = strength.judgements(root)
    if not found:
        return w.HTML("<p>No ranked takes yet: rank some batches, then run this again.</p>")
    result = strength.strengths(found, resamples=resamples)
    if not result.fits:
        return w.HTML(f"<p>{len(found)} judgements, but none chose between takes whose "
                      "settings differ: generate takes across a range of settings, rank them, "
                      "then run this again.</p>")
    plot = w.Output()
    with plot:
        import matplotlib.pyplot as plt

        figure = strength.plot_strengths(result)
        display(figure)
        plt.close(figure)
    suggested = [{"voice": voice, "setting": setting, "range": f"{s.low:.2f} to {s.high:.2f}",
                  "best bucket": f"{s.best:.3g}", "how sure": f"{s.wording} ({s.sureness:.0%})",
                  "judgements": s.judgements, "why": s.note}
                 for voice, per_setting in strength.suggest_ranges(result).items()
                 for setting, s in per_setting.items()]
    widths = ", ".join(f"{name} {width:g}" for name, width in strength.BUCKET_WIDTHS.items())
    raters = ", ".join(result.raters)
    winners = analysis.winners(analysis.ranked_rows(root))
    return w.VBox([
        w.HTML("<h3>Which settings win</h3>"
               f"<p>{result.judgements} judgements by {len(result.raters)} "
               f"rater{'s' if len(result.raters) != 1 else ''} ({html.escape(raters)}) across "
               f"{result.batches} batch{'es' if result.batches != 1 else ''}: each rater's "
               "ordering of a line counts once (in a panel, every rater's own ranks; the "
               "consensus is not counted again). Each setting is cut into buckets "
               f"({html.escape(widths)} wide). A bucket's strength is how readily raters "
               "picked its takes (Plackett-Luce log-worth, 0 = the voice's average bucket; "
               "+0.7 means about twice as likely to be picked as an average take). Bars are "
               f"95 % intervals from {resamples} re-draws of the judgements: where bars "
               "overlap, the data cannot tell the buckets apart.</p>"),
        plot,
        w.HTML("<h3>Suggested ranges for the next batch</h3><p>Every bucket whose interval "
               "reaches the best one's. How sure: the share of re-draws whose best bucket stays "
               f"in the range (sure: 90 % or more and {strength.SURE_JUDGEMENTS}+ judgements, "
               f"likely: 70 % or more and {strength.LIKELY_JUDGEMENTS}+, else a guess).</p>"
               + _html_table(suggested, ["voice", "setting", "range", "best bucket",
                                         "how sure", "judgements", "why"])),
        w.HTML("<h3>Rank-1 takes</h3><p>In panel batches, the consensus's rank 1.</p>"
               + _html_table(winners, ["voice", "batch", "line", "file", *analysis.SETTINGS])),
    ])
