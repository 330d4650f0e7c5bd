"""Generation as Celery jobs. The package's modules, one job each:

- `app`: the Celery app for a Settings (`get_app`, the one way to get it) and the thin task;
- `execute`: running one delivered job (validate, claim, notebook, heartbeat, record);
- `claim`: the claim state machine deciding what a delivery does (`Claim`);
- `kernel_pool`: papermill in one thread, the next job's kernel warmed ahead;
- `control`: submit, cancel, status (what the faces call);
- `reaper`: jobs of dead workers sent again;
- `worker`: `voicelab worker` and its signal handlers.

A job whose worker dies is run again and resumes (takes on disk are kept); whoever starts a job
claims it in the registry under its lock, so a duplicate delivery never runs a job twice at once.
"""

from voicelab.errors import JobFailed
from voicelab.jobs.app import TASK_NAME, celery_config, get_app, run_generation
from voicelab.jobs.claim import Claim
from voicelab.jobs.control import cancel, send_job, status, submit
from voicelab.jobs.execute import execute_job
from voicelab.jobs.kernel_pool import GENERATE_NOTEBOOK
from voicelab.jobs.reaper import requeue_lost, requeue_stale
from voicelab.jobs.worker import run_worker

__all__ = [
    "GENERATE_NOTEBOOK",
    "TASK_NAME",
    "Claim",
    "JobFailed",
    "cancel",
    "celery_config",
    "execute_job",
    "get_app",
    "requeue_lost",
    "requeue_stale",
    "run_generation",
    "run_worker",
    "send_job",
    "status",
    "submit",
]
