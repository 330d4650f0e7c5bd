"""The one clock format VoiceLab writes: ISO-8601 UTC with milliseconds and a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """The current time, e.g. `2025-04-17T00:08:37.120Z` (metadata, job records, history)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_iso_time(value: object) -> bool:
    """Whether `value` is a string `datetime.fromisoformat` reads."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
