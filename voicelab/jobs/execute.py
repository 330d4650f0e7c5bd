"""Running one delivered job: check it, claim, run the notebook, keep the heartbeat, record.

Plain functions the Celery task calls (tasks thin, logic here), so tests run a job without a
worker.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery.exceptions import Ignore, TaskRevokedError
from celery.states import REVOKED

from voicelab import clock
from voicelab.config import Settings
from voicelab.errors import JobConfigError, JobFailed, Problem
from voicelab.jobs import kinds, registry
from voicelab.jobs.claim import Attempt, Claim, claim_job
from voicelab.jobs.kernel_pool import Kernels, pool

log = logging.getLogger(__name__)

Mark = Callable[[str, Any], None]


def execute_job(settings: Settings, task_id: str, config_json: str, *, hostname: str = "",
                mark: Mark | None = None, kernels: Kernels | None = None) -> dict[str, Any]:
    """Check the job, run the notebook with papermill, and return `{batch_ids, failed, report}`.

    The job's JSON as `control.submit` recorded it was checked there and is trusted as it is;
    any other config (a direct delivery) is checked here, once. Raises JobFailed for an invalid
    config (the validation message; never retried) and when
    the notebook stops on an error (the message names the error and the report). A cancelled
    job ends as REVOKED; a duplicate delivery of a job running elsewhere or already ended
    changes nothing (Celery's Ignore).
    """
    root = settings.audio_root
    config = _checked(settings, task_id, config_json)
    if registry.get(root, task_id) is None:
        registry.create(root, task_id, config)
    attempt = Attempt(worker=hostname, attempt=uuid.uuid4().hex, now=time.time(),
                      stale_after_s=settings.job_stale_s)
    claim, record = claim_job(root, task_id, attempt)
    if claim is Claim.DONE:
        return record["result"]
    if claim is not Claim.RUN:
        log.warning("job %s: not running a delivery of a job that is %s (%s)", task_id,
                    record.get("state"), claim.value)
        if claim is Claim.CANCELLED and mark:
            mark(REVOKED, revoked(task_id))
        raise Ignore()
    report = registry.report_path(root, task_id)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat,
                            args=(root, task_id, attempt.attempt, settings.job_heartbeat_s, stop),
                            name="voicelab-heartbeat", daemon=True)
    beat.start()
    try:
        (kernels or pool(settings.notebooks_dir)).run(report, config, task_id)
    except Exception as exc:
        error = str(exc) if isinstance(exc, JobFailed) else (
            f"{type(exc).__name__}: {exc} (report: {report})")
        registry.set_fields(root, task_id, state="FAILURE", error=error,
                            finished_at=clock.utc_now())
        if isinstance(exc, JobFailed):
            raise
        raise JobFailed(error) from exc
    finally:
        stop.set()
    record = registry.get(root, task_id) or {}
    result = {**(record.get("result") or {}), "report": str(report)}
    if result.get("cancelled"):  # a cancel that came after the last take changes nothing
        registry.finish(root, task_id, "REVOKED", result)
        if mark:
            mark(REVOKED, revoked(task_id))
        raise Ignore()
    registry.finish(root, task_id, "SUCCESS", result)
    return result


def revoked(task_id: str) -> TaskRevokedError:
    """What the result backend holds for a cancelled job (Celery wants an exception there)."""
    return TaskRevokedError(f"job {task_id} was cancelled; submit it again to resume")


def _checked(settings: Settings, task_id: str, config_json: str) -> dict[str, Any]:
    """The checked job's JSON: the delivered one when it is the job's recorded config (checked
    by `control.submit`), else the delivered config checked here. An invalid one is recorded as
    the job's FAILURE, never retried.

    Raises JobFailed carrying the validation message: Celery rebuilds a task's exception from
    its message alone, which JobConfigError (built from a list of problems) cannot take.
    """
    root = settings.audio_root
    raw: Any = None
    try:
        raw = json.loads(config_json)
        record = registry.get(root, task_id)
        if record is not None and record.get("config") == raw and _readable(raw):
            return dict(raw)
        return kinds.check(raw, settings).to_json()
    except (json.JSONDecodeError, JobConfigError) as exc:
        error = exc if isinstance(exc, JobConfigError) else JobConfigError(
            [Problem(f"config is not JSON: {exc.msg}", field="config")])
        if registry.get(root, task_id) is None:
            registry.create(root, task_id, raw if isinstance(raw, dict) else {})
        registry.set_fields(root, task_id, state="FAILURE", error=str(error),
                            finished_at=clock.utc_now())
        raise JobFailed(str(error)) from None


def _readable(config: dict[str, Any]) -> bool:
    """Whether a recorded config is a checked job's JSON (a job an older VoiceLab queued
    recorded its raw config, which is checked again instead)."""
    try:
        kinds.from_json(config)
    except (KeyError, TypeError, ValueError):
        return False
    return True


def _heartbeat(root: Path, task_id: str, attempt: str, period: float,
               stop: threading.Event) -> None:
    """Refresh the job's heartbeat while this attempt still owns it."""
    def beat(r: registry.Record) -> None:
        if r.get("attempt") == attempt and r["state"] in registry.RUNNING:
            r["heartbeat"] = time.time()

    while not stop.wait(period):
        try:
            registry.update(root, task_id, beat)
        except OSError:
            log.exception("job %s: could not write its heartbeat", task_id)
