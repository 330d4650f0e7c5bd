"""Export jobs (issue 16): a large batch's export queued through the API (202), run as a job
(validated, claimed and recorded like any job, the notebook replaced by the runner in this
process), its zip answered by `GET /api/generate/<task_id>/export`; refusals before anything is
queued; and the `.exports/` folders kept bounded."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import soundfile
from flask.testing import FlaskClient

from api import create_app
from tests.batches import make_batch
from tests.delivery_batches import speech_batch
from tests.unit.test_api_export import LEAD, SERVICE_TOKEN, error_of, root, team_root  # noqa: F401
from voicelab import store
from voicelab.config import Settings
from voicelab.errors import JobConfigError
from voicelab.jobs import registry, runner
from voicelab.jobs.execute import execute_job
from voicelab.jobs.kinds import Export, Run
from voicelab.jobs.kinds import export as export_kind


@pytest.fixture
def settings(root: Path) -> Settings:  # noqa: F811
    return Settings(audio_root=root, api_token=SERVICE_TOKEN)


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    app = create_app(settings)
    app.config["VOICELAB_EXPORT_INLINE_MAX"] = 2  # batches of 3 lines and more: a job
    return app.test_client()


def designer(team_root: Path) -> dict[str, str]:  # noqa: F811
    return {"Authorization": f"Bearer {(team_root / 'bob.token').read_text()}"}


class InProcess:
    """Stands in for the worker's notebook kernels: runs the job's notebook code here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, report: Path, config: dict[str, Any], task_id: str) -> None:
        runner.run(config=config, task_id=task_id, settings=self.settings)


def run_queued(settings: Settings, task_id: str) -> dict[str, Any]:
    """Run a queued job as the worker would (validate, claim, run, record)."""
    config = registry.get(settings.audio_root, task_id)["config"]
    return execute_job(settings, task_id, json.dumps(config), hostname="test",
                       kernels=InProcess(settings))  # type: ignore[arg-type]


def test_a_large_batch_is_a_job_whose_zip_is_downloaded(client: FlaskClient, root: Path,  # noqa: F811
                                                        settings: Settings) -> None:
    batch = speech_batch(root, [0.1, 0.3, 0.2])
    answer = client.post(f"/api/batch/{batch.name}/export", headers=LEAD, json={
        "format": "wav", "sample_rate": 48000, "bit_depth": 16, "loudness": -20,
        "preset": "unreal", "lang": "fr"})
    assert answer.status_code == 202, answer.data
    task_id = answer.get_json()["data"]["task_id"]
    assert answer.headers["Location"] == f"/api/generate/{task_id}/status"
    record = registry.get(root, task_id)
    assert record["state"] == "QUEUED" and record["skin"] == "Skin"
    assert record["config"]["kind"] == "export" and record["config"]["requested_by"] == "service"
    assert "QUEUED" in error_of(client.get(f"/api/generate/{task_id}/export", headers=LEAD),
                                409)
    before = store.load_metadata(batch)
    result = run_queued(settings, task_id)
    assert result["archive"] == f"{batch.name}_rank1.zip"
    assert (result["batch_ids"], result["done"], result["total"], result["failed"],
            result["cancelled"]) == ([batch.name], 3, 3, [], False)
    status = client.get(f"/api/generate/{task_id}/status", headers=LEAD).get_json()["data"]
    assert status["status"] == "SUCCESS" and status["result"]["archive"] == result["archive"]
    assert status["progress"]["done"] == status["progress"]["total"] == 3
    assert not list(batch.rglob("*.wav"))  # the batch itself is untouched: no speech check
    assert store.load_metadata(batch) == before

    download = client.get(f"/api/generate/{task_id}/export", headers=LEAD)
    assert download.status_code == 200, download.data
    assert download.mimetype == "application/zip"
    assert f"{batch.name}_rank1.zip" in download.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert sorted(archive.namelist()) == sorted(f"{batch.name}/{n}" for n in (
            "fr/Line_1.wav", "fr/Line_2.wav", "fr/Line_3.wav", "manifest.csv", "dialogue.csv",
            "dialogue.xlsx"))
        info = soundfile.info(io.BytesIO(archive.read(f"{batch.name}/fr/Line_3.wav")))
    assert (info.samplerate, info.subtype) == (48000, "PCM_16")
    assert (root / ".exports" / task_id / f"{batch.name}_rank1.zip").is_file()


