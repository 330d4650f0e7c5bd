"""POST /api/batch/<id>/export through Flask's test client: the zip for a lead, 400 naming a
bad field, 403 for a designer, 404 an unknown batch (past the inline cap, a job: see
test_export_jobs)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import soundfile
from flask.testing import FlaskClient

from api import create_app
from tests.api_fixtures import copy_team, make_team
from tests.batches import make_batch
from tests.delivery_batches import speech_batch
from voicelab.config import Settings
from voicelab.delivery.options import OPTION_FIELDS

SERVICE_TOKEN = "service-token-export-0123456789"
LEAD = {"Authorization": f"Bearer {SERVICE_TOKEN}"}  # the service token is a lead


@pytest.fixture(scope="module")
def team_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_team(tmp_path_factory.mktemp("team"), (("bob", "designer"),))


@pytest.fixture
def root(team_root: Path, tmp_path: Path) -> Path:
    return copy_team(team_root, tmp_path / "audio")


@pytest.fixture
def client(root: Path) -> FlaskClient:
    return create_app(Settings(audio_root=root, api_token=SERVICE_TOKEN)).test_client()


def error_of(response: object, status: int) -> str:
    assert response.status_code == status, response.data  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    return str(body["error"])


def test_lead_gets_the_engine_ready_zip(client: FlaskClient, root: Path) -> None:
    batch = speech_batch(root, [0.1, 0.4])
    answer = client.post(f"/api/batch/{batch.name}/export", headers=LEAD, json={
        "format": "wav", "sample_rate": 48000, "bit_depth": 24, "loudness": -20,
        "preset": "unreal", "lang": "fr", "naming": None})
    assert answer.status_code == 200, answer.data
    assert answer.mimetype == "application/zip"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="{batch.name}_rank1.zip"')
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{batch.name}/{n}" for n in (
            "fr/Line_1.wav", "fr/Line_2.wav", "manifest.csv", "dialogue.csv", "dialogue.xlsx"))
        info = soundfile.info(io.BytesIO(archive.read(f"{batch.name}/fr/Line_1.wav")))
    assert (info.samplerate, info.subtype) == (48000, "PCM_24")
    assert not list(root.rglob("*.zip"))  # built in a temp folder, not under AUDIO_ROOT


def test_an_empty_body_is_the_classic_export(client: FlaskClient, root: Path) -> None:
    batch = make_batch(root, lines=2, ranks={"Line_2_take_1.mp3": 1})
    answer = client.post(f"/api/batch/{batch.name}/export", headers=LEAD, json={})
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        assert sorted(archive.namelist()) == [f"{batch.name}/Line_2.mp3",
                                              f"{batch.name}/manifest.csv"]


@pytest.mark.parametrize(("body", "named"), [
    ({"preset": "godot"}, "preset: unknown preset 'godot'"),
    ({"loudness": 2}, "loudness: 2 LUFS is above 0 LUFS"),
    ({"format": "wav", "bit_depth": 12}, "bit_depth: 12 is not 16 or 24"),
    ({"format": "wav", "sample_rate": 1000}, "sample_rate: 1000"),
    ({"naming": "{function}/{oops}"}, "naming: unknown field {oops}"),
    ({"naming": "../{function}"}, "outside the export folder"),
    ({"naming": "{skin}"}, "naming:"),
    ({"rank": 9}, "rank"),
    ({"true_peak": "loud"}, "true_peak:"),
    ({"loudness_by_category": "/etc/passwd"}, "unknown field(s) ['loudness_by_category']"),
    ({"make_zip": False}, "unknown field(s) ['make_zip']"),
])
def test_bad_fields_are_400_and_named(client: FlaskClient, root: Path, body: dict[str, object],
                                      named: str) -> None:
    batch = make_batch(root, lines=1, ranks={"Line_1_take_1.mp3": 1})
    assert named in error_of(client.post(f"/api/batch/{batch.name}/export", headers=LEAD,
                                         json=body), 400)
    assert "JSON object" in error_of(client.post(f"/api/batch/{batch.name}/export",
                                                 headers=LEAD, data="[1]",
                                                 content_type="application/json"), 400)


def test_only_a_lead_exports(client: FlaskClient, root: Path, team_root: Path) -> None:
    batch = make_batch(root, lines=1, ranks={"Line_1_take_1.mp3": 1})
    designer = {"Authorization": f"Bearer {(team_root / 'bob.token').read_text()}"}
    assert "designer" in error_of(client.post(f"/api/batch/{batch.name}/export",
                                              headers=designer, json={}), 403)
    assert client.post(f"/api/batch/{batch.name}/export", json={}).status_code == 401


def test_unknown_batch_is_404(client: FlaskClient) -> None:
    error_of(client.post("/api/batch/20990101-000000-nope/export", headers=LEAD, json={}), 404)


def test_the_document_describes_the_route(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json", headers=LEAD).get_json()
    operation = doc["paths"]["/api/batch/{batch_id}/export"]["post"]
    assert "application/zip" in operation["responses"]["200"]["content"]
    assert {"202", "400", "403", "404", "503"} <= set(operation["responses"])
    download = doc["paths"]["/api/generate/{task_id}/export"]["get"]
    assert "application/zip" in download["responses"]["200"]["content"]
    assert {"403", "404", "409"} <= set(download["responses"])
    schema = doc["components"]["schemas"]["ExportRequest"]["properties"]
    assert set(schema) == set(OPTION_FIELDS)
