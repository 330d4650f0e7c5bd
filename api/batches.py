"""Batches and ranking: the batch list, a batch's metadata, ranking a take, lock, unlock, undo and
the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest

from api import common, visibility
from api.auth import person
from api.errors import error_response
from api.openapi import RouteTable
from voicelab import history, panel, people, ranking, store
from voicelab.errors import LockGateRefused
from voicelab.ranking import RankChange

bp = Blueprint("batches", __name__)
table = RouteTable(bp)


def _seen_line(batch_dir: Path, before: store.Metadata, change: RankChange) -> list[Any]:
    """The changed line's takes as the caller may see them (`visibility.line_for`), by the
    metadata read before the change, or read again if a panel was opened meanwhile."""
    metadata = before
    if panel.panel_of(before) is None and any("ranks_by" in t for t in change.takes):
        metadata = store.load_metadata(batch_dir)
    mode = visibility.mode_of(metadata, batch_dir, person())
    return visibility.line_for(metadata, change.takes, mode, person())


def _rank_body() -> object:
    body = common.json_object('{"rank": 1-5 or null}')
    if set(body) != {"rank"}:
        raise BadRequest(f'the body must be exactly {{"rank": 1-5 or null}}, got keys '
                         f"{sorted(body)}")
    return ranking.check_rank(body["rank"])


@table.route("/api/batches", "GET", "Every valid batch under AUDIO_ROOT, newest first",
             {200: "BatchList"})
def batches() -> dict[str, Any]:
    """GET /api/batches: batches newest first, paths relative to AUDIO_ROOT; never an error.

    A batch whose metadata is broken is logged and left out rather than failing the list. For a
    non-lead, an open panel batch's `ranked_count` counts only their own ranked takes.
    """
    prefix = len(str(common.settings().audio_root)) + 1
    found = visibility.listing_for(store.find_batches(common.settings().audio_root), person())
    return {"data": [{**record, "path": record["path"][prefix:]} for record in found]}


@table.route("/api/batch/<batch_id>", "GET", "A batch's metadata.json (a panel's rater: their "
             "own view of it)", {200: "Metadata", 404: "Error", 500: "Error"})
def batch(batch_id: str) -> dict[str, Any]:
    """GET /api/batch/<batch_id>: its metadata.json; 404 unknown batch, 500 broken metadata.

    A lead, and anyone on a solo or locked batch, reads it as stored (a panel's `order_key`
    left out). Anyone else on a batch whose panel is open reads `panel.rater_metadata`: only
    their own ranks; for a blind panel, takes as opaque `id` and `label` without file names,
    settings or seeds (see api.visibility).
    """
    batch_dir = common.batch_dir(batch_id)
    return {"data": visibility.metadata_for(store.load_metadata(batch_dir), batch_dir,
                                            person())}


@table.route("/api/batch/<batch_id>/take/<filename>", "PATCH",
             "Rank a take 1-5 or clear it (null); cascades within the line (designer, lead; "
             "on a panel: its raters, in their own ranking)",
             {200: "LineTakes", 400: "Error", 403: "Error", 404: "Error", 409: "Error",
              413: "Error", 423: "Error", 500: "Error"}, body={"application/json": "RankChange"})
def rank_take(batch_id: str, filename: str) -> dict[str, Any]:
    """PATCH /api/batch/<batch_id>/take/<filename>: set or clear a rank; 200 with the line's takes.

    The whole line comes back because the cascade can move its other ranks; the change is
    recorded as the caller's (`ranked_by`, history). On a panel batch the caller ranks in their
    own ranking (`panel.rate`) and the line's consensus follows; a rater of an open blind panel
    names the take by its opaque id and gets their blind view of the line back. 400 bad body or
    rank, 403 a viewer or not one of the panel's raters, 404 unknown batch or take, 409 a line
    a lead closed, 413 body too large, 423 batch locked, 500 broken metadata.
    """
    caller = person()
    people.require(caller, "rank")
    rank = _rank_body()
    batch_dir = common.batch_dir(batch_id)
    before = store.load_metadata(batch_dir)
    file = visibility.take_file(before, visibility.mode_of(before, batch_dir, caller), caller,
                                filename)
    with visibility.names_hidden(before, batch_dir, caller):
        change = panel.rate(batch_dir, file, rank, person=caller.name)
    return {"data": _seen_line(batch_dir, before, change)}


def _lock_body() -> bool:
    """The `force` of `POST .../lock`: no body (or an empty one) is `false`; else a JSON object
    with only `force`, a boolean. Every problem is a 400 naming the field."""
    if not request.get_data(cache=True):
        return False
    body = common.json_object('{"force": true or false}')
    if unknown := sorted(set(body) - {"force"}):
        raise BadRequest(f'unknown field(s) {unknown}: the body is {{"force": true or false}}')
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadRequest(f"force: must be true or false, not {force!r}")
    return force


@table.route("/api/batch/<batch_id>/lock", "POST", "Freeze ranking behind the quality gate "
             '(idempotent; lead); {"force": true} locks past the gate',
             {200: "Locked", 400: "Error", 403: "Error", 404: "Error", 409: "LockRefused",
              413: "Error", 500: "Error"},
             body={"application/json": "LockRequest"}, body_required=False)
def lock_batch(batch_id: str) -> Any:
    """POST /api/batch/<batch_id>/lock: freeze ranking; idempotent, keeping the first lock's time.

    The quality gate first (`ranking.lock_gate`): when a line's selected take has a QC flag or
    is stale, or a line has no selection, it answers 409 `{"error": message, "problems": [{line,
    problems, take}]}` and changes nothing, unless the body is `{"force": true}`: then it locks
    and the history's lock entry records `forced` and the problems. 400 a bad body, 403 not a
    lead, 404 unknown batch, 500 broken metadata.
    """
    people.require(person(), "lock")
    force = _lock_body()
    try:
        metadata = ranking.lock(store.find_batch(common.settings().audio_root, batch_id),
                                person=person().name, force=force)
    except LockGateRefused as exc:
        refused = error_response(str(exc), 409)  # the envelope, any secret masked
        refused.set_data(json.dumps({**refused.get_json(),
                                     "problems": [p.as_dict() for p in exc.problems]}))
        return refused
    return {"data": {"locked": True, "ranked_at_utc": metadata["ranked_at_utc"]}}


@table.route("/api/batch/<batch_id>/unlock", "POST", "Open a locked batch again (lead)",
             {200: "Unlocked", 403: "Error", 404: "Error", 500: "Error"})
def unlock_batch(batch_id: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/unlock: ranks may change again; recorded in the history.

    Idempotent. 403 not a lead, 404 unknown batch, 500 broken metadata.
    """
    people.require(person(), "unlock")
    ranking.unlock(store.find_batch(common.settings().audio_root, batch_id), person=person().name)
    return {"data": {"locked": False}}


