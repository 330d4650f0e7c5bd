"""Text-to-speech back ends behind one small protocol, and a registry to pick one.

Engines only talk to their back end and classify its failures (voicelab.errors.EngineError
subclasses). Retries, the concurrency bound, atomic writes, resume, progress and metadata live
once, in voicelab.generation. Everything engine-specific (models, text limits, whether it needs
a key) is an attribute of the engine's class; the CLI, the job spec, the runner and the launch
form ask the registry below, so a third engine is one new module and one line in `ENGINES`.
"""

from __future__ import annotations

from voicelab.config import Settings
from voicelab.engines.base import Engine, Synthesis, TakeSettings, Voice
from voicelab.engines.elevenlabs import ElevenLabs
from voicelab.engines.piper import Piper
from voicelab.errors import ConfigError

ENGINES: dict[str, type[Engine]] = {engine.name: engine for engine in (ElevenLabs, Piper)}

__all__ = ["ENGINES", "Engine", "Synthesis", "TakeSettings", "Voice", "available_engines",
           "engine_class", "get_engine"]


def engine_class(name: str) -> type[Engine]:
    """The engine called `name` (not built); ConfigError for an unknown name."""
    if name not in ENGINES:
        raise ConfigError("engine", name, f"known engines: {', '.join(sorted(ENGINES))}")
    return ENGINES[name]


def available_engines(settings: Settings) -> list[str]:
    """Engines that can run with these settings (ElevenLabs only with a key), in `ENGINES` order."""
    return [name for name, engine in ENGINES.items() if engine.available(settings)]


def get_engine(name: str, settings: Settings) -> Engine:
    """The engine called `name`, built from settings; ConfigError for an unknown name."""
    return engine_class(name).from_settings(settings)
