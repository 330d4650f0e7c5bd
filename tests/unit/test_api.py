"""The HTTP API through Flask's test client, on real batches in a temp AUDIO_ROOT."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.openapi import SCHEMAS
from tests.batches import make_batch
from tests.fake_elevenlabs import DEFAULT_KEY, FakeElevenLabs
from voicelab import store
from voicelab.config import Settings
from voicelab.errors import ConfigError
from voicelab.fsck import check_root
from voicelab.jobs import registry

PIPER_VOICE = "en_US-joe-medium"
TOKEN = "tok-0123456789abcdef"
SCRIPT = "Function,Line\nGreet,Hello there.\nWarn,Halt! Who goes there?\n"


def job(**overrides: Any) -> dict[str, Any]:
    return {"skin_name": "Knight", "voice_ids": [PIPER_VOICE], "script_csv": SCRIPT,
            "variants": 2, **overrides}


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, lines=2, takes_per_line=4,
                      ranks={"Line_1_take_1.mp3": 1, "Line_1_take_2.mp3": 2,
                             "Line_1_take_3.mp3": 4})


def rank_url(batch_dir: Path, name: str) -> str:
    return f"/api/batch/{batch_dir.name}/take/{name}"


def audio_url(root: Path, path: Path) -> str:
    return "/audio/" + path.relative_to(root).as_posix()


def queued_messages(root: Path) -> list[str]:
    queue = root / registry.JOBS_DIR / "queue"
    return sorted(os.listdir(queue)) if queue.is_dir() else []


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and isinstance(body["error"], str)
    return str(body["error"])


# --- envelope and errors ---------------------------------------------------------------------


def test_unknown_url_is_a_json_404(client: FlaskClient) -> None:
    assert "not found" in error_of(client.get("/no/such/page"), 404)
    assert "not found" in error_of(client.get("/api/nothing"), 404)


def test_wrong_method_is_a_json_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/batches")
    error_of(response, 405)
    assert "GET" in response.headers["Allow"]


def test_unexpected_exception_is_a_json_500_without_trace(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/x")

    app.add_url_rule("/api/boom", view_func=boom)
    message = error_of(app.test_client().get("/api/boom"), 500)
    assert "internals" not in message and "Traceback" not in message
    assert "secret internals" in caplog.text  # the log has the details


def test_broken_metadata_is_a_500_naming_the_batch_not_the_path(
    client: FlaskClient, root: Path, batch: Path
) -> None:
    (batch / store.METADATA_NAME).write_text("{not json", "utf-8")
    message = error_of(client.get(f"/api/batch/{batch.name}"), 500)
    assert batch.name in message and "not valid JSON" in message
    assert str(root) not in message


# --- batches and ranking ---------------------------------------------------------------------


def test_batches_lists_batches_with_paths_under_the_root(
    client: FlaskClient, root: Path, batch: Path
) -> None:
    newer = make_batch(root, skin="Other", voice="Bob-b2", locked=True)
    data = client.get("/api/batches").get_json()["data"]
    assert [b["batch_id"] for b in data] == [newer.name, batch.name]
    assert data[1]["path"] == batch.relative_to(root).as_posix()
    assert data[1]["take_count"] == 8 and data[1]["ranked_count"] == 3
    assert data[0]["locked"] is True and data[1]["locked"] is False


def test_batch_returns_the_metadata(client: FlaskClient, batch: Path) -> None:
    data = client.get(f"/api/batch/{batch.name}").get_json()["data"]
    assert data == json.loads((batch / store.METADATA_NAME).read_text("utf-8"))


@pytest.mark.parametrize("batch_id", ["nope", "..", ".hidden", "a..b"])
def test_unknown_batch_is_404(client: FlaskClient, batch: Path, batch_id: str) -> None:
    assert batch_id in error_of(client.get(f"/api/batch/{batch_id}"), 404)


def test_rank_cascades_and_returns_the_line(client: FlaskClient, batch: Path) -> None:
    response = client.patch(rank_url(batch, "Line_1_take_3.mp3"), json={"rank": 1})
    assert response.status_code == 200
    takes = response.get_json()["data"]
    assert {t["file"]: t["rank"] for t in takes} == {
        "Line_1_take_1.mp3": 2, "Line_1_take_2.mp3": 3, "Line_1_take_3.mp3": 1,
        "Line_1_take_4.mp3": None}
    assert sorted(os.listdir(batch / "ranked" / "01")) == ["Line_1_take_3.mp3"]
    assert all(report.ok for report in check_root(batch.parents[2]))


def test_rank_null_clears(client: FlaskClient, batch: Path) -> None:
    response = client.patch(rank_url(batch, "Line_1_take_1.mp3"), json={"rank": None})
    assert response.status_code == 200
    assert os.listdir(batch / "ranked" / "01") == []


@pytest.mark.parametrize("body", [
    b"{}", b'{"rank": 1, "extra": 2}', b"not json", b"", b'"3"', b"null", b"[1]",
    b'{"rank": "3"}', b'{"rank": 2.5}', b'{"rank": true}', b'{"rank": 0}', b'{"rank": 6}',
    b'{"rank": [1]}', b'{"rank": NaN}',
])
def test_bad_rank_bodies_are_400_and_change_nothing(
    client: FlaskClient, batch: Path, body: bytes
) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    response = client.patch(rank_url(batch, "Line_1_take_4.mp3"), data=body,
                            content_type="application/json")
    assert "rank" in error_of(response, 400) or "JSON" in error_of(response, 400)
    assert (batch / store.METADATA_NAME).read_bytes() == before


def test_rank_unknown_take_or_batch_is_404(client: FlaskClient, batch: Path) -> None:
    assert "Nope.mp3" in error_of(client.patch(rank_url(batch, "Nope.mp3"), json={"rank": 1}),
                                  404)
    assert "nobatch" in error_of(client.patch("/api/batch/nobatch/take/Line_1_take_1.mp3",
                                              json={"rank": 1}), 404)


def test_lock_is_idempotent_and_freezes_ranking(client: FlaskClient, batch: Path) -> None:
    first = client.post(f"/api/batch/{batch.name}/lock", json={"force": True})
    assert first.status_code == 200
    assert first.get_json()["data"]["locked"] is True
    stamp = first.get_json()["data"]["ranked_at_utc"]
    second = client.post(f"/api/batch/{batch.name}/lock").get_json()["data"]
    assert second == {"locked": True, "ranked_at_utc": stamp}
    before = (batch / store.METADATA_NAME).read_bytes()
    message = error_of(client.patch(rank_url(batch, "Line_1_take_4.mp3"), json={"rank": 1}), 423)
    assert "locked" in message
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert error_of(client.post("/api/batch/missing/lock"), 404)


# --- generation ------------------------------------------------------------------------------


def test_generate_queues_a_job_without_a_worker(client: FlaskClient, root: Path) -> None:
    response = client.post("/api/generate", json=job())
    assert response.status_code == 202
    task_id = response.get_json()["data"]["task_id"]
    assert response.headers["Location"] == f"/api/generate/{task_id}/status"
    record = registry.get(root, task_id)
    assert record is not None and record["state"] == "QUEUED"
    assert len(queued_messages(root)) == 1
    status = client.get(f"/api/generate/{task_id}/status").get_json()["data"]
    assert status == {"task_id": task_id, "status": "QUEUED", "progress": None, "result": None}
    listed = client.get("/api/generate").get_json()["data"]
    assert [r["task_id"] for r in listed] == [task_id]


def test_unreachable_broker_is_a_503_and_the_job_is_marked_failed(root: Path) -> None:
    client = create_app(Settings(audio_root=root, celery_broker_url="redis://127.0.0.1:1/0")
                        ).test_client()
    message = error_of(client.post("/api/generate", json=job()), 503)
    assert "broker is unreachable" in message and "CELERY_BROKER_URL" in message
    [record] = registry.recent(root)
    assert record["state"] == "FAILURE" and record["error"] == message


def test_every_problem_in_one_400_and_nothing_queued(client: FlaskClient, root: Path) -> None:
    bad = job(variants=0, voice_ids=["ghost-voice"],
              script_csv="Function,Line\nGreet,Hi\nGreet,Again\nbad name!,x\n",
              settings={"stability": 3})
    message = error_of(client.post("/api/generate", json=bad), 400)
    for part in ("variants", "settings.stability", "row 3", "row 4", "ghost-voice"):
        assert part in message, part
    assert queued_messages(root) == [] and registry.recent(root) == []


def test_unknown_voice_alone_is_400(client: FlaskClient, root: Path) -> None:
    message = error_of(client.post("/api/generate", json=job(voice_ids=["nobody"])), 400)
    assert "nobody" in message and PIPER_VOICE in message
    assert queued_messages(root) == []


def test_script_path_is_refused(client: FlaskClient, tmp_path: Path) -> None:
    secret = tmp_path / "server.csv"
    secret.write_text("Function,Line\nA,private text\n", "utf-8")
    body = {k: v for k, v in job(script_path=str(secret)).items() if k != "script_csv"}
    message = error_of(client.post("/api/generate", json=body), 400)
    assert "script_path" in message and "private text" not in message


def test_elevenlabs_without_a_key_is_400(client: FlaskClient) -> None:
    assert "ELEVENLABS_API_KEY" in error_of(
        client.post("/api/generate", json=job(engine="elevenlabs")), 400)


def test_lone_surrogate_in_script_is_400(client: FlaskClient) -> None:
    body = json.dumps(job()).replace("Hello", "\\ud800Hello")
    response = client.post("/api/generate", data=body, content_type="application/json")
    assert "script_csv" in error_of(response, 400)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"x"'])
def test_generate_needs_a_json_object(client: FlaskClient, body: bytes) -> None:
    error_of(client.post("/api/generate", data=body, content_type="application/json"), 400)


def upload(client: FlaskClient, data: bytes, config: dict[str, Any] | str,
           name: str = "lines.csv") -> Any:
    text = config if isinstance(config, str) else json.dumps(config)
    return client.post("/api/generate", content_type="multipart/form-data",
                       data={"script": (io.BytesIO(data), name), "config": text})


def test_multipart_upload_queues_a_job(client: FlaskClient, root: Path) -> None:
    config = {k: v for k, v in job().items() if k != "script_csv"}
    data = "Function,Line\nGreet,Caf\u00e9 au lait \u2014 s'il vous pla\u00eet\n".encode("cp1252")
    response = upload(client, data, config)
    assert response.status_code == 202, response.data
    record = registry.get(root, response.get_json()["data"]["task_id"])
    assert record is not None
    (line,) = record["config"]["script"]["lines"]  # the job carries its script parsed
    assert "Caf\u00e9 au lait \u2014" in line["text"]
    assert record["config"]["script_name"] == "lines.csv"


def test_multipart_binary_file_is_400_naming_it(client: FlaskClient, root: Path) -> None:
    workbook = b"PK\x03\x04" + b"\x00" * 200
    config = {k: v for k, v in job().items() if k != "script_csv"}
    message = error_of(upload(client, workbook, config, name="lines.xlsx"), 400)
    assert "lines.xlsx" in message
    assert queued_messages(root) == []


def test_multipart_problems_name_rows(client: FlaskClient) -> None:
    config = {k: v for k, v in job().items() if k != "script_csv"}
    message = error_of(upload(client, b"Function,Line\nA,\n", config), 400)
    assert "row 2" in message and "lines.csv" in message


@pytest.mark.parametrize("config", ["{broken", "[]", json.dumps({"script_csv": SCRIPT})])
def test_multipart_bad_config_field_is_400(client: FlaskClient, config: str) -> None:
    error_of(upload(client, SCRIPT.encode(), config), 400)


def test_multipart_without_script_is_400(client: FlaskClient) -> None:
    response = client.post("/api/generate", content_type="multipart/form-data",
                           data={"config": json.dumps(job())})
    assert "script" in error_of(response, 400)


def test_script_over_the_cap_is_413(client: FlaskClient, root: Path) -> None:
    big = "Function,Line\n" + "".join(f"L{i},{'x' * 60}\n" for i in range(40_000))
    assert len(big) > 2 * 1024 * 1024
    assert "2097152" in error_of(client.post("/api/generate", json=job(script_csv=big)), 413)
    config = {k: v for k, v in job().items() if k != "script_csv"}
    assert "2097152" in error_of(upload(client, big.encode(), config), 413)
    assert queued_messages(root) == []


def test_body_over_the_cap_is_413(client: FlaskClient) -> None:
    response = client.post("/api/estimate", data=b"x" * (4 * 1024 * 1024 + 1),
                           content_type="application/json")
    error_of(response, 413)


def test_status_of_unknown_job_is_404(client: FlaskClient) -> None:
    assert "nope" in error_of(client.get("/api/generate/nope/status"), 404)
    error_of(client.get("/api/generate/..%2F..%2Fetc/status"), 404)


def test_cancel_revokes_a_queued_job(client: FlaskClient, root: Path) -> None:
    task_id = client.post("/api/generate", json=job()).get_json()["data"]["task_id"]
    data = client.delete(f"/api/generate/{task_id}").get_json()["data"]
    assert data == {"task_id": task_id, "status": "REVOKED", "cancel_requested": True}
    assert client.get(f"/api/generate/{task_id}/status").get_json()["data"]["status"] == "REVOKED"
    assert error_of(client.delete("/api/generate/never-submitted"), 404)


@pytest.mark.parametrize("limit", ["0", "501", "abc", "1.5", "-1", " 2"])
def test_recent_jobs_limit_is_checked(client: FlaskClient, limit: str) -> None:
    assert "limit" in error_of(client.get("/api/generate", query_string={"limit": limit}), 400)


def test_recent_jobs_limit(client: FlaskClient) -> None:
    for _ in range(3):
        client.post("/api/generate", json=job())
    assert len(client.get("/api/generate?limit=2").get_json()["data"]) == 2


def test_estimate_counts_before_spending(client: FlaskClient, root: Path) -> None:
    data = client.post("/api/estimate", json=job(variants=3)).get_json()["data"]
    characters = len("Hello there.") + len("Halt! Who goes there?")
    assert data == {"voices": 1, "lines": 2, "takes": 6, "requests": 6,
                    "characters": 3 * characters, "quota": None}
    assert registry.recent(root) == []


def test_voices_lists_piper(client: FlaskClient) -> None:
    voices = client.get("/api/voices").get_json()["data"]
    assert [(v["id"], v["engine"]) for v in voices] == [(PIPER_VOICE, "piper")]
    assert voices[0]["name"]


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    with FakeElevenLabs(quota=10_000) as server:
        yield server


@pytest.mark.integration
def test_elevenlabs_voices_and_quota_share(root: Path, fake: FakeElevenLabs) -> None:
    settings = Settings(audio_root=root, elevenlabs_api_key=DEFAULT_KEY,
                        elevenlabs_base_url=fake.url)
    client = create_app(settings).test_client()
    voices = client.get("/api/voices").get_json()["data"]
    assert {v["id"] for v in voices if v["engine"] == "elevenlabs"} == set(fake.voice_ids)
    assert PIPER_VOICE in {v["id"] for v in voices}
    data = client.post("/api/estimate", json=job(voice_ids=fake.voice_ids[:2])).get_json()["data"]
    assert data["characters"] == 2 * 2 * len("Hello there.Halt! Who goes there?")
    assert data["quota"]["remaining"] == 10_000
    assert data["quota"]["share"] == pytest.approx(data["characters"] / 10_000)
    assert data["quota"]["enough"] is True
    assert DEFAULT_KEY not in json.dumps(data)
    fake.stop()  # voices stay cached for 10 minutes; the quota cannot be read any more
    later = client.post("/api/estimate", json=job(voice_ids=fake.voice_ids[:1]))
    assert later.status_code == 200
    assert later.get_json()["data"]["quota"]["error"]
    assert later.get_json()["data"]["characters"] == data["characters"] // 2


# --- audio -----------------------------------------------------------------------------------


def test_audio_serves_mp3_with_ranges_and_etags(client: FlaskClient, root: Path,
                                                batch: Path) -> None:
    take = batch / "takes" / "Line_1_take_1.mp3"
    size = take.stat().st_size
    full = client.get(audio_url(root, take))
    assert full.status_code == 200 and full.data == take.read_bytes()
    assert full.mimetype == "audio/mpeg" and full.headers["Accept-Ranges"] == "bytes"
    etag = full.headers["ETag"]
    part = client.get(audio_url(root, take), headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == take.read_bytes()[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{size}"
    assert client.get(audio_url(root, take), headers={"If-None-Match": etag}).status_code == 304
    beyond = client.get(audio_url(root, take), headers={"Range": f"bytes={size + 10}-"})
    error_of(beyond, 416)
    assert beyond.headers["Content-Range"] == f"bytes */{size}"


def test_audio_follows_ranked_links_inside_the_root(client: FlaskClient, root: Path,
                                                   batch: Path) -> None:
    link = batch / "ranked" / "01" / "Line_1_take_1.mp3"
    assert link.is_symlink()
    response = client.get(audio_url(root, link))
    assert response.status_code == 200
    assert response.data == (batch / "takes" / "Line_1_take_1.mp3").read_bytes()


def test_audio_refuses_what_is_not_an_mp3_under_the_root(
    client: FlaskClient, root: Path, batch: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"ID3 private")
    (batch / "takes" / "escape.mp3").symlink_to(outside)
    (batch / "takes" / "meta.mp3").symlink_to(batch / store.METADATA_NAME)
    rel = batch.relative_to(root).as_posix()
    for url in (f"/audio/{rel}/metadata.json", f"/audio/{rel}/takes/escape.mp3",
                f"/audio/{rel}/takes/meta.mp3", f"/audio/{rel}/takes/nope.mp3",
                f"/audio/{rel}/takes", f"/audio/{rel}/../../../../outside.mp3",
                "/audio/..%2Foutside.mp3", "/audio/%2e%2e/outside.mp3",
                f"/audio/{rel}/takes/Line_1_take_1.mp3%00.json", "/audio//etc/passwd",
                f"/audio/{tmp_path}/outside.mp3", "/audio/.jobs/x.mp3"):
        response = client.get(url)
        error_of(response, 404)
        assert b"private" not in response.data


# --- token, CORS, start-up -------------------------------------------------------------------


@pytest.fixture
def secured(root: Path) -> FlaskClient:
    settings = Settings(audio_root=root, api_token=TOKEN,
                        cors_origins=("http://tools.example",))
    return create_app(settings).test_client()


def test_token_is_required_on_api_and_audio(secured: FlaskClient, root: Path,
                                            batch: Path) -> None:
    take = audio_url(root, batch / "takes" / "Line_1_take_1.mp3")
    for url in ("/api/batches", take, "/api/openapi.json"):
        response = secured.get(url)
        assert "token" in error_of(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        error_of(secured.get(url, headers={"Authorization": "Bearer wrong"}), 401)
        assert secured.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_query_token_only_for_audio(secured: FlaskClient, root: Path, batch: Path) -> None:
    take = audio_url(root, batch / "takes" / "Line_1_take_1.mp3")
    assert secured.get(take, query_string={"token": TOKEN}).status_code == 200
    error_of(secured.get("/api/batches", query_string={"token": TOKEN}), 401)


def test_cors_only_for_listed_origins(secured: FlaskClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    allowed = secured.get("/api/batches", headers={**auth, "Origin": "http://tools.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://tools.example"
    other = secured.get("/api/batches", headers={**auth, "Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = secured.options("/api/batch/x/take/y.mp3", headers={
        "Origin": "http://tools.example", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    refused = secured.options("/api/batches", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_production_needs_a_secret_key(root: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        create_app(Settings(audio_root=root, flask_env="production"))
    assert caught.value.variable == "SECRET_KEY"
    app = create_app(Settings(audio_root=root, flask_env="production", secret_key="s3"))
    assert app.config["SECRET_KEY"] == "s3"


def test_one_log_line_per_request_without_secrets(
    secured: FlaskClient, root: Path, batch: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.requests")
    take = audio_url(root, batch / "takes" / "Line_1_take_1.mp3")
    secured.get(take, query_string={"token": TOKEN})
    secured.get("/api/batches", headers={"Authorization": f"Bearer {TOKEN}"})
    secured.get("/api/batches")
    lines = [r.getMessage() for r in caplog.records if r.name == "api.requests"]
    assert len(lines) == 3
    assert lines[0].startswith(f"GET {take} 200 ") and lines[0].endswith(" ms")
    assert lines[1].startswith("GET /api/batches 200 ")
    assert lines[2].startswith("GET /api/batches 401 ")
    assert TOKEN not in caplog.text and "token=" not in caplog.text


# --- the OpenAPI document --------------------------------------------------------------------


def _flask_operations(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/audio/")):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD",
                                                                                 "OPTIONS")}
    return found


def test_openapi_matches_the_routes_both_ways(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == _flask_operations(app)
    assert len(documented) >= 12


def test_openapi_references_resolve(client: FlaskClient) -> None:
    text = client.get("/api/openapi.json").get_data(as_text=True)
    names = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert names and names <= set(SCHEMAS)


def test_openapi_declares_the_token_when_set(secured: FlaskClient, client: FlaskClient) -> None:
    doc = secured.get("/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "401" in doc["paths"]["/api/batches"]["get"]["responses"]
    assert "securitySchemes" not in client.get("/api/openapi.json").get_json()["components"]


def test_a_pronunciations_path_is_refused_over_http(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.post("/api/generate", json={
        "skin_name": "A", "voice_ids": ["en_US-joe-medium"], "engine": "piper",
        "script_csv": "Function,Line\nA_1,Hi.\n", "pronunciations": "/etc/passwd"})
    assert answer.status_code == 400
    assert "pronunciations is not accepted over HTTP" in answer.json["error"]
    assert "root:" not in answer.json["error"]
