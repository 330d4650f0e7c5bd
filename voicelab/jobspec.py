"""A generation job's config: parsed from JSON-like data, validated whole, and estimated.

The same shape arrives from the API body, the CLI flags, a papermill config file and the
launch dashboard, so it is checked in one place and every problem is reported at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import pronunciation
from voicelab.config import Settings
from voicelab.engines import ENGINES
from voicelab.errors import (
    JobConfigError,
    Problem,
    PronunciationError,
    ScriptError,
)
from voicelab.pronunciation import Dictionary
from voicelab.script import Script, parse_script

MAX_VARIANTS = 20
DEFAULT_LANG = "en"
LANG_PATTERN = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")
MAX_VOICES = 50

# (lowest, highest, default) per numeric voice setting, as the ElevenLabs API accepts them.
SETTING_LIMITS: dict[str, tuple[float, float, float]] = {
    "stability": (0.0, 1.0, 0.5),
    "similarity_boost": (0.0, 1.0, 0.75),
    "style": (0.0, 1.0, 0.0),
    "speed": (0.7, 1.2, 1.0),
}


@dataclass(frozen=True)
class SettingRange:
    """A voice setting: one value, or a closed range that takes are spread across."""

    low: float
    high: float

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def to_json(self) -> float | list[float]:
        return self.low if self.fixed else [self.low, self.high]

    @classmethod
    def from_json(cls, value: float | list[float]) -> SettingRange:
        """The range `to_json` wrote."""
        low, high = value if isinstance(value, list) else (value, value)
        return cls(float(low), float(high))


@dataclass(frozen=True)
class GenerationConfig:
    """Everything one job needs, validated. Holds no secret."""

    skin_name: str
    voice_ids: tuple[str, ...]
    script: Script
    variants: int
    engine: str
    model_id: str | None
    ranges: dict[str, SettingRange]
    use_speaker_boost: bool
    seed: int | None
    script_name: str = "script.csv"
    pronunciations: Dictionary | None = None
    lang: str = DEFAULT_LANG
    """The script's language (BCP 47, e.g. "en", "fr-FR"): the speech check hears English only."""

    def params(self) -> dict[str, Any]:
        """The config as metadata's `generation_params` (JSON, no script text, no secret)."""
        return {
            "skin_name": self.skin_name,
            "voice_ids": list(self.voice_ids),
            "variants": self.variants,
            "engine": self.engine,
            "model_id": self.model_id,
            "settings": {
                **{name: r.to_json() for name, r in self.ranges.items()},
                "use_speaker_boost": self.use_speaker_boost,
            },
            "seed": self.seed,
            "script_name": self.script_name,
            "lines": len(self.script.lines),
            # Only with a dictionary, so jobs without one keep their params (and fingerprint).
            # Its name, not its hash: editing an entry resumes the same batch, and each take
            # records the hash it was made with.
            **({"pronunciations": self.pronunciations.source} if self.pronunciations else {}),
            **({"lang": self.lang} if self.lang != DEFAULT_LANG else {}),
        }

    def to_json(self) -> dict[str, Any]:
        """The checked config as JSON, as a queued job carries it (`from_json` rebuilds it
        without validating again): the script parsed and the dictionary read, so the worker
        reads no file. Holds no secret."""
        params = {k: v for k, v in self.params().items()
                  if k not in ("lines", "pronunciations", "lang")}
        return {**params, "lang": self.lang, "script": self.script.to_json(),
                "dictionary": self.pronunciations.to_json() if self.pronunciations else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GenerationConfig:
        """The config `to_json` wrote, as it was checked (not validated again)."""
        voice_settings, lexicon = data["settings"], data["dictionary"]
        return cls(skin_name=data["skin_name"], voice_ids=tuple(data["voice_ids"]),
                   script=Script.from_json(data["script"]), variants=data["variants"],
                   engine=data["engine"], model_id=data["model_id"],
                   ranges={name: SettingRange.from_json(voice_settings[name])
                           for name in SETTING_LIMITS},
                   use_speaker_boost=voice_settings["use_speaker_boost"], seed=data["seed"],
                   script_name=data["script_name"],
                   pronunciations=Dictionary.from_json(lexicon) if lexicon else None,
                   lang=data["lang"])

    def spoken_text(self, text: str) -> str:
        """A line as the engine is sent it once the dictionary's aliases are substituted."""
        return pronunciation.substitute(text, self.pronunciations)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _parse_range(name: str, value: object, problems: list[Problem]) -> SettingRange:
    low_limit, high_limit, default = SETTING_LIMITS[name]
    field = f"settings.{name}"
    if value is None:
        return SettingRange(default, default)
    bounds = value if isinstance(value, list | tuple) else [value]
    numbers = [_number(v) for v in bounds]
    if len(bounds) not in (1, 2) or any(n is None for n in numbers):
        problems.append(Problem(f"{field} must be a number or [min, max], not {value!r}",
                                field=field, value=value))
        return SettingRange(default, default)
    low, high = numbers[0], numbers[-1]
    assert low is not None and high is not None
    if low > high:
        problems.append(Problem(f"{field} range {value!r} has min above max", field=field,
                                value=value))
    if low < low_limit or high > high_limit:
        problems.append(Problem(f"{field} must lie within {low_limit}-{high_limit}, not {value!r}",
                                field=field, value=value))
    return SettingRange(low, high)


def parse_config(raw: Mapping[str, Any], *, default_engine: str = "piper",
                 base_dir: Path | None = None,
                 settings: Settings | None = None) -> GenerationConfig:
    """Validate a job config (the API body's shape); raise JobConfigError listing every problem.

    The script comes as `script_csv` (the CSV text) or `script_path` (a file, relative to
    `base_dir` when given). Unknown top-level keys are refused, so a typo is not silently ignored.

    The pronunciation dictionary is read here, once per run: the job's `pronunciations` (a
    .csv or .pls path, relative to `base_dir` like the script), else `settings.pronunciations`
    (VOICELAB_PRONUNCIATIONS), else a pronunciations.csv/.pls beside `script_path`; none is
    fine. Its problems, and lines too long for the engine once substituted, are config problems.
    """
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        raise JobConfigError([Problem(f"config must be a JSON object, not {type(raw).__name__}")])
    known = {"skin_name", "voice_ids", "script_csv", "script_path", "script_name", "variants",
             "engine", "model_id", "settings", "seed", "pronunciations", "lang"}
    problems += [Problem(f"unknown field {key!r}", field=key) for key in sorted(set(raw) - known)]

    skin = raw.get("skin_name")
    if not isinstance(skin, str) or not skin.strip():
        problems.append(Problem("skin_name must be a non-empty string", field="skin_name",
                                value=skin))
        skin = ""
    elif len(skin) > 100:
        problems.append(Problem("skin_name is longer than 100 characters", field="skin_name"))

    voices = raw.get("voice_ids")
    if isinstance(voices, str):
        voices = [voices]
    if (not isinstance(voices, list) or not voices
            or not all(isinstance(v, str) and v.strip() for v in voices)):
        problems.append(Problem("voice_ids must be a non-empty list of voice ids",
                                field="voice_ids", value=voices))
        voices = []
    elif len(voices) > MAX_VOICES:
        problems.append(Problem(f"at most {MAX_VOICES} voices per job", field="voice_ids"))
    voice_ids = tuple(dict.fromkeys(v.strip() for v in voices))

    variants = raw.get("variants", 1)
    if isinstance(variants, bool) or not isinstance(variants, int) or not (
            1 <= variants <= MAX_VARIANTS):
        problems.append(Problem(f"variants must be a whole number from 1 to {MAX_VARIANTS}, "
                                f"not {variants!r}", field="variants", value=variants))
        variants = 1

    engine = raw.get("engine") or default_engine
    if not isinstance(engine, str) or engine not in ENGINES:
        problems.append(Problem(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}",
                                field="engine", value=engine))
        engine = default_engine
    model_id = raw.get("model_id")
    if model_id is not None and (not isinstance(model_id, str) or not model_id.strip()):
        problems.append(Problem("model_id must be a non-empty string", field="model_id",
                                value=model_id))
        model_id = None
    model_id = model_id or ENGINES[engine].default_model

    voice_settings = raw.get("settings") or {}
    if not isinstance(voice_settings, Mapping):
        problems.append(Problem("settings must be an object", field="settings",
                                value=voice_settings))
        voice_settings = {}
    extra = sorted(set(voice_settings) - set(SETTING_LIMITS) - {"use_speaker_boost"})
    problems += [Problem(f"unknown setting {k!r}", field=f"settings.{k}") for k in extra]
    ranges = {name: _parse_range(name, voice_settings.get(name), problems)
              for name in SETTING_LIMITS}
    boost = voice_settings.get("use_speaker_boost", True)
    if not isinstance(boost, bool):
        problems.append(Problem("settings.use_speaker_boost must be true or false",
                                field="settings.use_speaker_boost", value=boost))
        boost = True

    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed <= 4_294_967_295):
        problems.append(Problem(f"seed must be a whole number from 0 to 4294967295, not {seed!r}",
                                field="seed", value=seed))
        seed = None

    lang = raw.get("lang", DEFAULT_LANG)
    if not isinstance(lang, str) or not LANG_PATTERN.fullmatch(lang):
        problems.append(Problem(f"lang must be a language code such as en, fr or en-GB, not "
                                f"{lang!r}", field="lang", value=lang))
        lang = DEFAULT_LANG

    script, script_name = _load_script(raw, engine, model_id, base_dir, problems)
    lexicon = _load_pronunciations(raw, base_dir, settings, problems)
    if script is not None and lexicon is not None:
        problems += _too_long_spoken(script, lexicon, ENGINES[engine].text_limit(model_id))
    if problems or script is None:
        raise JobConfigError(problems)
    return GenerationConfig(skin_name=skin.strip(), voice_ids=voice_ids, script=script,
                            variants=variants, engine=engine, model_id=model_id, ranges=ranges,
                            use_speaker_boost=boost, seed=seed, script_name=script_name,
                            pronunciations=lexicon, lang=lang)


