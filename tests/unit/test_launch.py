"""The launch form validates like the API, estimates and queues a real job; the monitor shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from voicelab import liveness, registry
from voicelab.config import Settings
from voicelab.widgets.launch import JobMonitor, LaunchForm

GOOD = b"Function,Line\nIntro_1,Hello there.\nIntro_2,\"Well met, traveller.\"\n"
BAD = b"Function,Line\nIntro 1,Hello.\nIntro_2,\n"


def upload(form: LaunchForm, name: str, data: bytes) -> None:
    form.upload.value = ({"name": name, "type": "text/csv", "size": len(data),
                          "content": memoryview(data),
                          "last_modified": datetime.now(UTC)},)


@pytest.fixture
def form(settings: Settings) -> LaunchForm:
    return LaunchForm(settings)


def test_starts_disabled_and_names_what_is_missing(form: LaunchForm) -> None:
    assert form.start.disabled
    assert "Skin name must be" in form.errors.value and "Voices must be" in form.errors.value
    assert "Upload a script" in form.errors.value
    assert form.engine.value == "piper"
    assert "en_US-joe-medium" in [value for _, value in form.voice_select.options]


def test_inline_errors_name_rows_then_a_valid_form_estimates(form: LaunchForm) -> None:
    form.skin.value = "Aldric"
    form.voice_select.value = ("en_US-joe-medium",)
    upload(form, "bad.csv", BAD)
    assert form.start.disabled
    assert "row 2" in form.errors.value and "row 3" in form.errors.value
    upload(form, "good.csv", GOOD)
    assert not form.start.disabled and form.errors.value == ""
    assert "2 lines" in form.preview.value and "Well met, traveller." in form.preview.value
    form.variants.value = 4
    assert "8 takes" in form.estimate.value and "local engine" in form.estimate.value


def test_ranges_become_the_config(form: LaunchForm) -> None:
    form.ranges["speed"].value = (0.9, 1.1)
    form.ranges["style"].value = (0.2, 0.2)
    settings = form.config()["settings"]
    assert settings["speed"] == [0.9, 1.1] and settings["style"] == 0.2
    assert settings["use_speaker_boost"] is True


def test_search_filters_voices_and_keeps_the_chosen(form: LaunchForm) -> None:
    form.voice_select.value = ("en_US-joe-medium",)
    form.search.value = "zzz-no-such"
    assert [v for _, v in form.voice_select.options] == ["en_US-joe-medium"]
    assert form.voice_select.value == ("en_US-joe-medium",)


def test_start_queues_a_job_the_monitor_shows(form: LaunchForm, root: Path,
                                              settings: Settings) -> None:
    form.skin.value = "Aldric"
    form.voice_select.value = ("en_US-joe-medium",)
    upload(form, "good.csv", GOOD)
    form.start.click()
    assert form.task_id and form.task_id in form.status.value
    record = registry.get(root, form.task_id)
    assert record["state"] == "QUEUED" and record["config"]["skin_name"] == "Aldric"
    monitor = JobMonitor(settings)
    assert "QUEUED" in monitor.rows.children[0].children[0].value
    monitor.cancel(form.task_id)
    assert registry.get(root, form.task_id)["state"] == "REVOKED"
    assert "REVOKED" in monitor.rows.children[0].children[0].value


def test_monitor_links_each_batch_of_a_finished_job(settings: Settings, root: Path) -> None:
    registry.create(root, "t1", {"skin_name": "S", "voice_ids": ["v"]})
    registry.set_fields(root, "t1", state="SUCCESS", progress={"done": 4, "total": 4},
                        result={"batch_ids": ["B1", "B2"], "failed": []})
    monitor = JobMonitor(settings)
    links = monitor.rows.children[0].children[2].value
    assert "rank.ipynb?batch_id=B1" in links and "rank.ipynb?batch_id=B2" in links


def test_monitor_warns_while_no_worker_is_alive(settings: Settings, root: Path) -> None:
    registry.create(root, "t1", {"skin_name": "S", "voice_ids": ["v"]})
    monitor = JobMonitor(settings)
    assert "No job worker is running" in monitor.workers.value
    assert "1 queued job will wait" in monitor.workers.value
    assert "voicelab worker" in monitor.workers.value
    liveness.beat(root, "voicelab-1@here", started_at=0.0)
    monitor.refresh()
    assert monitor.workers.value == ""
    liveness.gone(root, "voicelab-1@here")
    monitor.refresh()
    assert "No job worker is running" in monitor.workers.value


def test_a_worker_that_stopped_beating_is_not_alive(root: Path) -> None:
    liveness.beat(root, "voicelab-2@here", started_at=0.0)
    assert [r["hostname"] for r in liveness.alive(root)] == ["voicelab-2@here"]
    assert liveness.alive(root, within_s=-1.0) == []
