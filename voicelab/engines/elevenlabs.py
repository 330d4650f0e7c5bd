"""ElevenLabs over HTTP: voices, models, quota and synthesis, every failure classified.

The engine never retries: voicelab.generation does retries and the concurrency bound in one place.
Instead every failure becomes one voicelab.errors class, and each raised EngineError carries
`http_status` (int or None) and `code` (the API's status/code string, or a local one such as
`timeout`, `connection`, `bad_audio`) so the generator can tell a concurrency 429 from a busy one.
The API key lives only in the session's headers: messages are built here, never copied from a
requests exception, and any echo of the key is masked.

Pronunciations (voicelab.pronunciation): with a model that applies phoneme rules
(`supports_phoneme_rules`), the run's dictionary is uploaded once per dictionary hash through
`POST /v1/pronunciation-dictionaries/add-from-rules` (alias rules, and phoneme rules in IPA where
an entry has ipa) and every request names it in `pronunciation_dictionary_locators`; the text goes
as written, so the service applies both kinds of rule. With any other model the dictionary's
aliases are substituted in the text here and no dictionary is uploaded (phoneme rules would be
ignored, and an IPA-only entry leaves its word as written). Substituting as well as sending
locators would hide the words the phoneme rules look for, so the two are never combined.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypedDict
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from voicelab import pronunciation
from voicelab.audio import decode_mp3
from voicelab.config import DEFAULT_ELEVENLABS_BASE_URL, Settings
from voicelab.engines.base import Synthesis, TakeSettings, Voice
from voicelab.errors import (
    AuthFailed,
    ConfigError,
    EngineError,
    QuotaExhausted,
    TakeRejected,
    TransientEngineError,
)
from voicelab.pronunciation import Dictionary

log = logging.getLogger(__name__)

DEFAULT_MODEL = "eleven_multilingual_v2"
# Characters per request by model (the models page), for when /v1/models cannot say.
TEXT_LIMITS = {
    "eleven_multilingual_v2": 10_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2": 30_000,
    "eleven_turbo_v2": 30_000,
    "eleven_v3": 3_000,
}
UNKNOWN_MODEL_TEXT_LIMIT = 10_000
# Models that apply a pronunciation dictionary's phoneme rules (see supports_phoneme_rules).
PHONEME_MODELS = frozenset({"eleven_flash_v2", "eleven_turbo_v2", "eleven_monolingual_v1"})
MAX_LOCATORS = 3

OUTPUT_FORMAT = "mp3_44100_128"
CACHE_TTL_S = 600.0
POOL_SIZE = 32
_CONCURRENCY_CODES = frozenset({"too_many_concurrent_requests", "concurrent_limit_exceeded"})
_REJECT_STATUSES = frozenset({400, 402, 403, 404, 422})
_KEY_HINT = "set it to use the ElevenLabs engine"


class ModelInfo(TypedDict):
    """A text-to-speech model as /v1/models describes it."""

    model_id: str
    name: str
    max_text_length: int
    concurrency_group: str
    languages: list[str]


class Locator(TypedDict):
    """One item of a text-to-speech request's `pronunciation_dictionary_locators`."""

    pronunciation_dictionary_id: str
    version_id: str | None


def supports_phoneme_rules(model_id: str | None) -> bool:
    """Whether `model_id` (the default model when None) applies phoneme rules.

    ElevenLabs documents phoneme rules for its English-only models only: Eleven Flash v2
    (`eleven_flash_v2`), Eleven Turbo v2 (`eleven_turbo_v2`) and Eleven English v1
    (`eleven_monolingual_v1`); Multilingual v2, the v2.5 models and v3 ignore them (alias rules
    work with every model). Sources: ElevenLabs' API reference, "Pronunciation
    dictionaries", and ElevenLabs' best-practices page ("Phoneme tags are only compatible with
    Eleven Flash v2, Eleven Turbo v2 and Eleven English v1"). Exact ids: `eleven_flash_v2_5` is
    not `eleven_flash_v2`. The one place to change when the service adds models.
    """
    return (model_id or DEFAULT_MODEL) in PHONEME_MODELS


