"""Line jobs in the job queue: validating and running a job config whose `kind` is a line
operation ("more": more takes of one line; "sync": update a batch from an edited script, with
`batch_id`, `script_csv` and `script_name`), beside generation jobs (no `kind`).

The queue, the worker, the report notebook and the registry treat every kind alike; only
validation (`check`) and the run (`run`) differ, and both are decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from voicelab import generation, store
from voicelab.config import Settings
from voicelab.engines import ENGINES, get_engine
from voicelab.errors import JobConfigError, Problem
from voicelab.jobspec import job_batch, shown_fields
from voicelab.lines import more, sync
from voicelab.script import Script, parse_script

SYNC = "sync"
LINE_KINDS = (more.KIND, SYNC)
SYNC_FIELDS = ("kind", "batch_id", "script_csv", "script_name", "requested_by", *more.SHOWN)


def is_line_job(raw: object) -> bool:
    """Whether a job config is a line job (else it is a generation job)."""
    return isinstance(raw, Mapping) and raw.get("kind") in LINE_KINDS


def sync_script(raw: Mapping[str, Any], metadata: store.Metadata) -> Script:
    """A sync job's script, parsed with its batch engine's text limit.

    Raises:
        JobConfigError: unknown fields or no script. ScriptError: the script's own problems.
    """
    problems = [Problem(f"unknown field {key!r}", field=key)
                for key in sorted(set(raw) - set(SYNC_FIELDS))]
    text = raw.get("script_csv")
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem("script_csv must be the edited script's CSV text",
                                field="script_csv"))
    if problems:
        raise JobConfigError(problems)
    params = metadata.get("generation_params") or {}
    engine = ENGINES.get(params.get("engine") or "")
    limit = engine.text_limit(params.get("model_id")) if engine else 10_000
    return parse_script(str(text).encode("utf-8"), name=str(raw.get("script_name") or
                                                              "script.csv"),
                        max_text_length=limit)


def check(raw: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """A line job's config, validated against its batch, with what the job list shows
    (`skin_name`, `voice_ids`, `engine` of the batch) added.

    Raises:
        JobConfigError: a bad field, an unknown batch, or a request that cannot be planned.
        ScriptError: a sync's script is invalid.
    """
    if raw.get("kind") == SYNC:
        metadata = job_batch(settings, raw.get("batch_id"))
        sync_script(raw, metadata)
    else:
        metadata = job_batch(settings, more.parse_more(raw).batch_id)
    return {**raw, **shown_fields(metadata, settings)}


def run(raw: Mapping[str, Any], settings: Settings, *, job_id: str | None = None,
        progress: Callable[[generation.Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> generation.GenerationResult:
    """Run a line job (`more.run_more`, or `sync.run_sync`) in the name of who asked for it."""
    config = check(raw, settings)
    engine = get_engine(config["engine"], settings)
    person = str(raw.get("requested_by") or "cli")
    if raw.get("kind") == SYNC:
        batch_dir = store.find_batch(settings.audio_root, str(raw["batch_id"]))
        metadata = store.load_metadata(batch_dir)
        _plan, result = sync.run_sync(
            batch_dir, sync_script(raw, metadata), engine,
            dictionary=more.batch_dictionary(batch_dir, metadata, settings), person=person,
            concurrency=settings.concurrency, progress=progress, should_stop=should_stop,
            job_id=job_id)
        return result
    job = more.parse_more({k: v for k, v in raw.items() if k in more.FIELDS})
    return more.run_more(settings, job, engine, person=person, progress=progress,
                         should_stop=should_stop, job_id=job_id)
