"""Queued jobs: `submit`, `worker`, `cancel` and `jobs`."""

from __future__ import annotations

import argparse

from rich.table import Table

from voicelab.cli.common import EXIT_ERROR, EXIT_OK, AddCommand, err, out, wait_for_job
from voicelab.cli.generation import add_generation_flags, config_from_args
from voicelab.config import Settings


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab worker`: run a job worker in the foreground; exit with the worker's own code.

    Non-zero after an unrecoverable error, so a supervisor starts it again.
    """
    from voicelab import jobs

    return jobs.run_worker(settings, args.celery_args)


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab submit`: queue the job and print its task id; exit 0.

    With `--wait`, the job's outcome (`wait_for_job`): 0 success, 2 success with failed takes,
    1 any other end (failure, cancelled).
    """
    from voicelab import jobs

    task_id = jobs.submit(settings, config_from_args(args))
    out.print(task_id)
    return wait_for_job(settings, task_id) if args.wait else EXIT_OK


def cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab cancel`: ask a job to stop, print its state; exit 0, or 1 for an unknown id."""
    from voicelab import jobs

    record = jobs.cancel(settings, args.task_id)
    if record is None:
        err.print(f"error: no job with id {args.task_id!r}", markup=False)
        return EXIT_ERROR
    state = record["state"]
    out.print(f"{args.task_id}: {state}" + (" (stops after the take in hand)"
                                            if record.get("cancel_requested")
                                            and state not in ("REVOKED", "SUCCESS", "FAILURE")
                                            else ""))
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    """`voicelab jobs`: recent jobs, newest first, as a table or JSON; exit 0."""
    from voicelab.jobs import registry

    records = registry.recent(settings.audio_root, args.limit)
    if args.json:
        out.print_json(data=records)
        return EXIT_OK
    table = Table("task id", "submitted (UTC)", "skin", "voices", "engine", "state", "progress")
    for r in records:
        p = r.get("progress") or {}
        done = f"{p.get('done', 0)}/{p.get('total', '?')}" if p else ""
        table.add_row(r["task_id"], r["submitted_at"], r.get("skin") or "",
                      ", ".join(r.get("voices") or []), r.get("engine") or "auto", r["state"], done)
    out.print(table)
    return EXIT_OK


def add_submit(command: AddCommand) -> None:
    """`voicelab submit`."""
    p = command("submit", cmd_submit, "queue a generation job (same flags as generate)")
    add_generation_flags(p)
    p.add_argument("--wait", action="store_true", help="follow the job with a progress bar")


def add_worker(command: AddCommand) -> None:
    """`voicelab worker`."""
    p = command("worker", cmd_worker, "run a job worker for the configured broker")
    p.add_argument("celery_args", nargs=argparse.REMAINDER, help="extra celery worker options")


def add_cancel(command: AddCommand) -> None:
    """`voicelab cancel`."""
    p = command("cancel", cmd_cancel, "cancel a job: queued never starts, running stops")
    p.add_argument("task_id")


def add_jobs(command: AddCommand) -> None:
    """`voicelab jobs`."""
    p = command("jobs", cmd_jobs, "list recent jobs, newest first")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
