"""Starting and cancelling jobs is a lead's: the launch and jobs dashboards ask who they serve at
every click (the request's person, as `voicelab serve` sets it) and explain a refusal."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import install_team
from voicelab import people
from voicelab.config import Settings
from voicelab.jobs import registry
from voicelab.people.sessions import PERSON_ENV
from voicelab.widgets.launch import JobMonitor, LaunchForm, jobs_refusal

GOOD = b"Function,Line\nIntro_1,Hello there.\n"
Visit = Callable[[str], None]
REFUSED = "dana is a designer: only a lead may start or cancel jobs"


@pytest.fixture(autouse=True)
def team(root: Path, team_file: bytes) -> None:
    install_team(root, team_file)


@pytest.fixture
def visit(monkeypatch: pytest.MonkeyPatch) -> Visit:
    """Make the kernel serve a page request from `name`, as `voicelab serve` does."""

    def as_person(name: str) -> None:
        monkeypatch.setenv("VOILA_BASE_URL", "/")
        monkeypatch.setenv(PERSON_ENV, name)

    return as_person


def filled(settings: Settings) -> LaunchForm:
    """A form with a valid config, ready to start."""
    form = LaunchForm(settings)
    form.skin.value = "Aldric"
    form.voice_select.value = ("en_US-joe-medium",)
    form.upload.value = ({"name": "good.csv", "type": "text/csv", "size": len(GOOD),
                          "content": memoryview(GOOD), "last_modified": datetime.now(UTC)},)
    return form


def text(value: str) -> str:
    return html.unescape(value)


def test_only_a_lead_may_start_or_cancel_jobs(settings: Settings, visit: Visit) -> None:
    assert jobs_refusal(settings) == "", "outside Voila: the CLI's lead"
    visit("dana")
    assert jobs_refusal(settings) == REFUSED
    visit("lena")
    assert jobs_refusal(settings) == ""


def test_a_designer_sees_a_disabled_start_with_the_reason(settings: Settings, root: Path,
                                                          visit: Visit) -> None:
    visit("dana")
    form = filled(settings)
    assert form.errors.value == "", "the config itself is fine"
    assert form.start.disabled
    assert REFUSED in text(form.role_note.value)
    assert form.submit() is None  # as if clicked anyway: refused in Python too
    assert REFUSED in text(form.status.value)
    assert registry.recent(root) == []


def test_a_lead_starts_and_sees_no_note(settings: Settings, root: Path, visit: Visit) -> None:
    visit("lena")
    form = filled(settings)
    assert not form.start.disabled and form.role_note.value == ""
    form.start.click()
    assert form.task_id and registry.get(root, form.task_id)["state"] == "QUEUED"


def test_a_role_lost_meanwhile_refuses_the_start(settings: Settings, root: Path,
                                                 visit: Visit) -> None:
    visit("lena")
    form = filled(settings)
    assert not form.start.disabled
    people.remove_user(root, "lena")
    assert form.submit() is None
    assert "lena is a viewer" in text(form.status.value)
    assert form.start.disabled
    assert registry.recent(root) == []


def test_the_monitor_offers_cancel_to_leads_only(settings: Settings, root: Path,
                                                 visit: Visit) -> None:
    registry.create(root, "t1", {"skin_name": "S", "voice_ids": ["v"]})
    visit("dana")
    monitor = JobMonitor(settings)
    note, row = monitor.rows.children
    assert REFUSED in text(note.value)
    assert not any(getattr(c, "description", "") == "Cancel" for c in row.children)
    assert not monitor.cancel("t1")
    assert registry.get(root, "t1")["state"] == "QUEUED"
    visit("lena")
    monitor.refresh()  # the role is asked anew at every refresh
    [row] = monitor.rows.children
    assert any(getattr(c, "description", "") == "Cancel" for c in row.children)
    assert monitor.cancel("t1")
    assert registry.get(root, "t1")["state"] == "REVOKED"


def test_finished_jobs_need_no_explanation(settings: Settings, root: Path, visit: Visit) -> None:
    registry.create(root, "t1", {"skin_name": "S", "voice_ids": ["v"]})
    registry.set_fields(root, "t1", state="SUCCESS", progress={"done": 1, "total": 1},
                        result={"batch_ids": ["B1"], "failed": []})
    visit("dana")
    assert len(JobMonitor(settings).rows.children) == 1
