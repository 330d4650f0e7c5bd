"""Jobs: generation, line and export work run by Celery workers, and the machinery around them.

One job each:

- `app`: the Celery app for a Settings (`get_app`, the one way to get it) and the thin task;
- `control`: submit, cancel, status (what the faces call);
- `kinds`: the registry of job kinds (generate, more, sync, export): how each is checked, once
  at submit, and run;
- `execute`: running one delivered job (claim, notebook, heartbeat, record);
- `claim`: the claim state machine deciding what a delivery does (`Claim`);
- `kernel_pool`: papermill in one thread, the next job's kernel warmed ahead;
- `runner`: the executed notebook's entry point;
- `registry`: job records under AUDIO_ROOT/.jobs; `liveness`: worker heartbeats;
- `reaper`: jobs of dead workers sent again; `worker`: `voicelab worker` and its signals;
- `supervisor`: the worker `voicelab serve` keeps alive;
- `embedded_queue`: the serverless broker (a crash-safe Kombu filesystem transport);
- `budget`, `throttle`: the ElevenLabs request budget shared by every job.

A job whose worker dies is run again and resumes (takes on disk are kept); whoever starts a job
claims it in the registry under its lock, so a duplicate delivery never runs a job twice at once.

The package's names below are imported when first used, so that the core can import
`voicelab.jobs.throttle` (say) without loading Celery or the job kinds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voicelab.errors import JobFailed
    from voicelab.jobs.app import TASK_NAME, celery_config, get_app, run_generation
    from voicelab.jobs.claim import Claim
    from voicelab.jobs.control import cancel, send_job, status, submit
    from voicelab.jobs.execute import execute_job
    from voicelab.jobs.kernel_pool import GENERATE_NOTEBOOK
    from voicelab.jobs.reaper import requeue_lost, requeue_stale
    from voicelab.jobs.worker import run_worker

_HOMES = {
    "JobFailed": "voicelab.errors",
    "TASK_NAME": "voicelab.jobs.app", "celery_config": "voicelab.jobs.app",
    "get_app": "voicelab.jobs.app", "run_generation": "voicelab.jobs.app",
    "Claim": "voicelab.jobs.claim",
    "cancel": "voicelab.jobs.control", "send_job": "voicelab.jobs.control",
    "status": "voicelab.jobs.control", "submit": "voicelab.jobs.control",
    "execute_job": "voicelab.jobs.execute",
    "GENERATE_NOTEBOOK": "voicelab.jobs.kernel_pool",
    "requeue_lost": "voicelab.jobs.reaper", "requeue_stale": "voicelab.jobs.reaper",
    "run_worker": "voicelab.jobs.worker",
}

__all__ = [
    "GENERATE_NOTEBOOK", "TASK_NAME", "Claim", "JobFailed", "cancel", "celery_config",
    "execute_job", "get_app", "requeue_lost", "requeue_stale", "run_generation", "run_worker",
    "send_job", "status", "submit",
]


def __getattr__(name: str) -> Any:
    """The package's public names, imported from their module on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'voicelab.jobs' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
