"""A real HTTP fake of the ElevenLabs API on loopback, with latency, concurrency limits and faults.

Use it from a fixture (`with FakeElevenLabs() as fake: ...fake.url...`), a benchmark script, or
another process: `python -m tests.fake_elevenlabs --port 8765 --latency 0.2` prints
`READY <url>` on stdout once it listens, and serves until SIGTERM or Ctrl-C.

It follows ElevenLabs' public API (its OpenAPI document and error pages): on TTS it checks, in
order, the body (422 list shape), the key (401), the model and voice (400/404), the length (400),
then injected faults, the quota (401 quota_exceeded) and the concurrency limit (429), and finally
answers 200 with a real MP3 tone and the API's headers. Test-only routes: `GET /_fake/stats` and
`POST /_fake/fail_next` ({"n", "kind", "retry_after"}) for a fake running in another process.

Pronunciation dictionaries (ElevenLabs' API reference, "Pronunciation dictionaries"):
`POST /v1/pronunciation-dictionaries/add-from-rules` checks the body (422 list shape: `name` and
`rules` required; each rule a `string_to_replace`, a `type` alias or phoneme, an `alias`, or a
`phoneme` with an `alphabet`; optional booleans `case_sensitive`, `word_boundaries`), then the key
(401), then the alphabet (400 unless ipa or cmu-arpabet); it remembers the dictionary and answers
its `id` and `version_id`. TTS checks `pronunciation_dictionary_locators` the same way: shape at
the schema layer (422), then, after the key, at most 3 and every id (and version) known (400).
Every dictionary received is in `dictionaries` (id -> body and version) and the TTS log keeps each
request body as sent, so a test sees exactly what reached the service.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import signal
import socket
import string
import sys
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from voicelab.audio import encode_mp3

DEFAULT_KEY = "sk-test-0123456789abcdef0123456789abcdef"
FAULTS = ("429_busy", "429_concurrent", "500", "503", "drop", "truncate", "garbage", "slow",
          "422")
SAMPLE_RATE = 44_100
SECONDS_PER_CHAR = 0.06
MAX_AUDIO_S = 3.0
MAX_LOCATORS = 3
ALPHABETS = ("ipa", "cmu-arpabet")
MODELS: dict[str, tuple[str, int, str, bool]] = {  # id -> name, max chars, group, can TTS
    "eleven_multilingual_v2": ("Eleven Multilingual v2", 10_000, "standard", True),
    "eleven_flash_v2_5": ("Eleven Flash v2.5", 40_000, "turbo", True),
    "eleven_turbo_v2_5": ("Eleven Turbo v2.5", 40_000, "turbo", True),
    "eleven_flash_v2": ("Eleven Flash v2", 30_000, "turbo", True),
    "eleven_turbo_v2": ("Eleven Turbo v2", 30_000, "turbo", True),
    "eleven_v3": ("Eleven v3", 3_000, "standard", True),
    "eleven_multilingual_sts_v2": ("Eleven Multilingual v2 (speech to speech)", 10_000,
                                   "standard", False),
}
_NAMES = ("Aldric", "Brenna", "Cedric", "Dagny", "Edmund", "Freya", "Gareth", "Hilde", "Ivo",
          "Jora")
_CATEGORIES = ("premade", "cloned", "generated", "professional")
_BUSY = ("We are sorry, the system is experiencing heavy traffic, please try again. "
         "Higher subscriptions have higher priority.")
_CRASH = "Internal Server error. All such crashes are reported to us automatically."


def _random_id(rng: random.Random, n: int = 20) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def _make_voices(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "voice_id": _random_id(rng),
            "name": f"{_NAMES[i % len(_NAMES)]}{'' if i < len(_NAMES) else i // len(_NAMES)}",
            "category": _CATEGORIES[i % len(_CATEGORIES)],
            "labels": {"accent": "British" if i % 2 else "American",
                       "gender": "female" if i % 3 else "male", "age": "middle-aged"},
            "description": None,
            "preview_url": None,
            "available_for_tiers": [],
            "high_quality_base_model_ids": ["eleven_multilingual_v2"],
            "settings": None,
        }
        for i in range(count)
    ]


class _Failure:
    """One queued deterministic failure."""

    def __init__(self, kind: str, retry_after: float | None) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        self.kind, self.retry_after = kind, retry_after


class FakeElevenLabs:
    """The fake API server; thread-safe, counters readable while it runs (see `stats()`).

    `concurrency_limit=None` admits everything (then `max_in_flight` shows the client's own
    concurrency); `quota` is in billed characters (`cost_factor` x text length); `faults` are
    drawn at `fault_rate` from FAULTS; `tts_log` keeps the last 1000 TTS bodies as sent;
    `dictionaries` holds every pronunciation dictionary added (id -> name, rules, version_id).
    Counters: `requests` (all routes), `routes`, `tts` (by outcome), `characters_billed`,
    `in_flight` and `max_in_flight` (admitted TTS requests).
    """

    def __init__(
        self,
        api_key: str = DEFAULT_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        concurrency_limit: int | None = 5,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: tuple[str, ...] = ("429_busy", "500", "drop"),
        voices: int = 3,
        quota: int = 1_000_000,
        tier: str = "creator",
        retry_after: float | None = None,
        slow_seconds: float = 5.0,
        cost_factor: float = 1.0,
        cost_header: str | None = "character-cost",
        seed: int = 0,
    ) -> None:
        for kind in faults:
            _Failure(kind, None)
        self.api_key, self.host, self._port = api_key, host, port
        self.concurrency_limit, self.latency = concurrency_limit, latency
        self.fault_rate, self.faults = fault_rate, tuple(faults)
        self.quota, self.tier, self.retry_after = quota, tier, retry_after
        self.slow_seconds = slow_seconds
        self.cost_factor, self.cost_header = cost_factor, cost_header
        self.tts_log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.dictionaries: dict[str, dict[str, Any]] = {}
        self.voices = _make_voices(voices, seed)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()
        self._stopping = threading.Event()
        self._queued: deque[_Failure] = deque()
        self._mp3s: dict[tuple[int, int], bytes] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self.reset_counters()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeElevenLabs:
        """Listen and serve in a background thread; returns self."""
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._stopping.clear()
        server = _Server((self.host, self._port), Handler, bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 1024
        server.allow_reuse_address = True
        server.server_bind()
        server.server_activate()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name="fake-elevenlabs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and cut every open connection."""
        self._stopping.set()
        self._gate.set()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._server = None

    def __enter__(self) -> FakeElevenLabs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def voice_ids(self) -> list[str]:
        return [v["voice_id"] for v in self.voices]

    # -- control and counters ------------------------------------------------------------------

    def reset_counters(self) -> None:
        """Zero every counter and the TTS log (not the queued failures)."""
        self.tts_log.clear()
        with self._lock:
            self.requests = 0
            self.routes: Counter[str] = Counter()
            self.tts: Counter[str] = Counter()
            self.characters_billed = 0
            self.in_flight = 0
            self.max_in_flight = 0

    def fail_next(self, n: int, kind: str, retry_after: float | None = None) -> None:
        """Make the next `n` TTS requests that pass validation fail as `kind` (see FAULTS)."""
        failures = [_Failure(kind, retry_after) for _ in range(n)]
        with self._lock:
            self._queued.extend(failures)

    def hold(self) -> None:
        """Park admitted TTS requests (they count as in flight) until `release()`."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def stats(self) -> dict[str, Any]:
        """A consistent snapshot of the counters, JSON-ready."""
        with self._lock:
            return {
                "requests": self.requests,
                "routes": dict(self.routes),
                "tts": dict(self.tts),
                "characters_billed": self.characters_billed,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }

    def wait_until(self, check: Any, timeout: float = 10.0) -> bool:
        """Poll `check(stats())` until true or `timeout` seconds pass; returns the last result."""
        deadline = time.monotonic() + timeout
        while not (ok := bool(check(self.stats()))) and time.monotonic() < deadline:
            time.sleep(0.01)
        return ok

    # -- behaviour used by the handler -----------------------------------------------------------

    def _count(self, route: str) -> None:
        with self._lock:
            self.requests += 1
            self.routes[route] += 1

    def _cost(self, text: str) -> int:
        return max(1, round(len(text) * self.cost_factor)) if text else 0

    def _outcome(self, outcome: str) -> None:
        with self._lock:
            self.tts[outcome] += 1

    def _next_fault(self) -> _Failure | None:
        with self._lock:
            if self._queued:
                return self._queued.popleft()
            if self.fault_rate and self.faults and self._rng.random() < self.fault_rate:
                return _Failure(self._rng.choice(self.faults), self.retry_after)
        return None

    def _admit(self, characters: int) -> str | None:
        """Reserve quota and a concurrency slot; the refusal reason, or None when admitted."""
        with self._lock:
            if self.characters_billed + characters > self.quota:
                return "quota"
            if self.concurrency_limit is not None and self.in_flight >= self.concurrency_limit:
                return "concurrency"
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.characters_billed += characters
            return None

    def _leave(self, characters: int, billed: bool) -> None:
        with self._lock:
            self.in_flight -= 1
            if not billed:
                self.characters_billed -= characters

    def _mp3(self, text: str, voice_index: int) -> bytes:
        duration_ms = int(min(MAX_AUDIO_S, max(0.2, len(text) * SECONDS_PER_CHAR)) * 1000)
        key = (duration_ms, voice_index % 8)
        with self._lock:
            cached = self._mp3s.get(key)
        if cached is None:
            t = np.arange(int(SAMPLE_RATE * duration_ms / 1000)) / SAMPLE_RATE
            tone = 0.3 * np.sin(2 * math.pi * (180 + 40 * key[1]) * t) * np.minimum(1, 20 * t)
            cached = encode_mp3(tone.astype(np.float32), SAMPLE_RATE)
            with self._lock:
                self._mp3s[key] = cached
        return cached


def _validation(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"detail": errors}


def _range_error(loc: list[str], value: Any, low: float, high: float) -> dict[str, Any] | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return {"type": "float_parsing", "loc": loc, "msg": "Input should be a valid number",
                "input": value}
    if value > high:
        return {"type": "less_than_equal", "loc": loc, "input": value, "ctx": {"le": high},
                "msg": f"Input should be less than or equal to {high:g}"}
    if value < low:
        return {"type": "greater_than_equal", "loc": loc, "input": value, "ctx": {"ge": low},
                "msg": f"Input should be greater than or equal to {low:g}"}
    return None


def validate_tts_body(body: Any) -> list[dict[str, Any]]:
    """The 422 errors the API's schema layer reports for a TTS body (empty when valid)."""
    if not isinstance(body, dict):
        return [{"type": "model_attributes_type", "loc": ["body"],
                 "msg": "Input should be a valid dictionary or object", "input": body}]
    errors: list[dict[str, Any]] = []
    if "text" not in body:
        errors.append({"type": "missing", "loc": ["body", "text"], "msg": "Field required",
                       "input": None})
    elif not isinstance(body["text"], str):
        errors.append({"type": "string_type", "loc": ["body", "text"],
                       "msg": "Input should be a valid string", "input": body["text"]})
    settings = body.get("voice_settings")
    if settings is not None and not isinstance(settings, dict):
        errors.append({"type": "model_attributes_type", "loc": ["body", "voice_settings"],
                       "msg": "Input should be a valid dictionary or object", "input": settings})
    elif settings:
        ranges = {"stability": (0, 1), "similarity_boost": (0, 1), "style": (0, 1),
                  "speed": (0.7, 1.2)}
        for name, (low, high) in ranges.items():
            if settings.get(name) is not None:
                error = _range_error(["body", "voice_settings", name], settings[name], low, high)
                if error:
                    errors.append(error)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed <= 4_294_967_295):
        errors.append({"type": "int_range", "loc": ["body", "seed"], "input": seed,
                       "msg": "Must be integer between 0 and 4294967295"})
    errors += _locator_errors(body.get("pronunciation_dictionary_locators"))
    return errors


