"""What the dashboards show: the functions notebooks call, so notebooks hold no logic.

`batches_view()` lists every batch with a filter and links to the ranking dashboard, with each
batch's director notes counted (`note_counts`: the lines with a note, and those needing another
pass);
`rank_view(batch_id)` is that dashboard; `query_param(name)` reads the page's URL query in
Voila (waiting for the request first when the kernel was preheated, as `wait_for_visit` does).
"""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypedDict

import ipywidgets

from voicelab import store
from voicelab.config import get_settings
from voicelab.errors import VoicelabError
from voicelab.widgets.rank_board import RankBoard

RANK_PAGE = "rank.ipynb"
"""The ranking dashboard, relative to the batch list: under Voila both live in /voila/render/."""

_request = {"waited": False}

_TABLE_CSS = """<style>
.vl-batch-list table.vl-batch-table { border-collapse: collapse; width: 100%;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  color: var(--jp-ui-font-color1, inherit); font-size: var(--jp-ui-font-size1, 13px); }
.vl-batch-list .vl-batch-table th, .vl-batch-list .vl-batch-table td { text-align: left;
  padding: 4px 10px; border-bottom: 1px solid var(--jp-border-color2, #e0e0e0); }
.vl-batch-list .vl-batch-table th { color: var(--jp-ui-font-color2, #666); font-weight: 600; }
.vl-batch-list .vl-batch-table td.vl-num { font-variant-numeric: tabular-nums; }
.vl-batch-list .vl-batch-table a { color: var(--jp-content-link-color, #1976d2); }
.vl-batch-list .vl-batch-row[data-locked="true"] .vl-batch-state { font-weight: 600; }
.vl-batch-list .vl-batch-notes { white-space: nowrap; }
.vl-batch-list .vl-batch-pass { color: var(--jp-warn-color1, #f57c00); font-weight: 600; }
.vl-batch-list .vl-batch-empty { color: var(--jp-ui-font-color2, #666); padding: 8px 0; }
</style>"""


def wait_for_visit() -> None:
    """In a kernel Voila preheated, wait until a page request takes it (once per kernel).

    A preheated kernel runs its notebook before anyone asks for the page: a dashboard that
    reads the disk (batches, jobs, voices) calls this first, so it shows what is there when the
    page is opened. Elsewhere (a fresh Voila kernel, Jupyter, nbval) it returns at once.
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "False" and not _request["waited"]:
        from voicelab.dashboards.voila_compat import wait_for_request

        wait_for_request()
        _request["waited"] = True


def query_param(name: str, default: str = "") -> str:
    """One parameter of the dashboard's URL query (`?batch_id=...`), or `default`.

    Voila gives a fresh kernel the query in QUERY_STRING; a preheated kernel runs before any
    request, so it first waits for one (`wait_for_visit`). Outside Voila there is no
    QUERY_STRING and `default` comes back: notebooks then use their parameter.
    """
    wait_for_visit()
    values = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", "")).get(name)
    return values[0] if values else default


def _message(text: str, css_class: str) -> ipywidgets.HTML:
    link = f'<a href="{html.escape("batches.ipynb")}">all batches</a>'
    body = f'<div class="{css_class}" role="alert">{html.escape(text)} See {link}.</div>'
    return ipywidgets.HTML(body)


def rank_view(batch_id: str, root: Path | None = None) -> ipywidgets.Widget:
    """The ranking dashboard for one batch, or a message naming why it cannot be shown.

    `root` defaults to AUDIO_ROOT. Never raises for a bad or missing id: a dashboard shows
    a readable message (class `vl-rank-missing`) instead of a traceback. In a preheated kernel
    it waits for the page's visitor first (`wait_for_visit`), since the board shows, and acts
    for, the person the server names in that request.
    """
    if not batch_id:
        return _message(
            "No batch chosen: open this dashboard with ?batch_id=<batch id> in its address.",
            "vl-rank-missing",
        )
    root = Path(root) if root is not None else get_settings().audio_root
    wait_for_visit()  # the board asks whom it serves: only the page's request says
    try:
        return RankBoard(store.find_batch(root, batch_id), root=root)
    except VoicelabError as exc:
        return _message(f"Cannot open batch {batch_id!r}: {exc}.", "vl-rank-missing")


def _when(stamp: str | None) -> str:
    if not stamp:
        return "generating"
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def _row_text(record: store.BatchRecord) -> str:
    state = "locked" if record["locked"] else "open"
    when = _when(record["generated_at_utc"])
    return " ".join((record["skin"], record["voice"], record["batch_id"], when, state)).lower()


def matches(record: store.BatchRecord, query: str) -> bool:
    """Whether a batch matches a filter: every word of `query` appears in one of its fields."""
    text = _row_text(record)
    return all(word in text for word in query.lower().split())


class NoteCounts(TypedDict):
    """A batch's director notes, counted for the batch list."""

    notes: int
    """Lines with a note (text, or only the "needs another pass" flag)."""
    needs_pass: int
    """Lines flagged "needs another pass"."""


def note_counts(metadata: Mapping[str, object]) -> NoteCounts:
    """How many of a batch's lines have a director note, and how many need another pass
    (`metadata["notes"]`, voicelab.lines.set_note); pure."""
    notes = metadata.get("notes")
    entries = [n for n in notes.values() if isinstance(n, Mapping)] \
        if isinstance(notes, Mapping) else []
    return {"notes": len(entries), "needs_pass": sum(n.get("needs_pass") is True for n in entries)}