class Quota(TypedDict):
    """The account's character budget for the current period."""

    tier: str
    character_count: int
    character_limit: int
    remaining: int
    next_reset_unix: int | None


# Voices and models shared by every engine on the same key and base URL (keyed by a key hash).
_cache: dict[tuple[str, str, str], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def clear_caches() -> None:
    """Forget every cached voice and model list (tests, or after adding a voice)."""
    with _cache_lock:
        _cache.clear()


def _header_int(headers: Any, *names: str) -> int | None:
    for name in names:
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return int(float(raw))
        except ValueError:
            continue
    return None


def _retry_after(raw: str | None) -> float | None:
    """Retry-After as seconds (number or HTTP date); None when absent or unreadable."""
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _loc(loc: Any) -> str:
    parts = [str(p) for p in loc] if isinstance(loc, list | tuple) else [str(loc)]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "request"


def parse_error(response: requests.Response) -> tuple[tuple[str, ...], str]:
    """The codes (status, code, type; most specific first) and a readable message.

    Accepts all five error shapes: older and newer `detail` objects, the 422 list of
    {loc, msg, type}, the top-level {status, message} of some 500s, and `{"detail": "Not Found"}`;
    a non-JSON body gives its first 200 characters.
    """
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())[:200]
        return (), text or f"empty {response.headers.get('content-type', 'untyped')} body"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        codes = tuple(dict.fromkeys(str(detail[k]) for k in ("status", "code", "type")
                                    if detail.get(k)))
        return codes, str(detail.get("message") or detail.get("status") or detail)
    if isinstance(detail, list):
        items = [
            f"{_loc(d.get('loc', ()))}: {d.get('msg', d)}" if isinstance(d, dict) else str(d)
            for d in detail
        ]
        return ("validation_error",), "; ".join(items) or "invalid request"
    if isinstance(detail, str):
        return (), detail
    if isinstance(body, dict) and ("status" in body or "message" in body):
        codes = (str(body["status"]),) if body.get("status") else ()
        return codes, str(body.get("message") or body.get("status"))
    return (), str(body)[:200]


