"""Presence: who else has a batch open, and on which line (voicelab.presence, in memory).

A board says it is here every few seconds and when its line changes, and goes on unload. On a
batch whose panel is open, a rater learns only how many others are here, never who or where.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.exceptions import BadRequest

from api import common, visibility
from api.auth import person
from api.openapi import EMPTY, RouteTable
from voicelab.presence import Presence

bp = Blueprint("presence", __name__)
table = RouteTable(bp)

VIEW_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_LINE_CHARS = 200
VIEW_QUERY = {"name": "view", "in": "query", "required": True,
              "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"}}


def book() -> Presence:
    """The app's presence book (made on first use: one per API app, so one per server)."""
    found: Presence = current_app.extensions.setdefault("voicelab.presence", Presence())
    return found


def _view(value: object) -> str:
    if not isinstance(value, str) or not VIEW_ID.fullmatch(value):
        raise BadRequest(f"view must be 8 to 64 letters, digits, - or _, got {value!r}")
    return value


def _body() -> tuple[str, str | None]:
    body = common.json_object('{"view": "...", "line": "..." or null}')
    if not set(body) <= {"view", "line"}:
        raise BadRequest(f'the body may have only "view" and "line", got keys {sorted(body)}')
    line = body.get("line")
    if line is not None and (not isinstance(line, str) or len(line) > MAX_LINE_CHARS):
        raise BadRequest(f"line must be a line's name (at most {MAX_LINE_CHARS} characters) "
                         f"or null, got {line!r}")
    return _view(body.get("view")), line


@table.route("/api/batch/<batch_id>/presence", "PUT",
             "Say this view of the batch is open, on a line; who else is here (a panel's "
             "rater: only how many)", {200: "Presence", 400: "Error", 404: "Error",
                                       413: "Error", 500: "Error"},
             body={"application/json": "PresenceBeat"})
def presence_beat(batch_id: str) -> dict[str, Any]:
    """PUT /api/batch/<batch_id>/presence: `{"view", "line"}`; 200 with the others here.

    `others` lists the other open views (name, line) for anyone who sees the batch as stored
    (no panel, or a lead); on a batch whose panel is open a rater gets `others` empty and only
    `count`, the number of other people here. 400 bad body, 404 unknown batch.
    """
    caller = person()
    view, line = _body()
    batch_dir = common.batch_dir(batch_id)
    # as visibility.mode_of, from the stat-cached panel summary: a beat reads no metadata
    sees_all = caller.role == "lead" or visibility.open_panel_of(batch_dir) is None
    book().beat(batch_id, view, caller.name, line)
    others = [h for h in book().here(batch_id) if h.view != view]
    names = {h.person for h in others} - {caller.name}
    shown = [{"name": h.person, "line": h.line} for h in others] if sees_all else []
    return {"data": {"count": len(names), "others": shown}}


@table.route("/api/batch/<batch_id>/presence", "DELETE", "This view of the batch is closed",
             {204: EMPTY, 400: "Error"}, query=(VIEW_QUERY,))
def presence_leave(batch_id: str) -> tuple[str, int]:
    """DELETE /api/batch/<batch_id>/presence?view=...: 204, whether or not it was here."""
    book().leave(batch_id, _view(request.args.get("view")))
    return "", 204


@table.route("/api/presence", "GET", "How many people have each batch open",
             {200: "PresenceCounts"})
def presence_counts() -> dict[str, Any]:
    """GET /api/presence: batch id -> people with it open now (several tabs count once)."""
    return {"data": book().counts()}
