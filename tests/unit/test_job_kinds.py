"""The job kinds (`voicelab.jobs.kinds`): a config is checked once, where it is submitted, into a
typed job whose JSON the queue, the record and the notebook carry; the worker and the runner
rebuild it without checking it or parsing its script again. Runs here replace the engine and
the work with stand-ins (the notebook by the runner in this process)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.batches import make_batch
from voicelab import generation, jobs
from voicelab.config import Settings
from voicelab.errors import JobConfigError
from voicelab.jobs import kinds, registry, runner
from voicelab.jobs.execute import execute_job
from voicelab.jobs.kinds import generate as generate_kind
from voicelab.jobs.kinds import more as more_kind
from voicelab.jobs.kinds import sync as sync_kind

GENERATE = {"skin_name": "Knight", "voice_ids": ["en_US-joe-medium"], "engine": "piper",
            "script_csv": "Function,Line\nHi_1,Hello there.\nBye_1,Farewell.\n",
            "settings": {"stability": [0.3, 0.6]}, "seed": 7}
EDITED = "Function,Line\nLine_1,Text of Line_1.\nLine_2,Louder!\nLine_4,A new one.\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(audio_root=tmp_path, speech_check=False)


@pytest.fixture
def batch(settings: Settings) -> Path:
    return make_batch(settings.audio_root, lines=3)


def configs(batch_id: str) -> dict[str, dict[str, Any]]:
    """A raw config of every kind in KINDS."""
    return {"generate": GENERATE,
            "more": {"kind": "more", "batch_id": batch_id, "line": "Line_2", "takes": 2,
                     "like": None, "requested_by": "dana"},
            "sync": {"kind": "sync", "batch_id": batch_id, "script_csv": EDITED,
                     "script_name": "edited.csv", "requested_by": "lena"},
            "export": {"kind": "export", "batch_id": batch_id, "preset": "wwise",
                       "loudness": -20, "requested_by": "lena"}}


class InProcess:
    """Stands in for the worker's notebook kernels: runs the notebook's code here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, report: Path, config: dict[str, Any], task_id: str) -> None:
        runner.run(config=config, task_id=task_id, settings=self.settings)


def deliver(settings: Settings, task_id: str, config: dict[str, Any]) -> dict[str, Any]:
    """A worker's delivery of the job, the notebook run in this process."""
    return execute_job(settings, task_id, json.dumps(config), hostname="test",
                       kernels=InProcess(settings))  # type: ignore[arg-type]


def calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[Any]:
    """Count the calls of `module.name` (still called through)."""
    seen: list[Any] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return seen


def made(batch_dir: Path) -> generation.GenerationResult:
    return generation.GenerationResult([batch_dir.name], [batch_dir], 2, 2, [])


