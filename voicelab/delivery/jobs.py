"""Export jobs in the job queue: an engine-ready export of one batch (`kind` "export") run by a
worker, for batches too large to zip while an HTTP request waits.

A job config is `{"kind": "export", "batch_id", <DeliveryOptions fields>, "requested_by"}`;
`check` validates it (every option, the batch) before it is queued, and again on the worker;
`run` delivers into `<AUDIO_ROOT>/.exports/<task_id>/` with a zip, and its result names the zip
(`archive`) beside the usual `{batch_ids, failed, done, total, cancelled}`. Export folders are
bounded: before a new one is made, the oldest beyond `KEEP` and any older than `MAX_AGE_S` go.
An export makes no takes, so the runner runs no speech check after it.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from voicelab import store
from voicelab.config import Settings
from voicelab.delivery.options import DeliveryError, DeliveryOptions, check_options
from voicelab.errors import InvalidRank, JobConfigError, Problem
from voicelab.generation import Progress
from voicelab.jobs import registry
from voicelab.jobspec import job_batch, shown_fields

KIND = "export"
OPTION_FIELDS = ("rank", "format", "sample_rate", "bit_depth", "loudness", "true_peak",
                 "preset", "naming", "lang")
FIELDS = ("kind", "batch_id", *OPTION_FIELDS, "requested_by")
SHOWN = ("skin_name", "voice_ids", "engine")
"""Fields a queued export carries for the job list (taken from its batch), ignored here."""
EXPORTS_DIR = ".exports"
KEEP = 20  # export folders kept under .exports/ (the oldest go first)
MAX_AGE_S = 7 * 24 * 3600  # and none older than a week


def is_export_job(raw: object) -> bool:
    """Whether a job config is an export job."""
    return isinstance(raw, Mapping) and raw.get("kind") == KIND


def parse_export(raw: Mapping[str, Any]) -> tuple[str, DeliveryOptions]:
    """The batch id and the options of an export job config (a null option: its default).

    Raises:
        JobConfigError: an unknown field, no batch id, or a bad option (named).
    """
    problems = [Problem(f"unknown field {key!r}", field=key)
                for key in sorted(set(raw) - set(FIELDS) - set(SHOWN))]
    batch_id = raw.get("batch_id")
    if not isinstance(batch_id, str) or not batch_id:
        problems.append(Problem("batch_id must be a non-empty string", field="batch_id",
                                value=batch_id))
    options = DeliveryOptions(**{k: raw[k] for k in OPTION_FIELDS if raw.get(k) is not None})
    try:
        check_options(options)
    except InvalidRank as exc:
        problems.append(Problem(str(exc), field="rank", value=exc.value))
    except DeliveryError as exc:
        name = str(exc).split(":", 1)[0]
        problems.append(Problem(str(exc), field=name if name in OPTION_FIELDS else None))
    if problems:
        raise JobConfigError(problems)
    return str(batch_id), options


def check(raw: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """An export job's config, validated against its batch, with what the job list shows
    (`skin_name`, `voice_ids`, `engine` of the batch) added.

    Raises:
        JobConfigError: a bad field or option, or an unknown batch.
    """
    batch_id, _options = parse_export(raw)
    return {**raw, **shown_fields(job_batch(settings, batch_id), settings)}


def submit_export(settings: Settings, batch_id: str, options: Mapping[str, Any], *,
                  person: str = "cli", app: Any = None) -> str:
    """Queue an export of `batch_id` with these option fields (checked first: nothing is
    queued for a bad one) on `app` (default: the settings' Celery app); its task id.

    Raises:
        JobConfigError: a bad option or an unknown batch. BrokerUnavailable: no queue.
    """
    from voicelab.jobs import control  # the jobs package runs export jobs: imported when used

    config = {"kind": KIND, "batch_id": batch_id,
              **{k: v for k, v in options.items() if k in OPTION_FIELDS and v is not None},
              "requested_by": person}
    return control.submit(settings, config, app=app)


def exports_dir(root: Path) -> Path:
    """`<root>/.exports`: hidden, so never taken for a batch nor served under /audio."""
    return Path(root) / EXPORTS_DIR


def export_dir(root: Path, task_id: str) -> Path:
    """Where the export job `task_id` writes; KeyError for an id that could escape the folder."""
    if not registry.valid_task_id(task_id):
        raise KeyError(task_id)
    return exports_dir(root) / task_id


def prune(root: Path, *, keep: int = KEEP, max_age_s: float = MAX_AGE_S,
          now: float | None = None) -> list[str]:
    """Remove export folders beyond the newest `keep` and any older than `max_age_s`; the
    names removed."""
    folder = exports_dir(root)
    if not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - max_age_s
    found = []
    for path in folder.iterdir():
        try:
            if path.is_dir() and not path.is_symlink():
                found.append((path.stat().st_mtime, path))
        except OSError:
            continue  # removed meanwhile
    found.sort(key=lambda item: item[0], reverse=True)
    removed = []
    for index, (mtime, path) in enumerate(found):
        if index >= keep or mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def archive_of(root: Path, record: Mapping[str, Any]) -> Path | None:
    """The zip a finished export job made, or None (not an export, not finished, or pruned)."""
    result = record.get("result") or {}
    name = result.get("archive")
    if not isinstance(name, str) or not name.endswith(".zip") or "/" in name or "\\" in name \
            or name.startswith("."):
        return None
    try:
        path = export_dir(root, str(record.get("task_id") or "")) / name
    except KeyError:
        return None
    return path if path.is_file() else None


def run(raw: Mapping[str, Any], settings: Settings, *, job_id: str | None = None,
        progress: Callable[[Progress], None] | None = None) -> dict[str, Any]:
    """Deliver the batch into `.exports/<job_id>/` with a zip (older exports pruned first);
    `{batch_ids, failed, done, total, cancelled, archive, missing}`.

    Raises:
        JobConfigError: a bad config. DeliveryError: the export cannot be written.
    """
    from voicelab.delivery.deliver import deliver

    check(raw, settings)
    batch_id, options = parse_export(raw)
    root = settings.audio_root
    batch_dir = store.find_batch(root, batch_id)
    dest = export_dir(root, job_id or uuid.uuid4().hex)
    prune(root, keep=KEEP - 1)
    started = time.monotonic()

    def files_done(done: int, total: int) -> None:
        if progress is not None:
            elapsed = time.monotonic() - started
            eta = round(elapsed / done * (total - done), 1) if done else None
            progress(Progress(done, total, 0, "", eta, [batch_id]))

    result = deliver(batch_dir, dest, replace(options, make_zip=True), progress=files_done)
    assert result.archive is not None
    count = len(result.files)
    return {"batch_ids": [batch_id], "failed": [], "done": count, "total": count,
            "cancelled": False, "archive": result.archive.name, "missing": result.missing}
