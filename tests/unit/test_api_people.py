"""The API with people (issue 13): personal tokens, the service token, sessions and none; what
each role may do; unlock, undo, history and /api/me; failing closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api import create_app
from tests.api_fixtures import copy_team, make_team
from tests.batches import make_batch
from voicelab import history, people, store
from voicelab.config import Settings
from voicelab.people.sessions import SESSION_COOKIE, issue_session, session_secret
from voicelab.people.users import users_path

SERVICE_TOKEN = "service-token-1234567890"


@pytest.fixture(scope="module")
def team_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Users are slow to make (Argon2): once per module, on a root of their own."""
    return make_team(tmp_path_factory.mktemp("team"),
                     (("vera", "viewer"), ("bob", "designer"), ("alice", "lead")))


@pytest.fixture
def root(team_root: Path, tmp_path: Path) -> Path:
    return copy_team(team_root, tmp_path / "audio")


@pytest.fixture
def client(root: Path) -> FlaskClient:
    return create_app(Settings(audio_root=root, api_token=SERVICE_TOKEN)).test_client()


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, skin="Team", lines=2, takes_per_line=3)


def as_(team_root: Path, name: str) -> dict[str, str]:
    token = SERVICE_TOKEN if name == "service" else (team_root / f"{name}.token").read_text()
    return {"Authorization": f"Bearer {token}"}


def rank(client: FlaskClient, batch: Path, file: str, value: int | None,
         headers: dict[str, str]) -> Any:
    return client.patch(f"/api/batch/{batch.name}/take/{file}", json={"rank": value},
                        headers=headers)


def test_nobody_gets_in_without_a_token_or_session(client: FlaskClient, batch: Path) -> None:
    for url in ("/api/batches", f"/api/batch/{batch.name}", "/api/me",
                f"/api/batch/{batch.name}/history"):
        answer = client.get(url)
        assert answer.status_code == 401 and "sign in first" in answer.json["error"]
    assert client.get("/healthz").status_code == 200


def test_me_for_each_kind_of_caller(client: FlaskClient, team_root: Path) -> None:
    assert client.get("/api/me", headers=as_(team_root, "vera")).json["data"] == {
        "name": "vera", "role": "viewer", "allowed": ["listen"], "sign_in": True}
    assert client.get("/api/me", headers=as_(team_root, "service")).json["data"]["role"] == "lead"
    assert client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_viewer_reads_and_listens_but_changes_nothing(client: FlaskClient, team_root: Path,
                                                      root: Path, batch: Path) -> None:
    vera = as_(team_root, "vera")
    assert client.get(f"/api/batch/{batch.name}", headers=vera).status_code == 200
    rel = (batch / "takes" / "Line_1_take_1.mp3").relative_to(root).as_posix()
    assert client.get(f"/audio/{rel}", headers=vera).status_code == 200
    before = (batch / store.METADATA_NAME).read_bytes()
    refused = rank(client, batch, "Line_1_take_1.mp3", 1, vera)
    assert refused.status_code == 403
    assert refused.json["error"] == "vera is a viewer: only a designer may rank takes"
    for path in ("lock", "unlock", "undo"):
        assert client.post(f"/api/batch/{batch.name}/{path}", headers=vera).status_code == 403
    assert client.post("/api/generate", json={}, headers=vera).status_code == 403
    assert client.delete("/api/generate/abc", headers=vera).status_code == 403
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert not history.history_path(batch).exists()


def test_designer_ranks_with_their_name_and_undoes(client: FlaskClient, team_root: Path,
                                                   batch: Path) -> None:
    bob = as_(team_root, "bob")
    line = rank(client, batch, "Line_1_take_2.mp3", 1, bob).json["data"]
    assert {t["file"]: t["ranked_by"] for t in line if t["rank"]} == {"Line_1_take_2.mp3": "bob"}
    rank(client, batch, "Line_1_take_3.mp3", 1, bob)
    assert client.post(f"/api/batch/{batch.name}/lock", headers=bob).status_code == 403
    undone = client.post(f"/api/batch/{batch.name}/undo", headers=bob)
    assert undone.status_code == 200
    assert {t["file"]: t["rank"] for t in undone.json["data"] if t["rank"]} == {
        "Line_1_take_2.mp3": 1}
    assert (batch / "ranked" / "01" / "Line_1_take_2.mp3").is_symlink()
    assert not (batch / "ranked" / "02" / "Line_1_take_2.mp3").exists()
    client.post(f"/api/batch/{batch.name}/undo", headers=bob)
    nothing = client.post(f"/api/batch/{batch.name}/undo", headers=bob)
    assert nothing.status_code == 409 and "undo" in nothing.json["error"]
    logged = client.get(f"/api/batch/{batch.name}/history", headers=as_(team_root, "vera"))
    assert [(e["person"], e["action"]) for e in logged.json["data"]] == [
        ("bob", "rank"), ("bob", "rank"), ("bob", "undo"), ("bob", "undo")]


