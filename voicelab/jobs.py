"""Generation as Celery jobs: the app, the thin `run_generation` task, submit, cancel, status.

Broker: Redis when CELERY_BROKER_URL is set; otherwise an embedded default that needs no
server: VoiceLab's crash-safe subclass of Kombu's filesystem transport (`voicelab.embedded_queue`,
40-50 ms pickup at 0.1 s polling; it carries broadcasts, so revoke and inspect work) and a SQLite
result backend, both under `<AUDIO_ROOT>/.jobs/`, so queued jobs and results survive restarts.

A job whose worker dies is run again: acks are late with prefetch 1 (Redis redelivers after its
visibility timeout), and every worker also watches the registry's heartbeats and re-queues a job
whose worker has gone silent for VOICELAB_JOB_STALE_S seconds (default 20); on the embedded queue
the message of a dead worker also returns to the queue by itself. The run resumes: takes already
on disk are kept. Whoever starts a job claims it in the registry under its lock, so a duplicate
delivery never runs a job twice at once.

Each worker keeps the next job's kernel started with VoiceLab imported (about 2 s saved per job),
and runs papermill in one dedicated thread so the kernel and papermill share one event loop.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from celery import Celery, shared_task, signals
from celery.exceptions import Ignore, TaskRevokedError
from celery.states import REVOKED
from kombu.exceptions import OperationalError

from voicelab import clock, embedded_queue, liveness, registry
from voicelab.config import Settings, get_settings
from voicelab.errors import (
    BrokerUnavailable,
    ConfigError,
    JobConfigError,
    Problem,
    VoicelabError,
)
from voicelab.jobspec import parse_config

log = logging.getLogger(__name__)

GENERATE_NOTEBOOK = "generate.ipynb"
TASK_NAME = "voicelab.run_generation"
STALE_ENV = "VOICELAB_JOB_STALE_S"
DEFAULT_STALE_AFTER_S = 20.0
WARMUP_CODE = "import voicelab.jobs, voicelab.runner"
WARM_WAIT_S = 60.0


class JobFailed(VoicelabError):
    """Raised when a job's notebook stops on an error; names the error and the report."""


def stale_after_s() -> float:
    """Seconds without a heartbeat after which a running job's worker counts as dead."""
    raw = os.environ.get(STALE_ENV, "").strip()
    if not raw:
        return DEFAULT_STALE_AFTER_S
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value >= 1.0:
        raise ConfigError(STALE_ENV, raw, "expected a number of seconds, 1 or more")
    return value


def heartbeat_s() -> float:
    """How often a running job proves its worker alive: several beats per stale period."""
    return min(3.0, stale_after_s() / 4)


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

    Raises JobFailed for an invalid config (the validation message; never retried) and when the
    notebook stops on an error (the message names the error and the report). A cancelled job ends as
    REVOKED; a duplicate delivery of a job running elsewhere or already ended changes nothing.
    """
    root = settings.audio_root
    raw = _validated(settings, task_id, config_json)
    if registry.get(root, task_id) is None:
        registry.create(root, task_id, raw)
    attempt = uuid.uuid4().hex
    decision: list[str] = []

    def claim(r: registry.Record) -> None:
        beat = r.get("heartbeat") or 0
        if r["state"] == "SUCCESS" and r.get("result"):
            decision.append("done")
        elif r["state"] in registry.TERMINAL - {"SUCCESS"} and not r.get("cancel_requested"):
            decision.append("ended")
        elif r.get("cancel_requested"):
            r.update(state="REVOKED", finished_at=r.get("finished_at") or clock.utc_now())
            decision.append("cancelled")
        elif r["state"] in registry.RUNNING and beat > time.time() - stale_after_s():
            decision.append("duplicate")
        else:
            r.update(state="STARTED", worker=hostname, heartbeat=time.time(), error=None,
                     attempt=attempt, attempts=r.get("attempts", 0) + 1,
                     started_at=r.get("started_at") or clock.utc_now())
            decision.append("run")

    record = registry.update(root, task_id, claim) or {}
    if decision[0] == "done":
        return record["result"]
    if decision[0] != "run":
        log.warning("job %s: not running a delivery of a job that is %s (%s)", task_id,
                    record.get("state"), decision[0])
        if decision[0] == "cancelled" and mark:
            mark(REVOKED, _revoked(task_id))
        raise Ignore()
    report = registry.report_path(root, task_id)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(root, task_id, attempt, stop),
                            name="voicelab-heartbeat", daemon=True)
    beat.start()
    try:
        kernels.run(report, raw, task_id)
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
            mark(REVOKED, _revoked(task_id))
        raise Ignore()
    registry.finish(root, task_id, "SUCCESS", result)
    return result


def _revoked(task_id: str) -> TaskRevokedError:
    """What the result backend holds for a cancelled job (Celery wants an exception there)."""
    return TaskRevokedError(f"job {task_id} was cancelled; submit it again to resume")


def _validated(settings: Settings, task_id: str, config_json: str) -> dict[str, Any]:
    """The config as a dict; an invalid one is recorded as the job's FAILURE, never retried.

    Raises JobFailed carrying the validation message: Celery rebuilds a task's exception from
    its message alone, which JobConfigError (built from a list of problems) cannot take.
    """
    root = settings.audio_root
    raw: Any = None
    try:
        raw = json.loads(config_json)
        parse_config(raw, default_engine=settings.default_engine)
    except (json.JSONDecodeError, JobConfigError) as exc:
        error = exc if isinstance(exc, JobConfigError) else JobConfigError(
            [Problem(f"config is not JSON: {exc.msg}", field="config")])
        if registry.get(root, task_id) is None:
            registry.create(root, task_id, raw if isinstance(raw, dict) else {})
        registry.set_fields(root, task_id, state="FAILURE", error=str(error),
                            finished_at=clock.utc_now())
        raise JobFailed(str(error)) from None
    return raw


def _heartbeat(root: Path, task_id: str, attempt: str, stop: threading.Event) -> None:
    """Refresh the job's heartbeat while this attempt still owns it."""
    def beat(r: registry.Record) -> None:
        if r.get("attempt") == attempt and r["state"] in registry.RUNNING:
            r["heartbeat"] = time.time()

    period = heartbeat_s()
    while not stop.wait(period):
        try:
            registry.update(root, task_id, beat)
        except OSError:
            log.exception("job %s: could not write its heartbeat", task_id)


