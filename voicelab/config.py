"""Settings read from the environment once, validated, and frozen.

Only the faces (CLI, API, server, notebooks) call `get_settings()`; the core takes explicit
arguments, so tests build `Settings(...)` directly.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from voicelab.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT_ELEVENLABS_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_JOB_STALE_S = 20.0
DEFAULT_KERNEL_CONNECT_S = 30.0
_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """Everything VoiceLab reads from the environment. Secrets are kept out of `repr`."""

    audio_root: Path = Path("output")
    secret_key: str | None = field(default=None, repr=False)
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    elevenlabs_api_key: str | None = field(default=None, repr=False)
    elevenlabs_base_url: str = DEFAULT_ELEVENLABS_BASE_URL
    api_token: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    log_file: Path | None = None
    concurrency: int = 4
    piper_voices: Path | None = None
    pronunciations: Path | None = None
    cors_origins: tuple[str, ...] = ()
    flask_env: str = "development"
    notebooks_dir: Path = DEFAULT_NOTEBOOKS
    job_stale_s: float = DEFAULT_JOB_STALE_S
    max_kernels: int | None = None
    kernel_starts: int | None = None
    kernel_connect_s: float = DEFAULT_KERNEL_CONNECT_S
    stt_model: Path | None = None
    speech_check: bool = True

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never reach a log, metadata, a result or a report."""
        return tuple(s for s in (self.elevenlabs_api_key, self.api_token, self.secret_key) if s)

    @property
    def default_engine(self) -> str:
        """The engine a job uses when its config names none: ElevenLabs given a key."""
        return "elevenlabs" if self.elevenlabs_api_key else "piper"

    @property
    def job_heartbeat_s(self) -> float:
        """How often a running job proves its worker alive: several beats per stale period."""
        return min(3.0, self.job_stale_s / 4)


