"""The job registry: one JSON record per submitted job, under `<AUDIO_ROOT>/.jobs/`.

Celery's result backend answers "what state is task X in", but cannot list jobs, cannot tell a
queued job from an id never submitted (both are PENDING), and forgets the config. The registry
keeps those facts on the file system every worker already shares (AUDIO_ROOT), so it works the
same with Redis and with the embedded default, and it carries the cooperative cancel flag and
the heartbeat that lets a surviving worker take over the job of a worker that died.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from voicelab.clock import utc_now
from voicelab.locks import file_lock
from voicelab.store import atomic_write_bytes

JOBS_DIR = ".jobs"
TERMINAL = frozenset({"SUCCESS", "FAILURE", "REVOKED"})
RUNNING = frozenset({"STARTED", "PROGRESS"})
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

Record = dict[str, Any]
_T = TypeVar("_T")


def jobs_dir(root: Path) -> Path:
    """`<root>/.jobs`, created on first use."""
    path = Path(root) / JOBS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def valid_task_id(task_id: str) -> bool:
    """Task ids become file names: letters, digits, `-` and `_` only."""
    return bool(_TASK_ID.fullmatch(task_id))


def record_path(root: Path, task_id: str) -> Path:
    """The record's file; KeyError for an id that could escape the folder."""
    if not valid_task_id(task_id):
        raise KeyError(task_id)
    return jobs_dir(root) / f"{task_id}.json"


def report_path(root: Path, task_id: str) -> Path:
    """Where a job's executed notebook (its report) is kept."""
    return record_path(root, task_id).with_suffix(".ipynb")


def create(root: Path, task_id: str, config: dict[str, Any]) -> Record:
    """Record a job as submitted (state QUEUED) before it is sent to the broker."""
    record: Record = {
        "task_id": task_id,
        "submitted_at": utc_now(),
        "skin": config.get("skin_name"),
        "voices": list(config.get("voice_ids") or []),
        "engine": config.get("engine"),
        "state": "QUEUED",
        "queued_at": time.time(),
        "progress": None,
        "result": None,
        "error": None,
        "cancel_requested": False,
        "heartbeat": None,
        "worker": None,
        "started_at": None,
        "finished_at": None,
        "attempts": 0,
        "config": config,
    }
    _write(record_path(root, task_id), record)
    return record


def get(root: Path, task_id: str) -> Record | None:
    """The job's record, or None for an id never submitted here."""
    try:
        record: Record = json.loads(record_path(root, task_id).read_text("utf-8"))
    except (KeyError, FileNotFoundError, json.JSONDecodeError):
        return None
    return record


def update(root: Path, task_id: str, change: Callable[[Record], None]) -> Record | None:
    """Locked read-modify-write of one record; None when the job is unknown."""
    return transition(root, task_id, change)[1]


def transition(root: Path, task_id: str,
               change: Callable[[Record], _T]) -> tuple[_T | None, Record | None]:
    """Locked read-modify-write of one record, returning what `change` decided and the record
    as written; `(None, None)` when the job is unknown."""
    if not valid_task_id(task_id):
        return None, None
    path = record_path(root, task_id)
    with file_lock(str(path) + ".lock"):
        record = get(root, task_id)
        if record is None:
            return None, None
        decided = change(record)
        _write(path, record)
        return decided, record


def set_fields(root: Path, task_id: str, **fields: Any) -> Record | None:
    """Locked update of some fields; None when the job is unknown."""
    return update(root, task_id, lambda record: record.update(fields))


def settled_progress(record: Record, result: dict[str, Any]) -> dict[str, Any]:
    """The progress a finished job shows: its result's counts, not the last snapshot reported.

    Snapshots are throttled and come from several threads, so the last one seen can lag the
    outcome; every face (CLI, launch page, API) shows this instead once the job has ended.
    """
    return {**(record.get("progress") or {}), "done": result.get("done", 0),
            "total": result.get("total", 0), "failed": len(result.get("failed") or []),
            "eta_s": 0, "current": "", "batch_ids": list(result.get("batch_ids") or [])}


def finish(root: Path, task_id: str, state: str, result: dict[str, Any]) -> Record | None:
    """Record a job's end with its result, its settled progress and the time."""
    def settle(record: Record) -> None:
        record.update(state=state, result=result, finished_at=utc_now(),
                      progress=settled_progress(record, result))

    return update(root, task_id, settle)


def recent(root: Path, limit: int = 50) -> list[Record]:
    """The latest jobs, newest first, without their configs (which can hold a whole script)."""
    paths = sorted(jobs_dir(root).glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    records = []
    for path in paths:
        record = get(root, path.stem)
        if record:
            record.pop("config", None)
            records.append(record)
    records.sort(key=lambda r: r.get("submitted_at") or "", reverse=True)
    return records[:limit]


def _every(root: Path) -> Iterator[Record]:
    for path in jobs_dir(root).glob("*.json"):
        record = get(root, path.stem)
        if record:
            yield record


def unfinished(root: Path) -> list[Record]:
    """Every job not yet finished (queued or running), in no particular order."""
    return [r for r in _every(root) if r["state"] not in TERMINAL]


def stale(root: Path, older_than_s: float) -> list[Record]:
    """Running jobs whose worker stopped sending heartbeats: their worker died."""
    cutoff = time.time() - older_than_s
    return [r for r in _every(root)
            if r["state"] in RUNNING and (r.get("heartbeat") or 0) < cutoff]


def waiting(root: Path, older_than_s: float) -> list[Record]:
    """Jobs queued (not cancelled) for longer than `older_than_s` seconds, oldest first."""
    cutoff = time.time() - older_than_s
    found = [r for r in _every(root) if r["state"] == "QUEUED" and not r.get("cancel_requested")
             and (r.get("queued_at") or 0) < cutoff]
    return sorted(found, key=lambda r: r.get("queued_at") or 0)


def _write(path: Path, record: Record) -> None:
    atomic_write_bytes(path, json.dumps(record, indent=1).encode("utf-8"))
