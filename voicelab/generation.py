"""Turn a validated job config into batches of MP3 takes, one batch per voice.

The one place that plans takes, spreads settings over their ranges, runs requests concurrently
under a bound, retries what is worth retrying, writes MP3s atomically, resumes an interrupted
job, reports progress and writes metadata.json. Engines only synthesize.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voicelab import audio, clock, history, pronunciation, quality, store
from voicelab.engines import Engine, TakeSettings, Voice
from voicelab.errors import (
    AuthFailed,
    EngineError,
    JobConfigError,
    MetadataError,
    Problem,
    QuotaExhausted,
    TakeRejected,
    TransientEngineError,
)
from voicelab.jobs.throttle import AdaptiveLimiter, Slots, retry_delay
from voicelab.jobspec import GenerationConfig
from voicelab.locks import file_lock
from voicelab.pronunciation import Dictionary, words_in
from voicelab.script import ScriptLine

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_CONCURRENCY_REFUSALS = 60
FLUSH_EVERY_S = 5.0
RANK_FIELDS = ("rank", "ranked_at", "ranked_by", "ranks_by")
"""What ranking writes on a take: a flush keeps these as they are on disk, never its own copy."""


@dataclass(frozen=True)
class PlannedTake:
    """One take to make: which line, which number, which settings and seed."""

    line: ScriptLine
    take_number: int
    settings: TakeSettings
    seed: int

    @property
    def file(self) -> str:
        return f"{self.line.function}_take_{self.take_number}.mp3"


@dataclass
class BatchTarget:
    """One voice's batch directory and the takes planned for it."""

    voice: Voice
    batch_id: str
    batch_dir: Path
    plan: list[PlannedTake]
    takes: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    """What a progress callback receives (Celery's PROGRESS meta has the same keys)."""

    done: int
    total: int
    failed: int
    current: str
    eta_s: float | None
    batch_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationResult:
    """What a run made; `complete` only when it was not cancelled and no take failed.

    Each `failed` entry names the take's file, line and take number, with the service's reason.
    """

    batch_ids: list[str]
    batch_dirs: list[Path]
    total: int
    done: int
    failed: list[dict[str, Any]]
    cancelled: bool = False

    @property
    def complete(self) -> bool:
        return not self.cancelled and not self.failed


def safe_name(name: str, limit: int = 80) -> str:
    """A file-system-safe folder name: `[A-Za-z0-9_-]`, never empty, never hidden."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")
    return cleaned[:limit] or "unnamed"


def stable_int(*parts: object) -> int:
    """A 32-bit integer fixed by `parts`: seeds and shuffles that a rerun recomputes alike."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def plan_takes(config: GenerationConfig, voice_id: str, batch_id: str) -> list[PlannedTake]:
    """Every take of one voice, each line's settings spread evenly over the ranges.

    Per line and per setting, the variants sit at the centres of equal strata of the range,
    shuffled independently per setting (a Latin hypercube), so a batch explores each range
    evenly without tying one setting to another. The plan depends only on the config and the
    batch id, so a resumed job recomputes the same plan.
    """
    root_seed = config.seed if config.seed is not None else batch_id
    n = config.variants
    plan = []
    for index, line in enumerate(config.script.lines):
        values: dict[str, list[float]] = {}
        for name, span in config.ranges.items():
            strata = [(k + 0.5) / n for k in range(n)]
            random.Random(stable_int(root_seed, voice_id, line.function, name)).shuffle(strata)
            values[name] = [round(span.low + s * (span.high - span.low), 3) for s in strata]
        for k in range(n):
            settings = TakeSettings(**{name: vals[k] for name, vals in values.items()},
                                    use_speaker_boost=config.use_speaker_boost)
            seed = ((config.seed + index * n + k) % 2**32 if config.seed is not None
                    else stable_int(batch_id, line.function, k + 1))
            plan.append(PlannedTake(line, k + 1, settings, seed))
    return plan


