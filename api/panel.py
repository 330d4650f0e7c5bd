"""Rating panels (issue 14; docs/design.md, decision 12): open a panel, its consensus, and a lead's
override, close and reopen of a line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint
from werkzeug.exceptions import BadRequest

from api import common, visibility
from api.auth import person
from api.openapi import RouteTable
from voicelab import panel, people, ranking, store
from voicelab.errors import PanelRefused
from voicelab.panel.views import line_report

bp = Blueprint("panel", __name__)
table = RouteTable(bp)


def _panel_body() -> tuple[list[str], bool]:
    """The raters and blindness of `POST .../panel`, every problem a 400 naming the field."""
    body = common.json_object('{"raters": ["name", ...], "blind": true or false}')
    if unknown := sorted(set(body) - {"raters", "blind"}):
        raise BadRequest(f'unknown field(s) {unknown}: the body is {{"raters": ["name", ...], '
                         f'"blind": true or false}}')
    if "raters" not in body:
        raise BadRequest('raters: required, a list of names (["alice", "bob"])')
    if not isinstance(body["raters"], list):
        raise BadRequest(f"raters: must be a list of names, not {body['raters']!r}")
    try:
        raters = panel.check_raters(body["raters"])
    except PanelRefused as exc:
        raise BadRequest(f"raters: {exc}") from None
    blind = body.get("blind", True)
    if not isinstance(blind, bool):
        raise BadRequest(f"blind: must be true or false, not {blind!r}")
    try:
        panel.check_rater_people(common.settings().audio_root, raters)
    except PanelRefused as exc:
        raise BadRequest(f"raters: {exc}") from None
    return raters, blind


def _line_answer(batch_dir: Path, line: str) -> dict[str, Any]:
    """A line of the consensus report, as the batch stands now."""
    metadata = store.load_metadata(batch_dir)
    found = panel.panel_of(metadata)
    if found is None:  # the core refused a solo batch before this is reached
        raise PanelRefused(f"batch {metadata['batch_id']} is ranked solo, not by a panel")
    members = sorted((t for t in metadata["takes"] if t["line"] == line),
                     key=lambda take: take["take_number"])
    return line_report(found, members)


@table.route("/api/batch/<batch_id>/panel", "POST",
             "Rate the batch as a panel: these raters, blind by default (lead)",
             {201: "Panel", 400: "Error", 403: "Error", 404: "Error", 409: "Error",
              413: "Error", 423: "Error", 500: "Error"},
             body={"application/json": "PanelRequest"})
def open_panel(batch_id: str) -> tuple[dict[str, Any], int]:
    """POST /api/batch/<batch_id>/panel: put the batch in panel mode; 201 with its panel.

    Body `{"raters": ["alice", "bob"], "blind": true}` (blind defaults to true). Solo ranks
    already given become the opener's own ranking (the opener joins the raters). On a server
    with users every rater must be a user who may rank. 400 bad body (naming the field), 403
    not a lead, 404 unknown batch, 409 already a panel, 423 locked, 500 broken metadata.
    """
    caller = person()
    people.require(caller, "panel")
    raters, blind = _panel_body()
    metadata = panel.open_panel(common.batch_dir(batch_id), raters, blind=blind, person=caller.name)
    return {"data": visibility.public_panel(metadata["panel"])}, 201


@table.route("/api/batch/<batch_id>/consensus", "GET",
             "A panel's consensus, every rater's ranks and their agreement, per line (lead)",
             {200: "Consensus", 403: "Error", 404: "Error", 409: "Error", 500: "Error"})
def consensus(batch_id: str) -> dict[str, Any]:
    """GET /api/batch/<batch_id>/consensus: `panel.consensus_report` plus `disagreements`.

    Per line: the consensus ranks (file -> rank), each rater's ranks, Kendall's W, each rater's
    tau with the consensus, closed and override; `disagreements` names the lines two or more
    raters ranked, least agreement first. 403 not a lead, 404 unknown batch, 409 a solo batch.
    """
    people.require(person(), "panel")
    metadata = store.load_metadata(common.batch_dir(batch_id))
    report = panel.consensus_report(metadata)
    if not report:
        raise PanelRefused(f"batch {batch_id} is ranked solo: it has no panel consensus (a lead "
                           f"opens a panel with POST /api/batch/{batch_id}/panel)")
    return {"data": {**report,
                     "disagreements": [line["line"] for line in panel.disagreements(report)]}}


def _override_body() -> tuple[str, int | None]:
    body = common.json_object('{"filename": "<take file>", "rank": 1-5 or null}')
    if set(body) != {"filename", "rank"}:
        raise BadRequest(f'the body must be exactly {{"filename": "<take file>", "rank": 1-5 or '
                         f"null}}, got keys {sorted(body)}")
    if not isinstance(body["filename"], str) or not body["filename"]:
        raise BadRequest(f"filename: must be a take's file name, not {body['filename']!r}")
    return body["filename"], ranking.check_rank(body["rank"])


@table.route("/api/batch/<batch_id>/lines/<line>/override", "POST",
             "Set a take's final rank on a panel's line; closes the line (lead)",
             {200: "PanelLine", 400: "Error", 403: "Error", 404: "Error", 409: "Error",
              413: "Error", 423: "Error", 500: "Error"},
             body={"application/json": "Override"})
def override_line(batch_id: str, line: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/lines/<line>/override: `{"filename": ..., "rank": 1-5|null}`.

    The lead's final rank for the take (cascading within the line's ranks as they stand),
    recorded as an override; the line is closed, so raters cannot change it until a lead
    reopens it. 200 with the line's consensus report. 400 bad body or a take of another line,
    403 not a lead, 404 unknown batch, line or take, 409 a solo batch, 423 locked.
    """
    caller = person()
    people.require(caller, "panel")
    filename, rank = _override_body()
    batch_dir = common.batch_dir(batch_id)
    metadata = store.load_metadata(batch_dir)
    common.line_of(metadata, line)
    take = next((t for t in metadata["takes"] if t["file"] == filename), None)
    if take is not None and take["line"] != line:
        raise BadRequest(f"filename: {filename} is a take of line {take['line']}, not {line}")
    panel.override(batch_dir, filename, rank, person=caller.name)
    return {"data": _line_answer(batch_dir, line)}


