"""Engine-ready export (issue 16): a batch's selects as a zip, or an export job and its zip."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, send_file
from werkzeug.exceptions import BadRequest, Conflict, NotFound

from api import common
from api.auth import person
from api.openapi import ZIP, RouteTable
from voicelab import jobs, people, store
from voicelab.jobs import kinds
from voicelab.jobs.kinds.export import KEEP, archive_of

bp = Blueprint("export", __name__)
table = RouteTable(bp)


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

    body = common.json_object('{"rank": 1, "format": "wav", "preset": "unreal", ...}')
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
    batch_dir = common.batch_dir(batch_id)
    metadata = store.load_metadata(batch_dir)
    count = sum(1 for row in selects(metadata, options.rank) if row["status"] == "exported")
    if count > _export_inline_max():
        job = kinds.Export.request(common.settings(), metadata["batch_id"], asdict(options),
                                   person=caller.name)
        task_id = jobs.submit(common.settings(), job, app=common.celery())
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
    record = common.task_record(task_id)
    if kinds.kind_of(record.get("config")) is not kinds.Export:
        raise NotFound(f"job {task_id!r} is not an export")
    if record["state"] != "SUCCESS":
        failed = f": {record.get('error')}" if record["state"] == "FAILURE" else ""
        raise Conflict(f"export job {task_id} is {record['state']}{failed}; its zip comes "
                       "with SUCCESS")
    archive = archive_of(common.settings().audio_root, record)
    if archive is None:
        raise NotFound(f"the zip of export job {task_id} was removed (the latest "
                       f"{KEEP} exports are kept, for a week): export again")
    return send_file(archive, mimetype="application/zip", as_attachment=True,
                     download_name=archive.name, max_age=0)