def fingerprint(config: GenerationConfig, voice_id: str) -> str:
    """Identifies 'the same job for this voice', so running it again resumes its batch."""
    body = {**config.params(), "voice_id": voice_id,
            "script": [[line.function, line.text] for line in config.script.lines]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def resolve_voices(config: GenerationConfig, engine: Engine) -> list[Voice]:
    """The engine's Voice for every id in the config; JobConfigError naming unknown ones."""
    available = {voice.id: voice for voice in engine.voices()}
    unknown = [v for v in config.voice_ids if v not in available]
    if unknown:
        known = ", ".join(sorted(available)[:20])
        raise JobConfigError([Problem(f"unknown {engine.name} voice {v!r} (available: {known})",
                                      field="voice_ids", value=v) for v in unknown])
    return [available[v] for v in config.voice_ids]


def _find_resumable(voice_dir: Path, fp: str,
                    job_id: str | None) -> tuple[str, Path, dict[str, Any]] | None:
    """The batch a run of this job carries on: an unfinished one of the same job, or, for a
    queued job delivered again after it finished, the batch it already made (so a job never
    makes a second batch)."""
    if not voice_dir.is_dir():
        return None
    for batch_dir in sorted(voice_dir.iterdir(), reverse=True):
        try:
            meta = store.load_metadata(batch_dir)
        except MetadataError:  # a broken batch is fsck's business, not a resume target
            continue
        if meta.get("job_fingerprint") == fp and (
                meta.get("complete") is False or (job_id and meta.get("job_id") == job_id)):
            return meta["batch_id"], batch_dir, meta
    return None


def prepare_batches(config: GenerationConfig, root: Path, voices: list[Voice],
                    job_id: str | None = None) -> list[BatchTarget]:
    """Find the interrupted batch of this same job for each voice, or create a new one (and
    the root itself, the first time)."""
    targets = []
    skin_dir = root / safe_name(config.skin_name)
    root.mkdir(parents=True, exist_ok=True)
    with file_lock(root / ".voicelab.lock"):
        for voice in voices:
            voice_dir = skin_dir / safe_name(f"{voice.name}-{voice.id}")
            fp = fingerprint(config, voice.id)
            found = _find_resumable(voice_dir, fp, job_id)
            if found:
                batch_id, batch_dir, meta = found
                target = BatchTarget(voice, batch_id, batch_dir, plan_takes(config, voice.id,
                                                                           batch_id))
                target.takes = {t["file"]: t for t in meta["takes"]}
                log.info("resuming batch %s (%d takes on record)", batch_id, len(target.takes))
            else:
                batch_id = _new_batch_id(root, voice.id)
                batch_dir = voice_dir / batch_id
                store.create_batch_dirs(batch_dir)
                target = BatchTarget(voice, batch_id, batch_dir,
                                     plan_takes(config, voice.id, batch_id))
                store.save_metadata(batch_dir, _metadata(config, target, fp, job_id,
                                                         complete=False))
            keep_dictionary(batch_dir, config.pronunciations)
            targets.append(target)
    return targets


def _new_batch_id(root: Path, voice_id: str) -> str:
    base = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{safe_name(voice_id)}"
    batch_id, n = base, 1
    while any(root.glob(f"*/*/{batch_id}")):
        n += 1
        batch_id = f"{base}-{n}"
    return batch_id


def _metadata(config: GenerationConfig, target: BatchTarget, fp: str, job_id: str | None,
              complete: bool) -> dict[str, Any]:
    order = {(t.line.function, t.take_number): i for i, t in enumerate(target.plan)}
    takes = sorted((dict(t) for t in target.takes.values()),
                   key=lambda t: order.get((t["line"], t["take_number"]), len(order)))
    return {
        "schema_version": 1,
        "batch_id": target.batch_id,
        "skin_name": config.skin_name,
        "voice_name": f"{target.voice.name}-{target.voice.id}",
        "voice_id": target.voice.id,
        "engine": config.engine,
        "generated_at_utc": clock.utc_now() if complete else None,
        "generation_params": config.params(),
        "ranked_at_utc": None,
        "complete": complete,
        "job_fingerprint": fp,
        "job_id": job_id,
        "failed": list(target.failed.values()),
        "takes": takes,
    }


def _take_entry(take: PlannedTake, samples: Any, sample_rate: int, **facts: Any) -> dict[str, Any]:
    measured = quality.measure(samples, sample_rate)
    return {
        "file": take.file,
        "line": take.line.function,
        "script_text": take.line.text,
        "take_number": take.take_number,
        "generation_settings": asdict(take.settings),
        "rank": None,
        "ranked_at": None,
        "seed": take.seed,
        "duration_s": measured.pop("duration_s"),
        **({"category": take.line.category} if take.line.category else {}),
        **facts,
        "quality": measured,
    }


def _existing_take(target: BatchTarget, take: PlannedTake) -> dict[str, Any] | None:
    """The take's entry if its MP3 is already on disk and decodes, else None."""
    path = target.batch_dir / "takes" / take.file
    if not path.is_file():
        return None
    if take.file in target.takes:
        return target.takes[take.file]
    try:
        samples, rate = audio.decode_mp3(path.read_bytes())
    except Exception:  # an undecodable leftover is simply made again
        return None
    return _take_entry(take, samples, rate) if len(samples) else None


class _Run:
    """The mutable state of one generation run, shared by its worker threads."""

    def __init__(self, targets: list[BatchTarget], progress: Callable[[Progress], None] | None,
                 should_stop: Callable[[], bool] | None) -> None:
        self.targets = targets
        self.total = sum(len(t.plan) for t in targets)
        self.done = self.failed = self.fresh = 0
        self.progress = progress
        self.should_stop = should_stop or (lambda: False)
        self.fatal: EngineError | None = None
        self.lock = threading.Lock()
        self.started = time.monotonic()

    @property
    def stopping(self) -> bool:
        return self.fatal is not None or self.should_stop()

    def report(self, current: str, fresh: bool) -> None:
        with self.lock:
            self.fresh += fresh
            remaining = self.total - self.done - self.failed
            elapsed = time.monotonic() - self.started
            eta = round(elapsed / self.fresh * remaining, 1) if self.fresh else None
            snapshot = Progress(self.done, self.total, self.failed, current, eta,
                                [t.batch_id for t in self.targets])
        if self.progress:
            self.progress(snapshot)


def generate(config: GenerationConfig, root: Path, engine: Engine, *,
             concurrency: int = 4, slots: Slots | None = None,
             progress: Callable[[Progress], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             job_id: str | None = None) -> GenerationResult:
    """Make every take of the job, resuming where an earlier run of the same job stopped.

    Raises AuthFailed or QuotaExhausted at once when the service refuses the account (takes
    already written are kept and listed in metadata marked incomplete). A take the service
    rejects for good is listed under `failed` with the service's reason.
    """
    voices = resolve_voices(config, engine)
    targets = prepare_batches(config, root, voices, job_id)
    limiter = slots or AdaptiveLimiter(concurrency)
    run = _Run(targets, progress, should_stop)
    pending: list[tuple[BatchTarget, PlannedTake]] = []
    for target in targets:
        for take in target.plan:
            entry = _existing_take(target, take)
            if entry:
                target.takes[take.file] = entry
                run.done += 1
            else:
                target.takes.pop(take.file, None)
                pending.append((target, take))
    run.report("", fresh=False)
    fps = {t.batch_id: fingerprint(config, t.voice.id) for t in targets}
    _execute(run, pending, limiter, concurrency,
             lambda target, take: _make_take(engine, limiter, target, take, run,
                                             config.model_id, config.pronunciations),
             lambda complete: _flush(config, run, fps, job_id, complete=complete))
    failed = [f for t in targets for f in t.failed.values()]
    return GenerationResult([t.batch_id for t in targets], [t.batch_dir for t in targets],
                            run.total, run.done, failed, run.stopping)


def _execute(run: _Run, pending: list[tuple[BatchTarget, PlannedTake]], limiter: Slots,
             concurrency: int,
             make: Callable[[BatchTarget, PlannedTake], dict[str, Any] | None],
             flush: Callable[[bool], None]) -> None:
    """Make the pending takes on a bounded pool, flushing every FLUSH_EVERY_S and at the end
    (complete unless stopped); raise the fatal error (auth, quota) after the last flush."""

    def work(target: BatchTarget, take: PlannedTake) -> None:
        if run.stopping:
            return
        try:
            entry = make(target, take)
        except TakeRejected as exc:
            with run.lock:
                target.failed[take.file] = {"file": take.file, "line": take.line.function,
                                            "take_number": take.take_number, "reason": str(exc)}
                run.failed += 1
            log.warning("take %s failed: %s", take.file, exc)
        except (AuthFailed, QuotaExhausted) as exc:
            run.fatal = run.fatal or exc
            return
        else:
            if entry is None:
                return
            with run.lock:
                target.takes[take.file] = entry
                target.failed.pop(take.file, None)
                run.done += 1
        run.report(take.line.function, fresh=True)

    workers = max(1, getattr(limiter, "maximum", concurrency)) * 2
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="take") as pool:
        futures = {pool.submit(work, target, take) for target, take in pending}
        while futures:
            finished, futures = concurrent.futures.wait(futures, timeout=FLUSH_EVERY_S)
            for future in finished:
                future.result()
            if futures:
                flush(False)
    flush(not run.stopping)
    if run.fatal:
        raise run.fatal


def generate_takes(batch_dir: Path, plan: list[PlannedTake], engine: Engine, *,
                   model_id: str | None = None, pronunciations: Dictionary | None = None,
                   concurrency: int = 4, slots: Slots | None = None,
                   progress: Callable[[Progress], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, person: str = "cli",
                   job_id: str | None = None) -> GenerationResult:
    """Make `plan`'s takes into an existing batch (more takes of a line, a sync), nothing else
    changing: each flush appends the takes made since, under the batch lock, after its line's
    last take, with the QC flags of their lines recomputed, one `takes` history entry per line
    (by `person`) and `job_id` on each new take. A planned take already in the batch is kept.

    Raises AuthFailed or QuotaExhausted at once, like `generate` (takes made are kept).
    """
    batch_dir = Path(batch_dir)
    metadata = store.load_metadata(batch_dir)
    keep_dictionary(batch_dir, pronunciations)
    params = metadata.get("generation_params") or {}
    voice_id = str(metadata.get("voice_id") or params.get("voice_id")
                   or (params.get("voice_ids") or [""])[0])
    voice = Voice(id=voice_id, name=metadata["voice_name"], engine=engine.name)
    target = BatchTarget(voice, metadata["batch_id"], batch_dir, list(plan))
    limiter = slots or AdaptiveLimiter(concurrency)
    run = _Run([target], progress, should_stop)
    known = {t["file"] for t in metadata["takes"]}
    pending = [(target, take) for take in plan if take.file not in known]
    run.done = len(plan) - len(pending)
    run.report("", fresh=False)
    _execute(run, pending, limiter, concurrency,
             lambda target, take: _make_take(engine, limiter, target, take, run, model_id,
                                             pronunciations),
             lambda _complete: _append_takes(target, run, person, job_id))
    return GenerationResult([target.batch_id], [batch_dir], run.total, run.done,
                            list(target.failed.values()), run.stopping)


def _append_takes(target: BatchTarget, run: _Run, person: str, job_id: str | None) -> None:
    """Add the takes made so far that the batch does not hold yet (see generate_takes)."""
    with run.lock:
        made = [dict(entry) for entry in target.takes.values()]
    with store.batch_lock(target.batch_dir):
        metadata = store.load_metadata(target.batch_dir, check_files=False)
        known = {t["file"] for t in metadata["takes"]}
        new = [entry for entry in made if entry["file"] not in known]
        if not new:
            return
        takes: list[dict[str, Any]] = metadata["takes"]
        by_line: dict[str, list[str]] = {}
        for entry in sorted(new, key=lambda e: (e["line"], e["take_number"])):
            entry["job_id"] = job_id
            last = max((i for i, t in enumerate(takes) if t["line"] == entry["line"]),
                       default=len(takes) - 1)
            takes.insert(last + 1, entry)
            by_line.setdefault(entry["line"], []).append(entry["file"])
        for take, flags in zip(takes, quality.flag_batch(takes), strict=True):
            if take["line"] in by_line:
                take["quality"] = {**(take.get("quality") or {}), "flags": flags}
        revision: int = metadata.get("revision", 0)
        for line, files in by_line.items():
            revision += 1
            history.append(target.batch_dir, {
                **history.make_entry(person=person, action="takes", line=line,
                                     revision=revision), "files": files})
        metadata["revision"] = revision
        store.save_metadata(target.batch_dir, metadata)


def _make_take(engine: Engine, limiter: Slots, target: BatchTarget, take: PlannedTake, run: _Run,
               model_id: str | None, pronunciations: Dictionary | None
               ) -> dict[str, Any] | None:
    attempts = refusals = 0
    while True:
        if run.stopping:
            return None
        try:
            with limiter.slot():
                result = engine.synthesize(take.line.text, target.voice.id, take.settings,
                                           take.seed, model_id, pronunciations=pronunciations)
            limiter.on_success()
            break
        except TransientEngineError as exc:
            if exc.concurrency:
                refusals += 1
                limiter.on_concurrency_limit()
                if refusals > MAX_CONCURRENCY_REFUSALS:
                    raise TakeRejected(f"gave up after {refusals} concurrency refusals") from None
            else:
                attempts += 1
                if attempts >= MAX_ATTEMPTS:
                    raise TakeRejected(f"gave up after {attempts} attempts: {exc}") from None
            delay = retry_delay(attempts or refusals, exc.retry_after,
                                concurrency=exc.concurrency)
            log.info("retrying %s in %.2fs: %s", take.file, delay, exc)
            time.sleep(delay)
    store.atomic_write_bytes(target.batch_dir / "takes" / take.file, result.mp3)
    lexicon = {} if pronunciations is None else {
        "pronunciations_hash": pronunciations.hash,
        "pronunciations_used": used_entries(take.line.text, pronunciations)}
    return _take_entry(take, result.samples, result.sample_rate,
                       characters=result.characters, request_id=result.request_id, **lexicon)


def keep_dictionary(batch_dir: Path, dictionary: Dictionary | None) -> None:
    """Keep the dictionary the batch's newest takes are made with as `<batch>/pronunciations.pls`,
    so more takes of a line later say its words the same way wherever the project file went."""
    if dictionary is None:
        return
    path = Path(batch_dir) / pronunciation.BATCH_COPY
    data = pronunciation.to_pls(dictionary)
    if not path.is_file() or path.read_bytes() != data:
        store.atomic_write_bytes(path, data)


def used_entries(text: str, dictionary: Dictionary | None) -> dict[str, list[str | None]]:
    """The dictionary entries a line uses, `{word: [say_as, ipa]}`: recorded on each take, so a
    later change of one of them marks exactly the takes that used it stale (`lines.sync`)."""
    if dictionary is None:
        return {}
    return {word: [entry.say_as, entry.ipa] for word in sorted(words_in(text, dictionary))
            if (entry := dictionary.by_word[word.casefold()])}


def _flush(config: GenerationConfig, run: _Run, fps: dict[str, str], job_id: str | None,
           complete: bool) -> None:
    """Write each batch's metadata, keeping ranks and fields others wrote meanwhile."""
    for target in run.targets:
        with run.lock:
            fresh = _metadata(config, target, fps[target.batch_id], job_id, complete)
        for take, flags in zip(fresh["takes"], quality.flag_batch(fresh["takes"]), strict=True):
            take["quality"] = {**take["quality"], "flags": flags}

        def merge(current: dict[str, Any], fresh: dict[str, Any] = fresh) -> dict[str, Any]:
            known = {t["file"]: t for t in current.get("takes", [])}
            for take in fresh["takes"]:
                if (old := known.get(take["file"])) is not None:
                    take.update((key, old[key]) for key in RANK_FIELDS if key in old)
            return {**current, **fresh, "ranked_at_utc": current.get("ranked_at_utc"),
                    "generated_at_utc": current.get("generated_at_utc")
                    or fresh["generated_at_utc"]}

        with store.batch_lock(target.batch_dir):
            meta = store.update_metadata(target.batch_dir, merge)
            store.rebuild_symlinks(target.batch_dir, meta)
            if complete:  # what a killed earlier run was writing when it died
                for name in store.remove_dead_temps(target.batch_dir):
                    log.info("removed %s, left by a run that was stopped", name)
