"""Export jobs: an engine-ready export of one batch (`kind` "export") run by a worker, for
batches too large to zip while an HTTP request waits (the work is `voicelab.delivery.deliver`).

A job config is `{"kind": "export", "batch_id", <DeliveryOptions fields>, "requested_by"}`,
checked (every option, the batch) before it is queued. The job delivers into
`<AUDIO_ROOT>/.exports/<task_id>/` with a zip, and its result names the zip (`archive`) beside
the usual `{batch_ids, failed, done, total, cancelled}`. Export folders are bounded: before a
new one is made, the oldest beyond `KEEP` and any older than `MAX_AGE_S` go. An export makes no
takes, so no speech check runs after it.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from voicelab import store
from voicelab.config import Settings
from voicelab.delivery.options import (
    OPTION_FIELDS,
    DeliveryError,
    DeliveryOptions,
    check_options,
)
from voicelab.errors import InvalidRank, JobConfigError, Problem
from voicelab.generation import Progress
from voicelab.jobs import registry
from voicelab.jobs.kinds.base import JobKind, Run, Shown, job_batch, requested_by
from voicelab.lines.more import SHOWN

KIND = "export"
FIELDS = ("kind", "batch_id", *OPTION_FIELDS, "requested_by")
EXPORTS_DIR = ".exports"
KEEP = 20  # export folders kept under .exports/ (the oldest go first)
MAX_AGE_S = 7 * 24 * 3600  # and none older than a week


def _options(raw: Mapping[str, Any]) -> DeliveryOptions:
    """The options of an export job config (a null option: its default), its fields and
    batch id checked.

    Raises:
        JobConfigError: an unknown field, no batch id, or a bad option (named).
    """
    problems = [Problem(f"unknown field {key!r}", field=key)
                for key in sorted(set(raw) - set(FIELDS) - set(SHOWN))]
    batch_id = raw.get("batch_id")
    if not isinstance(batch_id, str) or not batch_id:
        problems.append(Problem("batch_id must be a non-empty string", field="batch_id",
                                value=batch_id))
    options = DeliveryOptions(**{k: raw[k] for k in OPTION_FIELDS if raw.get(k) is not None})
    try:
        check_options(options)
    except InvalidRank as exc:
        problems.append(Problem(str(exc), field="rank", value=exc.value))
    except DeliveryError as exc:
        name = str(exc).split(":", 1)[0]
        problems.append(Problem(str(exc), field=name if name in OPTION_FIELDS else None))
    if problems:
        raise JobConfigError(problems)
    return options


@dataclass(frozen=True)
class Export(JobKind):
    """An export of one batch with these options, in the name of who asked."""

    name: ClassVar[str] = KIND
    batch_id: str
    options: DeliveryOptions
    requested_by: str
    shown: Shown

    @classmethod
    def check(cls, raw: Mapping[str, Any], settings: Settings,
              base_dir: Path | None = None) -> Export:
        options = _options(raw)
        batch_id = str(raw["batch_id"])
        return cls(batch_id, options, requested_by(raw),
                   Shown.of(job_batch(settings, batch_id), settings))

    @classmethod
    def request(cls, settings: Settings, batch_id: str, options: Mapping[str, Any], *,
                person: str = "cli") -> Export:
        """The export job of `batch_id` with these option fields (others are left out).

        Raises:
            JobConfigError: a bad option or an unknown batch.
        """
        return cls.check({"kind": KIND, "batch_id": batch_id,
                          **{k: v for k, v in options.items()
                             if k in OPTION_FIELDS and v is not None},
                          "requested_by": person}, settings)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Export:
        options = DeliveryOptions(**{k: data[k] for k in OPTION_FIELDS if k in data})
        return cls(data["batch_id"], options, data["requested_by"], Shown.from_json(data))

    def to_json(self) -> dict[str, Any]:
        chosen = {k: getattr(self.options, k) for k in OPTION_FIELDS}
        return {"kind": KIND, "batch_id": self.batch_id,
                **{k: v for k, v in chosen.items() if v is not None},
                "requested_by": self.requested_by, **self.shown.to_json()}

    def run(self, settings: Settings, run: Run) -> dict[str, Any]:
        """Deliver the batch into `.exports/<job_id>/` with a zip (older exports pruned first);
        `{batch_ids, failed, done, total, cancelled, archive, missing}`.

        Raises:
            DeliveryError: the export cannot be written.
        """
        from voicelab.delivery.deliver import deliver

        root = settings.audio_root
        batch_dir = store.find_batch(root, self.batch_id)
        dest = export_dir(root, run.job_id or uuid.uuid4().hex)
        prune(root, keep=KEEP - 1)
        started = time.monotonic()

        def files_done(done: int, total: int) -> None:
            if run.progress is not None:
                elapsed = time.monotonic() - started
                eta = round(elapsed / done * (total - done), 1) if done else None
                run.progress(Progress(done, total, 0, "", eta, [self.batch_id]))

        result = deliver(batch_dir, dest, replace(self.options, make_zip=True),
                         progress=files_done)
        assert result.archive is not None
        count = len(result.files)
        return {"batch_ids": [self.batch_id], "failed": [], "done": count, "total": count,
                "cancelled": False, "archive": result.archive.name, "missing": result.missing}


def exports_dir(root: Path) -> Path:
    """`<root>/.exports`: hidden, so never taken for a batch nor served under /audio."""
    return Path(root) / EXPORTS_DIR


def export_dir(root: Path, task_id: str) -> Path:
    """Where the export job `task_id` writes; KeyError for an id that could escape the folder."""
    if not registry.valid_task_id(task_id):
        raise KeyError(task_id)
    return exports_dir(root) / task_id


def prune(root: Path, *, keep: int = KEEP, max_age_s: float = MAX_AGE_S,
          now: float | None = None) -> list[str]:
    """Remove export folders beyond the newest `keep` and any older than `max_age_s`; the
    names removed."""
    folder = exports_dir(root)
    if not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - max_age_s
    found = []
    for path in folder.iterdir():
        try:
            if path.is_dir() and not path.is_symlink():
                found.append((path.stat().st_mtime, path))
        except OSError:
            continue  # removed meanwhile
    found.sort(key=lambda item: item[0], reverse=True)
    removed = []
    for index, (mtime, path) in enumerate(found):
        if index >= keep or mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def archive_of(root: Path, record: Mapping[str, Any]) -> Path | None:
    """The zip a finished export job made, or None (not an export, not finished, or pruned)."""
    result = record.get("result") or {}
    name = result.get("archive")
    if not isinstance(name, str) or not name.endswith(".zip") or "/" in name or "\\" in name \
            or name.startswith("."):
        return None
    try:
        path = export_dir(root, str(record.get("task_id") or "")) / name
    except KeyError:
        return None
    return path if path.is_file() else None
