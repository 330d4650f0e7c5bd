"""The claim state machine: what a delivery of a job does, decided from its record alone."""

from __future__ import annotations

import pytest

from voicelab.jobs.claim import Attempt, Claim, apply, decide

NOW, STALE = 1_000.0, 20.0
ATTEMPT = Attempt(worker="w2@host", attempt="b", now=NOW, stale_after_s=STALE)


def record(state: str, **fields: object) -> dict[str, object]:
    return {"state": state, "heartbeat": None, "cancel_requested": False, "result": None,
            "attempts": 1, **fields}


@pytest.mark.parametrize(("given", "expected"), [
    (record("QUEUED"), Claim.RUN),
    (record("SUCCESS", result={"batch_ids": ["b1"]}), Claim.DONE),
    (record("SUCCESS"), Claim.RUN),  # finished without a result on record: run to get one
    (record("FAILURE"), Claim.ENDED),
    (record("REVOKED"), Claim.ENDED),
    (record("QUEUED", cancel_requested=True), Claim.CANCELLED),
    (record("PROGRESS", cancel_requested=True, heartbeat=NOW), Claim.CANCELLED),
    (record("STARTED", heartbeat=NOW - 1), Claim.DUPLICATE),
    (record("PROGRESS", heartbeat=NOW - STALE + 0.5), Claim.DUPLICATE),
    (record("PROGRESS", heartbeat=NOW - STALE - 0.5), Claim.RUN),  # its worker went silent
    (record("STARTED", heartbeat=None), Claim.RUN),
], ids=lambda value: value.value if isinstance(value, Claim) else value["state"])
def test_decide(given: dict[str, object], expected: Claim) -> None:
    before = dict(given)
    assert decide(given, ATTEMPT) is expected
    assert given == before, "deciding writes nothing"


def test_a_run_claim_takes_the_job_over_and_counts_the_attempt() -> None:
    taken = record("PROGRESS", heartbeat=NOW - 60, worker="w1@host", attempt="a",
                   started_at="2026-11-29T00:00:00.000Z", error="lost")
    apply(taken, Claim.RUN, ATTEMPT)
    assert (taken["state"], taken["worker"], taken["attempt"], taken["heartbeat"]) == (
        "STARTED", "w2@host", "b", NOW)
    assert taken["attempts"] == 2 and taken["error"] is None
    assert taken["started_at"] == "2026-11-29T00:00:00.000Z", "the first start is kept"


def test_a_cancelled_claim_ends_the_job_revoked_and_others_change_nothing() -> None:
    cancelled = record("QUEUED", cancel_requested=True)
    apply(cancelled, Claim.CANCELLED, ATTEMPT)
    assert cancelled["state"] == "REVOKED" and cancelled["finished_at"]
    for claim in (Claim.DONE, Claim.ENDED, Claim.DUPLICATE):
        untouched = record("STARTED", heartbeat=NOW)
        apply(untouched, claim, ATTEMPT)
        assert untouched == record("STARTED", heartbeat=NOW)
