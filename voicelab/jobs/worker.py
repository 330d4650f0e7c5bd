"""`voicelab worker`: a Celery worker that warms its kernel first, proves itself alive and
runs the reaper.

Each worker keeps the next job's kernel started with VoiceLab imported (about 2 s saved per
job), says it is alive every few seconds (`voicelab.jobs.liveness`), and sends again the jobs of
workers that died (`voicelab.jobs.reaper`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
from typing import Any

from celery import signals

from voicelab.config import Settings
from voicelab.jobs import liveness
from voicelab.jobs.app import get_app, settings_of
from voicelab.jobs.kernel_pool import pool
from voicelab.jobs.reaper import requeue_lost, requeue_stale

log = logging.getLogger(__name__)

WARM_WAIT_S = 60.0


def _pool_of(sender: Any) -> Any:
    return pool(settings_of(getattr(sender, "app", None)).notebooks_dir)


@signals.worker_init.connect
def _on_worker_init(sender: Any = None, **_: Any) -> None:
    """Warm the first job's kernel while Celery itself starts up."""
    _pool_of(sender).prewarm()


@signals.worker_ready.connect
def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    """Say this worker is alive every few seconds, re-queue the jobs of dead workers, and take
    jobs only once the first kernel is warm."""
    app = getattr(sender, "app", None)
    settings = settings_of(app)
    app = app or get_app(settings)
    hostname = getattr(sender, "hostname", None) or f"voicelab-{os.getpid()}"
    period, started, stale_s = settings.job_heartbeat_s, time.time(), settings.job_stale_s

    def loop() -> None:
        looked_for_lost = 0.0
        while True:
            try:
                liveness.beat(settings.audio_root, hostname, started)
                requeue_stale(settings, app, stale_s)
                if time.monotonic() - looked_for_lost >= stale_s:  # reads the Redis queue
                    looked_for_lost = time.monotonic()
                    requeue_lost(settings, app, stale_s)
            except Exception:
                log.exception("could not check for jobs of dead workers")
            time.sleep(period)

    threading.Thread(target=loop, name="voicelab-reaper", daemon=True).start()
    signals.worker_shutdown.connect(
        lambda **_: liveness.gone(settings.audio_root, hostname), weak=False)
    # Celery fetches the first message only after this returns: a worker whose kernel is still
    # warming would make its first job wait, or take a job a warm worker could run at once.
    try:
        pool(settings.notebooks_dir).prewarm().result(timeout=WARM_WAIT_S)
    except concurrent.futures.TimeoutError:
        log.warning("the first kernel is not warm after %.0f s; taking jobs anyway",
                    WARM_WAIT_S)


@signals.task_postrun.connect
def _after_job(sender: Any = None, **_: Any) -> None:
    _pool_of(sender).prewarm()


@signals.worker_shutdown.connect
def _on_worker_shutdown(sender: Any = None, **_: Any) -> None:
    try:
        _pool_of(sender).close()
    except Exception:
        log.warning("could not shut the pre-started kernel down", exc_info=True)


def run_worker(settings: Settings, extra: list[str] | None = None) -> int:
    """Run a Celery worker for the configured broker (one job at a time per worker).

    Returns the worker's exit code: non-zero after an unrecoverable error, so a supervisor
    (`voicelab serve`, systemd, compose) starts it again. Mingle and gossip are off: they
    only sync state between workers at start-up, which the job registry already shares, and
    mingle alone costs a second of every start.
    """
    os.environ.setdefault("FORKED_BY_MULTIPROCESSING", "1")
    from celery.bin.celery import celery as celery_command

    # What `app.worker_main` does, keeping the exit code that it drops (Celery 5.7).
    celery_command.params[0].default = get_app(settings)
    try:
        code = celery_command.main(
            args=["worker", "--pool=solo", "--loglevel=INFO", "--without-mingle",
                  "--without-gossip", f"--hostname=voicelab-{os.getpid()}@%h", *(extra or [])],
            standalone_mode=False)
    finally:
        celery_command.params[0].default = None
    return code if isinstance(code, int) else 0