def _settle_line(batch_id: str, line: str, change: Callable[..., Any]) -> dict[str, Any]:
    """A lead's close or reopen of a panel's line (`change`); the line's report after it."""
    people.require(person(), "panel")
    batch_dir = common.batch_dir(batch_id)
    common.line_of(store.load_metadata(batch_dir), line)
    change(batch_dir, line, person=person().name)
    return {"data": _line_answer(batch_dir, line)}


@table.route("/api/batch/<batch_id>/lines/<line>/close", "POST",
             "Close a panel's line: its ranks are final (lead)",
             {200: "PanelLine", 403: "Error", 404: "Error", 409: "Error", 423: "Error",
              500: "Error"})
def close_line(batch_id: str, line: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/lines/<line>/close: the line's ranks (consensus or override)
    are final; raters' changes to it are 409 until reopened. Idempotent. 200 with the line's
    report; 403 not a lead, 404 unknown batch or line, 409 a solo batch, 423 locked."""
    return _settle_line(batch_id, line, panel.close_line)


@table.route("/api/batch/<batch_id>/lines/<line>/reopen", "POST",
             "Reopen a panel's closed line: drops any override (lead)",
             {200: "PanelLine", 403: "Error", 404: "Error", 409: "Error", 423: "Error",
              500: "Error"})
def reopen_line(batch_id: str, line: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/lines/<line>/reopen: raters may change the line again; an
    override is dropped and the consensus recomputed. Idempotent. 200 with the line's report;
    403 not a lead, 404 unknown batch or line, 409 a solo batch, 423 locked."""
    return _settle_line(batch_id, line, panel.reopen_line)