class Kernels:
    """Runs papermill in one thread and keeps the next job's kernel started and warmed up.

    A fresh kernel costs about 0.6 s to start and 1.5-2 s to import VoiceLab (numpy, scipy);
    starting it while the worker waits for work takes that off every job but the first. The
    kernel never sees a job before its own run, and is shut down after it.
    """

    def __init__(self) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="papermill")
        self._ready: Any = None

    def prewarm(self) -> concurrent.futures.Future[None]:
        """Start the next kernel in the background (no-op when one is ready)."""
        return self._thread.submit(self._warm)

    def run(self, report: Path, config: dict[str, Any], task_id: str) -> None:
        """Execute the notebook for one job; JobFailed when a cell raises."""
        self._thread.submit(self._run, report, config, task_id).result()

    def _warm(self) -> None:
        from jupyter_core.utils import run_sync

        if self._ready is not None:
            return
        # papermill costs about 0.9 s to import, once per worker: done while the kernel starts
        importing = threading.Thread(target=importlib.import_module, args=("papermill",),
                                     name="import-papermill", daemon=True)
        importing.start()
        started = time.monotonic()
        try:
            self._ready = run_sync(self._start)()
            log.info("pre-started a kernel in %.1f s", time.monotonic() - started)
        except Exception:
            log.warning("could not pre-start a kernel; the next job starts its own",
                        exc_info=True)
        importing.join()

    async def _start(self) -> Any:
        km = _kernel_manager()
        await km.start_kernel(cwd=str(get_settings().notebooks_dir))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive(WARMUP_CODE, store_history=False, timeout=120)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"warm-up failed: {reply['content'].get('evalue')}")
        except BaseException:
            await km.shutdown_kernel(now=True)
            raise
        finally:
            kc.stop_channels()
        return km

    def close(self) -> None:
        """Shut the pre-started kernel down (the worker is stopping)."""
        def stop() -> None:
            from jupyter_core.utils import run_sync

            km, self._ready = self._ready, None
            if km is not None:
                run_sync(km.shutdown_kernel)(now=True)

        self._thread.submit(stop).result(timeout=30)

    def _run(self, report: Path, config: dict[str, Any], task_id: str) -> None:
        import papermill
        from jupyter_core.utils import run_sync
        from papermill.exceptions import PapermillExecutionError

        km, self._ready = self._ready, None
        if km is not None and not run_sync(km.is_alive)():
            km = None
        try:
            notebooks = get_settings().notebooks_dir
            papermill.execute_notebook(
                str(notebooks / GENERATE_NOTEBOOK), str(report),
                parameters={"config": config, "task_id": task_id},
                progress_bar=False, cwd=str(notebooks), kernel_name="python3", km=km,
            )
        except PapermillExecutionError as exc:
            raise JobFailed(f"{exc.ename}: {exc.evalue} (report: {report})") from None
        finally:
            if km is not None:
                for client in km.clients:
                    client.stop_channels()
                self._thread.submit(run_sync(km.shutdown_kernel), now=True)


def _kernel_manager() -> Any:
    """A kernel manager that remembers its clients, so their sockets can be closed."""
    from jupyter_client.manager import AsyncKernelManager

    class Manager(AsyncKernelManager):  # type: ignore[misc]
        clients: list[Any]

        def client(self, **kwargs: Any) -> Any:
            made = super().client(**kwargs)
            self.clients.append(made)
            return made

    km = Manager(kernel_name="python3")
    km.clients = []
    return km


kernels = Kernels()


# --- submitting, cancelling, watching -------------------------------------------------------


