"""Where the `voicelab serve` processes of an AUDIO_ROOT answer, for `voicelab doctor`.

A server writes a small record under `.jobs/servers/` when it starts and removes it when it
stops; a record whose process is gone (killed) is skipped by `announced`. The doctor asks each
server's `/healthz` for its kernel books.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from voicelab.jobs.registry import jobs_dir
from voicelab.store import atomic_write_bytes

SERVERS_DIR = "servers"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def announce(root: Path, url: str) -> Path:
    """Record that this process serves `url` for `root`; returns the record to withdraw."""
    folder = jobs_dir(root) / SERVERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_UNSAFE.sub('_', url.split('://', 1)[-1])}.json"
    atomic_write_bytes(path, json.dumps({"url": url, "pid": os.getpid()}).encode("utf-8"))
    return path


def withdraw(path: Path) -> None:
    """This server is stopping."""
    path.unlink(missing_ok=True)


def announced(root: Path) -> list[dict[str, Any]]:
    """The servers recorded for `root` whose process still runs, by URL."""
    found = []
    with contextlib.suppress(OSError):
        for path in sorted((jobs_dir(root) / SERVERS_DIR).glob("*.json")):
            try:
                record = json.loads(path.read_bytes())
                os.kill(int(record["pid"]), 0)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # unreadable, or its process is gone
            found.append(record)
    return found
