"""The ElevenLabs engine against the real HTTP fake on loopback: results, errors, secrecy."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.fake_elevenlabs import FakeElevenLabs
from voicelab.audio import decode_mp3
from voicelab.config import Settings
from voicelab.engines import Synthesis, TakeSettings, get_engine
from voicelab.engines.elevenlabs import ElevenLabs, clear_caches
from voicelab.errors import (
    AuthFailed,
    ConfigError,
    EngineError,
    QuotaExhausted,
    TakeRejected,
    TransientEngineError,
)

pytestmark = pytest.mark.integration

KEY = "sk-test-S3CRET-d41d8cd98f00b204e9800998ecf8427e"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_caches()


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    with FakeElevenLabs(KEY, voices=3) as server:
        yield server


@pytest.fixture
def engine(fake: FakeElevenLabs) -> Iterator[ElevenLabs]:
    with ElevenLabs(KEY, fake.url) as client:
        yield client


def _speak(engine: ElevenLabs, fake: FakeElevenLabs, text: str = "Halt! Who goes there?",
           **settings: float) -> Synthesis:
    return engine.synthesize(text, fake.voice_ids[0], TakeSettings(**settings), None, None)


def _raises_without_key(
    cls: type[EngineError], call: Callable[[], object], caplog: pytest.LogCaptureFixture
) -> EngineError:
    """Run `call`, expect `cls`, and check the key is in no message, repr, traceback or log."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(cls) as info:
        call()
    exc = info.value
    shown = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), caplog.text]
    assert caplog.records, "expected the engine and urllib3 to log at DEBUG"
    for text in shown:
        assert KEY not in text
    return exc


# -- construction ----------------------------------------------------------------------------------

def test_from_settings_without_key_names_the_variable(settings: Settings) -> None:
    with pytest.raises(ConfigError) as info:
        ElevenLabs.from_settings(settings)
    assert info.value.variable == "ELEVENLABS_API_KEY"
    assert "(unset)" in str(info.value)


def test_registry_builds_engine_from_settings(fake: FakeElevenLabs, root: Path) -> None:
    settings = Settings(audio_root=root, elevenlabs_api_key=KEY, elevenlabs_base_url=fake.url)
    engine = get_engine("elevenlabs", settings)
    assert isinstance(engine, ElevenLabs)
    assert KEY not in repr(engine)
    assert engine.synthesize("Hi", fake.voice_ids[1], TakeSettings(), None, None).characters == 2


# -- synthesis -------------------------------------------------------------------------------------

def test_synthesize_returns_decodable_mp3_and_service_facts(
    engine: ElevenLabs, fake: FakeElevenLabs
) -> None:
    text = "The king's road is closed tonight."
    take = engine.synthesize(text, fake.voice_ids[2], TakeSettings(stability=0.3, style=0.4,
                                                                   speed=1.1), 42, "eleven_v3")
    samples, rate = decode_mp3(take.mp3)
    assert rate == take.sample_rate == 44_100
    assert len(samples) == len(take.samples) > rate  # 34 chars x 0.06 s > 1 s of audio
    assert take.characters == len(text) == fake.characters_billed
    assert take.request_id is not None and len(take.request_id) == 20
    sent = fake.tts_log[-1]
    assert sent["voice_id"] == fake.voice_ids[2]
    assert sent["query"] == {"output_format": "mp3_44100_128"}
    assert sent["body"] == {
        "text": text, "model_id": "eleven_v3", "seed": 42,
        "voice_settings": {"stability": 0.3, "similarity_boost": 0.75, "style": 0.4,
                           "use_speaker_boost": True, "speed": 1.1},
    }


def test_synthesize_defaults_model_and_omits_seed(engine: ElevenLabs, fake: FakeElevenLabs) -> None:
    _speak(engine, fake)
    body = fake.tts_log[-1]["body"]
    assert body["model_id"] == "eleven_multilingual_v2"
    assert "seed" not in body


@pytest.mark.parametrize(("header", "expected"), [
    ("character-cost", 10), ("x-character-count", 10), (None, 20),
])
def test_characters_come_from_cost_header_then_fallback_then_text(
    header: str | None, expected: int
) -> None:
    with FakeElevenLabs(KEY, cost_factor=0.5, cost_header=header) as fake, \
            ElevenLabs(KEY, fake.url) as engine:
        assert _speak(engine, fake, "x" * 20).characters == expected


