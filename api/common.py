"""What the API's areas share: the app's settings, Celery and engines; a request's JSON body; a
batch, a job's record and a batch's line, each found or refused as the request's error."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from celery import Celery
from flask import current_app, request
from werkzeug.exceptions import BadRequest, NotFound

from voicelab import store
from voicelab.config import Settings
from voicelab.engines import Engine, available_engines, get_engine
from voicelab.errors import JobConfigError, Problem
from voicelab.jobs import registry

_ENGINE_LOCK = threading.Lock()


def settings() -> Settings:
    """The app's settings."""
    settings: Settings = current_app.extensions["voicelab"]
    return settings


def celery() -> Celery:
    """The app's Celery app (jobs are queued on it)."""
    app: Celery = current_app.extensions["celery"]
    return app


def engine(name: str) -> Engine:
    """The app's shared engine instance (ElevenLabs keeps its voice cache and connection pool)."""
    if name not in available_engines(settings()):
        raise JobConfigError([Problem(f"engine {name!r} needs ELEVENLABS_API_KEY on the server",
                                      field="engine", value=name)])
    cache: dict[str, Engine] = current_app.extensions["voicelab.engines"]
    with _ENGINE_LOCK:
        if name not in cache:
            cache[name] = get_engine(name, settings())
        return cache[name]


def json_object(what: str) -> dict[str, Any]:
    """The request's body, which must be a JSON object (`what` says which, in the 400)."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object ({what})")
    return data


def batch_dir(batch_id: str) -> Path:
    """The batch's folder (BatchNotFound: a 404)."""
    return store.find_batch(settings().audio_root, batch_id)


def task_record(task_id: str) -> dict[str, Any]:
    """The job's record; 404 for an id never submitted."""
    record = registry.get(settings().audio_root, task_id)
    if record is None:
        raise NotFound(f"no job with id {task_id!r}")
    return record


def line_of(metadata: store.Metadata, line: str) -> None:
    """404 unless the batch has the line."""
    if not any(take["line"] == line for take in metadata["takes"]):
        raise NotFound(f"batch {metadata['batch_id']} has no line {line!r}")
