"""The Celery app and the thin `run_generation` task.

Broker: Redis when CELERY_BROKER_URL is set; otherwise an embedded default that needs no
server: VoiceLab's crash-safe subclass of Kombu's filesystem transport (`jobs.embedded_queue`,
40-50 ms pickup at 0.1 s polling; it carries broadcasts, so revoke and inspect work) and a SQLite
result backend, both under `<AUDIO_ROOT>/.jobs/`, so queued jobs and results survive restarts.

Acks are late with prefetch 1, so a job whose worker dies is delivered again (Redis after its
visibility timeout; the embedded queue at once); `voicelab.jobs.reaper` covers what that misses.
"""

from __future__ import annotations

import functools
import socket
from typing import Any

from celery import Celery, shared_task

from voicelab.config import Settings, get_settings
from voicelab.jobs import embedded_queue, registry
from voicelab.jobs.execute import execute_job

TASK_NAME = "voicelab.run_generation"


class VoicelabCelery(Celery):
    """A Celery app that knows the VoiceLab settings it was made for."""

    settings: Settings


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
    base = registry.jobs_dir(settings.audio_root)
    config["broker_url"] = f"{embedded_queue.SCHEME}://"
    config["broker_transport_options"] = {**embedded_queue.folders(base), "polling_interval": 0.1}
    config["result_backend"] = settings.celery_result_backend or f"db+sqlite:///{base}/results.db"
    return config


@functools.lru_cache(maxsize=16)
def get_app(settings: Settings) -> VoicelabCelery:
    """The Celery app for these settings: the one way to get it, made once per settings."""
    app = VoicelabCelery("voicelab")
    app.conf.update(celery_config(settings))
    app.settings = settings
    return app


def settings_of(app: Any) -> Settings:
    """The settings a Celery app was made for (the environment's, for an app made elsewhere)."""
    return getattr(app, "settings", None) or get_settings()


@shared_task(bind=True, name=TASK_NAME)
def run_generation(self: Any, config_json: str) -> dict[str, Any]:
    """Run one generation job through notebooks/generate.ipynb; thin by design."""
    settings = settings_of(self.app)
    return execute_job(settings, self.request.id, config_json,
                       hostname=self.request.hostname or socket.gethostname(),
                       mark=lambda state, meta: self.update_state(state=state, meta=meta))