# -- error classification --------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "concurrency", "retry_after", "says"), [
    ("429_concurrent", True, 0.25, "Too many concurrent requests"),
    ("429_busy", False, None, "heavy traffic"),
    ("500", False, None, "Internal Server error"),
    ("503", False, None, "503 Service Unavailable"),
    ("drop", False, None, "connection failed"),
    ("truncate", False, None, "connection failed"),
    ("garbage", False, None, "not MP3 audio"),
])
def test_transient_failures_are_classified_and_carry_their_kind(
    engine: ElevenLabs, fake: FakeElevenLabs, caplog: pytest.LogCaptureFixture,
    kind: str, concurrency: bool, retry_after: float | None, says: str,
) -> None:
    fake.fail_next(1, kind, retry_after=retry_after)
    exc = _raises_without_key(TransientEngineError, lambda: _speak(engine, fake), caplog)
    assert isinstance(exc, TransientEngineError)
    assert exc.concurrency is concurrency
    assert exc.retry_after == retry_after
    assert says in str(exc)
    assert fake.voice_ids[0] in str(exc)
    assert _speak(engine, fake).characters > 0  # the fault was used up; the link recovers


def test_busy_429_reports_retry_after_and_status(
    engine: ElevenLabs, fake: FakeElevenLabs
) -> None:
    fake.fail_next(1, "429_busy", retry_after=3)
    with pytest.raises(TransientEngineError) as info:
        _speak(engine, fake)
    assert (info.value.retry_after, info.value.concurrency) == (3.0, False)
    assert (info.value.http_status, info.value.code) == (429, "system_busy")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("call", "says"), [
    (lambda e, f: e.synthesize("Hi", "NoSuchVoice0000000000", TakeSettings(), None, None),
     "A voice with the voice_id NoSuchVoice0000000000 was not found. (HTTP 404)"),
    (lambda e, f: e.synthesize("x" * 3001, f.voice_ids[0], TakeSettings(), None, "eleven_v3"),
     "exceeds the character limit of 3000 characters. (HTTP 400)"),
    (lambda e, f: e.synthesize("Hi", f.voice_ids[0], TakeSettings(stability=1.5, speed=0.5),
                               None, None),
     "voice_settings.stability: Input should be less than or equal to 1; voice_settings.speed: "
     "Input should be greater than or equal to 0.7 (HTTP 422)"),
    (lambda e, f: e.synthesize("Hi", f.voice_ids[0], TakeSettings(), None, "eleven_nonexistent"),
     "A model with model ID eleven_nonexistent does not exist"),
    (lambda e, f: e.synthesize("Hi", f.voice_ids[0], TakeSettings(), -1, None),
     "seed: Must be integer between 0 and 4294967295 (HTTP 422)"),
])
def test_refusals_raise_take_rejected_with_the_api_message(
    engine: ElevenLabs, fake: FakeElevenLabs, caplog: pytest.LogCaptureFixture,
    call: Callable[[ElevenLabs, FakeElevenLabs], object], says: str,
) -> None:
    exc = _raises_without_key(TakeRejected, lambda: call(engine, fake), caplog)
    assert "ElevenLabs rejected the request for voice " in str(exc)
    assert says in str(exc)
    assert fake.characters_billed == 0


