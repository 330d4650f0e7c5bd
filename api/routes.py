"""The API's one blueprint: each route parses, calls voicelab, and returns `{"data": ...}`.

Routes are registered through `table` (api.openapi.RouteTable), which also writes the OpenAPI
document, so the two cannot drift. Errors are raised, never returned: api.errors maps them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, replace
from pathlib import Path, PurePosixPath
from typing import Any

from celery import Celery
from flask import Blueprint, Response, current_app, request, send_file
from werkzeug.exceptions import BadRequest, Conflict, NotFound, RequestEntityTooLarge

from api import visibility
from api.auth import person
from api.errors import error_response
from api.openapi import AUDIO, EMPTY, RAW, ZIP, RouteTable, document
from voicelab import __version__, history, jobs, panel, paths, people, ranking, store
from voicelab.config import Settings
from voicelab.engines import Engine, available_engines, get_engine
from voicelab.engines.quota import quota_share
from voicelab.errors import (
    BatchLocked,
    EngineError,
    JobConfigError,
    LineError,
    LockGateRefused,
    PanelRefused,
    Problem,
)
from voicelab.generation import resolve_voices
from voicelab.jobs import kinds, registry
from voicelab.jobs.kinds.export import KEEP, archive_of
from voicelab.jobspec import GenerationConfig, estimate, parse_config
from voicelab.panel.views import line_report
from voicelab.ranking import RankChange
from voicelab.script import decode_script

log = logging.getLogger(__name__)
bp = Blueprint("voicelab_api", __name__)
table = RouteTable(bp)

SCRIPT_MAX_BYTES = 2 * 1024 * 1024
RECENT_LIMIT = (50, 500)  # default, most
_BODY = {"application/json": "GenerationConfig", "multipart/form-data": "GenerationUpload"}
_ENGINE_LOCK = threading.Lock()


# --- helpers ---------------------------------------------------------------------------------


def _settings() -> Settings:
    settings: Settings = current_app.extensions["voicelab"]
    return settings


def _celery() -> Celery:
    app: Celery = current_app.extensions["celery"]
    return app


def _engine(name: str) -> Engine:
    """The app's shared engine instance (ElevenLabs keeps its voice cache and connection pool)."""
    if name not in available_engines(_settings()):
        raise JobConfigError([Problem(f"engine {name!r} needs ELEVENLABS_API_KEY on the server",
                                      field="engine", value=name)])
    cache: dict[str, Engine] = current_app.extensions["voicelab.engines"]
    with _ENGINE_LOCK:
        if name not in cache:
            cache[name] = get_engine(name, _settings())
        return cache[name]


def _json_object(what: str) -> dict[str, Any]:
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object ({what})")
    return data


def _check_script_size(size: int) -> None:
    if size > SCRIPT_MAX_BYTES:
        raise RequestEntityTooLarge(f"the script is larger than the {SCRIPT_MAX_BYTES} byte cap")


def _uploaded_config() -> dict[str, Any]:
    upload, text = request.files.get("script"), request.form.get("config")
    if upload is None or text is None:
        raise BadRequest("multipart needs a 'script' file and a 'config' field (JSON)")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the 'config' field is not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(raw, dict) or "script_csv" in raw:
        raise BadRequest("the 'config' field must be a JSON object without script_csv")
    data = upload.stream.read(SCRIPT_MAX_BYTES + 1)
    _check_script_size(len(data))
    name = PurePosixPath((upload.filename or "").replace("\\", "/")).name or "script.csv"
    given = raw.get("script_name")
    name = given if isinstance(given, str) else name
    return {**raw, "script_name": name, "script_csv": decode_script(data, name)[0]}


def job_config() -> dict[str, Any]:
    """The raw job config from a JSON body or a multipart upload (script size capped)."""
    if request.mimetype == "multipart/form-data":
        return _uploaded_config()
    raw = _json_object("the generation config")
    script = raw.get("script_csv")
    if isinstance(script, str):
        try:
            _check_script_size(len(script.encode("utf-8")))
        except UnicodeEncodeError:
            raise JobConfigError([Problem("script_csv holds text that is not valid Unicode",
                                          field="script_csv")]) from None
    return raw


