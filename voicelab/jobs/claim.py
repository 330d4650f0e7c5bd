"""Who may run a delivered job: the claim state machine over the job's registry record.

A job can be delivered more than once (a redelivery after a worker died, a resend by the
reaper, a duplicate Celery message). Whoever starts it claims it in the registry under the
record's lock; the decision is a pure function of the record and the clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from voicelab import clock
from voicelab.jobs import registry


class Claim(enum.Enum):
    """What a delivery of a job should do."""

    RUN = "run"  # claimed: this delivery runs the job
    DONE = "done"  # it already succeeded: return its result
    ENDED = "ended"  # it failed or was revoked earlier: do nothing
    CANCELLED = "cancelled"  # a cancel was asked before it ran: it ends as REVOKED
    DUPLICATE = "duplicate"  # a live worker runs it now: do nothing


@dataclass(frozen=True)
class Attempt:
    """One delivery trying to run a job: its worker, its id, and the clock it reads."""

    worker: str
    attempt: str
    now: float
    stale_after_s: float


def decide(record: registry.Record, attempt: Attempt) -> Claim:
    """The claim for this delivery, from the record alone (no writes)."""
    beat = record.get("heartbeat") or 0
    if record["state"] == "SUCCESS" and record.get("result"):
        return Claim.DONE
    if record["state"] in registry.TERMINAL - {"SUCCESS"} and not record.get("cancel_requested"):
        return Claim.ENDED
    if record.get("cancel_requested"):
        return Claim.CANCELLED
    if record["state"] in registry.RUNNING and beat > attempt.now - attempt.stale_after_s:
        return Claim.DUPLICATE
    return Claim.RUN


def apply(record: registry.Record, claim: Claim, attempt: Attempt) -> None:
    """Write the claim's consequence into the record (inside `registry.update`)."""
    if claim is Claim.CANCELLED:
        record.update(state="REVOKED", finished_at=record.get("finished_at") or clock.utc_now())
    elif claim is Claim.RUN:
        record.update(state="STARTED", worker=attempt.worker, heartbeat=attempt.now,
                      error=None, attempt=attempt.attempt,
                      attempts=record.get("attempts", 0) + 1,
                      started_at=record.get("started_at") or clock.utc_now())


def claim_job(root: Path, task_id: str,
              attempt: Attempt) -> tuple[Claim, registry.Record]:
    """Decide and record the claim under the record's lock; returns it with the record (an
    unknown job is ENDED)."""
    def change(record: registry.Record) -> Claim:
        claim = decide(record, attempt)
        apply(record, claim, attempt)
        return claim

    claim, record = registry.transition(root, task_id, change)
    return claim or Claim.ENDED, record or {}