def _resolve(path: object, base_dir: Path | None) -> Path:
    source = Path(str(path)).expanduser()
    return base_dir / source if base_dir is not None and not source.is_absolute() else source


def _load_pronunciations(raw: Mapping[str, Any], base_dir: Path | None,
                         settings: Settings | None,
                         problems: list[Problem]) -> Dictionary | None:
    """The run's dictionary (see parse_config), or None; its problems go to `problems`."""
    given = raw.get("pronunciations")
    if given is not None and (not isinstance(given, str) or not given.strip()):
        problems.append(Problem("pronunciations must be the path of a .csv or .pls file",
                                field="pronunciations", value=given))
        return None
    try:
        if given is not None:
            return pronunciation.load(_resolve(given, base_dir))
        script_path = raw.get("script_path")
        beside = (_resolve(script_path, base_dir) if isinstance(script_path, str)
                  and raw.get("script_csv") is None else None)
        return pronunciation.find_for_script(beside, settings or Settings())
    except PronunciationError as exc:
        problems += [Problem(f"{exc.source}: {exc.describe(p)}", field="pronunciations",
                             value=p.value) for p in exc.problems]
    return None


def _too_long_spoken(script: Script, lexicon: Dictionary, limit: int) -> list[Problem]:
    problems = []
    for line in script.lines:
        spoken = pronunciation.substitute(line.text, lexicon)
        if len(spoken) > limit:
            problems.append(Problem(f"Line has {len(spoken)} characters once the pronunciations "
                                    f"are substituted; the engine takes at most {limit}",
                                    row=line.row, field="Line", value=line.text[:60]))
    return problems


