"""One take's speech facts, and the functions a worker process runs (kept light to import:
each worker process of the check imports this module, not the store or the quality code)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from voicelab import clock
from voicelab.speech.recognizers import Recognizer, RecognizerSpec, load_16k
from voicelab.speech.text import word_error_rate

log = logging.getLogger(__name__)

_recognizer: Recognizer | None = None


def hear(path: Path | str, script_text: str, recognizer: Recognizer) -> dict[str, Any]:
    """The speech facts of one take: `{"wer", "heard", "engine", "checked_at"}` (wer None when
    the line has no words)."""
    heard = recognizer.transcribe(load_16k(path))
    return {"wer": word_error_rate(script_text, heard), "heard": heard,
            "engine": recognizer.name, "checked_at": clock.utc_now()}


def failed(reason: str, engine: str) -> dict[str, Any]:
    """The facts of a take the check could not hear: `voicelab check` tries it again."""
    return {"error": reason, "engine": engine, "checked_at": clock.utc_now()}


def safe_hear(path: Path | str, script_text: str, recognizer: Recognizer) -> dict[str, Any]:
    """`hear`, with any failure turned into `failed` facts (one bad take never stops a check)."""
    try:
        return hear(path, script_text, recognizer)
    except Exception as exc:
        log.warning("speech check of %s failed: %s: %s", path, type(exc).__name__, exc)
        return failed(f"{type(exc).__name__}: {exc}", recognizer.name)


def init_process(spec: RecognizerSpec) -> None:
    """A worker process's initializer: build its own recogniser once."""
    global _recognizer
    _recognizer = spec.build()


def hear_in_process(path: str, script_text: str) -> dict[str, Any]:
    """`safe_hear` with the recogniser `init_process` built."""
    if _recognizer is None:
        raise RuntimeError("init_process did not run in this worker")
    return safe_hear(path, script_text, _recognizer)