def submit(settings: Settings, config: dict[str, Any], app: Celery | None = None) -> str:
    """Validate and enqueue a job; returns its task id. JobConfigError leaves nothing queued."""
    job = parse_config(config, default_engine=settings.default_engine)
    config = {**config, "engine": job.engine}
    task_id = str(uuid.uuid4())
    registry.create(settings.audio_root, task_id, config)
    try:
        _check_redis(settings.celery_broker_url)
        _check_redis(settings.celery_result_backend)
        (app or make_celery(settings)).send_task(TASK_NAME, args=[json.dumps(config)],
                                                 task_id=task_id)
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
        celery = app or make_celery(settings)
        celery.control.revoke(task_id)
        celery.backend.store_result(task_id, _revoked(task_id), REVOKED)
    return record


def requeue_stale(settings: Settings, app: Celery, older_than_s: float | None = None) -> list[str]:
    """Send again every running job whose worker stopped beating; returns their ids."""
    root = settings.audio_root
    older_than_s = stale_after_s() if older_than_s is None else older_than_s
    requeued = []
    for record in registry.stale(root, older_than_s):
        task_id = record["task_id"]
        cutoff = time.time() - older_than_s

        def claim(r: registry.Record, cutoff: float = cutoff) -> None:
            if r["state"] in registry.RUNNING and (r.get("heartbeat") or 0) < cutoff:
                r.update(state="QUEUED", heartbeat=None, attempt=None, queued_at=time.time(),
                         requeued=r.get("requeued", 0) + 1)

        claimed = registry.update(root, task_id, claim)
        if claimed and claimed["state"] == "QUEUED":
            _send_again(app, claimed)
            log.warning("job %s lost its worker %s; queued again to resume", task_id,
                        record.get("worker"))
            requeued.append(task_id)
    return requeued


def _send_again(app: Celery, record: registry.Record) -> None:
    app.send_task(TASK_NAME, args=[json.dumps(record["config"])], task_id=record["task_id"])


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
    older_than_s = stale_after_s() if older_than_s is None else older_than_s
    candidates = registry.waiting(root, older_than_s)
    if not candidates:
        return []
    waiting = _messages_waiting_in_redis(url, app.conf.task_default_queue)
    requeued = []
    for record in candidates:
        task_id = record["task_id"]
        if task_id.encode() in waiting:
            continue
        cutoff, resend = time.time() - older_than_s, []

        def claim(r: registry.Record, cutoff: float = cutoff, resend: list[bool] = resend) -> None:
            if (r["state"] == "QUEUED" and not r.get("cancel_requested")
                    and (r.get("queued_at") or 0) < cutoff):
                r.update(queued_at=time.time(), requeued=r.get("requeued", 0) + 1)
                resend.append(True)

        claimed = registry.update(root, task_id, claim)
        if claimed and resend:
            _send_again(app, claimed)
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


@signals.worker_init.connect
def _on_worker_init(**_: Any) -> None:
    """Warm the first job's kernel while Celery itself starts up."""
    kernels.prewarm()


@signals.worker_ready.connect
def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    """Say this worker is alive every few seconds, re-queue the jobs of dead workers, and take
    jobs only once the first kernel is warm."""
    app = getattr(sender, "app", None) or celery_app
    hostname = getattr(sender, "hostname", None) or f"voicelab-{os.getpid()}"
    settings = get_settings()
    period, started = heartbeat_s(), time.time()

    stale_s = stale_after_s()

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
        kernels.prewarm().result(timeout=WARM_WAIT_S)
    except concurrent.futures.TimeoutError:
        log.warning("the first kernel is not warm after %.0f s; taking jobs anyway",
                    WARM_WAIT_S)


@signals.task_postrun.connect
def _after_job(**_: Any) -> None:
    kernels.prewarm()


@signals.worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    try:
        kernels.close()
    except Exception:
        log.warning("could not shut the pre-started kernel down", exc_info=True)


def run_worker(settings: Settings, extra: list[str] | None = None) -> int:
    """Run a Celery worker for the configured broker (one job at a time per worker).

    Returns the worker's exit code: non-zero after an unrecoverable error, so a supervisor
    (`voicelab serve`, systemd, compose) starts it again. Mingle and gossip are off: they
    only sync state between workers at start-up, which the job registry already shares, and
    mingle alone costs a second of every start.
    """
    stale_after_s()  # a bad VOICELAB_JOB_STALE_S stops the worker before it takes a job
    os.environ.setdefault("FORKED_BY_MULTIPROCESSING", "1")
    from celery.bin.celery import celery as celery_command

    # What `app.worker_main` does, keeping the exit code that it drops (Celery 5.7).
    celery_command.params[0].default = make_celery(settings)
    try:
        code = celery_command.main(
            args=["worker", "--pool=solo", "--loglevel=INFO", "--without-mingle",
                  "--without-gossip", f"--hostname=voicelab-{os.getpid()}@%h", *(extra or [])],
            standalone_mode=False)
    finally:
        celery_command.params[0].default = None
    return code if isinstance(code, int) else 0
