"""What every group of commands shares: the consoles, the exit codes, the progress bar, and
following a queued job to its end."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from voicelab.config import Settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2

Command = Callable[[argparse.Namespace, Settings], int]
# `command(name, fn, help_text)`: adds one subcommand with its handler, returns its parser.
AddCommand = Callable[[str, Command, str], argparse.ArgumentParser]


def progress_bar() -> Progress:
    """The progress bar of `generate` and `submit --wait`, on stderr so stdout stays parseable."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn(),
                    console=err, transient=False)


def wait_for_job(settings: Settings, task_id: str) -> int:
    """Follow a job with a progress bar until it ends; exit code by its outcome."""
    import time

    from voicelab.jobs import registry

    with progress_bar() as bar:
        task = bar.add_task("queued", total=None, failed=0)
        while True:
            record = registry.get(settings.audio_root, task_id) or {}
            state, p = record.get("state", "?"), record.get("progress") or {}
            bar.update(task, total=p.get("total"), completed=p.get("done", 0) + p.get("failed", 0),
                       failed=p.get("failed", 0), description=state.lower())
            if state in registry.TERMINAL:
                break
            time.sleep(0.25)
    result = record.get("result") or {}
    for batch_id in result.get("batch_ids", []):
        out.print(batch_id)
    if state != "SUCCESS":
        err.print(f"job {task_id} ended {state}: {record.get('error') or ''}".rstrip(": "),
                  markup=False)
        report = registry.report_path(settings.audio_root, task_id)
        if report.exists():
            err.print(f"report: {report}", markup=False)
        return EXIT_ERROR
    return EXIT_PARTIAL if result.get("failed") else EXIT_OK
