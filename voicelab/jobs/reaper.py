"""The reaper: jobs whose worker died are sent again, so they resume (takes on disk are kept).

Every worker runs it every few seconds. A running job whose worker stopped beating for the
stale period (VOICELAB_JOB_STALE_S) goes back to the queue; on Redis, so does a queued job
whose message left with a worker that died before starting it.
"""

from __future__ import annotations

import logging
import time

import redis
from celery import Celery

from voicelab.config import Settings
from voicelab.jobs import registry
from voicelab.jobs.control import send_job

log = logging.getLogger(__name__)


def requeue_stale(settings: Settings, app: Celery, older_than_s: float | None = None) -> list[str]:
    """Send again every running job whose worker stopped beating; returns their ids."""
    root = settings.audio_root
    older_than_s = settings.job_stale_s if older_than_s is None else older_than_s
    requeued = []
    for record in registry.stale(root, older_than_s):
        task_id = record["task_id"]
        cutoff = time.time() - older_than_s

        def claim(r: registry.Record, cutoff: float = cutoff) -> bool:
            if r["state"] in registry.RUNNING and (r.get("heartbeat") or 0) < cutoff:
                r.update(state="QUEUED", heartbeat=None, attempt=None, queued_at=time.time(),
                         requeued=r.get("requeued", 0) + 1)
                return True
            return False

        resend, claimed = registry.transition(root, task_id, claim)
        if resend and claimed:
            send_job(app, task_id, claimed["config"])
            log.warning("job %s lost its worker %s; queued again to resume", task_id,
                        record.get("worker"))
            requeued.append(task_id)
    return requeued


def requeue_lost(settings: Settings, app: Celery, older_than_s: float | None = None) -> list[str]:
    """Send again every job still queued whose message no longer waits in Redis; their ids.

    A queued job's message leaves the Redis queue only when a worker takes it, and that worker
    marks the job started at once. A job still queued after the stale period whose message is
    gone was taken by a worker that died before starting it: Kombu pops a message before it
    records it as unacknowledged, and an unacknowledged one comes back only after the visibility
    timeout (an hour). Such a job is sent again. A false alarm (a worker that took the message a
    moment ago) costs a duplicate delivery, which the registry's claim turns away. The embedded
    queue needs none of this: a dead worker's messages return to its queue by themselves.
    """
    url = settings.celery_broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return []
    root = settings.audio_root
    older_than_s = settings.job_stale_s if older_than_s is None else older_than_s
    candidates = registry.waiting(root, older_than_s)
    if not candidates:
        return []
    waiting = _messages_waiting_in_redis(url, app.conf.task_default_queue)
    requeued = []
    for record in candidates:
        task_id = record["task_id"]
        if task_id.encode() in waiting:
            continue
        cutoff = time.time() - older_than_s

        def claim(r: registry.Record, cutoff: float = cutoff) -> bool:
            if (r["state"] == "QUEUED" and not r.get("cancel_requested")
                    and (r.get("queued_at") or 0) < cutoff):
                r.update(queued_at=time.time(), requeued=r.get("requeued", 0) + 1)
                return True
            return False

        resend, claimed = registry.transition(root, task_id, claim)
        if resend and claimed:
            send_job(app, task_id, claimed["config"])
            log.warning("job %s is queued but its message left Redis with a worker that died; "
                        "queued again", task_id)
            requeued.append(task_id)
    return requeued


def _messages_waiting_in_redis(url: str, queue: str) -> bytes:
    """Every message waiting in Redis for `queue` (all priorities), as one blob."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    keys = [queue, *(f"{queue}\x06\x16{priority}" for priority in (3, 6, 9))]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.lrange(key, 0, -1)
        found = pipe.execute()
    return b"\n".join(item for items in found for item in items)
