"""Settings read from the environment once, validated, and frozen.

Only the faces (CLI, API, server, notebooks) call `get_settings()`; the core takes explicit
arguments, so tests build `Settings(...)` directly.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voicelab.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT_ELEVENLABS_BASE_URL = "https://api.elevenlabs.io"


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
    cors_origins: tuple[str, ...] = ()
    flask_env: str = "development"
    notebooks_dir: Path = DEFAULT_NOTEBOOKS

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never reach a log, metadata, a result or a report."""
        return tuple(s for s in (self.elevenlabs_api_key, self.api_token, self.secret_key) if s)

    @property
    def default_engine(self) -> str:
        return "elevenlabs" if self.elevenlabs_api_key else "piper"


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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping; raise ConfigError naming the bad variable."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        hint = f"expected one of {', '.join(LOG_LEVELS)}"
        raise ConfigError("LOG_LEVEL", env.get("LOG_LEVEL"), hint)
    log_file = get("LOG_FILE")
    if log_file and not Path(log_file).expanduser().resolve().parent.is_dir():
        raise ConfigError("LOG_FILE", log_file, "its folder does not exist")
    piper_voices = get("VOICELAB_PIPER_VOICES")
    if piper_voices and not Path(piper_voices).is_dir():
        raise ConfigError("VOICELAB_PIPER_VOICES", piper_voices, "not a folder")
    notebooks = Path(get("VOICELAB_NOTEBOOKS") or DEFAULT_NOTEBOOKS)
    if not (notebooks / "generate.ipynb").is_file():
        raise ConfigError("VOICELAB_NOTEBOOKS", str(notebooks), "no generate.ipynb in that folder")
    broker = get("CELERY_BROKER_URL")
    return Settings(
        audio_root=_writable_dir("AUDIO_ROOT", get("AUDIO_ROOT") or "./output"),
        secret_key=get("SECRET_KEY"),
        celery_broker_url=broker,
        celery_result_backend=get("CELERY_RESULT_BACKEND") or broker,
        elevenlabs_api_key=get("ELEVENLABS_API_KEY"),
        elevenlabs_base_url=_url(
            "ELEVENLABS_BASE_URL", get("ELEVENLABS_BASE_URL") or DEFAULT_ELEVENLABS_BASE_URL
        ),
        api_token=get("VOICELAB_API_TOKEN"),
        log_level=level,
        log_file=Path(log_file).expanduser().resolve() if log_file else None,
        concurrency=_positive_int("VOICELAB_CONCURRENCY", get("VOICELAB_CONCURRENCY") or "4"),
        piper_voices=Path(piper_voices).resolve() if piper_voices else None,
        cors_origins=tuple(o for o in (get("VOICELAB_CORS_ORIGINS") or "").split(",") if o.strip()),
        flask_env=get("FLASK_ENV") or "development",
        notebooks_dir=notebooks.resolve(),
    )


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from os.environ on first use."""
    return load_settings()