def _string_error(loc: list[Any], value: Any, *, required: bool = True) -> dict[str, Any] | None:
    if value is None and required:
        return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}
    if value is not None and not isinstance(value, str):
        return {"type": "string_type", "loc": loc, "msg": "Input should be a valid string",
                "input": value}
    return None


def _locator_errors(locators: Any) -> list[dict[str, Any]]:
    """The schema layer's errors for `pronunciation_dictionary_locators` (null or a list)."""
    if locators is None:
        return []
    loc: list[Any] = ["body", "pronunciation_dictionary_locators"]
    if not isinstance(locators, list):
        return [{"type": "list_type", "loc": loc, "msg": "Input should be a valid list",
                 "input": locators}]
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(locators):
        if not isinstance(item, dict):
            errors.append({"type": "model_attributes_type", "loc": [*loc, i],
                           "msg": "Input should be a valid dictionary or object", "input": item})
            continue
        for name, required in (("pronunciation_dictionary_id", True), ("version_id", False)):
            error = _string_error([*loc, i, name], item.get(name), required=required)
            if error:
                errors.append(error)
    return errors


def validate_rules_body(body: Any) -> list[dict[str, Any]]:
    """The 422 errors for an add-from-rules body: a name and a list of alias or phoneme rules."""
    if not isinstance(body, dict):
        return [{"type": "model_attributes_type", "loc": ["body"],
                 "msg": "Input should be a valid dictionary or object", "input": body}]
    errors: list[dict[str, Any]] = []
    error = _string_error(["body", "name"], body.get("name"))
    if error:
        errors.append(error)
    rules = body.get("rules")
    if not isinstance(rules, list):
        missing = rules is None
        errors.append({"type": "missing" if missing else "list_type", "loc": ["body", "rules"],
                       "msg": "Field required" if missing else "Input should be a valid list",
                       "input": rules})
        return errors
    for i, rule in enumerate(rules):
        loc: list[Any] = ["body", "rules", i]
        if not isinstance(rule, dict):
            errors.append({"type": "model_attributes_type", "loc": loc, "input": rule,
                           "msg": "Input should be a valid dictionary or object"})
            continue
        kind = rule.get("type")
        if kind not in ("alias", "phoneme"):
            errors.append({"type": "union_tag_invalid" if kind else "union_tag_not_found",
                           "loc": loc, "input": rule,
                           "msg": "Input tag does not match any of the expected tags: 'alias', "
                                  "'phoneme'" if kind else
                                  "Unable to extract tag using discriminator 'type'"})
            continue
        loc = [*loc, kind]
        needed = ("string_to_replace", "alias") if kind == "alias" else (
            "string_to_replace", "phoneme", "alphabet")
        for name in needed:
            error = _string_error([*loc, name], rule.get(name))
            if error:
                errors.append(error)
            elif name == "string_to_replace" and not rule[name]:
                errors.append({"type": "string_too_short", "loc": [*loc, name], "input": "",
                               "ctx": {"min_length": 1},
                               "msg": "String should have at least 1 character"})
        for name in ("case_sensitive", "word_boundaries"):
            if name in rule and not isinstance(rule[name], bool):
                errors.append({"type": "bool_type", "loc": [*loc, name], "input": rule[name],
                               "msg": "Input should be a valid boolean"})
    return errors


