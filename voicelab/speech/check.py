"""Does each take say its line: hear the takes of a batch and store what was heard.

Each checked take gets `quality.speech` in metadata.json (additive, docs/design.md, decision 6):
`{"wer": 0.12, "heard": "...", "engine": "pocketsphinx", "checked_at": "..."}`, or
`{"skipped": "language xx: ..."}` for a batch in another language, or `{"error": ...}` when it
could not be heard (a later `voicelab check` tries those again). `voicelab.quality` turns a WER
above WORDS_WER_MAX into the take's "words" flag.

Takes are heard in parallel (worker processes: PocketSphinx holds the GIL while decoding) and
written in small flushes, each one a short hold of the batch lock that re-reads metadata and
sets only the speech facts and flags of the takes it heard, so ranking goes on meanwhile and
no rank given during a check is lost.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicelab import clock, quality, store
from voicelab.config import Settings
from voicelab.speech import worker
from voicelab.speech.recognizers import RecognizerSpec, default_workers

log = logging.getLogger(__name__)

FLUSH_S = 2.0
"""Write heard takes at least this often (seconds)..."""
FLUSH_TAKES = 16
"""...or after this many, whichever comes first: each write is one short hold of the lock."""
PROCESS_MIN_TAKES = 6
"""With the default worker count, fewer takes than this are heard in this process: starting a
worker process costs about a second, more than hearing a few short takes."""
LANGUAGE_FIELDS = ("lang", "language")
ENGLISH_ONLY = "language {}: the speech check knows English only"

Progress = Callable[["CheckSummary"], None]


@dataclass
class CheckSummary:
    """What one check of a batch did. `total` takes were due; `checked` were heard."""

    batch_id: str
    total: int = 0
    checked: int = 0
    flagged: int = 0
    skipped: int = 0
    failed: int = 0
    wers: list[float] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.checked + self.skipped + self.failed

    @property
    def mean_wer(self) -> float | None:
        return round(statistics.fmean(self.wers), 3) if self.wers else None

    def to_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "total": self.total, "checked": self.checked,
                "flagged": self.flagged, "skipped": self.skipped, "failed": self.failed,
                "mean_wer": self.mean_wer}

    def count(self, facts: Mapping[str, Any]) -> None:
        if "error" in facts:
            self.failed += 1
        elif "skipped" in facts:
            self.skipped += 1
        else:
            self.checked += 1
            if facts.get("wer") is not None:
                self.wers.append(float(facts["wer"]))


def batch_language(metadata: Mapping[str, Any]) -> str | None:
    """The batch's language code from a `lang`/`language` field of its metadata or of its
    generation parameters; None when it names none (VoiceLab's batches are English then)."""
    params = metadata.get("generation_params")
    for source in (metadata, params if isinstance(params, Mapping) else {}):
        for key in LANGUAGE_FIELDS:
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def is_english(language: str | None) -> bool:
    """None (not stated), "en", "en-US", "en_GB"... are English."""
    return language is None or language.replace("_", "-").split("-")[0].casefold() == "en"


def speech_facts(take: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A take's `quality.speech`, if it has any."""
    speech = (take.get("quality") or {}).get("speech")
    return speech if isinstance(speech, Mapping) else None


def needs_check(take: Mapping[str, Any], force: bool = False) -> bool:
    """Whether a check without `force` hears this take: it has no speech facts, or only a
    failure."""
    facts = speech_facts(take)
    return force or facts is None or "error" in facts


def write_facts(batch_dir: Path, facts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Store each take's speech facts (by file name) and recompute those takes' flags, under
    the batch lock, on freshly read metadata (changing nothing else); returns the files among
    them that carry the "words" flag now."""
    if not facts:
        return []
    with store.batch_lock(batch_dir):
        metadata = store.load_metadata(batch_dir, check_files=False)
        takes: list[dict[str, Any]] = metadata["takes"]
        if not any(take["file"] in facts for take in takes):
            return []
        for take in takes:
            if take["file"] in facts:
                speech = dict(facts[take["file"]])
                take["quality"] = {**(take.get("quality") or {}), "speech": speech}
        flagged = []
        for take, flags in zip(takes, quality.flag_batch(takes), strict=True):
            if take["file"] in facts:
                take["quality"]["flags"] = flags
                if "words" in flags:
                    flagged.append(take["file"])
        store.save_metadata(batch_dir, metadata)
    return flagged


class _Writer:
    """Collects heard takes and writes them every FLUSH_S or FLUSH_TAKES."""

    def __init__(self, batch_dir: Path, summary: CheckSummary, progress: Progress | None,
                 flush_s: float) -> None:
        self.batch_dir, self.summary, self.progress = batch_dir, summary, progress
        self.flush_s = flush_s
        self.pending: dict[str, dict[str, Any]] = {}
        self.last = time.monotonic()

    def add(self, file: str, facts: dict[str, Any]) -> None:
        self.pending[file] = facts
        self.summary.count(facts)
        if len(self.pending) >= FLUSH_TAKES or time.monotonic() - self.last >= self.flush_s:
            self.flush()
        if self.progress:
            self.progress(self.summary)

    def flush(self) -> None:
        if self.pending:
            self.summary.flagged += len(write_facts(self.batch_dir, self.pending))
            self.pending.clear()
        self.last = time.monotonic()


def check_batch(batch_dir: Path | str, spec: RecognizerSpec | None = None, *,
                force: bool = False, workers: int | None = None,
                progress: Progress | None = None, flush_s: float = FLUSH_S) -> CheckSummary:
    """Hear the batch's takes that have no speech facts (every take with `force`) and store
    the facts and flags; a non-English batch gets a `skipped` note instead.

    `workers`: how many takes at once (processes, for PocketSphinx); default one per CPU up to
    4, or this process alone for a handful of takes. Worker processes are spawned, so a script
    calling this needs the usual `if __name__ == "__main__":` guard; if the pool breaks, the
    takes left are heard here. `progress` gets the summary after each take. A take that cannot
    be heard gets `error` facts; the others go on.

    Raises:
        ConfigError: the recogniser cannot be built (VOICELAB_STT_MODEL's folder or package).
        MetadataError: the batch's metadata cannot be read or written.
    """
    batch_dir = Path(batch_dir)
    spec = spec or RecognizerSpec()
    metadata = store.load_metadata(batch_dir, check_files=False)
    due = [take for take in metadata["takes"] if needs_check(take, force)]
    summary = CheckSummary(metadata["batch_id"], total=len(due))
    writer = _Writer(batch_dir, summary, progress, flush_s)
    if progress:
        progress(summary)
    if not due:
        return summary
    language = batch_language(metadata)
    if not is_english(language):
        note = {"skipped": ENGLISH_ONLY.format(language), "checked_at": clock.utc_now()}
        for take in due:
            writer.add(take["file"], dict(note))
        writer.flush()
        return summary
    spec.validate()
    jobs = {take["file"]: (str(batch_dir / "takes" / take["file"]), str(take.get("script_text")
                                                                        or ""))
            for take in due}
    count = workers if workers is not None else (
        default_workers(spec) if len(jobs) >= PROCESS_MIN_TAKES else 1)
    count = max(1, min(count, len(jobs)))
    try:
        if count > 1 and spec.processes and not multiprocessing.current_process().daemon:
            _hear_in_processes(jobs, spec, count, writer)
        _hear_here(jobs, spec, writer)
    finally:
        writer.flush()
    log.info("speech check of %s: %s", summary.batch_id, summary.to_dict())
    return summary


def _hear_here(jobs: dict[str, tuple[str, str]], spec: RecognizerSpec, writer: _Writer) -> None:
    """Hear what is left of `jobs` in this process, one take at a time."""
    if not jobs:
        return
    recognizer = spec.build()
    for file, (path, text) in list(jobs.items()):
        writer.add(file, worker.safe_hear(path, text, recognizer))
        del jobs[file]


def _hear_in_processes(jobs: dict[str, tuple[str, str]], spec: RecognizerSpec, count: int,
                       writer: _Writer) -> None:
    """Hear `jobs` on `count` fresh worker processes, removing each one heard; if the pool
    breaks (a worker died), the rest is left in `jobs` for this process."""
    pool = concurrent.futures.ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context("spawn"),
        initializer=worker.init_process, initargs=(spec,))
    try:
        futures = {pool.submit(worker.hear_in_process, path, text): file
                   for file, (path, text) in jobs.items()}
        for future in concurrent.futures.as_completed(futures):
            file = futures[future]
            writer.add(file, future.result())
            del jobs[file]
    except BrokenProcessPool as exc:
        log.warning("speech check workers stopped (%s); checking the %d takes left here",
                    exc, len(jobs))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def note_failure(batch_dir: Path, reason: str, engine: str) -> None:
    """Note `reason` in the speech facts of the takes a check did not reach."""
    metadata = store.load_metadata(batch_dir, check_files=False)
    write_facts(batch_dir, {take["file"]: worker.failed(reason, engine)
                            for take in metadata["takes"] if needs_check(take)})


def after_job(settings: Settings, batch_dirs: Iterable[Path]) -> list[CheckSummary]:
    """The job's step after generation: check the new (unchecked) takes of its batches, unless
    VOICELAB_SPEECH_CHECK is off. Never raises: a failed check is logged and noted in the facts
    of the takes it did not reach."""
    if not settings.speech_check:
        return []
    summaries = []
    spec = RecognizerSpec.from_settings(settings)
    for batch_dir in batch_dirs:
        try:
            summaries.append(check_batch(batch_dir, spec))
        except Exception as exc:
            log.exception("speech check of %s failed; the job goes on", batch_dir)
            try:
                note_failure(Path(batch_dir), f"{type(exc).__name__}: {exc}", spec.engine)
            except Exception:
                log.exception("could not note the failed speech check in %s", batch_dir)
    return summaries