def _voice_problems(raw: dict[str, Any]) -> list[Problem]:
    """Unknown voices in a config that failed to parse, so they join the same 400 message."""
    ids, name = raw.get("voice_ids"), raw.get("engine") or _settings().default_engine
    ids = [ids] if isinstance(ids, str) else ids
    if (not isinstance(ids, list) or not all(isinstance(v, str) for v in ids)
            or name not in available_engines(_settings())):
        return []
    try:
        known = {voice.id for voice in _engine(name).voices()}
    except EngineError:
        return []  # the config is refused anyway; its other problems are reported
    return [Problem(f"unknown {name} voice {v!r}", field="voice_ids", value=v)
            for v in dict.fromkeys(v.strip() for v in ids) if v and v not in known]


def validated(raw: dict[str, Any]) -> tuple[GenerationConfig, Engine]:
    """Parse the config and check its voices exist: every problem in one JobConfigError.

    `script_path` and `pronunciations` are refused: over HTTP they would read files on the
    server.
    """
    refused = [Problem("script_path is not accepted over HTTP: send script_csv or upload a "
                       "'script' file", field="script_path")] if "script_path" in raw else []
    if "pronunciations" in raw:
        refused.append(Problem("pronunciations is not accepted over HTTP (a path on the "
                               "server): set VOICELAB_PRONUNCIATIONS", field="pronunciations"))
    try:
        config = parse_config({k: v for k, v in raw.items()
                               if k not in ("script_path", "pronunciations")},
                              default_engine=_settings().default_engine, settings=_settings())
    except JobConfigError as exc:
        raise JobConfigError(refused + exc.problems + _voice_problems(raw)) from None
    if refused:
        raise JobConfigError(refused)
    engine = _engine(config.engine)
    resolve_voices(config, engine)
    return config, engine


def _task_record(task_id: str) -> dict[str, Any]:
    record = registry.get(_settings().audio_root, task_id)
    if record is None:
        raise NotFound(f"no job with id {task_id!r}")
    return record


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return RECENT_LIMIT[0]
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= RECENT_LIMIT[1]:
        raise BadRequest(f"limit must be a whole number from 1 to {RECENT_LIMIT[1]}, not {raw!r}")
    return int(raw)


def _batch_dir(batch_id: str) -> Path:
    return store.find_batch(_settings().audio_root, batch_id)


def _seen_line(batch_dir: Path, before: store.Metadata, change: RankChange) -> list[Any]:
    """The changed line's takes as the caller may see them (`visibility.line_for`), by the
    metadata read before the change, or read again if a panel was opened meanwhile."""
    metadata = before
    if panel.panel_of(before) is None and any("ranks_by" in t for t in change.takes):
        metadata = store.load_metadata(batch_dir)
    mode = visibility.mode_of(metadata, batch_dir, person())
    return visibility.line_for(metadata, change.takes, mode, person())


def _rank_body() -> object:
    body = _json_object('{"rank": 1-5 or null}')
    if set(body) != {"rank"}:
        raise BadRequest(f'the body must be exactly {{"rank": 1-5 or null}}, got keys '
                         f"{sorted(body)}")
    return ranking.check_rank(body["rank"])


# --- generation ------------------------------------------------------------------------------


@table.route("/api/generate", "POST", "Validate a job (script included) and queue it (lead)",
             {202: "TaskAccepted", 400: "Error", 403: "Error", 413: "Error", 502: "Error",
              503: "Error"},
             body=_BODY)
def generate() -> tuple[dict[str, Any], int, dict[str, str]]:
    """POST /api/generate: queue a job, checked first so a bad config is a 400, not a failed job.

    202 with the task id and a Location to poll; 400 bad config or unknown voice, 403 not a
    lead, 413 script over the cap, 502 engine error, 503 broker unreachable.
    """
    people.require(person(), "jobs")
    config, _engine = validated(job_config())
    task_id = jobs.submit(_settings(), kinds.Generate(config), app=_celery())
    return {"data": {"task_id": task_id}}, 202, {"Location": f"/api/generate/{task_id}/status"}


@table.route("/api/generate", "GET", "Recent jobs, newest first", {200: "JobList", 400: "Error"},
             query=({"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": RECENT_LIMIT[1]}},))
def recent_jobs() -> dict[str, Any]:
    """GET /api/generate: recent jobs, newest first, without configs (they can hold a script).

    400 for a `limit` that is not a whole number from 1 to the cap in RECENT_LIMIT.
    """
    return {"data": registry.recent(_settings().audio_root, _limit())}


