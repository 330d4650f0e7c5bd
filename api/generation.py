"""Jobs over HTTP: generate (queue a job), the job list, a job's status, cancel; the estimate
and the voices a job may use."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from api import common
from api.auth import person
from api.openapi import RouteTable
from voicelab import jobs, people
from voicelab.engines import Engine, available_engines
from voicelab.engines.quota import quota_share
from voicelab.errors import EngineError, JobConfigError, Problem
from voicelab.generation import resolve_voices
from voicelab.jobs import kinds, registry
from voicelab.jobspec import GenerationConfig, estimate, parse_config
from voicelab.script import decode_script

bp = Blueprint("generation", __name__)
table = RouteTable(bp)


SCRIPT_MAX_BYTES = 2 * 1024 * 1024
RECENT_LIMIT = (50, 500)  # default, most
_BODY = {"application/json": "GenerationConfig", "multipart/form-data": "GenerationUpload"}


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
    raw = common.json_object("the generation config")
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
    ids, name = raw.get("voice_ids"), raw.get("engine") or common.settings().default_engine
    ids = [ids] if isinstance(ids, str) else ids
    if (not isinstance(ids, list) or not all(isinstance(v, str) for v in ids)
            or name not in available_engines(common.settings())):
        return []
    try:
        known = {voice.id for voice in common.engine(name).voices()}
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
    settings = common.settings()
    try:
        config = parse_config({k: v for k, v in raw.items()
                               if k not in ("script_path", "pronunciations")},
                              default_engine=settings.default_engine, settings=settings)
    except JobConfigError as exc:
        raise JobConfigError(refused + exc.problems + _voice_problems(raw)) from None
    if refused:
        raise JobConfigError(refused)
    engine = common.engine(config.engine)
    resolve_voices(config, engine)
    return config, engine


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return RECENT_LIMIT[0]
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= RECENT_LIMIT[1]:
        raise BadRequest(f"limit must be a whole number from 1 to {RECENT_LIMIT[1]}, not {raw!r}")
    return int(raw)


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
    task_id = jobs.submit(common.settings(), kinds.Generate(config), app=common.celery())
    return {"data": {"task_id": task_id}}, 202, {"Location": f"/api/generate/{task_id}/status"}


@table.route("/api/generate", "GET", "Recent jobs, newest first", {200: "JobList", 400: "Error"},
             query=({"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": RECENT_LIMIT[1]}},))
def recent_jobs() -> dict[str, Any]:
    """GET /api/generate: recent jobs, newest first, without configs (they can hold a script).

    400 for a `limit` that is not a whole number from 1 to the cap in RECENT_LIMIT.
    """
    return {"data": registry.recent(common.settings().audio_root, _limit())}


@table.route("/api/generate/<task_id>/status", "GET", "A job's state, progress and outcome",
             {200: "JobStatus", 404: "Error"})
def job_status(task_id: str) -> dict[str, Any]:
    """GET /api/generate/<task_id>/status: the job's state and progress; 404 for an unknown id.

    A FAILURE carries `error`; any other state carries `result` (null until there is one).
    """
    record = common.task_record(task_id)
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
    common.task_record(task_id)
    record = (jobs.cancel(common.settings(), task_id, app=common.celery())
              or common.task_record(task_id))
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
    engines = available_engines(common.settings())
    return {"data": [asdict(voice) for name in engines for voice in common.engine(name).voices()]}
