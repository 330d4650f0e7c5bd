"""Offline speech recognisers behind one small protocol, and the audio they take.

PocketSphinx is the default: its US English acoustic model, language model and dictionary ship
inside the `pocketsphinx` package (`pocketsphinx.get_model_path()`), so nothing is downloaded.
faster-whisper is used instead when VOICELAB_STT_MODEL points at a local model folder; it is
imported only then, and is not a dependency of VoiceLab (`pip install faster-whisper`).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soxr

from voicelab.audio import decode_mp3
from voicelab.config import Settings
from voicelab.errors import ConfigError

SAMPLE_RATE = 16_000
"""What every recogniser here listens at: mono, 16 kHz."""
STT_VARIABLE = "VOICELAB_STT_MODEL"
POCKETSPHINX = "pocketsphinx"
FASTER_WHISPER = "faster-whisper"


class Recognizer(Protocol):
    """Speech to text: `transcribe` takes mono float32 samples at SAMPLE_RATE."""

    name: str

    def transcribe(self, samples: np.ndarray) -> str: ...


def load_16k(path: Path | str) -> np.ndarray:
    """A take's audio (MP3, or anything libsndfile reads) as mono float32 at SAMPLE_RATE."""
    samples, rate = decode_mp3(Path(path).read_bytes())
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE, quality="HQ")
    return np.asarray(samples, dtype=np.float32)


class PocketSphinx:
    """CMU PocketSphinx with the US English model its package ships. One utterance at a time per
    instance (a decoder is not thread-safe, and holds the GIL while decoding: parallelism means
    processes, see voicelab.speech.check)."""

    name = POCKETSPHINX
    MAX_HMM_PER_FRAME = 3000
    """A tenth of PocketSphinx's default search width: twice as fast on takes that are not
    speech (a test tone took 3.5x longer), the same words on this project's Piper takes."""

    def __init__(self) -> None:
        from pocketsphinx import Config, Decoder

        self._decoder = Decoder(Config(loglevel="FATAL",  # the package's en-us model
                                       maxhmmpf=self.MAX_HMM_PER_FRAME))
        self._lock = threading.Lock()

    def transcribe(self, samples: np.ndarray) -> str:
        pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm.tobytes(), full_utt=True)
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis is not None else ""


class FasterWhisper:
    """faster-whisper (CTranslate2) from a local model folder, English, on the CPU."""

    name = FASTER_WHISPER

    def __init__(self, model_dir: Path) -> None:
        check_faster_whisper(model_dir)
        from faster_whisper import WhisperModel

        self._model: Any = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                        local_files_only=True)

    def transcribe(self, samples: np.ndarray) -> str:
        segments, _info = self._model.transcribe(np.asarray(samples, dtype=np.float32),
                                                 language="en", beam_size=5)
        return " ".join(segment.text.strip() for segment in segments).strip()


def check_faster_whisper(model_dir: Path) -> None:
    """Raise ConfigError naming VOICELAB_STT_MODEL and the folder unless faster-whisper is
    installed and the folder holds a CTranslate2 model (its model.bin)."""
    if not Path(model_dir).is_dir():
        raise ConfigError(STT_VARIABLE, str(model_dir), "not a folder: point it at a local "
                          "faster-whisper model folder, or unset it to use PocketSphinx")
    if not (Path(model_dir) / "model.bin").is_file():
        raise ConfigError(STT_VARIABLE, str(model_dir), "no model.bin in that folder: it must "
                          "hold a faster-whisper (CTranslate2) model")
    if importlib.util.find_spec("faster_whisper") is None:
        raise ConfigError(STT_VARIABLE, str(model_dir), "the faster-whisper package is not "
                          "installed: `pip install faster-whisper`, or unset it to use "
                          "PocketSphinx")


@dataclass(frozen=True)
class RecognizerSpec:
    """Which recogniser to build: small and picklable, so worker processes build their own."""

    engine: str = POCKETSPHINX
    model: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RecognizerSpec:
        """faster-whisper when VOICELAB_STT_MODEL is set, else PocketSphinx."""
        if settings.stt_model is not None:
            return cls(FASTER_WHISPER, Path(settings.stt_model))
        return cls()

    @property
    def processes(self) -> bool:
        """Whether to run it on several processes: PocketSphinx is single-threaded and light;
        faster-whisper threads itself, and one model per process would multiply its memory."""
        return self.engine == POCKETSPHINX

    def validate(self) -> None:
        """Raise ConfigError now for a recogniser that cannot be built (cheap: loads nothing)."""
        if self.engine == FASTER_WHISPER:
            check_faster_whisper(self.model or Path(""))
        elif self.engine != POCKETSPHINX:
            raise ValueError(f"unknown speech recogniser {self.engine!r}")

    def build(self) -> Recognizer:
        self.validate()
        if self.engine == FASTER_WHISPER:
            return FasterWhisper(self.model or Path(""))
        return PocketSphinx()


def default_workers(spec: RecognizerSpec) -> int:
    """How many takes to check at once: one per CPU (at most 4) for PocketSphinx, else 1."""
    return min(4, os.cpu_count() or 1) if spec.processes else 1