_counted: dict[str, tuple[tuple[int, int], NoteCounts]] = {}
"""Batch folder -> (metadata.json's mtime and size, its note counts): a filter keystroke or a
rescan reads only the metadata that changed."""


def batch_note_counts(records: Sequence[store.BatchRecord]) -> dict[str, NoteCounts]:
    """The note counts of these batches (by `path`), read from their metadata.json only when
    it changed since last counted; a batch that cannot be read counts none."""
    counts: dict[str, NoteCounts] = {}
    for record in records:
        path = record["path"]
        try:
            st = os.stat(os.path.join(path, store.METADATA_NAME))
            key = (st.st_mtime_ns, st.st_size)
            cached = _counted.get(path)
            if cached is None or cached[0] != key:
                cached = key, note_counts(store.load_metadata(path, check_files=False))
                _counted[path] = cached
            counts[path] = cached[1]
        except (OSError, VoicelabError):
            counts[path] = {"notes": 0, "needs_pass": 0}
    return counts


def _notes_cell(counts: NoteCounts) -> str:
    if not counts["notes"]:
        return '<td class="vl-batch-notes">&ndash;</td>'
    notes = f"{counts['notes']} note{'s' if counts['notes'] != 1 else ''}"
    flagged = (f' · <span class="vl-batch-pass">{counts["needs_pass"]} need'
               f'{"s" if counts["needs_pass"] == 1 else ""} another pass</span>'
               if counts["needs_pass"] else "")
    return f'<td class="vl-batch-notes">{notes}{flagged}</td>'


def batch_table_html(records: Sequence[store.BatchRecord], query: str = "",
                     notes: Mapping[str, NoteCounts] | None = None) -> str:
    """The batch list as an HTML table (rows filtered by `query`), each linking to its board,
    with its director notes counted (`notes` by batch path; default: `batch_note_counts` of the
    rows shown)."""
    shown = [r for r in records if matches(r, query)]
    counted = batch_note_counts(shown) if notes is None else notes
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Skin", "Voice", "Batch", "Generated", "Takes", "Ranked", "Notes", "State",
                  "Here")
    )
    rows = []
    for r in shown:
        counts = counted.get(r["path"], {"notes": 0, "needs_pass": 0})
        href = f"{RANK_PAGE}?{urllib.parse.urlencode({'batch_id': r['batch_id']})}"
        share = r["ranked_count"] / r["take_count"] if r["take_count"] else 0.0
        bid, locked = html.escape(r["batch_id"]), str(r["locked"]).lower()
        rows.append(
            f'<tr class="vl-batch-row" data-batch-id="{bid}" data-locked="{locked}" '
            f'data-notes="{counts["notes"]}" data-needs-pass="{counts["needs_pass"]}">'
            f"<td>{html.escape(r['skin'])}</td><td>{html.escape(r['voice'])}</td>"
            f'<td><a class="vl-batch-link" href="{html.escape(href)}">{bid}</a></td>'
            f"<td>{html.escape(_when(r['generated_at_utc']))}</td>"
            f'<td class="vl-num">{r["take_count"]}</td>'
            f'<td class="vl-num">{r["ranked_count"]} ({share:.0%})</td>'
            f"{_notes_cell(counts)}"
            f'<td class="vl-batch-state">{"locked" if r["locked"] else "open"}</td>'
            '<td class="vl-batch-here vl-num"></td></tr>'
        )
    count = f'<div class="vl-batch-count">{len(shown)} of {len(records)} batches</div>'
    if not shown:
        empty = "No batch matches this filter." if records else "No batches yet."
        return f'{_TABLE_CSS}{count}<div class="vl-batch-empty">{empty}</div>'
    table = f'<table class="vl-batch-table"><thead><tr>{head}</tr></thead>'
    return f"{_TABLE_CSS}{count}{table}<tbody>{''.join(rows)}</tbody></table>"


def batches_view(root: Path | None = None, query: str = "") -> ipywidgets.VBox:
    """Every batch under `root` (default AUDIO_ROOT), newest first, with a live text filter.

    Classes for pages and tests: `.vl-batch-list` (the box), `.vl-batch-filter` (the filter
    input's widget), `.vl-batch-refresh` (rescan button), `tr.vl-batch-row[data-batch-id]`
    (with `data-notes` and `data-needs-pass`), `a.vl-batch-link`, `td.vl-batch-notes`.
    """
    root = Path(root) if root is not None else get_settings().audio_root
    records = {"all": store.find_batches(root)}
    search = ipywidgets.Text(value=query, placeholder="Filter: skin, voice, batch id, date, locked")
    search.add_class("vl-batch-filter")
    refresh = ipywidgets.Button(description="Refresh", tooltip="Look for new batches")
    refresh.add_class("vl-batch-refresh")
    table = ipywidgets.HTML(batch_table_html(records["all"], query))

    def show(_change: object = None) -> None:
        table.value = batch_table_html(records["all"], search.value)

    def rescan(_button: object = None) -> None:
        records["all"] = store.find_batches(root)
        show()

    search.observe(show, names="value")
    refresh.on_click(rescan)
    box = ipywidgets.VBox([ipywidgets.HBox([search, refresh]), table])
    box.add_class("vl-batch-list")
    return box
