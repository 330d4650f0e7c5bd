"""Line jobs in the job queue: validating and running a job config whose `kind` is a line
operation ("more"), beside generation jobs (no `kind`, or "generate").

The queue, the worker, the report notebook and the registry treat every kind alike; only
validation (`check`) and the run (`run`) differ, and both are decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from voicelab import generation, store
from voicelab.config import Settings
from voicelab.engines import get_engine
from voicelab.errors import BatchNotFound, JobConfigError, Problem
from voicelab.lines import more

LINE_KINDS = (more.KIND,)


def is_line_job(raw: object) -> bool:
    """Whether a job config is a line job (else it is a generation job)."""
    return isinstance(raw, Mapping) and raw.get("kind") in LINE_KINDS


def check(raw: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """A line job's config, validated against its batch, with what the job list shows
    (`skin_name`, `voice_ids`, `engine` of the batch) added.

    Raises:
        JobConfigError: a bad field, an unknown batch, or a request that cannot be planned.
    """
    job = more.parse_more(raw)
    try:
        batch_dir = store.find_batch(settings.audio_root, job.batch_id)
    except BatchNotFound:
        raise JobConfigError([Problem(f"no batch {job.batch_id!r}", field="batch_id",
                                      value=job.batch_id)]) from None
    metadata = store.load_metadata(batch_dir)
    params = metadata.get("generation_params") or {}
    return {**raw, "skin_name": metadata["skin_name"],
            "voice_ids": list(params.get("voice_ids") or []),
            "engine": params.get("engine") or settings.default_engine}


def run(raw: Mapping[str, Any], settings: Settings, *, job_id: str | None = None,
        progress: Callable[[generation.Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> generation.GenerationResult:
    """Run a line job (see `more.run_more`), in the name of who asked for it."""
    config = check(raw, settings)
    job = more.parse_more({k: v for k, v in raw.items() if k in more.FIELDS})
    engine = get_engine(config["engine"], settings)
    return more.run_more(settings, job, engine, person=str(raw.get("requested_by") or "cli"),
                         progress=progress, should_stop=should_stop, job_id=job_id)
