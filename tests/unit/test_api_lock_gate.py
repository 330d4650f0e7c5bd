"""POST /api/batch/<id>/lock behind the quality gate (issue 16): a 409 listing the problems
beside the error envelope, `{"force": true}` to lock anyway (recorded), a bad body a 400, and
the OpenAPI document saying so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import create_app
from api.openapi import SCHEMAS
from tests.api_fixtures import bearer, copy_team, make_team
from tests.batches import make_batch
from voicelab import history, store
from voicelab.config import Settings

SERVICE_TOKEN = "service-token-lock-gate-0123"


@pytest.fixture(scope="module")
def team_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_team(tmp_path_factory.mktemp("team"), (("bob", "designer"), ("alice", "lead")))


@pytest.fixture
def root(team_root: Path, tmp_path: Path) -> Path:
    return copy_team(team_root, tmp_path / "audio")


@pytest.fixture
def client(root: Path) -> FlaskClient:
    return create_app(Settings(audio_root=root, api_token=SERVICE_TOKEN)).test_client()


@pytest.fixture
def batch(root: Path) -> Path:
    """Line_1's selected take clips; Line_2 has no selection."""
    batch = make_batch(root, skin="Gate", lines=2, takes_per_line=3,
                       ranks={"Line_1_take_2.mp3": 1})
    metadata = store.load_metadata(batch)
    metadata["takes"][1]["quality"] = {"flags": ["clipping"]}
    store.save_metadata(batch, metadata)
    return batch


as_ = bearer


PROBLEMS = [{"line": "Line_1", "problems": ["clipping"], "take": "Line_1_take_2.mp3"},
            {"line": "Line_2", "problems": ["no_selection"], "take": None}]


def _json(response: TestResponse) -> Any:
    return response.get_json()


def _document(client: FlaskClient, team_root: Path) -> Any:
    return _json(client.get("/api/openapi.json", headers=as_(team_root, "alice")))


def test_problems_are_a_409_with_the_list_and_nothing_changes(
        client: FlaskClient, team_root: Path, batch: Path) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    for body in (None, {}, {"force": False}):
        refused = client.post(f"/api/batch/{batch.name}/lock", json=body,
                              headers=as_(team_root, "alice"))
        assert refused.status_code == 409
        answer = _json(refused)
        assert set(answer) == {"error", "problems"}
        assert "2 line(s) to check" in answer["error"] and "Line_1 (clipping)" in answer["error"]
        assert answer["problems"] == PROBLEMS
        jsonschema.validate(answer, SCHEMAS["LockRefused"])
    assert not store.is_locked(batch)
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert not history.history_path(batch).exists()


def test_force_locks_and_the_history_records_it(client: FlaskClient, team_root: Path,
                                                batch: Path) -> None:
    locked = client.post(f"/api/batch/{batch.name}/lock", json={"force": True},
                         headers=as_(team_root, "alice"))
    assert locked.status_code == 200 and _json(locked)["data"]["locked"] is True
    assert store.is_locked(batch)
    again = client.post(f"/api/batch/{batch.name}/lock", headers=as_(team_root, "alice"))
    assert again.status_code == 200 and _json(again) == _json(locked)  # locked: not gated again
    entries = _json(client.get(f"/api/batch/{batch.name}/history",
                         headers=as_(team_root, "alice")))["data"]
    lock = [e for e in entries if e["action"] == "lock"]
    assert len(lock) == 1 and lock[0]["person"] == "alice"
    assert lock[0]["forced"] is True and lock[0]["problems"] == PROBLEMS


def test_a_clean_batch_locks_without_a_body(client: FlaskClient, team_root: Path,
                                            root: Path) -> None:
    clean = make_batch(root, skin="Clean", lines=2,
                       ranks={"Line_1_take_1.mp3": 1, "Line_2_take_3.mp3": 1})
    locked = client.post(f"/api/batch/{clean.name}/lock", headers=as_(team_root, "alice"))
    assert locked.status_code == 200 and store.is_locked(clean)
    assert "forced" not in history.read(clean)[-1]


@pytest.mark.parametrize(("body", "named"), [
    ({"force": "yes"}, "force: must be true or false"),
    ({"force": 1}, "force: must be true or false"),
    ({"force": True, "why": "deadline"}, "unknown field(s) ['why']"),
    ([True], "JSON object"),
])
def test_a_bad_body_is_a_400_naming_it(client: FlaskClient, team_root: Path, batch: Path,
                                       body: object, named: str) -> None:
    refused = client.post(f"/api/batch/{batch.name}/lock", json=body,
                          headers=as_(team_root, "alice"))
    assert refused.status_code == 400 and named in _json(refused)["error"]
    assert set(_json(refused)) == {"error"}
    assert not store.is_locked(batch)


def test_not_json_is_a_400(client: FlaskClient, team_root: Path, batch: Path) -> None:
    refused = client.post(f"/api/batch/{batch.name}/lock", data=b"force",
                          headers={**as_(team_root, "alice"), "Content-Type": "text/plain"})
    assert refused.status_code == 400 and "JSON object" in _json(refused)["error"]


def test_a_designer_is_refused_before_the_gate(client: FlaskClient, team_root: Path,
                                               batch: Path) -> None:
    refused = client.post(f"/api/batch/{batch.name}/lock", json={"force": True},
                          headers=as_(team_root, "bob"))
    assert refused.status_code == 403 and set(_json(refused)) == {"error"}
    assert not store.is_locked(batch)


def test_the_document_offers_force_and_the_409(client: FlaskClient, team_root: Path) -> None:
    operation = _document(client, team_root)["paths"]["/api/batch/{batch_id}/lock"]["post"]
    assert operation["requestBody"]["required"] is False
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LockRequest"}
    assert operation["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LockRefused"}
    assert SCHEMAS["LockRequest"]["properties"]["force"]["type"] == "boolean"
    others = _document(client, team_root)["paths"]["/api/batch/{batch_id}/take/{filename}"]
    assert others["patch"]["requestBody"]["required"] is True  # the other bodies are unchanged
