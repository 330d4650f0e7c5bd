"""The launch form validates like the API, estimates and queues a real job; the monitor shows it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from voicelab.config import Settings
from voicelab.engines import Voice
from voicelab.errors import JobConfigError
from voicelab.jobs import liveness, registry
from voicelab.jobspec import MAX_VOICES, parse_config
from voicelab.widgets.launch import JobMonitor, LaunchForm, jobs_view

GOOD = b"Function,Line\nIntro_1,Hello there.\nIntro_2,\"Well met, traveller.\"\n"
BAD = b"Function,Line\nIntro 1,Hello.\nIntro_2,\n"


def errors(form: LaunchForm) -> list[str]:
    """The problems the form shows, as text."""
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", form.errors.value)]


def upload(form: LaunchForm, name: str, data: bytes) -> None:
    form.upload.value = ({"name": name, "type": "text/csv", "size": len(data),
                          "content": memoryview(data),
                          "last_modified": datetime.now(UTC)},)


@pytest.fixture
def form(settings: Settings) -> LaunchForm:
    return LaunchForm(settings)


def test_starts_disabled_and_names_what_is_missing(form: LaunchForm) -> None:
    assert form.start.disabled
    assert form.engine.value == "piper"
    # Piper offers one voice here: it is the choice, so the form does not ask for one.
    assert [value for _, value in form.voice_select.options] == ["en_US-joe-medium"]
    assert form.voice_select.value == ("en_US-joe-medium",)
    assert errors(form) == ["Name the skin, e.g. Aldric.",
                            "Upload a script: a CSV with Function and Line columns."]


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


# --- the form's words -----------------------------------------------------------------------

# What the API and the CLI call things; the form's messages name its controls instead.
CONFIG_WORDS = ("skin_name", "voice_ids", "model_id", "script_csv", "script_path", "settings.",
                "use_speaker_boost", "similarity_boost", "non-empty", "list of voice ids")


def piper_voices(count: int) -> list[Voice]:
    return [Voice(id=f"v{n}", name=f"Voice {n}", engine="piper") for n in range(count)]


def test_with_several_voices_none_is_chosen_and_the_form_asks_for_one(settings: Settings,
                                                                      ) -> None:
    form = LaunchForm(settings, voices=piper_voices(2))
    assert form.voice_select.value == ()
    assert "Pick at least one voice." in errors(form)
    form.voice_select.value = ("v1",)
    assert "Pick at least one voice." not in errors(form)


def test_the_only_voice_once_cleared_stays_cleared(form: LaunchForm) -> None:
    form.voice_select.value = ()
    form.search.value = "joe"  # filtering again does not pick it behind the user's back
    assert form.voice_select.value == ()
    assert "Pick at least one voice." in errors(form)


@pytest.mark.parametrize(("state", "message"), [
    ({"skin": ""}, "Name the skin, e.g. Aldric."),
    ({"skin": "   "}, "Name the skin, e.g. Aldric."),
    ({"skin": "A" * 101}, "Shorten the skin name to 100 characters or fewer."),
    ({"voices": 0}, "Pick at least one voice."),
    ({"voices": MAX_VOICES + 1}, f"Pick at most {MAX_VOICES} voices."),
    ({"script": None}, "Upload a script: a CSV with Function and Line columns."),
], ids=["no-skin", "blank-skin", "long-skin", "no-voice", "too-many-voices", "no-script"])
def test_every_problem_of_the_form_speaks_its_language(settings: Settings, state: dict[str, Any],
                                                       message: str) -> None:
    form = LaunchForm(settings, voices=piper_voices(MAX_VOICES + 1))
    form.skin.value = state.get("skin", "Aldric")
    form.voice_select.value = tuple(f"v{n}" for n in range(state.get("voices", 1)))
    if state.get("script", GOOD):
        upload(form, "good.csv", GOOD)
    assert errors(form) == [message]
    assert form.start.disabled


def test_problems_of_the_script_name_its_file_rows_and_columns(form: LaunchForm) -> None:
    form.skin.value = "Aldric"
    upload(form, "bad.csv", BAD)
    shown = errors(form)
    assert len(shown) == 2
    assert shown[0].startswith("bad.csv: row 2: Function 'Intro 1' cannot name a take file")
    assert shown[1] == "bad.csv: row 3: Line is empty"
    upload(form, "book.xlsx", b"PK\x03\x04" + bytes(64))
    assert errors(form) == ["book.xlsx: not a CSV text file: it looks like a zip archive"]


def test_no_problem_jobspec_can_raise_comes_out_in_the_apis_words(form: LaunchForm) -> None:
    """Whatever jobspec finds (even what the form's controls cannot cause), the form words it
    without the config's field names; the API keeps jobspec's own messages."""
    bad = [
        {"skin_name": "", "voice_ids": [], "variants": 0, "engine": "nope", "model_id": "",
         "settings": {"stability": [0.9, 0.1], "speed": 5, "style": "x",
                      "similarity_boost": -1, "use_speaker_boost": "yes"}},
        {"skin_name": "A" * 101, "voice_ids": [f"v{n}" for n in range(MAX_VOICES + 1)],
         "script_csv": 12},
        {"skin_name": "S", "voice_ids": ["v"], "script_path": "/no/such/script.csv"},
        {"skin_name": "S", "voice_ids": ["v"], "script_csv": "x", "script_path": "y.csv"},
    ]
    problems = []
    for config in bad:
        with pytest.raises(JobConfigError) as caught:
            parse_config(config)
        problems += caught.value.problems
    fields = {p.field for p in problems}
    assert {"skin_name", "voice_ids", "variants", "engine", "model_id", "settings.stability",
            "settings.speed", "settings.style", "settings.similarity_boost",
            "settings.use_speaker_boost", "script_csv"} <= fields
    for problem in problems:
        words = form._explain(problem)
        assert not [w for w in CONFIG_WORDS if w in words], (problem, words)
        if problem.field not in (None, "Function", "Line"):  # those start with the file's name
            assert words[:1].isupper(), words


def test_a_refused_start_speaks_the_forms_words_too(form: LaunchForm, root: Path) -> None:
    assert form.submit() is None  # as if clicked while invalid: jobs.submit refuses it
    assert "Name the skin, e.g. Aldric." in form.status.value
    assert "skin_name" not in form.status.value
    assert registry.recent(root) == []


def test_the_jobs_page_lists_more_jobs_than_the_launch_page(settings: Settings,
                                                            root: Path) -> None:
    for n in range(12):
        registry.create(root, f"t{n:02}", {"skin_name": f"S{n}", "voice_ids": ["v"]})
    page = jobs_view(settings, refresh_s=3600)
    warning, monitor = page.children
    assert "No job worker is running" in warning.value
    assert "vl-jobs" in monitor._dom_classes
    rows = monitor.children[0].children  # no heading: the page's title says Jobs
    assert len(rows) == 12
    assert len(JobMonitor(settings).rows.children) == 10


def test_with_no_jobs_the_monitor_says_so(settings: Settings) -> None:
    monitor = JobMonitor(settings)
    [empty] = monitor.rows.children
    assert "No jobs yet." in empty.value


@pytest.mark.integration
def test_the_model_list_follows_the_engine(root: Path) -> None:
    """Piper has no models: the model list says so and the config names none; ElevenLabs
    offers the service's models with its default chosen, and the config names it."""
    from tests.fake_elevenlabs import DEFAULT_KEY, FakeElevenLabs
    from voicelab.engines import ENGINES

    with FakeElevenLabs(quota=10_000) as fake:
        form = LaunchForm(Settings(audio_root=root, elevenlabs_api_key=DEFAULT_KEY,
                                   elevenlabs_base_url=fake.url))
        form.engine.value = "piper"
        assert form.model.disabled and form.model.value == ""
        assert "has no models" in form.model.label
        assert "model_id" not in form.config()
        form.engine.value = "elevenlabs"
        default = ENGINES["elevenlabs"].default_model
        assert not form.model.disabled and form.model.value == default
        assert len(form.model.options) > 1, "the service's models, not only the default"
        assert form.config()["model_id"] == default


def test_updating_an_existing_batch_shows_the_plan_then_queues_a_sync(
        settings: Settings, root: Path) -> None:
    from tests.batches import make_batch

    batch = make_batch(root, lines=2)
    make_batch(root, skin="Done", locked=True)
    form = LaunchForm(settings)
    assert [value for _, value in form.target.options] == ["", batch.name]  # no locked batch
    form.target.value = batch.name
    assert form.new_batch.layout.display == "none" and "Update an existing" in form.heading.value
    assert form.start.description == "Update batch" and form.start.disabled
    assert errors(form) == ["Upload a script: a CSV with Function and Line columns."]
    upload(form, "same.csv", b"Function,Line\nLine_1,Text of Line_1.\nLine_2,Text of Line_2.\n")
    assert "0 new, 0 changed, 0 removed, 2 unchanged" in form.estimate.value
    assert form.start.disabled  # nothing to do
    upload(form, "edited.csv", b"Function,Line\nLine_1,Text of Line_1.\nLine_2,Louder!\n"
                               b"Line_3,A new one.\n")
    shown = html.unescape(form.estimate.value)
    assert "1 new, 1 changed, 0 removed, 1 unchanged" in shown
    assert "'Text of Line_2.' -> 'Louder!'" in shown and "6 take(s)" in shown
    assert not form.start.disabled
    task_id = form.submit()
    assert task_id is not None
    config = registry.get(root, task_id)["config"]
    assert config["kind"] == "sync" and config["batch_id"] == batch.name
    assert "Louder!" in [line["text"] for line in config["script"]["lines"]]  # parsed once
    upload(form, "bad.csv", BAD)
    assert form.start.disabled and any("row 2" in e for e in errors(form))
    form.target.value = ""
    assert form.new_batch.layout.display is None and form.start.description == "Start generation"
