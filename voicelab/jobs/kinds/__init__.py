"""The kinds of job the queue runs, and a registry to pick one by a config's `kind`.

Every kind goes through the same queue, worker, report notebook and registry; what differs is
how its config is checked and how it runs, and both belong to its class (`base.JobKind`).
`check` runs once, where the job is submitted (`voicelab.jobs.control.submit`, or a worker
handed a config nobody checked), and makes a typed job; the task, the record and the notebook
carry its JSON, from which the runner rebuilds it without checking it again. Submitting,
running and the API ask the registry below, so a new kind is one module and one line in `KINDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voicelab.config import Settings
from voicelab.jobs.kinds.base import JobKind, Run
from voicelab.jobs.kinds.export import Export
from voicelab.jobs.kinds.generate import Generate
from voicelab.jobs.kinds.more import More
from voicelab.jobs.kinds.sync import Sync

KINDS: dict[str, type[JobKind]] = {kind.name: kind for kind in (Generate, More, Sync, Export)}

__all__ = ["KINDS", "Export", "Generate", "JobKind", "More", "Run", "Sync", "check",
           "from_json", "kind_of"]


def kind_of(config: object) -> type[JobKind]:
    """The kind a config names in `kind`; without one, a generation job (whose check refuses a
    `kind` it does not know)."""
    name = config.get("kind") if isinstance(config, Mapping) else None
    return (KINDS.get(name) if isinstance(name, str) else None) or Generate


def check(config: Mapping[str, Any], settings: Settings,
          base_dir: Path | None = None) -> JobKind:
    """The job a raw config asks for, checked once (see `base.JobKind.check`).

    Raises:
        JobConfigError: a bad config, every problem listed. ScriptError: a sync's bad script.
    """
    return kind_of(config).check(config, settings, base_dir)


def from_json(data: Mapping[str, Any]) -> JobKind:
    """The job a checked config's JSON describes, rebuilt without checking it again."""
    return kind_of(data).from_json(data)
