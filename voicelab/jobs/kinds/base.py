"""What every job kind is (`JobKind`), what a run is given (`Run`), and what kinds share.

A kind's config is checked once, where the job is submitted (`JobKind.check`), into a typed job
that the queue, the job's record and its report notebook carry as JSON (`to_json`); the worker
and the runner rebuild it (`from_json`) without checking or parsing anything again.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from voicelab import generation, store
from voicelab.config import Settings
from voicelab.errors import BatchNotFound, JobConfigError, Problem
from voicelab.jobs.throttle import Slots
from voicelab.speech import check as speech_check


@dataclass(frozen=True)
class Run:
    """What a run is given beside its job: its id (None outside the queue), where its progress
    goes, when it should stop, and the request slots a shared budget lends (None: its own)."""

    job_id: str | None = None
    progress: Callable[[generation.Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None
    slots: Slots | None = None


class JobKind(abc.ABC):
    """One kind of job, checked: subclasses are frozen dataclasses holding what the run needs.

    `name` is the config's `kind` ("generate": a config without one). A new kind is a module of
    `voicelab.jobs.kinds` with one of these, and a line in `KINDS`.
    """

    name: ClassVar[str]

    @classmethod
    @abc.abstractmethod
    def check(cls, raw: Mapping[str, Any], settings: Settings,
              base_dir: Path | None = None) -> Self:
        """The job a raw config asks for, every problem refused (JobConfigError, or the
        ScriptError of a bad script); `base_dir` resolves relative paths (papermill's file)."""

    @classmethod
    @abc.abstractmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The job `to_json` wrote, as it was checked (not checked again)."""

    @abc.abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The job as JSON, as the task, the record and the notebook carry it (no secret); its
        `skin_name`, `voice_ids` and `engine` name what the job list shows."""

    @abc.abstractmethod
    def run(self, settings: Settings, run: Run) -> dict[str, Any]:
        """Run the job; its result `{batch_ids, failed, done, total, cancelled}` (and what the
        kind adds)."""


def requested_by(raw: Mapping[str, Any]) -> str:
    """Who asked for a job on an existing batch (its takes and history entries are theirs)."""
    return str(raw.get("requested_by") or "cli")


def job_batch(settings: Settings, batch_id: object) -> store.Metadata:
    """The metadata of the batch a job on an existing batch (more, sync, export) names.

    Raises:
        JobConfigError: `batch_id` is not a non-empty string, or no batch has it.
    """
    if not isinstance(batch_id, str) or not batch_id:
        raise JobConfigError([Problem("batch_id must be a non-empty string", field="batch_id",
                                      value=batch_id)])
    try:
        return store.load_metadata(store.find_batch(settings.audio_root, batch_id))
    except BatchNotFound:
        raise JobConfigError([Problem(f"no batch {batch_id!r}", field="batch_id",
                                      value=batch_id)]) from None


@dataclass(frozen=True)
class Shown:
    """What the job list shows of a job on an existing batch: the batch's skin, voices and
    engine (the engine its new takes are made with)."""

    skin_name: str
    voice_ids: tuple[str, ...]
    engine: str

    @classmethod
    def of(cls, metadata: store.Metadata, settings: Settings) -> Shown:
        params = metadata.get("generation_params") or {}
        return cls(metadata["skin_name"], tuple(params.get("voice_ids") or ()),
                   params.get("engine") or settings.default_engine)

    def to_json(self) -> dict[str, Any]:
        return {"skin_name": self.skin_name, "voice_ids": list(self.voice_ids),
                "engine": self.engine}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Shown:
        return cls(data["skin_name"], tuple(data["voice_ids"]), data["engine"])


def takes_made(settings: Settings, outcome: generation.GenerationResult) -> dict[str, Any]:
    """The result of a run that made takes, after the speech check of those takes (never
    failing the job: see voicelab.speech.check.after_job)."""
    if not outcome.cancelled:
        speech_check.after_job(settings, outcome.batch_dirs)
    return {"batch_ids": outcome.batch_ids, "failed": outcome.failed, "done": outcome.done,
            "total": outcome.total, "cancelled": outcome.cancelled}