@table.route("/api/generate/<task_id>/status", "GET", "A job's state, progress and outcome",
             {200: "JobStatus", 404: "Error"})
def job_status(task_id: str) -> dict[str, Any]:
    """GET /api/generate/<task_id>/status: the job's state and progress; 404 for an unknown id.

    A FAILURE carries `error`; any other state carries `result` (null until there is one).
    """
    record = _task_record(task_id)
    data = {"task_id": task_id, "status": record["state"], "progress": record.get("progress")}
    if record["state"] == "FAILURE":
        data["error"] = record.get("error")
    else:
        data["result"] = record.get("result")
    return {"data": data}


@table.route("/api/generate/<task_id>", "DELETE", "Cancel a job (queued: never runs; "
             "running: stops between takes; lead)", {200: "JobCancelled", 403: "Error",
                                                     404: "Error"})
def cancel_job(task_id: str) -> dict[str, Any]:
    """DELETE /api/generate/<task_id>: ask the job to stop; 200 with its state, 404 if unknown.

    A queued job turns REVOKED at once; a running one gets `cancel_requested` and stops between
    takes; a finished one is left as it is. 403 for anyone but a lead.
    """
    people.require(person(), "jobs")
    _task_record(task_id)
    record = jobs.cancel(_settings(), task_id, app=_celery()) or _task_record(task_id)
    return {"data": {"task_id": task_id, "status": record["state"],
                     "cancel_requested": bool(record.get("cancel_requested"))}}


@table.route("/api/estimate", "POST", "Characters and requests a job would spend",
             {200: "Estimate", 400: "Error", 413: "Error", 502: "Error"}, body=_BODY)
def estimate_job() -> dict[str, Any]:
    """POST /api/estimate: what the job would spend, and its share of the account's quota.

    Validated as /api/generate is, spending nothing: 400 bad config, 413 too large, 502 engine
    error. A quota the service cannot report is `{"error": ...}` in the answer, not a failure.
    """
    config, engine = validated(job_config())
    counts: dict[str, Any] = estimate(config)
    return {"data": {**counts, "quota": quota_share(engine, counts["characters"])}}


@table.route("/api/voices", "GET", "Voices of every available engine",
             {200: "VoiceList", 502: "Error"})
def voices() -> dict[str, Any]:
    """GET /api/voices: the voices of every available engine; 502 when one cannot list them."""
    engines = available_engines(_settings())
    return {"data": [asdict(voice) for name in engines for voice in _engine(name).voices()]}


# --- ranking ---------------------------------------------------------------------------------


@table.route("/api/batches", "GET", "Every valid batch under AUDIO_ROOT, newest first",
             {200: "BatchList"})
def batches() -> dict[str, Any]:
    """GET /api/batches: batches newest first, paths relative to AUDIO_ROOT; never an error.

    A batch whose metadata is broken is logged and left out rather than failing the list. For a
    non-lead, an open panel batch's `ranked_count` counts only their own ranked takes.
    """
    prefix = len(str(_settings().audio_root)) + 1
    found = visibility.listing_for(store.find_batches(_settings().audio_root), person())
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
    batch_dir = _batch_dir(batch_id)
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
    batch_dir = _batch_dir(batch_id)
    before = store.load_metadata(batch_dir)
    file = visibility.take_file(before, visibility.mode_of(before, batch_dir, caller), caller,
                                filename)
    change = panel.rate(batch_dir, file, rank, person=caller.name)
    return {"data": _seen_line(batch_dir, before, change)}


