"""What notebooks/generate.ipynb calls: one generation run, reporting to Celery when it is a job.

Run by a Celery worker through papermill (with a task id), or by a scheduler with
`papermill notebooks/generate.ipynb out.ipynb -p config_path nightly.json` (no task id, no
Celery). Secrets are read from the environment here, never passed as notebook parameters.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from voicelab import generation
from voicelab.config import Settings, get_settings
from voicelab.jobs import kinds, registry
from voicelab.jobs.throttle import Slots
from voicelab.logs import configure_logging

PROGRESS_EVERY_S = 0.5


def load_config(config: dict[str, Any] | None, config_path: str) -> tuple[dict[str, Any], Path]:
    """The job config from the `config` parameter or a JSON file (relative paths: its folder)."""
    if config:
        return config, Path.cwd()
    if not config_path:
        raise ValueError("give the job as `config` (a dict) or `config_path` (a JSON file)")
    path = Path(config_path).expanduser().resolve()
    return json.loads(path.read_text("utf-8")), path.parent


class _JobReporter:
    """Progress to Celery (state PROGRESS) and to the registry, at most twice a second.

    Generation threads report concurrently, so a snapshot can arrive after a newer one: the
    reporter keeps the count monotonic, and the last take's report always goes out. Also the
    cooperative cancel: `should_stop` re-reads the job's cancel flag at the same pace.
    """

    def __init__(self, settings: Settings, task_id: str) -> None:
        from voicelab.jobs.app import get_app

        self.root, self.task_id = settings.audio_root, task_id
        self.backend = get_app(settings).backend
        self.last = self.checked = 0.0
        self.reported = -1
        self.cancel = False
        self.lock = threading.Lock()

    def progress(self, p: generation.Progress) -> None:
        with self.lock:
            now, count = time.monotonic(), p.done + p.failed
            if count <= self.reported or (now - self.last < PROGRESS_EVERY_S
                                          and count < p.total):
                return
            self.last, self.reported = now, count
            meta = p.to_dict()
            self.backend.store_result(self.task_id, meta, "PROGRESS")

            def note(record: registry.Record) -> None:
                if record["state"] in registry.RUNNING:
                    record.update(state="PROGRESS", progress=meta)

            record = registry.update(self.root, self.task_id, note)
            self.cancel = bool(record and record.get("cancel_requested"))

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self.cancel and now - self.checked >= PROGRESS_EVERY_S:
            self.checked = now
            record = registry.get(self.root, self.task_id)
            self.cancel = bool(record and record.get("cancel_requested"))
        return self.cancel


def run(config: dict[str, Any] | None = None, config_path: str = "", task_id: str = "",
        settings: Settings | None = None, slots: Slots | None = None) -> dict[str, Any]:
    """Run the job (a generation, a line job such as more takes of a line, or an export: see
    `voicelab.jobs.kinds`); returns `{batch_ids, failed, done, total, cancelled}` (an export
    adds `archive`).

    A worker's job (with a `task_id`) comes as the JSON of a job checked when it was submitted,
    and is rebuilt without checking it again; any other config is checked here.
    """
    settings = settings or get_settings()
    configure_logging(settings)
    raw, base_dir = load_config(config, config_path)
    reporter = _JobReporter(settings, task_id) if task_id else None
    job = kinds.from_json(raw) if task_id else kinds.check(raw, settings, base_dir)
    result = job.run(settings, kinds.Run(
        job_id=task_id or None, progress=(reporter or _ConsoleReporter()).progress,
        should_stop=reporter.should_stop if reporter else None, slots=slots))
    if task_id:
        registry.set_fields(settings.audio_root, task_id, result=result)
    return result


class _ConsoleReporter:
    """Progress as a printed line every 5 s and at the end (runs without Celery)."""

    def __init__(self) -> None:
        self.last = 0.0

    def progress(self, p: generation.Progress) -> None:
        now = time.monotonic()
        if now - self.last >= 5 or p.done + p.failed == p.total:
            self.last = now
            print(f"{p.done}/{p.total} takes, {p.failed} failed, eta {p.eta_s}s", flush=True)


def summary(result: dict[str, Any]) -> Any:
    """A short Markdown report of a run, for the executed notebook."""
    from IPython.display import Markdown

    made = "exported" if result.get("archive") else "made"
    lines = [f"**{result['done']} of {result['total']} takes** {made}"
             + (", cancelled before the end" if result["cancelled"] else ""), "",
             "| batch |", "| --- |", *(f"| `{b}` |" for b in result["batch_ids"])]
    if result.get("archive"):
        lines += ["", f"Zipped as `{result['archive']}`"]
    if result["failed"]:
        lines += ["", "| failed take | reason |", "| --- | --- |",
                  *(f"| `{f['file']}` | {f['reason']} |" for f in result["failed"])]
    return Markdown("\n".join(lines))