def _load_script(raw: Mapping[str, Any], engine: str, model_id: str | None,
                 base_dir: Path | None, problems: list[Problem]) -> tuple[Script | None, str]:
    csv_text, path = raw.get("script_csv"), raw.get("script_path")
    name = raw.get("script_name") if isinstance(raw.get("script_name"), str) else None
    if (csv_text is None) == (path is None):
        problems.append(Problem("give the script as script_csv (CSV text) or script_path, "
                                "exactly one", field="script_csv"))
        return None, name or "script.csv"
    try:
        if csv_text is not None:
            if not isinstance(csv_text, str):
                problems.append(Problem("script_csv must be the CSV text", field="script_csv"))
                return None, name or "script.csv"
            name = name or "script.csv"
            try:
                source: bytes | Path = csv_text.encode("utf-8")
            except UnicodeEncodeError as exc:
                problems.append(Problem(f"script_csv is not valid text ({exc.reason} at "
                                        f"character {exc.start})", field="script_csv"))
                return None, name
        else:
            source = Path(str(path))
            if base_dir is not None and not source.is_absolute():
                source = base_dir / source
            name = name or source.name
        limit = ENGINES[engine].text_limit(model_id)
        return parse_script(source, name=name, max_text_length=limit), name
    except ScriptError as exc:
        problems += [Problem(f"{exc.source}: {p}", field=p.field, value=p.value)
                     for p in exc.problems]
    except OSError as exc:
        problems.append(Problem(f"cannot read script {path!r}: {exc.strerror}",
                                field="script_path", value=path))
    return None, name or "script.csv"


def estimate(config: GenerationConfig) -> dict[str, int]:
    """Characters and requests the job will spend, before anything is spent.

    Characters are counted after the pronunciation dictionary's aliases are substituted
    (`GenerationConfig.spoken_text`).
    """
    spoken = sum(len(config.spoken_text(line.text)) for line in config.script.lines)
    per_voice = spoken * config.variants
    takes = len(config.script.lines) * config.variants * len(config.voice_ids)
    return {
        "voices": len(config.voice_ids),
        "lines": len(config.script.lines),
        "takes": takes,
        "requests": takes,
        "characters": per_voice * len(config.voice_ids),
    }
