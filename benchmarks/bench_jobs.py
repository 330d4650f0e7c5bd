"""What a generation job costs on top of the generation itself, with each broker.

Baseline: the same small generation (fake ElevenLabs on loopback) run in this process through
`voicelab.generation`. Then, for Redis (a redis-server started here on a free port) and for the
embedded default (filesystem queue + SQLite results under AUDIO_ROOT/.jobs), one real
`voicelab worker` process runs the same job several times: submit -> first PROGRESS, and submit
-> SUCCESS. Shown apart: the worker's start to "ready" (it takes jobs once its first kernel is
warm), a job queued before the worker started, and the first job after "ready". Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/bench_jobs.py [--jobs 5] [--lines 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fake_elevenlabs import FakeElevenLabs  # noqa: E402
from tests.processes import Worker, worker_env  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from voicelab import generation, jobs, jobspec  # noqa: E402
from voicelab.config import Settings  # noqa: E402
from voicelab.engines import get_engine  # noqa: E402

KEY = "sk-bench-0123456789abcdef0123456789abcdef"
CONCURRENCY = 4


def config(fake: FakeElevenLabs, lines: int, skin: str) -> dict[str, Any]:
    rows = "\n".join(f"Line_{i},Bench line {i}: the bridge holds until dawn." for i in
                     range(1, lines + 1))
    return {"skin_name": skin, "voice_ids": fake.voice_ids[:1], "engine": "elevenlabs",
            "script_csv": f"Function,Line\n{rows}\n"}


def in_process(fake: FakeElevenLabs, root: Path, lines: int, runs: int) -> list[float]:
    settings = Settings(audio_root=root, elevenlabs_api_key=KEY, elevenlabs_base_url=fake.url,
                        concurrency=CONCURRENCY)
    walls = []
    for n in range(runs):
        start = time.perf_counter()
        job = jobspec.parse_config(config(fake, lines, f"Inline{n}"), default_engine="piper")
        generation.generate(job, root, get_engine("elevenlabs", settings),
                            concurrency=CONCURRENCY)
        walls.append(time.perf_counter() - start)
    return walls


def one_job(settings: Settings, app: Any, body: dict[str, Any]) -> tuple[float, float]:
    """(seconds to the first PROGRESS, seconds to SUCCESS) for one submitted job."""
    start = time.perf_counter()
    task_id = jobs.submit(settings, body, app=app)
    first = None
    while True:
        state = app.backend.get_task_meta(task_id)["status"]
        now = time.perf_counter() - start
        if state == "PROGRESS" and first is None:
            first = now
        if state in ("SUCCESS", "FAILURE", "REVOKED"):
            if state != "SUCCESS":
                raise SystemExit(f"job {task_id} ended {state}: {app.AsyncResult(task_id).info}")
            return (first if first is not None else now), now
        time.sleep(0.005)


def through_worker(name: str, settings: Settings, fake: FakeElevenLabs, lines: int,
                   runs: int, logs: Path) -> dict[str, Any]:
    """Timings of one worker's life: a job queued before it started, its start, then `runs`
    jobs submitted one after another."""
    env = worker_env(settings.audio_root, ELEVENLABS_API_KEY=KEY, ELEVENLABS_BASE_URL=fake.url,
                     VOICELAB_CONCURRENCY=str(CONCURRENCY),
                     **({"CELERY_BROKER_URL": settings.celery_broker_url}
                        if settings.celery_broker_url else {}))
    app = jobs.get_app(settings)
    early = jobs.submit(settings, config(fake, lines, f"{name}Early"), app=app)
    started = time.perf_counter()
    worker = Worker(env, logs / f"worker-{name}.log").start()
    try:
        worker.wait_ready(120)
        ready = time.perf_counter() - started
        while app.backend.get_task_meta(early)["status"] != "SUCCESS":
            time.sleep(0.005)
        queued_done = time.perf_counter() - started
        time.sleep(3.0)  # the kernel for the next job warms up
        timings = []
        for n in range(runs):
            timings.append(one_job(settings, app, config(fake, lines, f"{name}{n}")))
            time.sleep(3.0)  # an idle gap, as between real jobs: the next kernel warms up
        return {"ready": ready, "queued_done": queued_done, "timings": timings}
    finally:
        worker.kill()


def show(label: str, run: dict[str, Any], baseline: float) -> None:
    timings = run["timings"]
    first, rest = timings[0], timings[1:] or timings
    to_progress = statistics.median(t[0] for t in rest)
    total = statistics.median(t[1] for t in rest)
    low, high = min(t[1] for t in rest) - baseline, max(t[1] for t in rest) - baseline
    print(f"{label:<10} worker start to ready: {run['ready']:5.2f} s; a job queued before the "
          f"start done {run['queued_done']:5.2f} s after it")
    print(f"{'':<10} first job after ready: progress {first[0]:5.2f} s, done {first[1]:5.2f} s"
          f" (overhead {first[1] - baseline:5.2f} s, {first[1] / baseline:.1f}x the baseline)")
    print(f"{'':<10} next jobs (median of {len(rest)}): progress {to_progress:5.2f} s, "
          f"done {total:5.2f} s, overhead {total - baseline:5.2f} s "
          f"(range {low:.2f}-{high:.2f}, {total / baseline:.1f}x the baseline)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5, help="jobs per broker")
    parser.add_argument("--lines", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp, \
            FakeElevenLabs(KEY, concurrency_limit=5, latency=0.05) as fake:
        base = Path(tmp)
        walls = in_process(fake, base / "inline", args.lines, 3)
        baseline = statistics.median(walls[1:])
        print(f"job: {args.lines} takes, fake ElevenLabs latency 0.05 s, concurrency "
              f"{CONCURRENCY}")
        print(f"in-process generation: {baseline:.2f} s (first run {walls[0]:.2f} s)")
        print("load average at the start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        results = {}
        with RedisServer(base / "redis") as redis:
            settings = Settings(audio_root=base / "redis-root", elevenlabs_api_key=KEY,
                                celery_broker_url=redis.url, celery_result_backend=redis.url)
            settings.audio_root.mkdir()
            results["redis"] = through_worker("redis", settings, fake, args.lines, args.jobs,
                                              base)
        settings = Settings(audio_root=base / "embedded-root", elevenlabs_api_key=KEY)
        settings.audio_root.mkdir()
        results["embedded"] = through_worker("embedded", settings, fake, args.lines, args.jobs,
                                             base)
        for label, timings in results.items():
            show(label, timings, baseline)
        print("load average (1, 5, 15 min) at the end: "
              + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