class ElevenLabs:
    """The ElevenLabs engine; one instance is shared by all of generation's worker threads."""

    name: ClassVar[str] = "elevenlabs"
    default_model: ClassVar[str | None] = DEFAULT_MODEL
    shares_quota: ClassVar[bool] = True

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_ELEVENLABS_BASE_URL,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        pool_size: int = POOL_SIZE,
        cache_ttl: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_key:
            raise ConfigError("ELEVENLABS_API_KEY", "(unset)", _KEY_HINT)
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.cache_ttl, self._clock = cache_ttl, clock
        self._key = api_key
        self._key_hash = hashlib.sha256(api_key.encode()).hexdigest()[:16]
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"xi-api-key": api_key, "accept": "application/json"})
        # Dictionary hash -> its locator, or the refusal of its upload (never sent twice).
        self._dictionaries: dict[str, Locator | EngineError] = {}
        self._dictionaries_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ElevenLabs:
        """Build from Settings; ConfigError when ELEVENLABS_API_KEY is unset."""
        if not settings.elevenlabs_api_key:
            raise ConfigError("ELEVENLABS_API_KEY", "(unset)", _KEY_HINT)
        return cls(settings.elevenlabs_api_key, settings.elevenlabs_base_url)

    @classmethod
    def available(cls, settings: Settings) -> bool:
        """Only with an API key."""
        return bool(settings.elevenlabs_api_key)

    @classmethod
    def text_limit(cls, model_id: str | None) -> int:
        """The published limit of `model_id` (the default model when None)."""
        return TEXT_LIMITS.get(model_id or DEFAULT_MODEL, UNKNOWN_MODEL_TEXT_LIMIT)

    def __repr__(self) -> str:
        return f"ElevenLabs(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> ElevenLabs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- synthesis ---------------------------------------------------------------------------

    def synthesize(
        self,
        text: str,
        voice_id: str,
        settings: TakeSettings,
        seed: int | None = None,
        model_id: str | None = None,
        *,
        pronunciations: Dictionary | None = None,
    ) -> Synthesis:
        """Speak `text` with one voice as an MP3; raise an EngineError subclass on failure.

        With `pronunciations`, a phoneme-capable model gets the dictionary as a locator (uploaded
        on first use) and the text as written; any other model gets the text with the aliases
        substituted (module doc).

        Raises:
            AuthFailed, QuotaExhausted: no later request can succeed either.
            TakeRejected: the API refused this text, voice or these settings (not worth retrying).
            TransientEngineError: busy, over the concurrency limit, 5xx, timeout, dropped link,
                bad audio.
        """
        model_id = model_id or DEFAULT_MODEL
        locators: list[Locator] = []
        if pronunciations is not None and pronunciations.entries:
            if supports_phoneme_rules(model_id):
                locators.append(self.pronunciation_locator(pronunciations))
            else:
                text = pronunciation.substitute(text, pronunciations)
        body: dict[str, Any] = {
            "text": text,
            "model_id": model_id,
            "voice_settings": {
                "stability": settings.stability,
                "similarity_boost": settings.similarity_boost,
                "style": settings.style,
                "use_speaker_boost": settings.use_speaker_boost,
                "speed": settings.speed,
            },
        }
        if seed is not None:
            body["seed"] = seed
        if locators:
            body["pronunciation_dictionary_locators"] = locators[:MAX_LOCATORS]
        what = f"voice {voice_id}"
        response = self._request(
            "POST",
            f"/v1/text-to-speech/{quote(voice_id, safe='')}",
            what,
            params={"output_format": OUTPUT_FORMAT},
            json=body,
            headers={"accept": "audio/mpeg"},
        )
        audio = response.content
        try:
            samples, sample_rate = decode_mp3(audio)
        except Exception:  # libsndfile raises several types for bytes that are not audio
            samples, sample_rate = None, 0
        if samples is None or samples.size == 0:
            raise self._error(
                TransientEngineError,
                f"ElevenLabs returned {len(audio)} bytes that are not MP3 audio for {what}",
                response.status_code,
                "bad_audio",
            )
        characters = _header_int(response.headers, "character-cost", "x-character-count")
        return Synthesis(
            mp3=audio,
            samples=samples,
            sample_rate=sample_rate,
            characters=len(text) if characters is None else characters,
            request_id=response.headers.get("request-id"),
        )

    # -- pronunciation dictionaries ----------------------------------------------------------

    def pronunciation_locator(self, dictionary: Dictionary) -> Locator:
        """The locator of `dictionary` on the service, uploading it on first use.

        One upload per dictionary hash for the life of this engine (one run): concurrent takes
        wait for the first one's upload and reuse its id and version. A refused upload (bad
        rules) is remembered and raised again without asking twice; a transient failure is not,
        so the take's retry uploads again.

        Raises:
            AuthFailed, QuotaExhausted, TakeRejected, TransientEngineError: as `synthesize`.
        """
        with self._dictionaries_lock:
            known = self._dictionaries.get(dictionary.hash)
            if known is None:
                try:
                    known = self._upload(dictionary)
                except TakeRejected as exc:
                    self._dictionaries[dictionary.hash] = exc
                    raise
                self._dictionaries[dictionary.hash] = known
        if isinstance(known, EngineError):
            raise self._error(type(known), str(known), getattr(known, "http_status", None),
                              getattr(known, "code", ""))
        return Locator(pronunciation_dictionary_id=known["pronunciation_dictionary_id"],
                       version_id=known["version_id"])

    def _upload(self, dictionary: Dictionary) -> Locator:
        rules = pronunciation.to_rules(dictionary)
        what = f"pronunciation dictionary {dictionary.source}"
        body = {"name": f"voicelab-{dictionary.hash[:16]}", "rules": rules,
                "description": f"VoiceLab: {dictionary.source}, {len(rules)} rules, "
                               f"sha256 {dictionary.hash}"}
        response = self._request("POST", "/v1/pronunciation-dictionaries/add-from-rules", what,
                                 json=body)
        try:
            data = response.json()
        except ValueError:
            data = None
        ident = data.get("id") if isinstance(data, dict) else None
        version = data.get("version_id") if isinstance(data, dict) else None
        if not isinstance(ident, str) or not ident or not isinstance(version, str | None):
            raise self._error(TransientEngineError, f"ElevenLabs answered the upload of {what} "
                              "without a dictionary id", response.status_code, "bad_json")
        log.info("uploaded %s (%d rules, sha256 %s) as %s version %s", what, len(rules),
                 dictionary.hash[:12], ident, version)
        return Locator(pronunciation_dictionary_id=ident, version_id=version)

    # -- catalogue ---------------------------------------------------------------------------

    def voices(self, refresh: bool = False) -> list[Voice]:
        """Every voice on the account (all pages of /v2/voices), cached for `cache_ttl` seconds."""
        return list(self._cached("voices", self._fetch_voices, refresh))

    def models(self, refresh: bool = False) -> list[ModelInfo]:
        """The text-to-speech models from /v1/models, cached like voices."""
        return list(self._cached("models", self._fetch_models, refresh))

    def max_text_length(self, model_id: str | None = None) -> int:
        """The most characters one request may carry for `model_id` (default model when None).

        Uses /v1/models; falls back to the published table when the API cannot answer.

        Raises:
            AuthFailed: the key was refused.
        """
        model_id = model_id or DEFAULT_MODEL
        try:
            for model in self.models():
                if model["model_id"] == model_id and model["max_text_length"] > 0:
                    return model["max_text_length"]
        except (TransientEngineError, TakeRejected) as exc:
            log.warning("ElevenLabs models unavailable, using the built-in limits: %s", exc)
        return self.text_limit(model_id)

    def quota(self) -> Quota:
        """The account's tier and character budget from /v1/user/subscription."""
        data = self._get_json("/v1/user/subscription", "the subscription")
        count, limit = int(data.get("character_count") or 0), int(data.get("character_limit") or 0)
        reset = data.get("next_character_count_reset_unix")
        return Quota(
            tier=str(data.get("tier", "")),
            character_count=count,
            character_limit=limit,
            remaining=max(0, limit - count),
            next_reset_unix=int(reset) if reset is not None else None,
        )

    def _cached(self, kind: str, fetch: Callable[[], Any], refresh: bool) -> Any:
        key = (self._key_hash, self.base_url, kind)
        now = self._clock()
        with _cache_lock:
            hit = _cache.get(key)
        if hit and not refresh and now - hit[0] < self.cache_ttl:
            return hit[1]
        value = fetch()
        with _cache_lock:
            _cache[key] = (now, value)
        return value

    def _fetch_voices(self) -> tuple[Voice, ...]:
        voices: list[Voice] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"page_size": 100}
            if token:
                params["next_page_token"] = token
            page = self._get_json("/v2/voices", "the voice list", params=params)
            for raw in page.get("voices") or []:
                labels = raw.get("labels") or {}
                voices.append(
                    Voice(
                        id=str(raw["voice_id"]),
                        name=str(raw.get("name") or raw["voice_id"]),
                        engine=self.name,
                        category=str(raw.get("category") or ""),
                        labels={str(k): str(v) for k, v in labels.items() if v is not None},
                    )
                )
            token = page.get("next_page_token")
            if not page.get("has_more") or not token or token in seen:
                return tuple(voices)
            seen.add(token)

    def _fetch_models(self) -> tuple[ModelInfo, ...]:
        models = self._get_json("/v1/models", "the model list")
        return tuple(
            ModelInfo(
                model_id=str(m["model_id"]),
                name=str(m.get("name") or m["model_id"]),
                max_text_length=int(m.get("maximum_text_length_per_request") or 0)
                or self.text_limit(str(m["model_id"])),
                concurrency_group=str(m.get("concurrency_group") or ""),
                languages=[str(lang.get("language_id")) for lang in m.get("languages") or []],
            )
            for m in models
            if m.get("can_do_text_to_speech")
        )

    # -- transport and classification ----------------------------------------------------------

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One HTTP call; a 2xx response, or the classified EngineError."""
        started = time.perf_counter()
        try:
            response = self._session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.Timeout as exc:
            kind = "connect" if isinstance(exc, requests.ConnectTimeout) else "read"
            limit = self.timeout[0] if kind == "connect" else self.timeout[1]
            raise self._error(
                TransientEngineError,
                f"ElevenLabs did not answer within {limit:g} s ({kind} timeout) for {what}",
                None,
                "timeout",
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            raise self._error(
                TransientEngineError,
                f"ElevenLabs connection failed for {what} at {self.base_url} "
                f"({type(exc).__name__}: connection refused, reset or dropped)",
                None,
                "connection",
            ) from None
        except requests.RequestException as exc:
            raise self._error(
                EngineError,
                f"ElevenLabs request for {what} could not be sent ({type(exc).__name__})",
                None,
                "request",
            ) from None
        log.debug(
            "%s %s -> %s in %.3f s (request-id %s)",
            method, path, response.status_code, time.perf_counter() - started,
            response.headers.get("request-id", "-"),
        )
        if response.ok:
            return response
        raise self._classify(response, what)

    def _get_json(self, path: str, what: str, **kwargs: Any) -> Any:
        """GET a JSON document; a body that is not JSON (a proxy's page) is transient."""
        response = self._request("GET", path, what, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise self._error(
                TransientEngineError,
                f"ElevenLabs answered {what} with a body that is not JSON "
                f"({response.headers.get('content-type', 'no content-type')})",
                response.status_code,
                "bad_json",
            ) from None

    def _classify(self, response: requests.Response, what: str) -> EngineError:
        status = response.status_code
        codes, message = parse_error(response)
        code = codes[0] if codes else ""
        shown = f"HTTP {status} {code}".rstrip()
        retry_after = _retry_after(response.headers.get("retry-after"))
        if status == 401 and "quota_exceeded" in codes:
            return self._error(QuotaExhausted, f"ElevenLabs quota exhausted for {what}: "
                               f"{message} ({shown})", status, "quota_exceeded")
        if status == 401:
            return self._error(AuthFailed, f"ElevenLabs refused the API key for {what}: "
                               f"{message} ({shown})", status, code)
        if status == 429:
            concurrency = not _CONCURRENCY_CODES.isdisjoint(codes)
            reason = "concurrency limit reached" if concurrency else "service busy"
            return self._error(TransientEngineError, f"ElevenLabs {reason} for {what}: {message} "
                               f"({shown})", status, code, retry_after=retry_after,
                               concurrency=concurrency)
        if status in _REJECT_STATUSES:
            return self._error(TakeRejected, f"ElevenLabs rejected the request for {what}: "
                               f"{message} (HTTP {status})", status, code)
        if status >= 500 or status in (408, 409):
            return self._error(TransientEngineError, f"ElevenLabs failed for {what}: {message} "
                               f"({shown})", status, code, retry_after=retry_after)
        return self._error(TakeRejected, f"ElevenLabs refused the request for {what}: "
                           f"{message} ({shown})", status, code)

    def _error(
        self, cls: type[EngineError], message: str, status: int | None, code: str, **kwargs: Any
    ) -> EngineError:
        """Build an error with the key masked and the failure's kind attached."""
        exc = cls(message.replace(self._key, "***"), **kwargs)
        exc.http_status, exc.code = status, code  # type: ignore[attr-defined]
        return exc
