"""The API as a real waitress server process on loopback, driven with requests and raw HTTP."""

from __future__ import annotations

import http.client
import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api_fixtures import REPO, ApiServer, server_env
from tests.batches import make_batch
from voicelab import store
from voicelab.fsck import check_root
from voicelab.jobs import registry

pytestmark = pytest.mark.integration

TOKEN = "tok-integration-5f1e2d3c4b5a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = b"ID3 outside the root"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, Path]]:
    base = tmp_path_factory.mktemp("api")
    root = base / "audio"
    root.mkdir()
    (base / "outside.mp3").write_bytes(SECRET)
    with ApiServer(root, VOICELAB_API_TOKEN=TOKEN) as server:
        yield server, root


@pytest.fixture
def server(served: tuple[ApiServer, Path]) -> ApiServer:
    return served[0]


@pytest.fixture
def audio_root(served: tuple[ApiServer, Path]) -> Path:
    return served[1]


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.headers.update(AUTH)
        yield http


def raw_get(server: ApiServer, target: str, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes]:
    """GET exactly `target` (no client-side normalisation of `..` or escapes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in {**AUTH, **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_envelopes_and_statuses(server: ApiServer, session: requests.Session,
                                audio_root: Path) -> None:
    batch = make_batch(audio_root, skin="Env")
    listed = session.get(f"{server.url}/api/batches")
    assert listed.status_code == 200
    assert batch.name in [b["batch_id"] for b in listed.json()["data"]]
    for method, url, status in [("GET", "/", 404), ("GET", "/api/none", 404),
                                ("PUT", "/api/batches", 405),
                                ("GET", "/api/batch/no-such-batch", 404),
                                ("POST", "/api/generate", 400)]:
        response = session.request(method, server.url + url, data=b"{")
        assert response.status_code == status, (method, url, response.text)
        assert response.headers["Content-Type"] == "application/json"
        assert set(response.json()) == {"error"}
    assert requests.get(f"{server.url}/api/batches").status_code == 401
    assert requests.get(f"{server.url}/api/batches", headers={"Authorization": "Bearer x"}
                        ).status_code == 401


def test_audio_range_etag_and_304(server: ApiServer, session: requests.Session,
                                  audio_root: Path) -> None:
    batch = make_batch(audio_root, skin="Range", ranks={"Line_1_take_2.mp3": 1})
    take = batch / "takes" / "Line_1_take_2.mp3"
    url = f"{server.url}/audio/{batch.relative_to(audio_root).as_posix()}/ranked/01/{take.name}"
    full = session.get(url)
    assert full.status_code == 200 and full.content == take.read_bytes()
    assert full.headers["Content-Type"] == "audio/mpeg"
    assert full.headers["Accept-Ranges"] == "bytes"
    part = session.get(url, headers={"Range": "bytes=100-"})
    assert part.status_code == 206 and part.content == take.read_bytes()[100:]
    again = session.get(url, headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    beyond = session.get(url, headers={"Range": "bytes=999999-"})
    assert beyond.status_code == 416 and "error" in beyond.json()
    assert requests.get(url, params={"token": TOKEN}).status_code == 200
    assert requests.get(url).status_code == 401


def test_traversal_attempts_are_404(server: ApiServer, audio_root: Path) -> None:
    batch = make_batch(audio_root, skin="Trav")
    escape = batch / "takes" / "escape.mp3"
    escape.symlink_to(audio_root.parent / "outside.mp3")
    rel = batch.relative_to(audio_root).as_posix()
    targets = [
        "/audio/../outside.mp3", "/audio/%2e%2e/outside.mp3", "/audio/..%2foutside.mp3",
        "/audio/%2e%2e%2foutside.mp3", f"/audio/{rel}/../../../../outside.mp3",
        f"/audio/{rel}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside.mp3",
        f"/audio//{audio_root.parent.as_posix().lstrip('/')}/outside.mp3",
        f"/audio/{audio_root.parent.as_posix()}/outside.mp3",
        f"/audio/{rel}/takes/Line_1_take_1.mp3%00", f"/audio/{rel}/takes/x%00.mp3",
        f"/audio/{rel}/takes/escape.mp3", f"/audio/{rel}/metadata.json",
        "/audio/%252e%252e/outside.mp3", "/audio/..\\outside.mp3",
    ]
    for target in targets:
        status, headers, body = raw_get(server, target)
        assert status == 404, (target, status, body)
        assert headers["Content-Type"] == "application/json", target
        assert SECRET not in body and set(json.loads(body)) == {"error"}
    ok, _, body = raw_get(server, f"/audio/{rel}/takes/Line_1_take_1.mp3")
    assert ok == 200 and body == (batch / "takes" / "Line_1_take_1.mp3").read_bytes()


def test_rank_lock_and_423(server: ApiServer, session: requests.Session,
                           audio_root: Path) -> None:
    batch = make_batch(audio_root, skin="Lock")
    url = f"{server.url}/api/batch/{batch.name}"
    assert session.patch(f"{url}/take/Line_2_take_3.mp3", json={"rank": 1}).status_code == 200
    for body in ({"force": True}, None):  # the gate: other lines have no selection
        locked = session.post(f"{url}/lock", json=body)
        assert locked.status_code == 200 and locked.json()["data"]["locked"] is True
    refused = session.patch(f"{url}/take/Line_2_take_1.mp3", json={"rank": 1})
    assert refused.status_code == 423 and "locked" in refused.json()["error"]
    assert session.patch(f"{url}/take/Line_2_take_1.mp3", json={"rank": "1"}).status_code == 400
    assert session.get(url).json()["data"]["ranked_at_utc"] is not None


@pytest.mark.timeout(120)
def test_concurrent_patches_keep_the_batch_consistent(
    server: ApiServer, audio_root: Path
) -> None:
    batch = make_batch(audio_root, skin="Busy", lines=3, takes_per_line=6)
    names = [f"Line_{line}_take_{n}.mp3" for line in (1, 2, 3) for n in range(1, 7)]
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with requests.Session() as http:
            http.headers.update(AUTH)
            for _ in range(100):
                rank = rng.choice([1, 2, 3, 4, 5, None])
                response = http.patch(f"{server.url}/api/batch/{batch.name}/take/"
                                      f"{rng.choice(names)}", json={"rank": rank})
                with lock:
                    statuses[response.status_code] += 1

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == Counter({200: 800})
    reports = [r for r in check_root(audio_root) if r.path == batch]
    assert reports and reports[0].ok, str(reports[0])
    metadata = store.load_metadata(batch)
    for line in ("Line_1", "Line_2", "Line_3"):
        ranks = [t["rank"] for t in metadata["takes"] if t["line"] == line and t["rank"]]
        assert len(ranks) == len(set(ranks))


def test_generate_queues_without_a_worker(server: ApiServer, session: requests.Session,
                                          audio_root: Path) -> None:
    config = {"skin_name": "Queued", "voice_ids": ["en_US-joe-medium"],
              "script_csv": "Function,Line\nHi,Hello.\n"}
    response = session.post(f"{server.url}/api/generate", json=config)
    assert response.status_code == 202
    task_id = response.json()["data"]["task_id"]
    assert (registry.get(audio_root, task_id) or {})["state"] == "QUEUED"
    status = session.get(f"{server.url}/api/generate/{task_id}/status").json()["data"]
    assert status["status"] == "QUEUED"
    cancelled = session.delete(f"{server.url}/api/generate/{task_id}").json()["data"]
    assert cancelled["status"] == "REVOKED"
    files = {"script": ("s.csv", b"Function,Line\nHi,\n")}
    bad = session.post(f"{server.url}/api/generate", files=files,
                       data={"config": json.dumps({"skin_name": "Q", "voice_ids": "ghost"})})
    assert bad.status_code == 400
    assert "row 2" in bad.json()["error"] and "ghost" in bad.json()["error"]


def test_log_has_one_line_per_request_and_no_secret(server: ApiServer, audio_root: Path) -> None:
    batch = make_batch(audio_root, skin="Log")
    marker = f"/api/batch/{batch.name}"
    requests.get(server.url + marker, headers=AUTH)
    requests.get(server.url + f"/audio/{batch.relative_to(audio_root).as_posix()}/takes/"
                 f"Line_1_take_1.mp3", params={"token": TOKEN})
    assert server.wait_for_log(f"GET {marker} 200 ")
    assert server.wait_for_log("/takes/Line_1_take_1.mp3 200 ")
    lines = [ln for ln in server.log().splitlines() if marker + " " in ln]
    assert len(lines) == 1
    assert lines[0].startswith("[") and "] [INFO] [api.requests] GET " in lines[0]
    assert TOKEN not in server.log() and "token=" not in server.log()


@pytest.mark.timeout(60)
def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    env = server_env(tmp_path, FLASK_ENV="production")
    done = subprocess.run(
        [sys.executable, "-c",
         "import api, voicelab.config as c; api.serve(c.load_settings(), '127.0.0.1', 0)"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=50)
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr and "Serving on" not in done.stderr


@pytest.mark.timeout(240)
def test_a_real_worker_runs_a_piper_job_to_success(
    server: ApiServer, session: requests.Session, audio_root: Path, tmp_path: Path
) -> None:
    config: dict[str, Any] = {"skin_name": "Worked", "voice_ids": ["en_US-joe-medium"],
                              "script_csv": "Function,Line\nHi,Hello there.\n", "variants": 1}
    task_id = session.post(f"{server.url}/api/generate", json=config).json()["data"]["task_id"]
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen([str(REPO / ".venv" / "bin" / "voicelab"), "worker"],
                                  env=server_env(audio_root), cwd=REPO, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status: dict[str, Any] = {}
        deadline = time.monotonic() + 200
        while time.monotonic() < deadline:
            status = session.get(f"{server.url}/api/generate/{task_id}/status").json()["data"]
            if status["status"] in registry.TERMINAL:
                break
            time.sleep(0.5)
        assert status.get("status") == "SUCCESS", (status, log_path.read_text()[-3000:])
        batch_id = status["result"]["batch_ids"][0]
        listed = session.get(f"{server.url}/api/batches").json()["data"]
        record = next(b for b in listed if b["batch_id"] == batch_id)
        take = session.get(f"{server.url}/api/batch/{batch_id}").json()["data"]["takes"][0]
        audio = session.get(f"{server.url}/audio/{record['path']}/takes/{take['file']}")
        on_disk = (audio_root / record["path"] / "takes" / take["file"]).read_bytes()
        assert audio.status_code == 200 and audio.content == on_disk and len(on_disk) > 1000
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