def stand_in(monkeypatch: pytest.MonkeyPatch, module: object, work: str,
             result: Any) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Replace a kind module's engines by their names and its `work` by a recorder answering
    `result`; the calls it records."""
    ran: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(module, "get_engine", lambda name, settings: f"engine {name}")
    monkeypatch.setattr(module, work, lambda *args, **kwargs: (ran.append((args, kwargs)),
                                                               result)[-1])
    return ran


def test_every_kind_is_named_by_its_configs_kind_and_a_config_without_one_generates(
        batch: Path) -> None:
    for name, config in configs(batch.name).items():
        assert kinds.kind_of(config) is kinds.KINDS[name]
        assert kinds.KINDS[name].name == name
    for odd in (None, [], {"kind": ["more"]}, {"kind": "nope"}):
        assert kinds.kind_of(odd) is kinds.Generate


def test_a_kind_it_does_not_know_is_refused_as_a_generation_field(settings: Settings) -> None:
    with pytest.raises(JobConfigError, match="unknown field 'kind'"):
        kinds.check({**GENERATE, "kind": "audition"}, settings)


@pytest.mark.parametrize("name", ["generate", "more", "sync", "export"])
def test_the_json_of_a_checked_job_rebuilds_the_same_job(settings: Settings, batch: Path,
                                                         name: str) -> None:
    job = kinds.check(configs(batch.name)[name], settings)
    data = json.loads(json.dumps(job.to_json()))
    assert kinds.from_json(data) == job and kinds.from_json(data).to_json() == data
    assert {"skin_name", "voice_ids", "engine"} <= set(data)


def test_a_generation_jobs_json_keeps_its_params_so_it_resumes_the_same_batch(
        settings: Settings) -> None:
    job = kinds.check(GENERATE, settings)
    assert isinstance(job, kinds.Generate)
    rebuilt = kinds.from_json(json.loads(json.dumps(job.to_json())))
    assert isinstance(rebuilt, kinds.Generate)
    assert rebuilt.config.params() == job.config.params()
    assert "script_csv" not in job.to_json()  # parsed: the worker reads and parses nothing


def test_a_sync_job_is_checked_and_its_script_parsed_once_from_submit_to_run(
        settings: Settings, batch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = calls(monkeypatch, sync_kind, "parse_script")
    ran = stand_in(monkeypatch, sync_kind, "run_sync", (None, made(batch)))
    task_id = jobs.submit(settings, configs(batch.name)["sync"])
    assert len(parses) == 1
    record = registry.get(settings.audio_root, task_id)
    assert record["config"]["kind"] == "sync" and record["skin"] == "Skin"
    result = deliver(settings, task_id, record["config"])
    assert len(parses) == 1
    (((_, script, engine), kw),) = ran
    assert [line.function for line in script.lines] == ["Line_1", "Line_2", "Line_4"]
    assert (engine, kw["person"], kw["job_id"]) == ("engine piper", "lena", task_id)
    assert result["done"] == 2 and result["batch_ids"] == [batch.name]
    assert registry.get(settings.audio_root, task_id)["state"] == "SUCCESS"


def test_a_more_job_is_checked_once_from_submit_to_run(
        settings: Settings, batch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = calls(monkeypatch, more_kind, "parse_more")
    ran = stand_in(monkeypatch, more_kind, "run_more", made(batch))
    task_id = jobs.submit(settings, configs(batch.name)["more"])
    deliver(settings, task_id, registry.get(settings.audio_root, task_id)["config"])
    assert len(parses) == 1
    (((_, job, engine), kw),) = ran
    assert (job.batch_id, job.line, job.takes, job.like, kw["person"], engine) == (
        batch.name, "Line_2", 2, None, "dana", "engine piper")
    assert more_kind.pending_lines(settings.audio_root, batch.name) == {}


def test_a_generation_job_is_parsed_once_from_submit_to_run(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = calls(monkeypatch, generate_kind, "parse_config")
    ran: list[Any] = []

    class Engine:
        shares_quota = False

    monkeypatch.setattr(generate_kind, "get_engine", lambda name, settings: Engine())
    monkeypatch.setattr(generation, "generate", lambda config, root, engine, **kw: (
        ran.append(config), generation.GenerationResult([], [], 2, 2, []))[-1])
    task_id = jobs.submit(settings, GENERATE)
    deliver(settings, task_id, registry.get(settings.audio_root, task_id)["config"])
    assert len(parses) == 1
    assert ran == [kinds.check(GENERATE, settings).config]  # type: ignore[attr-defined]


def test_a_config_nobody_checked_is_checked_by_the_worker_once(
        settings: Settings, batch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A direct delivery, and a job an older VoiceLab recorded with its raw config."""
    parses = calls(monkeypatch, sync_kind, "parse_script")
    stand_in(monkeypatch, sync_kind, "run_sync", (None, made(batch)))
    raw = configs(batch.name)["sync"]
    deliver(settings, "direct-delivery", raw)
    assert len(parses) == 1
    registry.create(settings.audio_root, "recorded-raw", raw)
    deliver(settings, "recorded-raw", raw)
    assert len(parses) == 2
    assert registry.get(settings.audio_root, "recorded-raw")["state"] == "SUCCESS"
