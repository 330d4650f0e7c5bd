"""Updating a batch from an edited script as a queued job (`kind` "sync": `batch_id`,
`script_csv`, `script_name`; the work is `voicelab.lines.sync`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from voicelab import store
from voicelab.config import Settings
from voicelab.engines import ENGINES, get_engine
from voicelab.errors import JobConfigError, Problem
from voicelab.jobs.kinds.base import JobKind, Run, Shown, job_batch, requested_by, takes_made
from voicelab.lines.more import SHOWN, batch_dictionary
from voicelab.lines.sync import run_sync
from voicelab.script import Script, parse_script

KIND = "sync"
FIELDS = ("kind", "batch_id", "script_csv", "script_name", "requested_by", *SHOWN)


def script_of(raw: Mapping[str, Any], metadata: store.Metadata) -> Script:
    """A sync job's script, parsed with its batch engine's text limit.

    Raises:
        JobConfigError: unknown fields or no script. ScriptError: the script's own problems.
    """
    problems = [Problem(f"unknown field {key!r}", field=key)
                for key in sorted(set(raw) - set(FIELDS))]
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


@dataclass(frozen=True)
class Sync(JobKind):
    """A batch brought up to date with an edited script: its script parsed once, at submit."""

    name: ClassVar[str] = KIND
    batch_id: str
    script: Script
    script_name: str
    requested_by: str
    shown: Shown

    @classmethod
    def check(cls, raw: Mapping[str, Any], settings: Settings,
              base_dir: Path | None = None) -> Sync:
        metadata = job_batch(settings, raw.get("batch_id"))
        return cls(str(raw["batch_id"]), script_of(raw, metadata),
                   str(raw.get("script_name") or "script.csv"), requested_by(raw),
                   Shown.of(metadata, settings))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sync:
        return cls(data["batch_id"], Script.from_json(data["script"]), data["script_name"],
                   data["requested_by"], Shown.from_json(data))

    def to_json(self) -> dict[str, Any]:
        return {"kind": KIND, "batch_id": self.batch_id, "script_name": self.script_name,
                "requested_by": self.requested_by, **self.shown.to_json(),
                "script": self.script.to_json()}

    def run(self, settings: Settings, run: Run) -> dict[str, Any]:
        batch_dir = store.find_batch(settings.audio_root, self.batch_id)
        metadata = store.load_metadata(batch_dir)
        _plan, outcome = run_sync(
            batch_dir, self.script, get_engine(self.shown.engine, settings),
            dictionary=batch_dictionary(batch_dir, metadata, settings),
            person=self.requested_by, concurrency=settings.concurrency, progress=run.progress,
            should_stop=run.should_stop, job_id=run.job_id)
        return takes_made(settings, outcome)
