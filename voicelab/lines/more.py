"""More takes for one line of an existing batch: the request, its estimate and the run.

A "more" job is a job config of its own kind (`{"kind": "more", "batch_id", "line", "takes",
"like", "text"}`; queued as `voicelab.jobs.kinds.more`): the same queue, worker, report
notebook and registry as a generation job, so `voicelab jobs`, the jobs dashboard and cancel
work alike. Run here and now
(`voicelab more`), or by the worker, it does the same: refuse a locked batch, mark the line's
current takes stale when the text was edited, then make the planned takes into the batch
(`generation.generate_takes`). Only that line's characters are spent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import generation, store
from voicelab.config import Settings
from voicelab.engines import Engine
from voicelab.engines.quota import quota_share
from voicelab.errors import BatchLocked, JobConfigError, Problem
from voicelab.lines.marks import mark_stale
from voicelab.lines.plan import MAX_MORE, MorePlan, plan_more
from voicelab.pronunciation import Dictionary

KIND = "more"
FIELDS = ("kind", "batch_id", "line", "takes", "like", "text", "requested_by")
SHOWN = ("skin_name", "voice_ids", "engine")
"""Fields a queued line job carries for the job list (taken from its batch), ignored here."""


@dataclass(frozen=True)
class MoreJob:
    """A validated "more takes" request."""

    batch_id: str
    line: str
    takes: int = 3
    like: int | str | None = "auto"
    text: str | None = None

    def config(self) -> dict[str, Any]:
        """The job config (JSON) that asks for these takes."""
        return {"kind": KIND, "batch_id": self.batch_id, "line": self.line,
                "takes": self.takes, "like": self.like, "text": self.text}


def batch_dictionary(batch_dir: Path, metadata: store.Metadata,
                     settings: Settings) -> Dictionary | None:
    """The pronunciation dictionary new takes of a batch use: VOICELAB_PRONUNCIATIONS when set,
    else the batch's own copy of the one its newest takes were made with, else (batches made
    before the copy existed) the file named in its `generation_params`, if it is still there.

    Raises:
        PronunciationError: the file is broken.
    """
    from voicelab import pronunciation

    if settings.pronunciations is not None:
        return pronunciation.load(settings.pronunciations)
    copy = Path(batch_dir) / pronunciation.BATCH_COPY
    if copy.is_file():
        return pronunciation.load(copy)
    source = (metadata.get("generation_params") or {}).get("pronunciations")
    if isinstance(source, str) and Path(source).is_file():
        return pronunciation.load(Path(source))
    return None


def parse_more(raw: Mapping[str, Any]) -> MoreJob:
    """Validate a "more" job config; JobConfigError lists every problem (field and value).

    `takes` 1..MAX_MORE (default 3); `like` "auto" (default: like the rank-1 take when the line
    has one), a rank 1-5, or null (the batch's ranges); `text` an edited text or null.
    """
    problems = [Problem(f"unknown field {key!r}", field=key)
                for key in sorted(set(raw) - set(FIELDS) - set(SHOWN))]
    batch_id, line = raw.get("batch_id"), raw.get("line")
    for name, value in (("batch_id", batch_id), ("line", line)):
        if not isinstance(value, str) or not value:
            problems.append(Problem(f"{name} must be a non-empty string", field=name, value=value))
    takes = raw.get("takes", 3)
    if isinstance(takes, bool) or not isinstance(takes, int) or not 1 <= takes <= MAX_MORE:
        problems.append(Problem(f"takes must be a whole number from 1 to {MAX_MORE}",
                                field="takes", value=takes))
    like = raw.get("like", "auto")
    if like not in ("auto", None) and (isinstance(like, bool) or like not in store.RANKS):
        problems.append(Problem('like must be "auto", a rank 1-5 or null', field="like",
                                value=like))
    text = raw.get("text")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        problems.append(Problem("text must be the edited line (non-empty) or null", field="text",
                                value=text))
    if problems:
        raise JobConfigError(problems)
    return MoreJob(str(batch_id), str(line), takes, like, text)


def plan_job(metadata: store.Metadata, job: MoreJob, takes: int | None = None) -> MorePlan:
    """The job's plan (`takes` of them, default the job's; 0 plans none).

    Raises:
        LineError: the request cannot be planned (see plan_more).
    """
    count = job.takes if takes is None else takes
    plan = plan_more(metadata, job.line, takes=max(1, count), like=job.like, text=job.text)
    return plan if count else MorePlan(plan.line, plan.text, False, plan.like, [])


def estimate_more(metadata: store.Metadata, line: str, *, takes: int = 3,
                  like: int | str | None = "auto", text: str | None = None,
                  dictionary: Dictionary | None = None,
                  engine: Engine | None = None) -> dict[str, Any]:
    """What the request will spend, before anything is spent: takes, requests, characters
    (after pronunciation substitution), the text and whether it changed, how settings are
    chosen, and with an `engine` its quota share (None without a quota).

    Raises:
        LineError: the request cannot be planned (see plan_more).
    """
    from voicelab.pronunciation import substitute

    plan = plan_more(metadata, line, takes=takes, like=like, text=text)
    characters = len(substitute(plan.text, dictionary)) * len(plan.takes)
    return {"line": line, "takes": len(plan.takes), "requests": len(plan.takes),
            "characters": characters, "text": plan.text, "text_changed": plan.text_changed,
            "like": plan.like, "first_take": plan.takes[0].take_number,
            "quota": quota_share(engine, characters) if engine is not None else None}


def run_more(settings: Settings, job: MoreJob, engine: Engine, *, person: str = "cli",
             progress: Callable[[generation.Progress], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             job_id: str | None = None) -> generation.GenerationResult:
    """Make the takes now (see the module). A job run again (its worker died) makes only the
    takes it has not made yet: they carry its `job_id`.

    Raises:
        BatchNotFound, BatchLocked, LineError, MetadataError, EngineError (fatal ones).
    """
    batch_dir = store.find_batch(settings.audio_root, job.batch_id)
    if store.is_locked(batch_dir):
        raise BatchLocked(job.batch_id)
    metadata = store.load_metadata(batch_dir)
    made = sum(t.get("job_id") == job_id for t in metadata["takes"]) if job_id else 0
    plan = plan_job(metadata, job, max(0, job.takes - made))
    if plan.text_changed:
        mark_stale(batch_dir, {job.line: None}, person=person)
    return generation.generate_takes(
        batch_dir, plan.takes, engine, model_id=metadata["generation_params"].get("model_id"),
        pronunciations=batch_dictionary(batch_dir, metadata, settings),
        concurrency=settings.concurrency, progress=progress, should_stop=should_stop,
        person=person, job_id=job_id)