def test_a_small_batch_is_still_answered_with_the_zip(client: FlaskClient, root: Path) -> None:  # noqa: F811
    batch = make_batch(root, lines=2, ranks={"Line_1_take_1.mp3": 1, "Line_2_take_3.mp3": 1})
    answer = client.post(f"/api/batch/{batch.name}/export", headers=LEAD, json={})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert registry.recent(root) == [] and not (root / ".exports").exists()


def test_refusals_come_before_anything_is_queued(client: FlaskClient, root: Path,  # noqa: F811
                                                 team_root: Path) -> None:  # noqa: F811
    batch = make_batch(root, lines=3, ranks={f"Line_{i}_take_1.mp3": 1 for i in (1, 2, 3)})
    url = f"/api/batch/{batch.name}/export"
    assert "preset: unknown preset 'godot'" in error_of(
        client.post(url, headers=LEAD, json={"preset": "godot"}), 400)
    assert "loudness: 3 LUFS is above 0 LUFS" in error_of(
        client.post(url, headers=LEAD, json={"format": "wav", "loudness": 3}), 400)
    assert "designer" in error_of(client.post(url, headers=designer(team_root), json={}), 403)
    error_of(client.post("/api/batch/20990101-000000-nope/export", headers=LEAD, json={}), 404)
    assert registry.recent(root) == [] and not (root / ".exports").exists()


def test_the_download_answers_only_a_lead_and_only_a_finished_export(
        client: FlaskClient, root: Path, team_root: Path) -> None:  # noqa: F811
    batch = make_batch(root, lines=3, ranks={f"Line_{i}_take_1.mp3": 1 for i in (1, 2, 3)})
    task_id = client.post(f"/api/batch/{batch.name}/export", headers=LEAD,
                          json={}).get_json()["data"]["task_id"]
    url = f"/api/generate/{task_id}/export"
    assert "designer" in error_of(client.get(url, headers=designer(team_root)), 403)
    assert "QUEUED" in error_of(client.get(url, headers=LEAD), 409)
    assert "no job" in error_of(client.get("/api/generate/nope-123/export", headers=LEAD), 404)
    registry.create(root, "a-generation-job", {"skin_name": "Skin", "voice_ids": ["v1"]})
    assert "not an export" in error_of(client.get("/api/generate/a-generation-job/export",
                                                  headers=LEAD), 404)
    run_queued(Settings(audio_root=root), task_id)
    with zipfile.ZipFile(io.BytesIO(client.get(url, headers=LEAD).data)) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"{batch.name}/Line_{i}.mp3" for i in (1, 2, 3)] + [f"{batch.name}/manifest.csv"])
    assert export_kind.prune(root, keep=0) == [task_id]  # the record stays, the zip goes
    assert "removed" in error_of(client.get(url, headers=LEAD), 404)


def test_a_job_config_is_checked_field_by_field(root: Path) -> None:  # noqa: F811
    settings = Settings(audio_root=root)
    batch = make_batch(root, lines=1, ranks={"Line_1_take_1.mp3": 1})
    ok = Export.check({"kind": "export", "batch_id": batch.name, "preset": "wwise",
                       "format": None}, settings).to_json()
    assert ok["skin_name"] == "Skin" and ok["preset"] == "wwise"
    for raw, field in [({"batch_id": batch.name, "colour": "red"}, "colour"),
                       ({"batch_id": ""}, "batch_id"),
                       ({"batch_id": "20990101-000000-nope"}, "batch_id"),
                       ({"batch_id": batch.name, "rank": 7}, "rank"),
                       ({"batch_id": batch.name, "sample_rate": 5}, "sample_rate"),
                       ({"batch_id": batch.name, "naming": "../{function}"}, "naming")]:
        with pytest.raises(JobConfigError) as caught:
            Export.check({"kind": "export", **raw}, settings)
        assert [p.field for p in caught.value.problems] == [field], raw


def test_export_folders_are_bounded(root: Path) -> None:  # noqa: F811
    settings = Settings(audio_root=root)
    batch = make_batch(root, lines=1, ranks={"Line_1_take_1.mp3": 1})
    exports = root / ".exports"
    exports.mkdir()
    week_old = exports / "week-old"
    week_old.mkdir()
    old = time.time() - export_kind.MAX_AGE_S - 60
    os.utime(week_old, (old, old))
    ids = [f"job-{n:02d}" for n in range(export_kind.KEEP + 3)]
    for task_id in ids:
        job = Export.check({"kind": "export", "batch_id": batch.name}, settings)
        result = job.run(settings, Run(job_id=task_id))
        assert (exports / task_id / result["archive"]).is_file()
        assert len(list(exports.iterdir())) <= export_kind.KEEP
    assert sorted(p.name for p in exports.iterdir()) == ids[-export_kind.KEEP:]
