"""A batch's lines (issue 15; docs/design.md, decision 13): more takes of a line, director notes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from werkzeug.exceptions import BadRequest

from api import common
from api.auth import person
from api.openapi import RouteTable
from voicelab import jobs, people, store
from voicelab.errors import BatchLocked, LineError
from voicelab.jobs import kinds

bp = Blueprint("lines", __name__)
table = RouteTable(bp)


def _more_body() -> dict[str, Any]:
    body = common.json_object('{"takes": 3, "like": "auto" | 1-5 | null, "text": null, '
                        '"dry_run": false}')
    if unknown := sorted(set(body) - {"takes", "like", "text", "dry_run"}):
        raise BadRequest(f"unknown field(s) {unknown}: the body is {{\"takes\", \"like\", "
                         f"\"text\", \"dry_run\"}}")
    if not isinstance(body.get("dry_run", False), bool):
        raise BadRequest(f"dry_run: must be true or false, not {body['dry_run']!r}")
    return body


@table.route("/api/batch/<batch_id>/lines/<line>/takes", "POST",
             "More takes of one line: the estimate, or a queued job (designer)",
             {200: "MoreEstimate", 202: "TaskAccepted", 400: "Error", 403: "Error",
              404: "Error", 423: "Error", 503: "Error"}, body={"application/json": "MoreRequest"})
def more_takes(batch_id: str, line: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """POST /api/batch/<batch_id>/lines/<line>/takes: body `{"takes": 3, "like": "auto", "text":
    null, "dry_run": false}`. With `dry_run`, 200 and the estimate (takes, requests, characters
    after pronunciations, quota share); else 202 with the job's task id and a Location to poll:
    the takes are added to this line of the same batch, numbered on from its last. 400 a bad
    field, 403 a viewer, 404 unknown batch or line, 423 locked, 503 broker unreachable."""
    from voicelab.lines import more

    caller, settings = person(), common.settings()
    people.require(caller, "more")
    body = _more_body()
    batch_dir = common.batch_dir(batch_id)
    metadata = store.load_metadata(batch_dir)
    common.line_of(metadata, line)
    job = more.parse_more({"kind": more.KIND, "batch_id": batch_id, "line": line,
                           **{k: body[k] for k in ("takes", "like", "text") if k in body}})
    if store.is_locked(batch_dir):
        raise BatchLocked(batch_id)
    if body.get("dry_run"):
        engine = common.engine((metadata.get("generation_params") or {}).get("engine")
                               or settings.default_engine)
        return {"data": more.estimate_more(
            metadata, line, takes=job.takes, like=job.like, text=job.text,
            dictionary=more.batch_dictionary(batch_dir, metadata, settings),
            engine=engine)}, 200, {}
    task_id = jobs.submit(settings, kinds.More.planned(settings, metadata, job, caller.name),
                          app=common.celery())
    return {"data": {"task_id": task_id}}, 202, {"Location": f"/api/generate/{task_id}/status"}


@table.route("/api/batch/<batch_id>/lines/<line>/note", "PUT",
             "Write a line's director note and needs-another-pass flag (designer)",
             {200: "LineNote", 400: "Error", 403: "Error", 404: "Error"},
             body={"application/json": "NoteRequest"})
def write_note(batch_id: str, line: str) -> dict[str, Any]:
    """PUT /api/batch/<batch_id>/lines/<line>/note: body `{"text": "...", "needs_pass": false}`;
    an empty text and no flag removes the note. 200 with the note (null when removed), a
    history entry in the caller's name; allowed on a locked batch. 400 a bad field, 403 a
    viewer, 404 unknown batch or line."""
    from voicelab import lines

    caller = person()
    people.require(caller, "note")
    body = common.json_object('{"text": "...", "needs_pass": false}')
    if unknown := sorted(set(body) - {"text", "needs_pass"}):
        raise BadRequest(f'unknown field(s) {unknown}: the body is {{"text", "needs_pass"}}')
    batch_dir = common.batch_dir(batch_id)
    common.line_of(store.load_metadata(batch_dir), line)
    try:
        note = lines.set_note(batch_dir, line, body.get("text", ""),
                              needs_pass=body.get("needs_pass", False), person=caller.name)
    except LineError as exc:
        raise BadRequest(str(exc)) from None
    return {"data": note}
