"""Generation as Celery jobs: the app, the thin `run_generation` task, submit, cancel, status.

Broker: Redis when CELERY_BROKER_URL is set; otherwise an embedded default that needs no
server: Kombu's filesystem transport for the queue (measured 40-50 ms pickup at 0.1 s polling;
unlike the SQLAlchemy transport it carries broadcasts, so revoke and inspect work) and a SQLite
result backend, both under `<AUDIO_ROOT>/.jobs/`, so queued jobs and results survive restarts.

A job whose worker dies is run again: acks are late with prefetch 1 (Redis redelivers after its
visibility timeout), and every worker also watches the registry's heartbeats and re-queues a job
whose worker has gone silent, which is what brings it back on the filesystem transport. The run
resumes: takes already on disk are kept.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from celery import Celery, shared_task, signals
from celery.exceptions import Ignore
from celery.states import REVOKED

from voicelab import registry
from voicelab.config import Settings, get_settings
from voicelab.errors import JobConfigError, VoicelabError
from voicelab.jobspec import parse_config

log = logging.getLogger(__name__)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GENERATE_NOTEBOOK = NOTEBOOKS / "generate.ipynb"
TASK_NAME = "voicelab.run_generation"
HEARTBEAT_S = 3.0
STALE_AFTER_S = 20.0


class JobFailed(VoicelabError):
    """Raised when a job's notebook stops on an error; names the error and the report."""


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for this VoiceLab configuration (Redis, or the embedded default)."""
    config: dict[str, Any] = {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "result_extended": True,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }
    if settings.celery_broker_url:
        config["broker_url"] = settings.celery_broker_url
        config["result_backend"] = settings.celery_result_backend
        config["broker_transport_options"] = {"visibility_timeout": 3600}
        return config
    base = settings.audio_root / registry.JOBS_DIR
    queue, control = base / "queue", base / "control"
    for folder in (queue, control):
        folder.mkdir(parents=True, exist_ok=True)
    config["broker_url"] = "filesystem://"
    config["broker_transport_options"] = {
        "data_folder_in": str(queue), "data_folder_out": str(queue),
        "control_folder": str(control), "polling_interval": 0.1, "store_processed": False,
    }
    config["result_backend"] = settings.celery_result_backend or f"db+sqlite:///{base}/results.db"
    return config


def make_celery(settings: Settings) -> Celery:
    """A Celery app for these settings; the task is shared by every app."""
    app = Celery("voicelab")
    app.conf.update(celery_config(settings))
    return app


celery_app = Celery("voicelab", set_as_current=True)
celery_app.add_defaults(lambda: celery_config(get_settings()))


# --- the task -------------------------------------------------------------------------------


@shared_task(bind=True, name=TASK_NAME)
def run_generation(self: Any, config_json: str) -> dict[str, Any]:
    """Run one generation job through notebooks/generate.ipynb; thin by design."""
    return execute_job(get_settings(), self.request.id, config_json,
                       hostname=self.request.hostname or socket.gethostname(),
                       mark=lambda state, meta: self.update_state(state=state, meta=meta))


def execute_job(settings: Settings, task_id: str, config_json: str, *, hostname: str = "",
                mark: Any = None) -> dict[str, Any]:
    """Validate, run the notebook with papermill, and return `{batch_ids, failed, report}`.

    Raises JobConfigError for an invalid config (never retried) and JobFailed when the notebook
    stops on an error (the message names the error and the report). A cancelled job ends as
    REVOKED; a duplicate delivery of a job running elsewhere or already done changes nothing.
    """
    root = settings.audio_root
    try:
        raw = json.loads(config_json)
        parse_config(raw, default_engine=settings.default_engine)
    except json.JSONDecodeError as exc:
        error = JobConfigError([registry_problem(f"config is not JSON: {exc.msg}")])
        registry.set_fields(root, task_id, state="FAILURE", error=str(error))
        raise error from None
    except JobConfigError as exc:
        registry.set_fields(root, task_id, state="FAILURE", error=str(exc))
        raise
    record = registry.get(root, task_id) or registry.create(root, task_id, raw)
    if record["state"] == "SUCCESS" and record.get("result"):
        return record["result"]
    if (record["state"] in ("STARTED", "PROGRESS")
            and (record.get("heartbeat") or 0) > time.time() - STALE_AFTER_S):
        log.warning("job %s is already running on %s; ignoring a duplicate delivery",
                    task_id, record.get("worker"))
        raise Ignore()
    if record.get("cancel_requested"):
        _end_revoked(root, task_id, mark)
    registry.update(root, task_id, lambda r: r.update(
        state="STARTED", worker=hostname, heartbeat=time.time(), error=None,
        attempts=r.get("attempts", 0) + 1))
    report = registry.report_path(root, task_id)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(root, task_id, stop), daemon=True)
    beat.start()
    try:
        _run_notebook(report, raw, task_id)
    except JobFailed as exc:
        registry.set_fields(root, task_id, state="FAILURE", error=str(exc))
        raise
    finally:
        stop.set()
    record = registry.get(root, task_id) or {}
    result = {**(record.get("result") or {}), "report": str(report)}
    if result.get("cancelled"):
        registry.set_fields(root, task_id, result=result)
        _end_revoked(root, task_id, mark)
    registry.set_fields(root, task_id, state="SUCCESS", result=result)
    return result


def registry_problem(message: str) -> Any:
    from voicelab.errors import Problem

    return Problem(message, field="config")


def _end_revoked(root: Path, task_id: str, mark: Any) -> None:
    registry.set_fields(root, task_id, state="REVOKED")
    if mark:
        mark(REVOKED, {"cancelled": True})
    raise Ignore()


def _heartbeat(root: Path, task_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        registry.set_fields(root, task_id, heartbeat=time.time())


def _run_notebook(report: Path, config: dict[str, Any], task_id: str) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(GENERATE_NOTEBOOK), str(report),
            parameters={"config": config, "task_id": task_id},
            progress_bar=False, cwd=str(NOTEBOOKS), kernel_name="python3",
        )
    except PapermillExecutionError as exc:
        raise JobFailed(f"{exc.ename}: {exc.evalue} (report: {report})") from None


# --- submitting, cancelling, watching -------------------------------------------------------


def submit(settings: Settings, config: dict[str, Any], app: Celery | None = None) -> str:
    """Validate and enqueue a job; returns its task id. JobConfigError leaves nothing queued."""
    job = parse_config(config, default_engine=settings.default_engine)
    config = {**config, "engine": job.engine}
    task_id = str(uuid.uuid4())
    registry.create(settings.audio_root, task_id, config)
    (app or make_celery(settings)).send_task(TASK_NAME, args=[json.dumps(config)],
                                             task_id=task_id)
    return task_id


def cancel(settings: Settings, task_id: str, app: Celery | None = None) -> dict[str, Any] | None:
    """Ask a job to stop: a queued job never starts, a running one stops between takes."""
    def request(record: dict[str, Any]) -> None:
        if record["state"] not in registry.TERMINAL:
            record["cancel_requested"] = True
            if record["state"] == "QUEUED":
                record["state"] = "REVOKED"

    record = registry.update(settings.audio_root, task_id, request)
    if record is not None and record["state"] == "REVOKED":
        (app or make_celery(settings)).control.revoke(task_id)
    return record


def requeue_stale(settings: Settings, app: Celery,
                  older_than_s: float = STALE_AFTER_S) -> list[str]:
    """Send again every running job whose worker stopped beating; returns their ids."""
    root = settings.audio_root
    requeued = []
    cutoff = time.time() - older_than_s
    for record in registry.stale(root, older_than_s):
        task_id = record["task_id"]

        def claim(r: dict[str, Any]) -> None:
            if r["state"] in ("STARTED", "PROGRESS") and (r.get("heartbeat") or 0) < cutoff:
                r.update(state="QUEUED", heartbeat=None, requeued=r.get("requeued", 0) + 1)

        claimed = registry.update(root, task_id, claim)
        if claimed and claimed["state"] == "QUEUED":
            app.send_task(TASK_NAME, args=[json.dumps(claimed["config"])], task_id=task_id)
            log.warning("job %s lost its worker; queued again to resume", task_id)
            requeued.append(task_id)
    return requeued


@signals.worker_ready.connect
def _watch_for_dead_workers(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None) or celery_app
    settings = get_settings()

    def loop() -> None:
        while True:
            try:
                requeue_stale(settings, app)
            except Exception:
                log.exception("could not check for jobs of dead workers")
            time.sleep(HEARTBEAT_S)

    threading.Thread(target=loop, name="voicelab-reaper", daemon=True).start()


def run_worker(settings: Settings, extra: list[str] | None = None) -> None:
    """Run a Celery worker for the configured broker (one job at a time per worker)."""
    os.environ.setdefault("FORKED_BY_MULTIPROCESSING", "1")
    app = make_celery(settings)
    app.worker_main(["worker", "--pool=solo", "--loglevel=INFO",
                     f"--hostname=voicelab-{os.getpid()}@%h", *(extra or [])])