def _lock_body() -> bool:
    """The `force` of `POST .../lock`: no body (or an empty one) is `false`; else a JSON object
    with only `force`, a boolean. Every problem is a 400 naming the field."""
    if not request.get_data(cache=True):
        return False
    body = _json_object('{"force": true or false}')
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
        metadata = ranking.lock(store.find_batch(_settings().audio_root, batch_id),
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
    ranking.unlock(store.find_batch(_settings().audio_root, batch_id), person=person().name)
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
    people.require(person(), "undo")
    batch_dir = _batch_dir(batch_id)
    before = store.load_metadata(batch_dir)
    return {"data": _seen_line(batch_dir, before, panel.undo(batch_dir, person=person().name))}


@table.route("/api/batch/<batch_id>/history", "GET", "Every change to a batch, oldest first "
             "(an open panel's: leads only)", {200: "History", 403: "Error", 404: "Error"})
def batch_history(batch_id: str) -> dict[str, Any]:
    """GET /api/batch/<batch_id>/history: who changed what, when (history.jsonl); 404 unknown.

    403 for a non-lead while the batch's panel is open: the history names every rater's ranks.
    """
    batch_dir = _batch_dir(batch_id)
    visibility.refuse_history(batch_dir, person())
    return {"data": history.read(batch_dir)}


@table.route("/api/me", "GET", "Who the request is from, and what their role allows",
             {200: "Person"})
def me() -> dict[str, Any]:
    """GET /api/me: the caller's name, role and allowed actions; `sign_in` says whether this
    server has users (the dashboards' header shows the name and a sign-out link then)."""
    caller = person()
    return {"data": {"name": caller.name, "role": caller.role, "allowed": caller.allowed(),
                     "sign_in": people.sign_in_required(_settings().audio_root)}}


# --- rating panels (issue 14; docs/design.md, decision 12) -------------------------------


def _panel_body() -> tuple[list[str], bool]:
    """The raters and blindness of `POST .../panel`, every problem a 400 naming the field."""
    body = _json_object('{"raters": ["name", ...], "blind": true or false}')
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
        panel.check_rater_people(_settings().audio_root, raters)
    except PanelRefused as exc:
        raise BadRequest(f"raters: {exc}") from None
    return raters, blind


def _line_of(metadata: store.Metadata, line: str) -> None:
    if not any(take["line"] == line for take in metadata["takes"]):
        raise NotFound(f"batch {metadata['batch_id']} has no line {line!r}")


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
    metadata = panel.open_panel(_batch_dir(batch_id), raters, blind=blind, person=caller.name)
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
    metadata = store.load_metadata(_batch_dir(batch_id))
    report = panel.consensus_report(metadata)
    if not report:
        raise PanelRefused(f"batch {batch_id} is ranked solo: it has no panel consensus (a lead "
                           f"opens a panel with POST /api/batch/{batch_id}/panel)")
    return {"data": {**report,
                     "disagreements": [line["line"] for line in panel.disagreements(report)]}}


def _override_body() -> tuple[str, int | None]:
    body = _json_object('{"filename": "<take file>", "rank": 1-5 or null}')
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
    batch_dir = _batch_dir(batch_id)
    metadata = store.load_metadata(batch_dir)
    _line_of(metadata, line)
    take = next((t for t in metadata["takes"] if t["file"] == filename), None)
    if take is not None and take["line"] != line:
        raise BadRequest(f"filename: {filename} is a take of line {take['line']}, not {line}")
    panel.override(batch_dir, filename, rank, person=caller.name)
    return {"data": _line_answer(batch_dir, line)}


@table.route("/api/batch/<batch_id>/lines/<line>/close", "POST",
             "Close a panel's line: its ranks are final (lead)",
             {200: "PanelLine", 403: "Error", 404: "Error", 409: "Error", 423: "Error",
              500: "Error"})
def close_line(batch_id: str, line: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/lines/<line>/close: the line's ranks (consensus or override)
    are final; raters' changes to it are 409 until reopened. Idempotent. 200 with the line's
    report; 403 not a lead, 404 unknown batch or line, 409 a solo batch, 423 locked."""
    people.require(person(), "panel")
    batch_dir = _batch_dir(batch_id)
    _line_of(store.load_metadata(batch_dir), line)
    panel.close_line(batch_dir, line, person=person().name)
    return {"data": _line_answer(batch_dir, line)}


@table.route("/api/batch/<batch_id>/lines/<line>/reopen", "POST",
             "Reopen a panel's closed line: drops any override (lead)",
             {200: "PanelLine", 403: "Error", 404: "Error", 409: "Error", 423: "Error",
              500: "Error"})
def reopen_line(batch_id: str, line: str) -> dict[str, Any]:
    """POST /api/batch/<batch_id>/lines/<line>/reopen: raters may change the line again; an
    override is dropped and the consensus recomputed. Idempotent. 200 with the line's report;
    403 not a lead, 404 unknown batch or line, 409 a solo batch, 423 locked."""
    people.require(person(), "panel")
    batch_dir = _batch_dir(batch_id)
    _line_of(store.load_metadata(batch_dir), line)
    panel.reopen_line(batch_dir, line, person=person().name)
    return {"data": _line_answer(batch_dir, line)}


# --- a batch's lines: more takes, notes (issue 15; docs/design.md, decision 13) ----------


def _more_body() -> dict[str, Any]:
    body = _json_object('{"takes": 3, "like": "auto" | 1-5 | null, "text": null, '
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

    caller = person()
    people.require(caller, "more")
    body = _more_body()
    batch_dir = _batch_dir(batch_id)
    metadata = store.load_metadata(batch_dir)
    _line_of(metadata, line)
    job = more.parse_more({"kind": more.KIND, "batch_id": batch_id, "line": line,
                           **{k: body[k] for k in ("takes", "like", "text") if k in body}})
    if store.is_locked(batch_dir):
        raise BatchLocked(batch_id)
    if body.get("dry_run"):
        engine = _engine((metadata.get("generation_params") or {}).get("engine")
                         or _settings().default_engine)
        return {"data": more.estimate_more(
            metadata, line, takes=job.takes, like=job.like, text=job.text,
            dictionary=more.batch_dictionary(batch_dir, metadata, _settings()),
            engine=engine)}, 200, {}
    task_id = jobs.submit(_settings(), kinds.More.planned(_settings(), metadata, job, caller.name),
                          app=_celery())
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
    body = _json_object('{"text": "...", "needs_pass": false}')
    if unknown := sorted(set(body) - {"text", "needs_pass"}):
        raise BadRequest(f'unknown field(s) {unknown}: the body is {{"text", "needs_pass"}}')
    batch_dir = _batch_dir(batch_id)
    _line_of(store.load_metadata(batch_dir), line)
    try:
        note = lines.set_note(batch_dir, line, body.get("text", ""),
                              needs_pass=body.get("needs_pass", False), person=caller.name)
    except LineError as exc:
        raise BadRequest(str(exc)) from None
    return {"data": note}


# --- engine-ready export (issue 16) ---------------------------------------------------------

EXPORT_INLINE_MAX = 200  # more selects: an export job (202); the app's config
# VOICELAB_EXPORT_INLINE_MAX overrides it


def _export_inline_max() -> int:
    return int(current_app.config.get("VOICELAB_EXPORT_INLINE_MAX", EXPORT_INLINE_MAX))


def _export_options() -> Any:
    """The body of `POST .../export` as DeliveryOptions; a 400 naming a bad field."""
    from voicelab.delivery.options import (
        OPTION_FIELDS,
        DeliveryError,
        DeliveryOptions,
        check_options,
    )

    body = _json_object('{"rank": 1, "format": "wav", "preset": "unreal", ...}')
    fields = OPTION_FIELDS
    if unknown := sorted(set(body) - set(fields)):
        raise BadRequest(f"unknown field(s) {unknown}: the body takes {list(fields)} "
                         "(loudness_by_category is a file: use voicelab export)")
    values = {k: v for k, v in body.items() if v is not None}  # null: the default
    try:
        options = DeliveryOptions(**values)
        check_options(options)
    except DeliveryError as exc:
        raise BadRequest(str(exc)) from None
    return options


@table.route("/api/batch/<batch_id>/export", "POST",
             "Export a batch's selects engine-ready: the zip, or a job for a large batch (lead)",
             {200: ZIP, 202: "TaskAccepted", 400: "Error", 403: "Error", 404: "Error",
              500: "Error", 503: "Error"},
             body={"application/json": "ExportRequest"})
def export_batch(batch_id: str) -> Response | tuple[dict[str, Any], int, dict[str, str]]:
    """POST /api/batch/<batch_id>/export: body `{"rank": 1, "format": "wav", "sample_rate":
    48000, "bit_depth": 24, "loudness": -23, "true_peak": -1, "preset": "unreal", "naming":
    null, "lang": "en"}` (every field optional; `{}` is the classic MP3 export). Up to 200
    selects (EXPORT_INLINE_MAX), 200 with the zip (`<batch_id>_rank<N>.zip`: the files,
    manifest.csv and, engine-ready, dialogue.csv and .xlsx); more, 202 with an export job's task
    id and a Location to poll, its zip then at `GET /api/generate/<task_id>/export`. 400 a bad field
    (named; nothing queued), 403 not a lead, 404 unknown batch, 503 broker unreachable."""
    import tempfile

    from voicelab.delivery.deliver import deliver
    from voicelab.delivery.options import DeliveryError
    from voicelab.delivery.rows import selects

    caller = person()
    people.require(caller, "export")
    options = _export_options()
    batch_dir = _batch_dir(batch_id)
    metadata = store.load_metadata(batch_dir)
    count = sum(1 for row in selects(metadata, options.rank) if row["status"] == "exported")
    if count > _export_inline_max():
        job = kinds.Export.request(_settings(), metadata["batch_id"], asdict(options),
                                   person=caller.name)
        task_id = jobs.submit(_settings(), job, app=_celery())
        return ({"data": {"task_id": task_id}}, 202,
                {"Location": f"/api/generate/{task_id}/status"})
    with tempfile.TemporaryDirectory(prefix="voicelab-export-") as work:
        try:
            result = deliver(batch_dir, Path(work), replace(options, make_zip=True))
        except DeliveryError as exc:
            raise BadRequest(str(exc)) from None
        assert result.archive is not None
        data = result.archive.read_bytes()
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{result.archive.name}"'
    return response


@table.route("/api/generate/<task_id>/export", "GET", "The zip an export job made (lead)",
             {200: ZIP, 403: "Error", 404: "Error", 409: "Error"})
def export_archive(task_id: str) -> Response:
    """GET /api/generate/<task_id>/export: the zip of a finished export job (200,
    application/zip). 403 not a lead, 404 an unknown job, a job that is not an export, or a zip
    already removed (the latest 20 exports are kept, for a week), 409 a job not finished (its
    state, and the error of a failed one)."""
    people.require(person(), "export")
    record = _task_record(task_id)
    if kinds.kind_of(record.get("config")) is not kinds.Export:
        raise NotFound(f"job {task_id!r} is not an export")
    if record["state"] != "SUCCESS":
        failed = f": {record.get('error')}" if record["state"] == "FAILURE" else ""
        raise Conflict(f"export job {task_id} is {record['state']}{failed}; its zip comes "
                       "with SUCCESS")
    archive = archive_of(_settings().audio_root, record)
    if archive is None:
        raise NotFound(f"the zip of export job {task_id} was removed (the latest "
                       f"{KEEP} exports are kept, for a week): export again")
    return send_file(archive, mimetype="application/zip", as_attachment=True,
                     download_name=archive.name, max_age=0)


# --- audio and the document ------------------------------------------------------------------


@table.route("/audio/<path:relpath>", "GET", "An MP3 under AUDIO_ROOT (Range, ETag, 304)",
             {200: AUDIO, 206: AUDIO, 304: EMPTY, 403: "Error", 404: "Error", 416: "Error"})
def audio(relpath: str) -> Response:
    """GET /audio/<relpath>: an MP3 under AUDIO_ROOT, with Range (206), ETag and 304 for players.

    404 for anything but an existing MP3 inside the root (symlinks out of it included); 416 for a
    range past the file. 403 for a non-lead while the batch's panel is open: any take of a blind
    panel (a file name tells the take: listen on the board), `ranked/` of any panel.
    """
    path: Path | None = paths.resolve_under(_settings().audio_root, relpath, suffix=".mp3")
    if path is None:
        raise NotFound(f"no MP3 at {relpath!r} under the audio root")
    visibility.refuse_audio(relpath, path, person())
    return send_file(path, mimetype="audio/mpeg", conditional=True, etag=True, max_age=0)


@table.route("/api/openapi.json", "GET", "This document (plain JSON, no envelope)", {200: RAW})
def openapi_document() -> dict[str, Any]:
    """GET /api/openapi.json: the document built from `table`, so it cannot drift from the routes.

    Plain JSON, no envelope; the token schemes appear only when the server has a service token
    or users.
    """
    root = _settings().audio_root
    secured = bool(_settings().api_token) or people.sign_in_required(root)
    return document(table.operations, secured=secured, version=__version__)


# Outside /api/, so outside the token check; `voicelab serve` answers this path itself.
@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """A health check: answers without a token and touches nothing (no disk, no broker)."""
    return {"status": "ok", "version": __version__}
