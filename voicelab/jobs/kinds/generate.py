"""Generation jobs (a config without `kind`): a dialogue script into new batches of takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from voicelab import generation
from voicelab.config import Settings
from voicelab.engines import get_engine
from voicelab.jobs.kinds.base import JobKind, Run, takes_made
from voicelab.jobspec import GenerationConfig, parse_config


@dataclass(frozen=True)
class Generate(JobKind):
    """A generation job: its config parsed and validated whole (`voicelab.jobspec`)."""

    name: ClassVar[str] = "generate"
    config: GenerationConfig

    @classmethod
    def check(cls, raw: Mapping[str, Any], settings: Settings,
              base_dir: Path | None = None) -> Generate:
        return cls(parse_config(raw, default_engine=settings.default_engine, base_dir=base_dir,
                                settings=settings))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Generate:
        return cls(GenerationConfig.from_json(data))

    def to_json(self) -> dict[str, Any]:
        return self.config.to_json()

    def run(self, settings: Settings, run: Run) -> dict[str, Any]:
        """Make every take (an ElevenLabs job on Redis shares the account's request budget)."""
        engine = get_engine(self.config.engine, settings)
        slots = run.slots
        if slots is None and engine.shares_quota and settings.celery_broker_url:
            from voicelab.jobs.budget import LEASE_S, shared_slots

            slots = shared_slots(settings, lease_s=min(LEASE_S, settings.job_stale_s))
        return takes_made(settings, generation.generate(
            self.config, settings.audio_root, engine, concurrency=settings.concurrency,
            slots=slots, progress=run.progress, should_stop=run.should_stop,
            job_id=run.job_id))