def test_invalid_key_raises_auth_failed(
    fake: FakeElevenLabs, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = KEY[:-4] + "0000"
    with ElevenLabs(wrong, fake.url) as engine:
        caplog.set_level(logging.DEBUG)
        with pytest.raises(AuthFailed) as info:
            _speak(engine, fake)
    assert "Invalid API key" in str(info.value) and "HTTP 401" in str(info.value)
    assert wrong not in str(info.value) + repr(info.value) + caplog.text
    assert fake.tts == {"401": 1}


def test_auth_failure_on_catalogue_calls(
    fake: FakeElevenLabs, caplog: pytest.LogCaptureFixture
) -> None:
    with ElevenLabs("sk-wrong", fake.url) as engine:
        for call in (engine.voices, engine.models, engine.quota, engine.max_text_length):
            with pytest.raises(AuthFailed, match="Invalid API key"):
                call()


def test_quota_exhaustion_is_a_401_that_raises_quota_exhausted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeElevenLabs(KEY, quota=30) as fake, ElevenLabs(KEY, fake.url) as engine:
        _speak(engine, fake, "x" * 20)
        exc = _raises_without_key(QuotaExhausted, lambda: _speak(engine, fake, "y" * 20), caplog)
        assert "exceeds your quota of 30" in str(exc)
        assert "10 credits remaining" in str(exc)
        assert not isinstance(exc, AuthFailed)
        assert fake.characters_billed == 20


def test_read_timeout_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    with FakeElevenLabs(KEY, slow_seconds=3) as fake, \
            ElevenLabs(KEY, fake.url, read_timeout=0.3) as engine:
        fake.fail_next(1, "slow")
        exc = _raises_without_key(TransientEngineError, lambda: _speak(engine, fake), caplog)
    assert "did not answer within 0.3 s (read timeout)" in str(exc)
    assert exc.code == "timeout"  # type: ignore[attr-defined]


def test_refused_connection_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeElevenLabs(KEY).start()
    url, voice = fake.url, fake.voice_ids[0]
    fake.stop()
    with ElevenLabs(KEY, url, connect_timeout=2) as engine:
        exc = _raises_without_key(
            TransientEngineError,
            lambda: engine.synthesize("Hi", voice, TakeSettings(), None, None), caplog)
    assert url in str(exc) and exc.code == "connection"  # type: ignore[attr-defined]


def test_unknown_route_and_non_json_bodies_still_give_messages(fake: FakeElevenLabs) -> None:
    with ElevenLabs(KEY, fake.url + "/not-the-api") as engine, \
            pytest.raises(TakeRejected, match=r"the voice list: Not Found \(HTTP 404\)"):
        engine.voices()


# -- voices, models, quota -------------------------------------------------------------------------

def test_voices_follow_every_page() -> None:
    with FakeElevenLabs(KEY, voices=250) as fake, ElevenLabs(KEY, fake.url) as engine:
        voices = engine.voices()
        assert [v.id for v in voices] == fake.voice_ids
        assert fake.routes["voices"] == 3  # pages of 100, 100, 50
    first = voices[0]
    assert (first.name, first.engine, first.category) == ("Aldric", "elevenlabs", "premade")
    assert first.labels == {"accent": "American", "gender": "male", "age": "middle-aged"}


def test_voices_are_cached_per_key_and_url_across_instances(
    engine: ElevenLabs, fake: FakeElevenLabs
) -> None:
    first = engine.voices()
    assert engine.voices() == first
    with ElevenLabs(KEY, fake.url) as twin:
        assert twin.voices() == first
    assert fake.routes["voices"] == 1
    assert engine.voices(refresh=True) == first
    assert fake.routes["voices"] == 2
    with ElevenLabs("sk-other", fake.url) as other, pytest.raises(AuthFailed):
        other.voices()  # a different key never sees the cached list


def test_voice_cache_expires_after_ten_minutes(fake: FakeElevenLabs) -> None:
    now = [1000.0]
    with ElevenLabs(KEY, fake.url, clock=lambda: now[0]) as engine:
        engine.voices()
        now[0] += 599
        engine.voices()
        assert fake.routes["voices"] == 1
        now[0] += 2
        engine.voices()
        assert fake.routes["voices"] == 2


def test_models_lists_text_to_speech_models_only(engine: ElevenLabs, fake: FakeElevenLabs) -> None:
    models = {m["model_id"]: m for m in engine.models()}
    assert "eleven_multilingual_sts_v2" not in models
    assert models["eleven_flash_v2_5"]["max_text_length"] == 40_000
    assert models["eleven_flash_v2_5"]["concurrency_group"] == "turbo"
    assert models["eleven_multilingual_v2"]["languages"] == ["en"]
    assert engine.max_text_length("eleven_v3") == 3_000
    assert engine.max_text_length(None) == 10_000
    assert engine.max_text_length("eleven_brand_new") == 10_000
    assert fake.routes["models"] == 1


def test_max_text_length_falls_back_to_the_table_when_the_api_is_down() -> None:
    fake = FakeElevenLabs(KEY).start()
    url = fake.url
    fake.stop()
    with ElevenLabs(KEY, url) as engine:
        assert engine.max_text_length("eleven_flash_v2") == 30_000
        assert engine.max_text_length("eleven_turbo_v2_5") == 40_000
        assert engine.max_text_length("something_else") == 10_000


def test_quota_reports_usage_and_remaining() -> None:
    with FakeElevenLabs(KEY, quota=5_000, tier="starter") as fake, \
            ElevenLabs(KEY, fake.url) as engine:
        _speak(engine, fake, "x" * 120)
        assert engine.quota() == {"tier": "starter", "character_count": 120,
                                  "character_limit": 5_000, "remaining": 4_880,
                                  "next_reset_unix": 1_767_225_600}


# -- threads ---------------------------------------------------------------------------------------

def _hammer(engine: ElevenLabs, voice: str, threads: int, per_thread: int = 1) -> list[object]:
    results: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(per_thread):
            try:
                outcome: object = engine.synthesize("Steady now.", voice, TakeSettings())
            except EngineError as exc:
                outcome = exc
            with lock:
                results.append(outcome)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return results


@pytest.mark.timeout(60)
def test_sixteen_threads_over_a_limit_of_five_get_successes_or_concurrency_errors() -> None:
    with FakeElevenLabs(KEY, concurrency_limit=5) as fake, ElevenLabs(KEY, fake.url) as engine:
        fake.hold()  # admitted requests park, so exactly 5 are in flight when the rest arrive
        box: list[list[object]] = []
        runner = threading.Thread(target=lambda: box.append(_hammer(engine, fake.voice_ids[0],
                                                                    16)))
        runner.start()
        assert fake.wait_until(lambda s: s["in_flight"] == 5
                               and s["tts"].get("429_concurrent") == 11)
        fake.release()
        runner.join(timeout=30)
        results = box[0]
        assert fake.max_in_flight == 5
    ok = [r for r in results if isinstance(r, Synthesis)]
    busy = [r for r in results if isinstance(r, TransientEngineError) and r.concurrency]
    assert (len(ok), len(busy), len(results)) == (5, 11, 16)
    assert all(r.characters == 11 and len(r.mp3) > 0 for r in ok)


@pytest.mark.timeout(60)
def test_shared_engine_under_load_stays_consistent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with FakeElevenLabs(KEY, concurrency_limit=5, latency=0.02) as fake, \
            ElevenLabs(KEY, fake.url) as engine:
        results = _hammer(engine, fake.voice_ids[1], threads=24, per_thread=4)
        ok = [r for r in results if isinstance(r, Synthesis)]
        assert len(results) == 96
        assert all(isinstance(r, Synthesis) or (isinstance(r, TransientEngineError)
                                                and r.concurrency) for r in results)
        assert fake.tts.get("200", 0) == len(ok) and fake.characters_billed == 11 * len(ok)
        assert 1 <= fake.max_in_flight <= 5
    assert "pool is full" not in caplog.text  # the pool holds every worker's connection


# -- the fake itself -------------------------------------------------------------------------------

def test_fake_rejects_bad_bodies_before_checking_the_key(fake: FakeElevenLabs) -> None:
    url = f"{fake.url}/v1/text-to-speech/{fake.voice_ids[0]}"
    missing = requests.post(url, json={"model_id": "eleven_v3"}, timeout=5)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "text"]
    no_key = requests.post(url, json={"text": "Hi"}, timeout=5)
    assert (no_key.status_code, no_key.json()["detail"]["status"]) == (401, "needs_authorization")
    page = requests.get(f"{fake.url}/v2/voices", params={"page_size": 101},
                        headers={"xi-api-key": KEY}, timeout=5)
    assert page.status_code == 422


@pytest.mark.timeout(60)
def test_fake_runs_as_a_separate_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_elevenlabs", "--port", "0", "--api-key", KEY,
         "--voices", "4", "--concurrency-limit", "2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY", ready
        url = ready[1]
        with ElevenLabs(KEY, url) as engine:
            voices = engine.voices()
            assert len(voices) == 4
            assert engine.synthesize("Hello", voices[0].id, TakeSettings(), 1, None).characters == 5
            requests.post(f"{url}/_fake/fail_next", json={"n": 1, "kind": "500"}, timeout=5)
            with pytest.raises(TransientEngineError, match="HTTP 500"):
                engine.synthesize("Hello", voices[0].id, TakeSettings(), 1, None)
        stats = requests.get(f"{url}/_fake/stats", timeout=5).json()
        assert stats["tts"] == {"200": 1, "500": 1} and stats["characters_billed"] == 5
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert json.loads(err.strip().splitlines()[-1])["routes"]["tts"] == 2
