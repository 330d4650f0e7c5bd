"""Which job workers are alive: each one rewrites a small file under `.jobs/workers/`.

Asking the broker (`celery inspect ping`) costs a broadcast, a reply queue and a wait of a
second or more, too much for a page that refreshes every second. Every worker already shares
AUDIO_ROOT (with Redis too), so each one states it is alive there every few seconds, and a
reader lists the files. A worker that stops cleanly removes its file; one that dies leaves a
file that stops being fresh and is removed by later readers.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from voicelab.jobs.registry import jobs_dir
from voicelab.store import atomic_write_bytes

WORKERS_DIR = "workers"
ALIVE_WITHIN_S = 10.0
FORGET_AFTER_S = 3600.0
_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")


def _path(root: Path, hostname: str) -> Path:
    folder = jobs_dir(root) / WORKERS_DIR
    folder.mkdir(exist_ok=True)
    return folder / f"{_UNSAFE.sub('_', hostname)}.json"


def beat(root: Path, hostname: str, started_at: float) -> None:
    """Say that worker `hostname` (this process) is alive now."""
    record = {"hostname": hostname, "pid": os.getpid(), "host": socket.gethostname(),
              "started_at": started_at, "beat_at": time.time()}
    atomic_write_bytes(_path(root, hostname), json.dumps(record).encode("utf-8"))


def gone(root: Path, hostname: str) -> None:
    """Worker `hostname` is stopping."""
    _path(root, hostname).unlink(missing_ok=True)


def alive(root: Path, within_s: float = ALIVE_WITHIN_S) -> list[dict[str, Any]]:
    """The workers that said they were alive within `within_s` seconds, by name."""
    folder = jobs_dir(root) / WORKERS_DIR
    now, found = time.time(), []
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return []
    for path in paths:
        try:
            record = json.loads(path.read_bytes())
            age = now - float(record["beat_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if age <= within_s:
            found.append(record)
        elif age > FORGET_AFTER_S:
            path.unlink(missing_ok=True)
    return found