class _Server(ThreadingHTTPServer):
    """Quiet about clients that hang up: the fake drops links on purpose and clients time out."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes one connection's requests to the fake; HTTP/1.1 keep-alive like the real API."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server_version = "uvicorn"
    sys_version = ""
    timeout = 60
    server_fake: FakeElevenLabs

    def setup(self) -> None:
        super().setup()
        with self.server_fake._lock:
            self.server_fake._sockets.add(self.connection)

    def finish(self) -> None:
        with self.server_fake._lock:
            self.server_fake._sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and benchmarks read counters, not access logs."""

    # -- responses ----------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-trace-id", _random_id(random.Random(), 32).lower())
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _detail(self, status: int, code: str, message: str, *, newer: bool = False,
                headers: dict[str, str] | None = None) -> None:
        if newer:
            kinds = {401: "authentication_error", 429: "rate_limit_error"}
            detail = {"type": kinds.get(status, "invalid_request"), "code": code,
                      "message": message, "status": code,
                      "request_id": _random_id(random.Random(), 32).lower()}
            if code == "invalid_api_key":
                detail["code"] = "unauthorized"
        else:
            detail = {"status": code, "message": message}
        self._json(status, {"detail": detail}, headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self, outcome: str | None = None) -> bool:
        """Check the key; a refusal is counted (as `outcome`) before it is sent."""
        key = self.headers.get("xi-api-key")
        if key is not None and key == self.server_fake.api_key:
            return True
        if outcome:
            self.server_fake._outcome(outcome)
        if key is None:
            self._detail(401, "needs_authorization", "Neither authorization header nor "
                         "xi-api-key received, please provide one.")
            return False
        self._detail(401, "invalid_api_key", "Invalid API key", newer=True)
        return False

    # -- routes ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        fake = self.server_fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        routes = {"/v2/voices": ("voices", self._voices_v2), "/v1/voices": ("voices_v1", None),
                  "/v1/models": ("models", self._models),
                  "/v1/user/subscription": ("subscription", self._subscription),
                  "/_fake/stats": ("fake", None)}
        route, action = routes.get(url.path, ("other", None))
        fake._count(route)
        if route == "fake":
            self._json(200, fake.stats())
        elif route == "other":
            self._json(404, {"detail": "Not Found"})
        elif not self._authorized():
            return
        elif route == "voices_v1":
            self._json(200, {"voices": fake.voices})
        elif action is not None:
            action(query)

    def _voices_v2(self, query: dict[str, str]) -> None:
        voices = self.server_fake.voices
        try:
            size = int(query.get("page_size", "10"))
        except ValueError:
            size = -1
        if not 1 <= size <= 100:
            self._json(422, _validation([{
                "type": "less_than_equal" if size > 100 else "greater_than_equal",
                "loc": ["query", "page_size"], "input": query.get("page_size"),
                "msg": "Input should be between 1 and 100 (Can not exceed 100)"}]))
            return
        token = query.get("next_page_token", "")
        start = int(token[5:]) if token.startswith("page-") and token[5:].isdigit() else 0
        page = voices[start:start + size]
        more = start + size < len(voices)
        self._json(200, {"voices": page, "has_more": more, "total_count": len(voices),
                         "next_page_token": f"page-{start + size}" if more else None})

    def _models(self, query: dict[str, str]) -> None:
        self._json(200, [
            {"model_id": model_id, "name": name, "description": name,
             "can_be_finetuned": False, "can_do_text_to_speech": tts,
             "can_do_voice_conversion": not tts, "can_use_style": True,
             "can_use_speaker_boost": True, "serves_pro_voices": False,
             "requires_alpha_access": False, "token_cost_factor": 1.0,
             "maximum_text_length_per_request": limit, "concurrency_group": group,
             "languages": [{"language_id": "en", "name": "English"}],
             "model_rates": {"character_cost_multiplier": 1.0}}
            for model_id, (name, limit, group, tts) in MODELS.items()
        ])

    def _subscription(self, query: dict[str, str]) -> None:
        fake = self.server_fake
        self._json(200, {"tier": fake.tier, "character_count": fake.stats()["characters_billed"],
                         "character_limit": fake.quota, "status": "active",
                         "next_character_count_reset_unix": 1_767_225_600,
                         "can_extend_character_limit": False, "currency": "usd",
                         "billing_period": "monthly_period"})

    def do_POST(self) -> None:
        fake = self.server_fake
        path = urlsplit(self.path).path
        raw = self._read_body()
        if path == "/_fake/fail_next":
            fake._count("fake")
            order = json.loads(raw or b"{}")
            fake.fail_next(int(order.get("n", 1)), str(order.get("kind")), order.get("retry_after"))
            self._json(200, fake.stats())
            return
        if path == "/v1/pronunciation-dictionaries/add-from-rules":
            fake._count("pronunciation_dictionaries")
            self._add_dictionary(raw)
            return
        if not (path.startswith("/v1/text-to-speech/") and path.count("/") == 3):
            fake._count("other")
            self._json(404, {"detail": "Not Found"})
            return
        fake._count("tts")
        voice_id = unquote(path.rsplit("/", 1)[1])
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        with contextlib.suppress(ValueError):
            fake.tts_log.append({"voice_id": voice_id, "query": query, "body": json.loads(raw)})
        self._tts(voice_id, raw)

    def _add_dictionary(self, raw: bytes) -> None:
        fake = self.server_fake
        try:
            body = json.loads(raw)
        except ValueError as exc:
            self._json(422, _validation([{"type": "json_invalid", "loc": ["body", 0],
                                          "msg": "JSON decode error", "input": {},
                                          "ctx": {"error": str(exc)}}]))
            return
        errors = validate_rules_body(body)
        if errors:
            self._json(422, _validation(errors))
            return
        if not self._authorized():
            return
        for rule in body["rules"]:
            if rule["type"] == "phoneme" and rule["alphabet"] not in ALPHABETS:
                self._detail(400, "invalid_alphabet", f"Alphabet {rule['alphabet']!r} is not "
                             f"supported; use one of {', '.join(ALPHABETS)}.")
                return
        rng = random.Random()
        ident, version = _random_id(rng), _random_id(rng)
        with fake._lock:
            fake.dictionaries[ident] = {"name": body["name"], "rules": body["rules"],
                                        "description": body.get("description"),
                                        "version_id": version}
        self._json(200, {"id": ident, "name": body["name"], "created_by": "fake-user",
                         "creation_time_unix": int(time.time()), "version_id": version,
                         "version_rules_num": len(body["rules"]),
                         "description": body.get("description"),
                         "permission_on_resource": "admin"})

    def _locators_refused(self, locators: list[dict[str, Any]] | None) -> bool:
        """Refuse (400) more than 3 locators or an unknown dictionary or version."""
        fake = self.server_fake
        if not locators:
            return False
        if len(locators) > MAX_LOCATORS:
            fake._outcome("400")
            self._detail(400, "too_many_pronunciation_dictionaries", f"A request may use at most "
                         f"{MAX_LOCATORS} pronunciation dictionaries, not {len(locators)}.")
            return True
        with fake._lock:
            known = {k: v["version_id"] for k, v in fake.dictionaries.items()}
        for locator in locators:
            ident, version = locator["pronunciation_dictionary_id"], locator.get("version_id")
            if ident not in known or (version is not None and version != known[ident]):
                fake._outcome("400")
                self._detail(400, "pronunciation_dictionary_not_found", "Pronunciation "
                             f"dictionary {ident} (version {version}) was not found.")
                return True
        return False

    def _tts(self, voice_id: str, raw: bytes) -> None:
        fake = self.server_fake
        try:
            body = json.loads(raw)
        except ValueError as exc:
            fake._outcome("422")
            self._json(422, _validation([{"type": "json_invalid", "loc": ["body", 0],
                                          "msg": "JSON decode error", "input": {},
                                          "ctx": {"error": str(exc)}}]))
            return
        errors = validate_tts_body(body)
        if errors:
            fake._outcome("422")
            self._json(422, _validation(errors))
            return
        if not self._authorized("401"):
            return
        text, model_id = body["text"], body.get("model_id") or "eleven_multilingual_v2"
        model = MODELS.get(model_id)
        if model is None or not model[3]:
            fake._outcome("400")
            self._detail(400, "model_not_found", f"A model with model ID {model_id} does not "
                         "exist or cannot do text to speech.")
            return
        if self._locators_refused(body.get("pronunciation_dictionary_locators")):
            return
        if voice_id not in fake.voice_ids:
            fake._outcome("404")
            self._detail(404, "voice_not_found", f"A voice with the voice_id {voice_id} was not "
                         "found.")
            return
        if len(text) > model[1]:
            fake._outcome("400")
            self._detail(400, "max_character_limit_exceeded", f"This request's text has "
                         f"{len(text)} characters and exceeds the character limit of {model[1]} "
                         "characters.")
            return
        fault = fake._next_fault()
        if fault and fault.kind not in ("slow", "truncate", "garbage"):
            self._fault(fault)
            return
        self._speak(text, voice_id, fault)

    def _fault(self, fault: _Failure) -> None:
        fake = self.server_fake
        fake._outcome(fault.kind)
        retry = {} if fault.retry_after is None else {"retry-after": f"{fault.retry_after:g}"}
        if fault.kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind == "429_busy":
            self._detail(429, "system_busy", _BUSY, headers=retry)
        elif fault.kind == "429_concurrent":
            self._concurrency_429(retry)
        elif fault.kind == "422":  # a refusal no retry can fix
            self._json(422, _validation([{"type": "value_error", "loc": ["body", "text"],
                                          "msg": "Value error, text cannot be spoken",
                                          "input": ""}]))
        elif fault.kind == "503":  # a proxy's page, not the API's JSON
            self._send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                       "text/html", retry)
        else:
            self._json(500, {"status": "internal_server_error", "message": _CRASH}, retry)

    def _concurrency_429(self, headers: dict[str, str]) -> None:
        limit = self.server_fake.concurrency_limit
        self._detail(429, "too_many_concurrent_requests", "Too many concurrent requests. Your "
                     f"current subscription is associated with a maximum of {limit} concurrent "
                     "requests (running in parallel). Please upgrade your subscription or contact "
                     "sales if you want to increase this limit.", headers=headers)

    def _speak(self, text: str, voice_id: str, fault: _Failure | None) -> None:
        fake = self.server_fake
        characters = fake._cost(text)
        refusal = fake._admit(characters)
        if refusal == "quota":
            fake._outcome("401_quota")
            remaining = max(0, fake.quota - fake.stats()["characters_billed"])
            self._detail(401, "quota_exceeded", f"This request exceeds your quota of {fake.quota}. "
                         f"You have {remaining} credits remaining, while {characters} credits are "
                         "required for this request.")
            return
        if refusal == "concurrency":
            fake._outcome("429_concurrent")
            retry = {} if fake.retry_after is None else {"retry-after": f"{fake.retry_after:g}"}
            self._concurrency_429(retry)
            return
        billed = left = False
        try:
            fake._gate.wait(timeout=60)
            delay = fake.latency + (fake.slow_seconds if fault and fault.kind == "slow" else 0)
            if delay and fake._stopping.wait(delay):
                return
            audio = fake._mp3(text, fake.voice_ids.index(voice_id))
            if fault and fault.kind == "garbage":
                audio = b"<html><body>502 Bad Gateway</body></html>"
            in_flight = fake.stats()["in_flight"]
            headers = {"request-id": _random_id(random.Random()),
                       "history-item-id": _random_id(random.Random()),
                       **({fake.cost_header: str(characters)} if fake.cost_header else {}),
                       "current-concurrent-requests": str(in_flight),
                       "maximum-concurrent-requests": str(fake.concurrency_limit or 0)}
            # Counted and freed before the bytes go out, so a client that has its answer
            # never finds the counters (or the concurrency slot) lagging behind.
            billed = True
            fake._outcome(fault.kind if fault else "200")
            fake._leave(characters, billed)
            left = True
            if fault and fault.kind == "truncate":
                self._truncated(audio, headers)
            else:
                self._send(200, audio, "audio/mpeg", headers)
        finally:
            if not left:
                fake._leave(characters, billed)

    def _truncated(self, audio: bytes, headers: dict[str, str]) -> None:
        """Promise the whole MP3, send half, hang up (a link dropped mid-body)."""
        self.send_response(200)
        self.send_header("content-type", "audio/mpeg")
        self.send_header("content-length", str(len(audio)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(audio[: len(audio) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


def main(argv: list[str] | None = None) -> None:
    """Run the fake in the foreground until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tests.fake_elevenlabs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=DEFAULT_KEY)
    parser.add_argument("--concurrency-limit", type=int, default=5, help="0 = unlimited")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per TTS request")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default="429_busy,500,drop",
                        help=f"comma-separated, from {','.join(FAULTS)}")
    parser.add_argument("--voices", type=int, default=3)
    parser.add_argument("--quota", type=int, default=1_000_000)
    parser.add_argument("--retry-after", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    fake = FakeElevenLabs(
        args.api_key, host=args.host, port=args.port,
        concurrency_limit=args.concurrency_limit or None, latency=args.latency,
        fault_rate=args.fault_rate, faults=tuple(f for f in args.faults.split(",") if f),
        voices=args.voices, quota=args.quota, retry_after=args.retry_after, seed=args.seed,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake:
        print(f"READY {fake.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print(json.dumps(fake.stats()), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
