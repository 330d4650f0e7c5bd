"""A worker that dies comes back: `voicelab worker` exits non-zero on an unrecoverable error, and
`voicelab serve` starts its embedded worker again, with backoff, so queued jobs still run."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.browser.harness import ServeProcess, is_worker, wait_until
from tests.processes import Workers, worker_env
from voicelab import jobs
from voicelab.config import Settings
from voicelab.jobs import liveness, registry
from voicelab.jobs.supervisor import Supervisor

pytestmark = pytest.mark.integration


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    with Workers(tmp_path / "logs") as started:
        yield started


def test_worker_exits_non_zero_on_an_unrecoverable_error(root: Path, workers: Workers) -> None:
    worker = workers.start(worker_env(root))
    queue = root / ".jobs" / "queue"
    queue.rename(root / ".jobs" / "queue-moved")
    queue.write_text("not a folder any more")
    assert worker.process is not None
    assert worker.process.wait(timeout=60) == 1
    assert "Unrecoverable error" in worker.log()


def test_worker_stopped_cleanly_exits_zero_and_says_it_is_gone(root: Path,
                                                               workers: Workers) -> None:
    worker = workers.start(worker_env(root))
    wait_until(lambda: liveness.alive(root), 30, "the worker's first beat")
    assert worker.process is not None
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=60) == 0
    assert liveness.alive(root) == []


def test_supervisor_restarts_a_child_that_exits_and_backs_off(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    starts = tmp_path / "starts"
    child = [sys.executable, "-c",
             f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"]
    with caplog.at_level(logging.WARNING, "voicelab.jobs.supervisor"), \
            Supervisor(child, {}, backoff_s=(0.1, 0.2, 0.4), stable_after_s=60) as supervisor:
        wait_until(lambda: starts.exists() and len(starts.read_text()) >= 4, 30,
                   "four starts of the child")
    assert supervisor.restarts >= 3
    restarts = [r.getMessage() for r in caplog.records if "starting it again" in r.getMessage()]
    assert "exited with code 3" in restarts[0]
    assert [m.split(" again in ")[1].split(" s")[0] for m in restarts[:3]] == ["0.1", "0.2", "0.4"]
    count = len(starts.read_text())
    time.sleep(0.6)
    assert len(starts.read_text()) == count, "the child ran again after stop()"


def test_supervisor_stop_ends_a_running_child(tmp_path: Path) -> None:
    child = [sys.executable, "-c", "import time; time.sleep(600)"]
    with Supervisor(child, {}) as supervisor:
        process = supervisor.process
        assert process is not None and process.poll() is None
    assert process.returncode == -signal.SIGTERM and supervisor.restarts == 0


def test_serve_restarts_its_killed_worker_and_a_job_queued_meanwhile_finishes(
        tmp_path: Path) -> None:
    root = tmp_path / "audio"
    root.mkdir()
    serve = ServeProcess(root, "--no-demo", log_path=tmp_path / "serve.log")
    try:
        serve.start(timeout=240)
        first = wait_until(lambda: [p for p in serve.descendants() if is_worker(p)], 60,
                           "the embedded worker")[0]
        wait_until(lambda: liveness.alive(root), 60, "the worker's first beat")
        doomed = [first, *first.children(recursive=True)]
        for process in doomed:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(doomed, timeout=10)
        task_id = jobs.submit(Settings(audio_root=root), {
            "skin_name": "Meanwhile", "voice_ids": ["en_US-joe-medium"], "engine": "piper",
            "script_csv": "Function,Line\nLine_1,Back on my feet.\nLine_2,Still here.\n"})
        wait_until(lambda: "starting it again" in serve.log(), 30, "the restart log line")
        wait_until(lambda: [p for p in serve.descendants() if is_worker(p)
                            and p.pid != first.pid], 60, "a new embedded worker")
        record = wait_until(
            lambda: (r := registry.get(root, task_id)) and r["state"] in registry.TERMINAL and r,
            180, "the job queued while the worker was down to end")
        assert record["state"] == "SUCCESS", record.get("error")
        assert record["progress"]["done"] == record["progress"]["total"] == 2
        assert len(list(root.glob("Meanwhile/*/*/takes/*.mp3"))) == 2
        assert "exited with code -9" in serve.log()
    finally:
        serve.stop()
