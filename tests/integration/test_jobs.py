"""Generation jobs end to end: real `voicelab worker` processes, a real redis-server or the
embedded broker on disk, and the fake ElevenLabs API on loopback (served from this process)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from celery import Celery

from tests.fake_elevenlabs import FakeElevenLabs
from tests.processes import REPO, Workers, worker_env
from tests.redis_server import RedisServer
from voicelab import jobs, store
from voicelab.config import Settings
from voicelab.errors import JobConfigError
from voicelab.jobs import registry

pytestmark = pytest.mark.integration

KEY = "sk-test-JOBS-s3cr3t-0123456789abcdef0123"
T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float, what: str) -> T:
    """Poll `check()` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def script_csv(lines: int) -> str:
    rows = [f"Line_{i},Line number {i}: hold the gate until the bell rings." for i in
            range(1, lines + 1)]
    return "Function,Line\n" + "\n".join(rows) + "\n"


def job_config(fake: FakeElevenLabs, lines: int = 20, voices: int = 1,
               skin: str = "Knight") -> dict[str, Any]:
    return {"skin_name": skin, "voice_ids": fake.voice_ids[:voices], "engine": "elevenlabs",
            "script_csv": script_csv(lines), "script_name": "knight.csv"}


def follow(app: Celery, task_id: str, timeout: float = 90.0) -> tuple[list[tuple[str, Any]], Any]:
    """Every (state, info) the result backend showed until the job ended, and the result."""
    seen: list[tuple[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = app.backend.get_task_meta(task_id)  # state and info from one read
        state, info = meta["status"], meta["result"]
        if not seen or seen[-1] != (state, info):
            seen.append((state, info))
        if state in ("SUCCESS", "FAILURE", "REVOKED"):
            return seen, app.AsyncResult(task_id)
        time.sleep(0.05)
    pytest.fail(f"job {task_id} did not end in {timeout} s; states seen: "
                f"{[s for s, _ in seen]}")


def batch_meta(root: Path, batch_id: str) -> dict[str, Any]:
    (batch_dir,) = [p for p in root.glob(f"*/*/{batch_id}") if p.is_dir()]
    return store.load_metadata(batch_dir)


def take_files(root: Path, batch_id: str) -> list[Path]:
    return sorted(root.glob(f"*/*/{batch_id}/takes/*.mp3"))


def assert_no_secret(*paths: Path) -> None:
    for path in paths:
        assert KEY.encode() not in path.read_bytes(), f"the API key leaked into {path}"


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    with FakeElevenLabs(KEY, concurrency_limit=5, latency=0.1, voices=3) as server:
        yield server


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    """`workers.start(env)` starts a `voicelab worker`; every one is killed after the test."""
    with Workers(tmp_path / "logs") as started:
        yield started


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "audio"
    path.mkdir()
    return path


def embedded(root: Path) -> Settings:
    return Settings(audio_root=root, elevenlabs_api_key=KEY)


def with_redis(root: Path, redis: RedisServer) -> Settings:
    return Settings(audio_root=root, elevenlabs_api_key=KEY, celery_broker_url=redis.url,
                    celery_result_backend=redis.url)


def env_for(settings: Settings, fake: FakeElevenLabs, **extra: str) -> dict[str, str]:
    """A worker's environment; the speech check after each job is off unless a test turns it on
    (it is three quarters of a job's CPU here; the first test below and test_speech_check keep
    it on)."""
    variables = {"ELEVENLABS_API_KEY": KEY, "ELEVENLABS_BASE_URL": fake.url,
                 "VOICELAB_CONCURRENCY": "2", "VOICELAB_SPEECH_CHECK": "off"}
    if settings.celery_broker_url:
        variables["CELERY_BROKER_URL"] = settings.celery_broker_url
    return worker_env(settings.audio_root, **{**variables, **extra})


def assert_succeeded(settings: Settings, app: Celery, task_id: str, lines: int,
                     seen: list[tuple[str, Any]]) -> dict[str, Any]:
    states = [s for s, _ in seen]
    assert states[-1] == "SUCCESS", f"states seen: {states}, last info: {seen[-1][1]}"
    progress = [info for state, info in seen if state == "PROGRESS"]
    assert progress, f"no PROGRESS state observed; states seen: {states}"
    assert set(progress[-1]) == {"done", "total", "failed", "current", "eta_s", "batch_ids"}
    assert progress[-1]["total"] == lines
    result = app.AsyncResult(task_id).result
    (batch_id,) = result["batch_ids"]
    assert result["failed"] == []
    assert Path(result["report"]) == registry.report_path(settings.audio_root, task_id)
    meta = batch_meta(settings.audio_root, batch_id)
    assert meta["complete"] is True
    assert meta["job_id"] == task_id
    assert len(meta["takes"]) == len(take_files(settings.audio_root, batch_id)) == lines
    record = registry.get(settings.audio_root, task_id)
    assert record is not None and record["state"] == "SUCCESS"
    assert record["progress"]["done"] == lines
    return result


def test_redis_job_reports_progress_then_succeeds_with_its_batch_on_disk(
        root: Path, fake: FakeElevenLabs, redis_server: RedisServer, workers: Workers) -> None:
    settings = with_redis(root, redis_server)
    worker = workers.start(env_for(settings, fake, VOICELAB_SPEECH_CHECK="on"))
    app = jobs.get_app(settings)
    task_id = jobs.submit(settings, job_config(fake, lines=20))
    seen, _ = follow(app, task_id)
    result = assert_succeeded(settings, app, task_id, 20, seen)
    (batch_id,) = result["batch_ids"]
    heard = [t["quality"].get("speech") for t in batch_meta(root, batch_id)["takes"]]
    assert all(h and h["engine"] == "pocketsphinx" for h in heard), "the job's takes unheard"

    report = Path(result["report"])
    notebook = json.loads(report.read_text("utf-8"))
    assert notebook["metadata"]["papermill"]["parameters"]["task_id"] == task_id
    assert_no_secret(report, registry.record_path(root, task_id), worker.log_path)
    listed = subprocess.run([sys.executable, "-m", "voicelab", "jobs", "--json"], cwd=REPO,
                            env=worker_env(root), capture_output=True, text=True, check=True)
    (job,) = json.loads(listed.stdout)
    assert (job["task_id"], job["state"], job["skin"], job["engine"]) == (
        task_id, "SUCCESS", "Knight", "elevenlabs")
    assert job["voices"] == fake.voice_ids[:1] and job["progress"]["done"] == 20
    assert "config" not in job


def test_embedded_broker_keeps_queued_jobs_until_a_worker_starts_and_the_cli_follows_one(
        root: Path, fake: FakeElevenLabs, workers: Workers, tmp_path: Path) -> None:
    settings = embedded(root)
    app = jobs.get_app(settings)
    first = jobs.submit(settings, job_config(fake, lines=12, skin="First"))
    second = jobs.submit(settings, job_config(fake, lines=12, skin="Second"))
    assert registry.get(root, first)["state"] == "QUEUED"
    assert app.AsyncResult(first).state == "PENDING"
    assert jobs.status(settings, "0" * 8 + "-never-submitted") is None
    assert jobs.status(settings, first)["state"] == "QUEUED"
    assert list((root / ".jobs" / "queue").iterdir()), "the queue lives under AUDIO_ROOT/.jobs"
    cancelled = jobs.cancel(settings, second)
    assert cancelled is not None and cancelled["state"] == "REVOKED"

    env = env_for(settings, fake)
    workers.start(env)
    seen, _ = follow(app, first)
    assert_succeeded(settings, app, first, 12, seen)
    seen, _ = follow(app, second)  # the worker was not running when the revoke went out
    assert seen[-1][0] == "REVOKED"
    assert "PROGRESS" not in [state for state, _ in seen]
    record = registry.get(root, second)
    assert record["state"] == "REVOKED" and record["attempts"] == 0
    assert not registry.report_path(root, second).exists()
    assert not list(root.glob("Second/*/*")), "a job cancelled while queued made no batch"
    queue = root / ".jobs" / "queue"
    wait_until(lambda: not list(queue.iterdir()), 10, "the queue to be empty")

    script = tmp_path / "knight.csv"
    script.write_text(script_csv(10), "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "voicelab", "submit", str(script), "--skin", "Knight",
         "--voice", fake.voice_ids[1], "--wait"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    task_id, batch_id = done.stdout.split()
    assert registry.get(root, task_id)["state"] == "SUCCESS"
    assert batch_meta(root, batch_id)["complete"] is True
    assert len(take_files(root, batch_id)) == 10
    assert "success" in done.stderr and "10/10" in done.stderr


@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_a_worker_killed_mid_job_is_replaced_and_the_job_resumes_to_complete(
        broker: str, root: Path, fake: FakeElevenLabs, workers: Workers,
        tmp_path: Path) -> None:
    fake.latency = 0.15
    with RedisServer(tmp_path / "redis") as redis:
        settings = with_redis(root, redis) if broker == "redis" else embedded(root)
        env = env_for(settings, fake, VOICELAB_JOB_STALE_S="3", VOICELAB_CONCURRENCY="1")
        doomed = workers.start(env)
        app = jobs.get_app(settings)
        lines = 16
        task_id = jobs.submit(settings, job_config(fake, lines=lines))

        def progressed() -> dict[str, Any] | None:
            record = registry.get(root, task_id) or {}
            return record if (record.get("progress") or {}).get("done", 0) >= 4 else None

        wait_until(progressed, 60, "4 takes done")
        doomed.kill()
        record = registry.get(root, task_id)
        assert record["state"] == "PROGRESS"
        (batch_id,) = record["progress"]["batch_ids"]
        on_disk = len(take_files(root, batch_id))
        assert 4 <= on_disk < lines
        made_before = fake.stats()["tts"].get("200", 0)

        workers.start(env)
        seen, _ = follow(app, task_id, timeout=90)
        assert seen[-1][0] == "SUCCESS", seen[-1]
        record = registry.get(root, task_id)
        # Ran twice: killed, then resumed. The new worker's reaper may send it again once more
        # if it sees the requeued message gone before the job starts (a worker took it a moment
        # ago); the registry's claim turns that copy away (voicelab/jobs/reaper.py).
        assert record["attempts"] == 2 and record["requeued"] >= 1, record
        assert app.AsyncResult(task_id).result["batch_ids"] == [batch_id]
    meta = batch_meta(root, batch_id)
    assert meta["complete"] is True and len(meta["takes"]) == lines
    assert len(list(root.glob("*/*/*/metadata.json"))) == 1, "resumed, not started over"
    made_after = fake.stats()["tts"].get("200", 0) - made_before
    assert made_after <= lines - on_disk + 1, "takes already on disk were made again"


def test_a_bad_key_fails_the_job_with_the_message_and_no_retry(
        root: Path, fake: FakeElevenLabs, workers: Workers) -> None:
    settings = embedded(root)
    env = {**env_for(settings, fake), "ELEVENLABS_API_KEY": "sk-wrong-0000000000000000"}
    worker = workers.start(env)
    app = jobs.get_app(settings)
    task_id = jobs.submit(settings, job_config(fake, lines=5))
    seen, result = follow(app, task_id)
    assert seen[-1][0] == "FAILURE"
    message = str(result.result)
    assert "AuthFailed" in message and str(registry.report_path(root, task_id)) in message
    record = registry.get(root, task_id)
    assert record["state"] == "FAILURE" and record["attempts"] == 1
    assert "AuthFailed" in record["error"]
    report = registry.report_path(root, task_id).read_text("utf-8")
    assert "AuthFailed" in report
    assert "sk-wrong-0000000000000000" not in report + worker.log()

    bad = {"skin_name": "", "voice_ids": [], "engine": "elevenlabs", "script_csv": "x"}
    invalid = app.send_task(jobs.TASK_NAME, args=[json.dumps(bad)]).id
    seen, result = follow(app, invalid)
    assert seen[-1][0] == "FAILURE"
    assert "skin_name must be a non-empty string" in str(result.result)
    record = registry.get(root, invalid)
    assert record["state"] == "FAILURE" and record["attempts"] == 0
    assert not registry.report_path(root, invalid).exists()


def test_cancel_stops_a_running_job_as_revoked_and_submitting_again_resumes_it(
        root: Path, fake: FakeElevenLabs, workers: Workers) -> None:
    fake.latency = 0.15
    settings = embedded(root)
    workers.start(env_for(settings, fake, VOICELAB_CONCURRENCY="1"))
    app = jobs.get_app(settings)
    lines = 16
    config = job_config(fake, lines=lines)
    task_id = jobs.submit(settings, config)
    wait_until(lambda: ((registry.get(root, task_id) or {}).get("progress") or {}).get(
        "done", 0) >= 3, 60, "3 takes done")
    assert jobs.cancel(settings, task_id)["cancel_requested"] is True
    seen, _ = follow(app, task_id)
    assert seen[-1][0] == "REVOKED"
    record = registry.get(root, task_id)
    assert record["state"] == "REVOKED"
    (batch_id,) = record["result"]["batch_ids"]
    meta = batch_meta(root, batch_id)
    kept = take_files(root, batch_id)
    assert meta["complete"] is False and 3 <= len(kept) < lines
    assert {t["file"] for t in meta["takes"]} == {p.name for p in kept}

    again = jobs.submit(settings, config)
    seen, result = follow(app, again)
    assert seen[-1][0] == "SUCCESS"
    assert result.result["batch_ids"] == [batch_id], "the cancelled batch was resumed"
    assert batch_meta(root, batch_id)["complete"] is True
    assert len(take_files(root, batch_id)) == lines


def test_two_workers_share_one_elevenlabs_concurrency_budget_through_redis(
        root: Path, redis_server: RedisServer, workers: Workers) -> None:
    with FakeElevenLabs(KEY, concurrency_limit=5, latency=0.1, voices=3) as fake:
        settings = with_redis(root, redis_server)
        env = env_for(settings, fake, VOICELAB_CONCURRENCY="5")
        workers.start(env)
        workers.start(env)
        app = jobs.get_app(settings)
        ids = [jobs.submit(settings, job_config(fake, lines=30, voices=2, skin=f"Skin{n}"))
               for n in (1, 2)]
        for task_id in ids:
            seen, _ = follow(app, task_id)
            assert seen[-1][0] == "SUCCESS", seen[-1]
        stats = fake.stats()
    a, b = (registry.get(root, task_id) for task_id in ids)
    assert a["worker"] != b["worker"], "both workers took a job"
    assert a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"], \
        "the two jobs ran at the same time"
    assert stats["tts"].get("200") == 120
    assert stats["max_in_flight"] <= 5
    assert stats["tts"].get("429_concurrent", 0) <= 3, stats["tts"]


def test_papermill_runs_the_generate_notebook_from_a_config_file_without_celery(
        tmp_path: Path, root: Path) -> None:
    from voicelab.jobspec import parse_config

    example = REPO / "examples" / "nightly.json"
    nightly = json.loads(example.read_text("utf-8"))
    assert parse_config(nightly, default_engine="piper", base_dir=example.parent).script.lines
    config_dir = tmp_path / "scheduled"
    (config_dir / "scripts").mkdir(parents=True)
    (config_dir / "scripts" / "short.csv").write_text(script_csv(2), "utf-8")
    config_path = config_dir / "nightly.json"
    config_path.write_text(json.dumps({**nightly, "script_path": "scripts/short.csv"}), "utf-8")
    report = tmp_path / "reports" / "out.ipynb"
    report.parent.mkdir()
    env = worker_env(root, ELEVENLABS_API_KEY=KEY)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), "notebooks/generate.ipynb",
         str(report), "-p", "config_path", str(config_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    metas = [store.load_metadata(p.parent) for p in root.glob("*/*/*/metadata.json")]
    assert len(metas) == len(nightly["voice_ids"])
    assert all(m["complete"] and len(m["takes"]) == 2 * nightly.get("variants", 1)
               for m in metas)
    assert "takes** made" in report.read_text("utf-8")
    assert_no_secret(report)
    assert not (root / ".jobs").exists() or not list((root / ".jobs").glob("*.json"))


def test_a_job_whose_message_redis_lost_is_sent_again_once(
        root: Path, fake: FakeElevenLabs, redis_server: RedisServer, workers: Workers) -> None:
    """A worker SIGKILLed after taking a message from Redis but before starting its job takes
    the message with it (or leaves it unacked for an hour). Such a job is sent again, and only
    such a job."""
    import redis

    settings = with_redis(root, redis_server)
    app = jobs.get_app(settings)
    kept = jobs.submit(settings, job_config(fake, lines=3, skin="Kept"), app=app)
    lost = jobs.submit(settings, job_config(fake, lines=3, skin="Lost"), app=app)
    client = redis.Redis.from_url(redis_server.url)
    assert client.llen("celery") == 2
    (message,) = [m for m in client.lrange("celery", 0, -1) if lost.encode() in m]
    client.lrem("celery", 1, message)  # what the killed worker took with it
    assert jobs.requeue_lost(settings, app, older_than_s=60) == [], "not queued long enough"
    assert jobs.requeue_lost(settings, app, older_than_s=0) == [lost]
    assert client.llen("celery") == 2, "the kept job was not sent twice"
    assert registry.get(root, lost)["requeued"] == 1
    assert jobs.requeue_lost(settings, app, older_than_s=0) == [], "held again: left alone"

    client.lrem("celery", 0, next(m for m in client.lrange("celery", 0, -1) if lost.encode() in m))
    worker = workers.start(env_for(settings, fake, VOICELAB_JOB_STALE_S="2"))
    for task_id in (kept, lost):
        seen, _ = follow(app, task_id)
        assert seen[-1][0] == "SUCCESS", seen[-1]
    assert registry.get(root, lost)["requeued"] == 2
    assert "its message left Redis with a worker that died" in worker.log()


def test_more_takes_of_a_line_run_as_a_queued_job_with_its_report(
        root: Path, fake: FakeElevenLabs, workers: Workers) -> None:
    from voicelab.jobs.kinds import More
    from voicelab.jobs.kinds.more import pending_lines

    settings = embedded(root)
    app = jobs.get_app(settings)
    workers.start(env_for(settings, fake))
    first = jobs.submit(settings, job_config(fake, lines=3))
    follow(app, first)
    batch_id = app.AsyncResult(first).result["batch_ids"][0]
    batch_dir = store.find_batch(root, batch_id)
    line = batch_meta(root, batch_id)["takes"][0]["line"]
    had = sum(t["line"] == line for t in batch_meta(root, batch_id)["takes"])
    billed = fake.stats()["characters_billed"]
    task_id = jobs.submit(settings, More.request(settings, batch_dir, line, takes=2,
                                                 person="dana"))
    record = registry.get(root, task_id)
    assert record["skin"] == batch_meta(root, batch_id)["skin_name"]
    seen, _ = follow(app, task_id)
    assert seen[-1][0] == "SUCCESS", seen[-1]
    assert pending_lines(root, batch_id) == {}
    takes = [t for t in batch_meta(root, batch_id)["takes"] if t["line"] == line]
    assert len(takes) == had + 2 and {t["job_id"] for t in takes[-2:]} == {task_id}
    assert [t["take_number"] for t in takes] == list(range(1, had + 3))
    text = takes[0]["script_text"]
    assert fake.stats()["characters_billed"] - billed == 2 * len(text)
    assert registry.report_path(root, task_id).exists()
    assert_no_secret(registry.report_path(root, task_id))
    with pytest.raises(JobConfigError, match="takes must be"):
        More.request(settings, batch_dir, line, takes=99)
