"""The job registry and the decisions a worker takes on a delivery, in this process.

Real files under a temp AUDIO_ROOT and the real embedded broker; no worker and no notebook run
(every delivery here is decided before the notebook would start).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Ignore

from voicelab import jobs
from voicelab.config import Settings, load_settings
from voicelab.errors import ConfigError, JobConfigError
from voicelab.jobs import registry

CONFIG: dict[str, Any] = {"skin_name": "Knight", "voice_ids": ["en_US-joe-medium"],
                          "engine": "piper", "script_csv": "Function,Line\nHi_1,Hello there.\n"}


def marks() -> tuple[list[tuple[str, Any]], Any]:
    seen: list[tuple[str, Any]] = []
    return seen, lambda state, meta: seen.append((state, meta))


def test_submit_records_a_queued_job_and_an_unknown_id_is_none(settings: Settings) -> None:
    task_id = jobs.submit(settings, CONFIG)
    record = jobs.status(settings, task_id)
    assert record is not None
    assert (record["state"], record["skin"], record["voices"], record["engine"]) == (
        "QUEUED", "Knight", ["en_US-joe-medium"], "piper")
    assert "config" not in record and registry.get(settings.audio_root, task_id)["config"]
    assert jobs.status(settings, "no-such-job") is None
    assert jobs.status(settings, "../../etc/passwd") is None
    queue = settings.audio_root / ".jobs" / "queue"
    assert len(list(queue.iterdir())) == 1
    assert [r["task_id"] for r in registry.recent(settings.audio_root)] == [task_id]


def test_submit_refuses_an_invalid_config_and_queues_nothing(settings: Settings) -> None:
    with pytest.raises(JobConfigError, match="skin_name"):
        jobs.submit(settings, {**CONFIG, "skin_name": ""})
    assert registry.recent(settings.audio_root) == []
    assert not list((settings.audio_root / ".jobs").glob("queue/*"))


def test_recent_lists_newest_first_and_survives_a_restart(settings: Settings) -> None:
    ids = [jobs.submit(settings, {**CONFIG, "skin_name": f"Skin{n}"}) for n in range(3)]
    fresh = Settings(audio_root=settings.audio_root)
    listed = registry.recent(fresh.audio_root, limit=2)
    assert [r["task_id"] for r in listed] == ids[::-1][:2]
    assert [r["skin"] for r in listed] == ["Skin2", "Skin1"]


def test_a_delivery_of_a_job_running_elsewhere_is_ignored(settings: Settings) -> None:
    root = settings.audio_root
    task_id = jobs.submit(settings, CONFIG)
    registry.set_fields(root, task_id, state="PROGRESS", heartbeat=time.time(), attempts=1,
                        worker="other@host")
    with pytest.raises(Ignore):
        jobs.execute_job(settings, task_id, json.dumps(CONFIG), hostname="me@host")
    record = registry.get(root, task_id)
    assert (record["state"], record["attempts"], record["worker"]) == (
        "PROGRESS", 1, "other@host")


def test_a_delivery_of_a_finished_job_returns_its_result_without_running(
        settings: Settings) -> None:
    task_id = jobs.submit(settings, CONFIG)
    result = {"batch_ids": ["b"], "failed": [], "report": "r.ipynb"}
    registry.set_fields(settings.audio_root, task_id, state="SUCCESS", result=result)
    assert jobs.execute_job(settings, task_id, json.dumps(CONFIG)) == result
    assert registry.get(settings.audio_root, task_id)["attempts"] == 0


def test_a_job_cancelled_while_queued_ends_revoked_without_running(settings: Settings) -> None:
    task_id = jobs.submit(settings, CONFIG)
    record = jobs.cancel(settings, task_id)
    assert record is not None and record["state"] == "REVOKED" and record["cancel_requested"]
    app = jobs.get_app(settings)
    assert app.AsyncResult(task_id).state == "REVOKED"
    seen, mark = marks()
    with pytest.raises(Ignore):
        jobs.execute_job(settings, task_id, json.dumps(CONFIG), mark=mark)
    assert [state for state, _ in seen] == ["REVOKED"]
    assert registry.get(settings.audio_root, task_id)["attempts"] == 0
    assert not registry.report_path(settings.audio_root, task_id).exists()
    assert jobs.cancel(settings, "never-submitted") is None


def test_an_invalid_config_fails_with_the_validation_message(settings: Settings) -> None:
    task_id = "direct-delivery-1"
    with pytest.raises(jobs.JobFailed, match="variants must be a whole number"):
        jobs.execute_job(settings, task_id, json.dumps({**CONFIG, "variants": 99}))
    record = registry.get(settings.audio_root, task_id)
    assert record["state"] == "FAILURE" and "variants" in record["error"]
    with pytest.raises(jobs.JobFailed, match="config is not JSON"):
        jobs.execute_job(settings, "direct-delivery-2", "{not json")
    assert registry.get(settings.audio_root, "direct-delivery-2")["state"] == "FAILURE"


def test_the_reaper_requeues_only_jobs_whose_worker_went_silent(settings: Settings) -> None:
    root = settings.audio_root
    app = jobs.get_app(settings)
    dead, alive = jobs.submit(settings, CONFIG), jobs.submit(settings, CONFIG)
    queue = root / ".jobs" / "queue"
    for path in queue.iterdir():  # as if both had been taken off the queue by workers
        path.unlink()
    registry.set_fields(root, dead, state="PROGRESS", heartbeat=time.time() - 60, attempt="a")
    registry.set_fields(root, alive, state="PROGRESS", heartbeat=time.time(), attempt="b")
    assert jobs.requeue_stale(settings, app, older_than_s=5) == [dead]
    record = registry.get(root, dead)
    assert (record["state"], record["requeued"], record["attempt"]) == ("QUEUED", 1, None)
    assert registry.get(root, alive)["state"] == "PROGRESS"
    (message,) = queue.iterdir()
    assert dead in message.read_text("utf-8")
    assert jobs.requeue_stale(settings, app, older_than_s=5) == [], "claimed once only"


def test_stale_time_comes_from_the_environment(root: Path) -> None:
    default = load_settings({"AUDIO_ROOT": str(root)})
    assert default.job_stale_s == 20.0 and default.job_heartbeat_s == 3.0
    fast = load_settings({"AUDIO_ROOT": str(root), "VOICELAB_JOB_STALE_S": "4"})
    assert fast.job_stale_s == 4.0 and fast.job_heartbeat_s == 1.0
    for bad in ("0", "soon", "-3", "nan"):
        with pytest.raises(ConfigError, match="VOICELAB_JOB_STALE_S"):
            load_settings({"AUDIO_ROOT": str(root), "VOICELAB_JOB_STALE_S": bad})


def test_the_embedded_broker_lives_under_audio_root(root: Path) -> None:
    conf = jobs.celery_config(Settings(audio_root=root))
    options = conf["broker_transport_options"]
    assert conf["broker_url"] == "voicelab://"
    assert Path(options["data_folder_in"]) == root / ".jobs" / "queue"
    assert Path(options["taken_folder"]) == root / ".jobs" / "taken"
    assert Path(options["control_folder"]) == root / ".jobs" / "control"
    assert conf["result_backend"] == f"db+sqlite:///{root}/.jobs/results.db"
    assert conf["task_acks_late"] and conf["worker_prefetch_multiplier"] == 1
    assert conf["task_serializer"] == conf["result_serializer"] == "json"
    redis = jobs.celery_config(Settings(audio_root=root, celery_broker_url="redis://h:1/0",
                                        celery_result_backend="redis://h:1/1"))
    assert (redis["broker_url"], redis["result_backend"]) == ("redis://h:1/0", "redis://h:1/1")


def test_a_finished_job_shows_its_result_counts_not_the_last_snapshot(root: Path) -> None:
    registry.create(root, "late", {"skin_name": "S", "voice_ids": ["v"]})
    registry.set_fields(root, "late", state="PROGRESS",
                        progress={"done": 9, "total": 10, "failed": 0, "current": "Line_9",
                                  "eta_s": 0.4, "batch_ids": ["B"]})
    result = {"batch_ids": ["B"], "failed": [], "done": 10, "total": 10, "cancelled": False}
    record = registry.finish(root, "late", "SUCCESS", result)
    assert record is not None and record["state"] == "SUCCESS" and record["finished_at"]
    assert record["progress"] == {"done": 10, "total": 10, "failed": 0, "current": "",
                                  "eta_s": 0, "batch_ids": ["B"]}
    assert registry.get(root, "late")["progress"]["done"] == 10
