"""Submitting, cancelling and watching jobs: what the faces (API, CLI, launch form) call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import redis
from celery import Celery
from celery.states import REVOKED
from kombu.exceptions import OperationalError

from voicelab import clock
from voicelab.config import Settings
from voicelab.errors import BrokerUnavailable
from voicelab.jobs import kinds, registry
from voicelab.jobs.app import TASK_NAME, get_app
from voicelab.jobs.execute import revoked


def submit(settings: Settings, job: Mapping[str, Any] | kinds.JobKind,
           app: Celery | None = None) -> str:
    """Enqueue a job; returns its task id. A raw config is checked here, once (see
    `voicelab.jobs.kinds`): JobConfigError leaves nothing queued. A job a kind made (for example
    `kinds.More.request`) was checked when it was made."""
    if not isinstance(job, kinds.JobKind):
        job = kinds.check(job, settings)
    config = job.to_json()
    task_id = str(uuid.uuid4())
    registry.create(settings.audio_root, task_id, config)
    try:
        _check_redis(settings.celery_broker_url)
        _check_redis(settings.celery_result_backend)
        send_job(app or get_app(settings), task_id, config)
    except (OperationalError, OSError, RuntimeError, redis.RedisError) as exc:
        message = (f"cannot queue the job: the broker is unreachable ({type(exc).__name__}); "
                   "check CELERY_BROKER_URL, or run voicelab doctor")
        registry.set_fields(settings.audio_root, task_id, state="FAILURE", error=message,
                            finished_at=clock.utc_now())
        raise BrokerUnavailable(message) from None
    return task_id


def _check_redis(url: str | None) -> None:
    """Fail fast (2 s) when a Redis broker or backend is down, instead of Celery's long retries."""
    if url and url.startswith(("redis://", "rediss://")):
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()


def status(settings: Settings, task_id: str) -> registry.Record | None:
    """The job's record without its config; None for an id never submitted here."""
    record = registry.get(settings.audio_root, task_id)
    if record is not None:
        record.pop("config", None)
    return record


def cancel(settings: Settings, task_id: str, app: Celery | None = None) -> registry.Record | None:
    """Ask a job to stop: a queued job never starts, a running one stops between takes.

    Returns the record (None for an unknown id). A running job turns REVOKED when its notebook
    has stopped, keeping its finished takes in batches marked incomplete.
    """
    def request(record: registry.Record) -> None:
        if record["state"] not in registry.TERMINAL:
            record["cancel_requested"] = True
            if record["state"] == "QUEUED":
                record.update(state="REVOKED", finished_at=clock.utc_now())

    record = registry.update(settings.audio_root, task_id, request)
    if record is not None and record["state"] == "REVOKED":
        celery = app or get_app(settings)
        celery.control.revoke(task_id)
        celery.backend.store_result(task_id, revoked(task_id), REVOKED)
    return record


def send_job(app: Celery, task_id: str, config: dict[str, Any]) -> None:
    """Put a job's message on the queue (a first send, or a resend of a lost job)."""
    app.send_task(TASK_NAME, args=[json.dumps(config)], task_id=task_id)
