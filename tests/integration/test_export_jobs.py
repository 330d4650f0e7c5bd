"""An export job (issue 16) end to end: queued on the embedded broker, run by a real
`voicelab worker` through the generate notebook (its report kept), its zip on disk and named
in the result, with progress recorded."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile

from tests.delivery_batches import speech_batch
from tests.integration.test_jobs import follow
from tests.processes import Workers, worker_env
from voicelab import jobs
from voicelab.config import Settings
from voicelab.jobs import registry
from voicelab.jobs.kinds import Export
from voicelab.jobs.kinds.export import archive_of

pytestmark = pytest.mark.integration


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    with Workers(tmp_path / "logs") as started:
        yield started


def test_an_export_runs_as_a_queued_job_with_its_report(root: Path, workers: Workers) -> None:
    settings = Settings(audio_root=root)
    batch = speech_batch(root, [0.1, 0.3, 0.2, 0.25])
    app = jobs.get_app(settings)
    workers.start(worker_env(root))
    task_id = jobs.submit(settings, Export.request(settings, batch.name, {
        "format": "flac", "sample_rate": 48000, "loudness": -18, "preset": "plain"},
        person="lena"))
    seen, _ = follow(app, task_id)
    assert seen[-1][0] == "SUCCESS", seen[-1]
    record = registry.get(root, task_id)
    result = record["result"]
    assert result["archive"] == f"{batch.name}_rank1.zip" and result["done"] == 4
    assert result["batch_ids"] == [batch.name] and result["failed"] == []
    assert record["progress"]["done"] == record["progress"]["total"] == 4
    assert registry.report_path(root, task_id).exists()
    archive = archive_of(root, record)
    assert archive == root / ".exports" / task_id / result["archive"]
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == sorted(
            [f"{batch.name}/Line_{i}.flac" for i in range(1, 5)]
            + [f"{batch.name}/manifest.csv", f"{batch.name}/dialogue.csv",
               f"{batch.name}/dialogue.xlsx"])
        info = soundfile.info(io.BytesIO(zipped.read(f"{batch.name}/Line_2.flac")))
    assert info.samplerate == 48000