def test_undo_refused_when_someone_else_changed_the_line(client: FlaskClient, team_root: Path,
                                                         batch: Path) -> None:
    rank(client, batch, "Line_1_take_1.mp3", 1, as_(team_root, "bob"))
    rank(client, batch, "Line_1_take_2.mp3", 1, as_(team_root, "alice"))
    refused = client.post(f"/api/batch/{batch.name}/undo", headers=as_(team_root, "bob"))
    assert refused.status_code == 409 and "alice" in refused.json["error"]
    assert store.load_metadata(batch)["takes"][1]["rank"] == 1  # nothing moved


def test_lead_locks_and_unlocks_recorded(client: FlaskClient, team_root: Path,
                                         batch: Path) -> None:
    alice = as_(team_root, "alice")
    assert client.post(f"/api/batch/{batch.name}/lock", headers=alice,
                       json={"force": True}).json["data"]["locked"]
    assert rank(client, batch, "Line_1_take_1.mp3", 1, alice).status_code == 423
    assert client.post(f"/api/batch/{batch.name}/unlock",
                       headers=as_(team_root, "bob")).status_code == 403
    opened = client.post(f"/api/batch/{batch.name}/unlock", headers=alice)
    assert opened.status_code == 200 and opened.json["data"] == {"locked": False}
    assert not store.is_locked(batch)
    assert rank(client, batch, "Line_1_take_1.mp3", 1, alice).status_code == 200
    assert [(e["person"], e["action"]) for e in history.read(batch)] == [
        ("alice", "lock"), ("alice", "unlock"), ("alice", "rank")]


def test_service_token_is_a_lead_named_service(client: FlaskClient, team_root: Path,
                                               batch: Path) -> None:
    line = rank(client, batch, "Line_2_take_1.mp3", 2, as_(team_root, "service")).json["data"]
    assert next(t for t in line if t["rank"])["ranked_by"] == "service"


def test_a_session_cookie_counts_and_a_forged_one_does_not(root: Path, batch: Path) -> None:
    settings = Settings(audio_root=root, secret_key="s" * 40)
    client = create_app(settings).test_client()
    epoch = people.find_user(root, "bob").epoch
    client.set_cookie(SESSION_COOKIE, issue_session(session_secret(root, "s" * 40), "bob", epoch))
    assert client.get("/api/me").json["data"]["name"] == "bob"
    client.set_cookie(SESSION_COOKIE, issue_session("another key", "alice",
                                                    people.find_user(root, "alice").epoch))
    assert client.get("/api/me").status_code == 401


def test_open_without_users_and_closed_beyond_loopback(tmp_path: Path) -> None:
    root = tmp_path / "open"
    batch = make_batch(root, lines=1, takes_per_line=2)
    client = create_app(Settings(audio_root=root)).test_client()
    line = rank(client, batch, "Line_1_take_1.mp3", 1, {}).json["data"]
    assert line[0]["ranked_by"] == "anonymous"
    closed = create_app(Settings(audio_root=root), require_users=True).test_client()
    assert closed.get("/api/batches").status_code == 401


def test_a_broken_users_file_fails_closed(client: FlaskClient, root: Path,
                                          team_root: Path) -> None:
    users_path(root).write_text("{not json")
    answer = client.get("/api/batches", headers=as_(team_root, "alice"))
    assert answer.status_code == 500 and "users.json" in answer.json["error"]
    assert client.get("/api/batches").status_code == 500


def test_openapi_is_secured_once_users_exist(client: FlaskClient, team_root: Path) -> None:
    document = client.get("/api/openapi.json", headers=as_(team_root, "vera")).json
    assert document["security"] == [{"bearer": []}]
    for path in ("/api/batch/{batch_id}/unlock", "/api/batch/{batch_id}/undo",
                 "/api/batch/{batch_id}/history", "/api/me"):
        assert path in document["paths"]
    assert "403" in document["paths"]["/api/batch/{batch_id}/take/{filename}"]["patch"][
        "responses"]
