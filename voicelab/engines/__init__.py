"""Text-to-speech back ends behind one small protocol, and a registry to pick one.

Engines only talk to their back end and classify its failures (voicelab.errors.EngineError
subclasses). Retries, the concurrency bound, atomic writes, resume, progress and metadata live
once, in voicelab.generation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from voicelab.config import Settings
from voicelab.errors import ConfigError

DEFAULT_MODEL = "eleven_multilingual_v2"
# Characters per request by ElevenLabs model (the models page), for when /v1/models cannot say.
ELEVENLABS_TEXT_LIMITS = {
    "eleven_multilingual_v2": 10_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2": 30_000,
    "eleven_turbo_v2": 30_000,
    "eleven_v3": 3_000,
}
UNKNOWN_MODEL_TEXT_LIMIT = 10_000
PIPER_TEXT_LIMIT = 5_000


def text_limit(engine: str, model_id: str | None) -> int:
    """The longest line one request may carry for this engine and model."""
    if engine == "piper":
        return PIPER_TEXT_LIMIT
    return ELEVENLABS_TEXT_LIMITS.get(model_id or DEFAULT_MODEL, UNKNOWN_MODEL_TEXT_LIMIT)


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers; `id` is what a job names."""

    id: str
    name: str
    engine: str
    category: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True)
class TakeSettings:
    """The voice settings of one take, as ElevenLabs names them."""

    stability: float = 0.5
    similarity_boost: float = 0.75
    style: float = 0.0
    speed: float = 1.0
    use_speaker_boost: bool = True


@dataclass(frozen=True)
class Synthesis:
    """One synthesized take: MP3 bytes, the decoded samples, and what the service told us."""

    mp3: bytes
    samples: np.ndarray  # mono float32 in [-1, 1]
    sample_rate: int
    characters: int
    request_id: str | None = None


class Engine(Protocol):
    """What generation needs from a back end."""

    name: str

    def voices(self) -> list[Voice]:
        """Every voice this engine can use now."""
        ...

    def synthesize(self, text: str, voice_id: str, settings: TakeSettings, seed: int | None,
                   model_id: str | None) -> Synthesis:
        """Speak `text`; raise an EngineError subclass on failure (never retry here)."""
        ...

    def max_text_length(self, model_id: str | None) -> int:
        """The longest text one request may carry."""
        ...


def _elevenlabs(settings: Settings) -> Engine:
    from voicelab.engines.elevenlabs import ElevenLabs

    return ElevenLabs.from_settings(settings)


def _piper(settings: Settings) -> Engine:
    from voicelab.engines.piper import Piper

    return Piper.from_settings(settings)


ENGINES: dict[str, Callable[[Settings], Engine]] = {"elevenlabs": _elevenlabs, "piper": _piper}


def available_engines(settings: Settings) -> list[str]:
    """Engines that can run with these settings: ElevenLabs only with a key."""
    return [name for name in ENGINES if name != "elevenlabs" or settings.elevenlabs_api_key]


def get_engine(name: str, settings: Settings) -> Engine:
    """The engine called `name`, built from settings; ConfigError for an unknown name."""
    if name not in ENGINES:
        raise ConfigError("engine", name, f"known engines: {', '.join(sorted(ENGINES))}")
    return ENGINES[name](settings)
