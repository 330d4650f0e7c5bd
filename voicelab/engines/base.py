"""The types every engine shares: voices, take settings, a synthesized take, the protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

from voicelab.config import Settings
from voicelab.pronunciation import Dictionary


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
    """What generation needs from a back end, and what the rest of VoiceLab asks of its kind.

    The class attributes describe the engine without building it (no key, no model loaded):
    `default_model` (None: the engine has no models), `shares_quota` (requests count against
    an account's concurrency limit, shared by every worker), and the classmethods
    `available` and `text_limit`.
    """

    name: ClassVar[str]
    default_model: ClassVar[str | None]
    shares_quota: ClassVar[bool]

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        """Build the engine from VoiceLab's settings."""
        ...

    @classmethod
    def available(cls, settings: Settings) -> bool:
        """Whether the engine can run with these settings (e.g. it has its key)."""
        ...

    @classmethod
    def text_limit(cls, model_id: str | None) -> int:
        """The longest line one request may carry, known without asking the service."""
        ...

    def voices(self) -> list[Voice]:
        """Every voice this engine can use now."""
        ...

    def synthesize(self, text: str, voice_id: str, settings: TakeSettings, seed: int | None,
                   model_id: str | None, *,
                   pronunciations: Dictionary | None = None) -> Synthesis:
        """Speak `text`; raise an EngineError subclass on failure (never retry here).

        `text` is the script's line as written; `pronunciations` (the run's dictionary, or
        None) is applied by the engine, each in its own way (see the engine's docstring).
        """
        ...

    def max_text_length(self, model_id: str | None) -> int:
        """The longest text one request may carry."""
        ...
