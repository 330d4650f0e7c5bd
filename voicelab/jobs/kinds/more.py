"""More takes of one line as a queued job (`kind` "more"; the work is `voicelab.lines.more`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from voicelab import store
from voicelab.config import Settings
from voicelab.engines import get_engine
from voicelab.errors import BatchLocked
from voicelab.jobs import registry
from voicelab.jobs.kinds.base import JobKind, Run, Shown, job_batch, requested_by, takes_made
from voicelab.lines.more import KIND, MoreJob, parse_more, plan_job, run_more


@dataclass(frozen=True)
class More(JobKind):
    """More takes of a line, in the name of who asked (`requested_by`)."""

    name: ClassVar[str] = KIND
    job: MoreJob
    requested_by: str
    shown: Shown

    @classmethod
    def check(cls, raw: Mapping[str, Any], settings: Settings,
              base_dir: Path | None = None) -> More:
        job = parse_more(raw)
        return cls(job, requested_by(raw), Shown.of(job_batch(settings, job.batch_id), settings))

    @classmethod
    def request(cls, settings: Settings, batch_dir: Path, line: str, *, takes: int = 3,
                like: int | str | None = "auto", text: str | None = None,
                person: str = "cli") -> More:
        """The job `voicelab more`, the board and the API queue for `line` of the batch.

        Raises:
            BatchLocked: the batch is locked. JobConfigError: a bad request.
            LineError: it cannot be planned.
        """
        metadata = store.load_metadata(batch_dir)
        if store.is_locked(batch_dir):
            raise BatchLocked(metadata["batch_id"])
        job = parse_more({"kind": KIND, "batch_id": metadata["batch_id"], "line": line,
                          "takes": takes, "like": like, "text": text})
        return cls.planned(settings, metadata, job, person)

    @classmethod
    def planned(cls, settings: Settings, metadata: store.Metadata, job: MoreJob,
                person: str) -> More:
        """The job of a request already parsed, once it is known to plan (else LineError)."""
        plan_job(metadata, job)
        return cls(job, person, Shown.of(metadata, settings))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> More:
        job = MoreJob(data["batch_id"], data["line"], data["takes"], data["like"], data["text"])
        return cls(job, data["requested_by"], Shown.from_json(data))

    def to_json(self) -> dict[str, Any]:
        return {**self.job.config(), "requested_by": self.requested_by, **self.shown.to_json()}

    def run(self, settings: Settings, run: Run) -> dict[str, Any]:
        engine = get_engine(self.shown.engine, settings)
        return takes_made(settings, run_more(
            settings, self.job, engine, person=self.requested_by, progress=run.progress,
            should_stop=run.should_stop, job_id=run.job_id))


def pending_lines(root: Path, batch_id: str) -> dict[str, str]:
    """Lines of the batch with a "more" job queued or running: line -> task id."""
    pending = {}
    for record in registry.unfinished(root):
        config = record.get("config") or {}
        if config.get("kind") == KIND and config.get("batch_id") == batch_id:
            pending[str(config.get("line"))] = record["task_id"]
    return pending
