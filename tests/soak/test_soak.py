"""Reliability soak: jobs, rank changes from several HTTP clients and a worker kill, together.

A real Redis, two real workers, a real API server and a fake ElevenLabs that injects faults.
For SOAK_SECONDS (default 12 in `make test`, 120 in `make soak`), a job is submitted over HTTP
every JOB_EVERY_S (about as fast as two workers finish them) while four clients change ranks
on their own lines of three batches, and one worker is SIGKILLed partway (a fresh one replaces
it). Afterwards: every job succeeded with every take on
disk, every line holds exactly what its client's last accepted change returned, no request got
a 5xx, and `voicelab fsck` finds nothing wrong.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api_fixtures import ApiServer
from tests.batches import make_batch
from tests.fake_elevenlabs import FakeElevenLabs
from tests.processes import REPO, Workers, worker_env
from tests.redis_server import RedisServer
from voicelab import store
from voicelab.jobs import registry

pytestmark = [pytest.mark.integration, pytest.mark.soak, pytest.mark.timeout(900)]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "12"))
CLIENTS = 4
JOB_EVERY_S = 2.5
SCRIPT = "Function,Line\n" + "\n".join(
    f"Soak_{i},Line number {i} of the soak is spoken with care." for i in range(1, 7)) + "\n"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    root = tmp_path / "audio"
    root.mkdir()
    with RedisServer(tmp_path / "redis") as redis_server, \
            FakeElevenLabs(concurrency_limit=5, latency=0.05, fault_rate=0.05) as fake:
        env = {"CELERY_BROKER_URL": redis_server.url, "ELEVENLABS_API_KEY": fake.api_key,
               "ELEVENLABS_BASE_URL": fake.url, "VOICELAB_CONCURRENCY": "5",
               "VOICELAB_JOB_STALE_S": "4"}
        with Workers(tmp_path / "logs") as workers, ApiServer(root, **env) as api:
            workers.start(worker_env(root, **env))
            workers.start(worker_env(root, **env))
            yield {"root": root, "fake": fake, "workers": workers, "api": api,
                   "env": worker_env(root, **env)}


def rank_client(url: str, lines: list[tuple[str, str]],
                files: dict[tuple[str, str], list[str]], stop: threading.Event, seed: int,
                last: dict[tuple[str, str], list[dict]], failures: list[str]) -> None:
    """Change ranks on this client's own lines until told to stop; remember what came back."""
    rng = random.Random(seed)
    session = requests.Session()
    while not stop.is_set():
        batch_id, line = rng.choice(lines)
        take = rng.choice(files[(batch_id, line)])
        rank = rng.choice([1, 2, 3, 4, 5, None])
        try:
            response = session.patch(f"{url}/api/batch/{batch_id}/take/{take}",
                                      json={"rank": rank}, timeout=30)
        except requests.RequestException as exc:
            failures.append(f"PATCH {batch_id}/{take} -> {type(exc).__name__}")
            return
        if response.status_code == 200:
            last[(batch_id, line)] = response.json()["data"]
        else:
            failures.append(f"PATCH {batch_id}/{take} -> {response.status_code} {response.text}")


def test_jobs_ranks_and_a_worker_kill_leave_nothing_lost(stack: dict[str, Any]) -> None:
    root, fake, api = stack["root"], stack["fake"], stack["api"]
    batches = [make_batch(root, skin=f"Soak{i}", voice=f"Rank-r{i}", lines=6, takes_per_line=4)
               for i in range(3)]
    files: dict[tuple[str, str], list[str]] = {}
    for batch in batches:
        for take in store.load_metadata(batch)["takes"]:
            files.setdefault((batch.name, take["line"]), []).append(take["file"])
    keys = sorted(files)
    random.Random(7).shuffle(keys)
    stop = threading.Event()
    last: dict[tuple[str, str], list[dict]] = {}
    failures: list[str] = []
    clients = [threading.Thread(target=rank_client, args=(
        api.url, keys[i::CLIENTS], files, stop, i, last, failures)) for i in range(CLIENTS)]
    for client in clients:
        client.start()

    submitted: list[str] = []
    killed = False
    started = time.monotonic()
    while time.monotonic() - started < SOAK_SECONDS:
        body = {"skin_name": f"Job{len(submitted)}", "voice_ids": [fake.voice_ids[0]],
                "script_csv": SCRIPT, "variants": 2, "engine": "elevenlabs",
                "settings": {"stability": [0.3, 0.7]}}
        response = requests.post(f"{api.url}/api/generate", json=body, timeout=30)
        assert response.status_code == 202, response.text
        submitted.append(response.json()["data"]["task_id"])
        if not killed and time.monotonic() - started > SOAK_SECONDS / 3:
            running = {str(r.get("worker")) for r in registry.recent(root, 100)
                       if r["state"] in registry.RUNNING}
            busy = [w for w in stack["workers"].started if w.process  # mid-job, when one is
                    and any(name.startswith(f"voicelab-{w.pid}@") for name in running)]
            (busy or stack["workers"].started)[0].kill()
            stack["workers"].start(stack["env"])
            killed = True
        time.sleep(JOB_EVERY_S)
    stop.set()
    for client in clients:
        client.join(60)

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        states = [registry.get(root, t)["state"] for t in submitted]
        if all(s in registry.TERMINAL for s in states):
            break
        time.sleep(0.5)
    if states != ["SUCCESS"] * len(submitted):
        now = time.time()
        stuck = [{k: r.get(k) for k in ("task_id", "state", "error", "worker", "attempts",
                                        "requeued")}
                 | {"beat_age_s": round(now - r["heartbeat"], 1) if r.get("heartbeat") else None}
                 for r in (registry.get(root, t) for t in submitted) if r["state"] != "SUCCESS"]
        logs = "\n".join(f"--- {w.log_path.name}\n{w.log()[-3000:]}"
                         for w in stack["workers"].started)
        pytest.fail(f"jobs that did not succeed: {stuck}\n{logs}")
    assert killed and failures == []
    for task_id in submitted:
        [batch_id] = registry.get(root, task_id)["result"]["batch_ids"]
        meta = store.load_metadata(store.find_batch(root, batch_id))
        assert meta["complete"] is True and len(meta["takes"]) == 12 and meta["failed"] == []
    for (batch_id, line), returned in last.items():
        meta = store.load_metadata(store.find_batch(root, batch_id))
        now = {t["file"]: t["rank"] for t in meta["takes"] if t["line"] == line}
        assert now == {t["file"]: t["rank"] for t in returned}, (batch_id, line)
    fsck = subprocess.run([sys.executable, "-m", "voicelab", "fsck"], cwd=REPO,
                          env={**stack["env"]}, capture_output=True, text=True, timeout=120)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert f"{len(submitted) + len(batches)} batch(es) checked, 0 with problems" in fsck.stdout