@table.route("/api/batch/<batch_id>/undo", "POST",
             "Undo the caller's last rank change on this batch (designer, lead)",
             {200: "LineTakes", 403: "Error", 404: "Error", 409: "Error", 423: "Error",
              500: "Error"})
def undo_change(batch_id: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/undo: restore the line of the caller's last change as it was.

    200 with that line's takes (a panel's rater: as they see it, see PATCH take). Again walks
    further back. On a panel batch it undoes the caller's own ranking (or a lead's override).
    409 nothing left to undo, someone else changed the line since (the message says who), or
    a lead closed the line; 403 a viewer; 423 batch locked.
    """
    caller = person()
    people.require(caller, "undo")
    batch_dir = common.batch_dir(batch_id)
    before = store.load_metadata(batch_dir)
    with visibility.names_hidden(before, batch_dir, caller):
        change = panel.undo(batch_dir, person=caller.name)
    return {"data": _seen_line(batch_dir, before, change)}


@table.route("/api/batch/<batch_id>/history", "GET", "Every change to a batch, oldest first "
             "(an open panel's: leads only)", {200: "History", 403: "Error", 404: "Error"})
def batch_history(batch_id: str) -> dict[str, Any]:
    """GET /api/batch/<batch_id>/history: who changed what, when (history.jsonl); 404 unknown.

    403 for a non-lead while the batch's panel is open: the history names every rater's ranks.
    """
    batch_dir = common.batch_dir(batch_id)
    visibility.refuse_history(batch_dir, person())
    return {"data": history.read(batch_dir)}