def _writable_dir(variable: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(variable, raw, f"not a writable folder ({exc.strerror})") from None
    return path.resolve()


def _positive_int(variable: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(variable, raw, "expected a whole number of 1 or more")
    return value


def _url(variable: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(variable, raw, "expected an http:// or https:// URL")
    return raw.rstrip("/")


def _whole_number(variable: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(variable, raw, "expected a whole number") from None


def _seconds(hint: str, ok: Callable[[float], bool]) -> Callable[[str, str], float]:
    """A parser of a number of seconds that `ok` accepts; ConfigError with `hint` otherwise."""
    def parse(variable: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not ok(value):
            raise ConfigError(variable, raw, hint)
        return value

    return parse


_stale_seconds = _seconds("expected a number of seconds, 1 or more", lambda s: s >= 1.0)
_connect_seconds = _seconds("expected a number of seconds above 0, e.g. 30",
                            lambda s: math.isfinite(s) and s > 0)


def _log_level(variable: str, raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(variable, raw, f"expected one of {', '.join(LOG_LEVELS)}")
    return level


def _log_file(variable: str, raw: str) -> Path:
    path = Path(raw).expanduser().resolve()
    if not path.parent.is_dir():
        raise ConfigError(variable, raw, "its folder does not exist")
    return path


def _folder(variable: str, raw: str) -> Path:
    if not Path(raw).is_dir():
        raise ConfigError(variable, raw, "not a folder")
    return Path(raw).resolve()


def _pronunciations(variable: str, raw: str) -> Path:
    """A pronunciation dictionary file (voicelab.pronunciation reads and checks its entries)."""
    path = Path(raw).expanduser()
    if path.suffix.lower() not in (".csv", ".pls"):
        raise ConfigError(variable, raw, "expected a pronunciations .csv (word,say_as[,ipa]) "
                          "or .pls (W3C PLS lexicon) file")
    if not path.is_file():
        raise ConfigError(variable, raw, "no such file: point it at the project's "
                          "pronunciation dictionary, or unset it")
    return path.resolve()


def _stt_model(variable: str, raw: str) -> Path:
    """A local speech-to-text model folder (faster-whisper, for the speech check)."""
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ConfigError(variable, raw, "not a folder: point it at a local faster-whisper model "
                          "folder (VoiceLab never downloads one), or unset it to use PocketSphinx")
    return path.resolve()


_SWITCH = {"on": True, "true": True, "yes": True, "1": True,
           "off": False, "false": False, "no": False, "0": False}


def _switch(variable: str, raw: str) -> bool:
    """on/off (also true/false, yes/no, 1/0, any case)."""
    try:
        return _SWITCH[raw.strip().casefold()]
    except KeyError:
        raise ConfigError(variable, raw, "expected on or off") from None


def _notebooks(variable: str, raw: str) -> Path:
    if not (Path(raw) / "generate.ipynb").is_file():
        raise ConfigError(variable, raw, "no generate.ipynb in that folder")
    return Path(raw).resolve()


def settings_and_problems(
    environ: Mapping[str, str] | None = None,
) -> tuple[Settings, list[ConfigError]]:
    """Settings with the default in place of every bad value, and every problem found.

    For `voicelab doctor`, which must report every bad variable at once and still run its other
    checks. The problems come in the order `load_settings` has always checked them, one per
    variable; a fallback is only a stand-in to keep checking, never a working configuration.
    """
    env = os.environ if environ is None else environ
    problems: list[ConfigError] = []

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    def checked(parse: Callable[[str, str], _T], variable: str, raw: str, fallback: _T) -> _T:
        try:
            return parse(variable, raw)
        except ConfigError as exc:
            problems.append(exc)
        except (OSError, RuntimeError, ValueError) as exc:  # e.g. a symlink loop
            problems.append(ConfigError(variable, raw, f"unusable ({exc})"))
        return fallback

    level = checked(_log_level, "LOG_LEVEL", env.get("LOG_LEVEL") or "INFO", "INFO")
    log_file = get("LOG_FILE")
    log_path = checked(_log_file, "LOG_FILE", log_file, None) if log_file else None
    piper_voices = get("VOICELAB_PIPER_VOICES")
    voices = checked(_folder, "VOICELAB_PIPER_VOICES", piper_voices, None) if piper_voices else None
    pronunciations = get("VOICELAB_PRONUNCIATIONS")
    lexicon = (checked(_pronunciations, "VOICELAB_PRONUNCIATIONS", pronunciations, None)
               if pronunciations else None)
    stt_raw = get("VOICELAB_STT_MODEL")
    stt_model = checked(_stt_model, "VOICELAB_STT_MODEL", stt_raw, None) if stt_raw else None
    notebooks = checked(_notebooks, "VOICELAB_NOTEBOOKS",
                        get("VOICELAB_NOTEBOOKS") or str(DEFAULT_NOTEBOOKS), DEFAULT_NOTEBOOKS)
    audio_root = get("AUDIO_ROOT") or "./output"
    broker = get("CELERY_BROKER_URL")
    settings = Settings(
        audio_root=checked(_writable_dir, "AUDIO_ROOT", audio_root, Path(audio_root).expanduser()),
        secret_key=get("SECRET_KEY"),
        celery_broker_url=broker,
        celery_result_backend=get("CELERY_RESULT_BACKEND") or broker,
        elevenlabs_api_key=get("ELEVENLABS_API_KEY"),
        elevenlabs_base_url=checked(
            _url, "ELEVENLABS_BASE_URL", get("ELEVENLABS_BASE_URL") or DEFAULT_ELEVENLABS_BASE_URL,
            DEFAULT_ELEVENLABS_BASE_URL),
        api_token=get("VOICELAB_API_TOKEN"),
        log_level=level,
        log_file=log_path,
        concurrency=checked(_positive_int, "VOICELAB_CONCURRENCY",
                            get("VOICELAB_CONCURRENCY") or "4", 4),
        piper_voices=voices,
        pronunciations=lexicon,
        cors_origins=tuple(o for o in (get("VOICELAB_CORS_ORIGINS") or "").split(",") if o.strip()),
        flask_env=get("FLASK_ENV") or "development",
        notebooks_dir=notebooks,
        job_stale_s=checked(_stale_seconds, "VOICELAB_JOB_STALE_S",
                            get("VOICELAB_JOB_STALE_S") or str(DEFAULT_JOB_STALE_S),
                            DEFAULT_JOB_STALE_S),
        max_kernels=checked(_whole_number, "VOICELAB_MAX_KERNELS", max_kernels, None)
        if (max_kernels := get("VOICELAB_MAX_KERNELS")) else None,
        kernel_starts=checked(_positive_int, "VOICELAB_KERNEL_STARTS", kernel_starts, None)
        if (kernel_starts := get("VOICELAB_KERNEL_STARTS")) else None,
        kernel_connect_s=checked(_connect_seconds, "VOICELAB_KERNEL_CONNECT_S",
                                 get("VOICELAB_KERNEL_CONNECT_S") or str(DEFAULT_KERNEL_CONNECT_S),
                                 DEFAULT_KERNEL_CONNECT_S),
        stt_model=stt_model,
        speech_check=checked(_switch, "VOICELAB_SPEECH_CHECK",
                             get("VOICELAB_SPEECH_CHECK") or "on", True),
    )
    return settings, problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping; raise ConfigError naming the first bad one."""
    settings, problems = settings_and_problems(environ)
    if problems:
        raise problems[0]
    return settings


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from os.environ on first use."""
    return load_settings()
