"""A pronunciation dictionary reaching the engines: the real HTTP fake of ElevenLabs (uploads,
locators, substituted text, what the request bodies carried) and real Piper synthesis."""
# ruff: noqa: RUF001  (IPA is written with letters that look like Latin ones: that is the point)

from __future__ import annotations

import logging
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.environment import child_env
from tests.fake_elevenlabs import FakeElevenLabs
from voicelab import generation, jobspec, pronunciation, store
from voicelab.engines import TakeSettings
from voicelab.engines.elevenlabs import ElevenLabs, clear_caches, supports_phoneme_rules
from voicelab.engines.piper import BUNDLED_VOICE, Piper, _load, phoneme_set, spoken_text
from voicelab.errors import AuthFailed, TakeRejected
from voicelab.pronunciation import Dictionary, Entry

pytestmark = pytest.mark.integration

KEY = "sk-test-PRON0UNCE-0123456789abcdef0123456789"
REPO = Path(__file__).resolve().parents[2]
WORDS = ("word,say_as,ipa\n"
         "Aldric,ALL-drick,\n"
         '"New York","Noo Yawk",\n'
         "Thane,thayn,θeɪn\n")
LINES = [("Greet", "Hail, Aldric of New York."), ("Warn", "The thane rides at dawn!"),
         ("Plain", "Nothing to change here.")]
RULES_PATH = "/v1/pronunciation-dictionaries/add-from-rules"


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_caches()


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    with FakeElevenLabs(KEY, voices=2, concurrency_limit=5, latency=0.01) as server:
        yield server


@pytest.fixture
def engine(fake: FakeElevenLabs) -> Iterator[ElevenLabs]:
    with ElevenLabs(KEY, fake.url) as client:
        yield client


@pytest.fixture
def words() -> Dictionary:
    return pronunciation.parse(WORDS.encode(), "pronunciations.csv", "csv")


def project(tmp_path: Path, words: str | None = WORDS,
            lines: list[tuple[str, str]] = LINES) -> Path:
    """A script (and its pronunciations.csv beside it, unless None) in a project folder."""
    folder = tmp_path / "project"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "script.csv"
    script.write_text("Function,Line\n" + "".join(f'{f},"{t}"\n' for f, t in lines), "utf-8")
    if words is not None:
        (folder / "pronunciations.csv").write_text(words, "utf-8")
    return script


def job(script: Path, voice: str, engine: str = "elevenlabs", **extra: Any
        ) -> jobspec.GenerationConfig:
    return jobspec.parse_config({"skin_name": "Knight", "voice_ids": [voice], "variants": 4,
                                 "engine": engine, "script_path": str(script), "seed": 1,
                                 **extra})


def post(fake: FakeElevenLabs, path: str, body: Any, key: str | None = KEY) -> requests.Response:
    headers = {"xi-api-key": key} if key else {}
    return requests.post(fake.url + path, json=body, headers=headers, timeout=10)


def add_dictionary(fake: FakeElevenLabs) -> dict[str, Any]:
    answer = post(fake, RULES_PATH, {"name": "d", "rules": [
        {"string_to_replace": "York", "type": "alias", "alias": "Yawk"}]})
    assert answer.status_code == 200
    return dict(answer.json())


# --- the fake behaves like the API ---------------------------------------------------------------


def test_fake_adds_a_dictionary_from_rules_and_remembers_it(fake: FakeElevenLabs) -> None:
    rules = [{"string_to_replace": "Thane", "type": "phoneme", "phoneme": "θeɪn",
              "alphabet": "ipa", "case_sensitive": False, "word_boundaries": True},
             {"string_to_replace": "York", "type": "alias", "alias": "Yawk"}]
    answer = post(fake, RULES_PATH, {"name": "project", "rules": rules})
    assert answer.status_code == 200
    data = answer.json()
    assert len(data["id"]) == 20 and len(data["version_id"]) == 20
    assert data["version_rules_num"] == 2 and data["name"] == "project"
    assert fake.dictionaries[data["id"]]["rules"] == rules
    assert fake.dictionaries[data["id"]]["version_id"] == data["version_id"]


@pytest.mark.parametrize(("rules", "loc"), [
    ([{"type": "alias", "alias": "x"}], ["body", "rules", 0, "alias", "string_to_replace"]),
    ([{"string_to_replace": "", "type": "alias", "alias": "x"}],
     ["body", "rules", 0, "alias", "string_to_replace"]),
    ([{"string_to_replace": "a", "type": "alias"}], ["body", "rules", 0, "alias", "alias"]),
    ([{"string_to_replace": "a", "type": "phoneme", "phoneme": "b"}],
     ["body", "rules", 0, "phoneme", "alphabet"]),
    ([{"string_to_replace": "a", "type": "phoneme", "alphabet": "ipa"}],
     ["body", "rules", 0, "phoneme", "phoneme"]),
    ([{"string_to_replace": "a", "type": "respell", "alias": "b"}], ["body", "rules", 0]),
    ([{"string_to_replace": "a", "alias": "b"}], ["body", "rules", 0]),
    ([{"string_to_replace": "a", "type": "alias", "alias": "b", "case_sensitive": "no"}],
     ["body", "rules", 0, "alias", "case_sensitive"]),
    ("York", ["body", "rules"]),
])
def test_fake_refuses_bad_rules_with_422(fake: FakeElevenLabs, rules: Any, loc: list[Any]) -> None:
    answer = post(fake, RULES_PATH, {"name": "d", "rules": rules})
    assert answer.status_code == 422
    assert loc in [error["loc"] for error in answer.json()["detail"]]
    assert fake.dictionaries == {}


def test_fake_checks_the_key_and_the_alphabet(fake: FakeElevenLabs) -> None:
    good = {"name": "d", "rules": [{"string_to_replace": "a", "type": "alias", "alias": "b"}]}
    assert post(fake, RULES_PATH, good, key=None).status_code == 401
    assert post(fake, RULES_PATH, good, key="sk-wrong").status_code == 401
    odd = {"name": "d", "rules": [{"string_to_replace": "a", "type": "phoneme", "phoneme": "b",
                                   "alphabet": "x-sampa"}]}
    answer = post(fake, RULES_PATH, odd)
    assert answer.status_code == 400 and answer.json()["detail"]["status"] == "invalid_alphabet"
    assert post(fake, RULES_PATH, {"rules": []}).status_code == 422  # no name
    assert fake.dictionaries == {}


def test_fake_tts_checks_the_locators(fake: FakeElevenLabs) -> None:
    known = add_dictionary(fake)
    locator = {"pronunciation_dictionary_id": known["id"], "version_id": known["version_id"]}
    voice = f"/v1/text-to-speech/{fake.voice_ids[0]}"

    def speak(locators: Any) -> requests.Response:
        return post(fake, voice, {"text": "York", "pronunciation_dictionary_locators": locators})

    assert speak([locator]).status_code == 200
    assert speak([{**locator, "version_id": None}]).status_code == 200  # the latest version
    assert speak([locator] * 4).status_code == 400
    assert speak([{**locator, "pronunciation_dictionary_id": "nope"}]).status_code == 400
    assert speak([{**locator, "version_id": "old"}]).status_code == 400
    assert speak([{"version_id": "x"}]).status_code == 422
    assert speak("all").status_code == 422
    assert fake.stats()["tts"] == {"200": 2, "400": 3, "422": 2}
    assert fake.tts_log[0]["body"]["pronunciation_dictionary_locators"] == [locator]


# --- the ElevenLabs engine -----------------------------------------------------------------------


def test_phoneme_capable_models_are_the_english_v2_and_v1_ones() -> None:
    assert supports_phoneme_rules("eleven_flash_v2") and supports_phoneme_rules("eleven_turbo_v2")
    assert supports_phoneme_rules("eleven_monolingual_v1")
    for model in ("eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_v3",
                  None):
        assert not supports_phoneme_rules(model), model


def test_a_phoneme_model_gets_the_dictionary_as_a_locator_and_the_text_as_written(
        fake: FakeElevenLabs, engine: ElevenLabs, words: Dictionary) -> None:
    text = "Hail, thane of New York."
    take = engine.synthesize(text, fake.voice_ids[0], TakeSettings(), 3, "eleven_flash_v2",
                             pronunciations=words)
    assert take.characters == len(text)
    [uploaded] = fake.dictionaries.values()
    assert uploaded["rules"] == pronunciation.to_rules(words)
    assert {"string_to_replace": "Thane", "type": "phoneme", "phoneme": "θeɪn", "alphabet": "ipa",
            "case_sensitive": False, "word_boundaries": True} in uploaded["rules"]
    assert words.hash in uploaded["description"]
    [sent] = [entry["body"] for entry in fake.tts_log]
    assert sent["text"] == text
    [ident] = fake.dictionaries
    assert sent["pronunciation_dictionary_locators"] == [
        {"pronunciation_dictionary_id": ident, "version_id": uploaded["version_id"]}]


def test_another_model_gets_the_aliases_in_the_text_and_no_upload(
        fake: FakeElevenLabs, engine: ElevenLabs, words: Dictionary) -> None:
    take = engine.synthesize("Hail, thane of NEW YORK.", fake.voice_ids[0], TakeSettings(), 3,
                             "eleven_multilingual_v2", pronunciations=words)
    [sent] = [entry["body"] for entry in fake.tts_log]
    assert sent["text"] == "Hail, thayn of Noo Yawk."
    assert "pronunciation_dictionary_locators" not in sent
    assert take.characters == len("Hail, thayn of Noo Yawk.")
    assert fake.dictionaries == {}
    assert fake.stats()["routes"].get("pronunciation_dictionaries") is None


def test_without_a_dictionary_the_request_is_as_before(fake: FakeElevenLabs,
                                                       engine: ElevenLabs) -> None:
    engine.synthesize("Hail, Aldric.", fake.voice_ids[0], TakeSettings(), None, "eleven_flash_v2")
    [sent] = [entry["body"] for entry in fake.tts_log]
    assert sent["text"] == "Hail, Aldric." and "pronunciation_dictionary_locators" not in sent
    assert fake.dictionaries == {}


def test_a_refused_upload_is_not_sent_again_and_never_shows_the_key(
        fake: FakeElevenLabs, engine: ElevenLabs, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    broken = Dictionary((Entry("", "nothing"),), "broken.csv")  # bypasses load's checks
    for _ in range(3):
        with pytest.raises(TakeRejected, match=r"pronunciation dictionary broken\.csv") as info:
            engine.synthesize("Hi", fake.voice_ids[0], TakeSettings(), None, "eleven_turbo_v2",
                              pronunciations=broken)
        assert "string_to_replace" in str(info.value)
        assert KEY not in "".join(traceback.format_exception(info.value))
    assert fake.stats()["routes"]["pronunciation_dictionaries"] == 1
    assert fake.stats()["routes"].get("tts") is None
    assert caplog.records and KEY not in caplog.text


def test_a_wrong_key_on_upload_stops_with_auth_failed_without_the_key(
        fake: FakeElevenLabs, words: Dictionary, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-key-ffffffffffffffffffffffffffff"
    with ElevenLabs(wrong, fake.url) as engine, pytest.raises(AuthFailed) as info:
        engine.synthesize("Hi", fake.voice_ids[0], TakeSettings(), None, "eleven_flash_v2",
                          pronunciations=words)
    shown = [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value)),
             caplog.text]
    assert all(wrong not in text and KEY not in text for text in shown)


# --- generation with ElevenLabs ------------------------------------------------------------------


def test_a_run_uploads_once_and_every_take_names_the_dictionary(
        fake: FakeElevenLabs, engine: ElevenLabs, root: Path, tmp_path: Path) -> None:
    config = job(project(tmp_path), fake.voice_ids[0], model_id="eleven_flash_v2")
    assert config.pronunciations is not None
    result = generation.generate(config, root, engine, concurrency=5)
    assert result.complete and result.done == 12
    assert fake.stats()["routes"]["pronunciation_dictionaries"] == 1
    assert fake.stats()["max_in_flight"] > 1  # takes really ran side by side
    [(ident, uploaded)] = fake.dictionaries.items()
    locators = {str(e["body"]["pronunciation_dictionary_locators"]) for e in fake.tts_log}
    assert locators == {str([{"pronunciation_dictionary_id": ident,
                              "version_id": uploaded["version_id"]}])}
    assert {e["body"]["text"] for e in fake.tts_log} == {text for _, text in LINES}
    meta = store.load_metadata(result.batch_dirs[0])
    assert {t["pronunciations_hash"] for t in meta["takes"]} == {config.pronunciations.hash}
    assert meta["generation_params"]["pronunciations"] == "pronunciations.csv"


def test_a_run_with_another_model_bills_the_substituted_text(
        fake: FakeElevenLabs, engine: ElevenLabs, root: Path, tmp_path: Path) -> None:
    config = job(project(tmp_path), fake.voice_ids[1], model_id="eleven_multilingual_v2")
    estimate = jobspec.estimate(config)
    result = generation.generate(config, root, engine, concurrency=5)
    assert result.complete
    sent = {e["body"]["text"] for e in fake.tts_log}
    assert sent == {"Hail, ALL-drick of Noo Yawk.", "The thayn rides at dawn!",
                    "Nothing to change here."}
    assert fake.stats()["characters_billed"] == estimate["characters"]
    assert fake.dictionaries == {}


def test_the_take_hash_follows_the_dictionary(fake: FakeElevenLabs, engine: ElevenLabs,
                                              root: Path, tmp_path: Path) -> None:
    def hashes(script: Path) -> set[str]:
        result = generation.generate(job(script, fake.voice_ids[0], variants=1), root, engine,
                                     concurrency=3)
        assert result.complete
        meta = store.load_metadata(result.batch_dirs[0])
        return {t["pronunciations_hash"] for t in meta["takes"]}

    script = project(tmp_path)
    first = hashes(script)
    again = job(script, fake.voice_ids[0], variants=1)
    assert again.pronunciations is not None and first == {again.pronunciations.hash}
    (script.parent / "pronunciations.csv").write_text(WORDS.replace("thayn", "thane"), "utf-8")
    changed = hashes(script)
    assert len(changed) == 1 and changed != first
    plain = generation.generate(job(project(tmp_path / "plain", words=None), fake.voice_ids[0],
                                    variants=1), root, engine, concurrency=3)
    assert all("pronunciations_hash" not in t
               for t in store.load_metadata(plain.batch_dirs[0])["takes"])


# --- Piper ---------------------------------------------------------------------------------------


def test_piper_reads_ipa_inline_and_falls_back_to_the_alias(words: Dictionary) -> None:
    voice = _load(Piper()._models()[BUNDLED_VOICE], BUNDLED_VOICE)
    phonemes = phoneme_set(voice)
    assert phonemes is not None and "θ" in phonemes
    text = spoken_text("The thane of New York.", words, phonemes)
    assert text == "The [[ θeɪn ]] of Noo Yawk."
    assert "θeɪn" in "".join(voice.phonemize(text)[0])  # Piper itself reads the block
    assert spoken_text("The thane.", words, None) == "The thayn."  # a voice without inline
    assert spoken_text("Thane", words, frozenset("θen")) == "thayn"  # lacks a phoneme


def test_a_piper_run_with_a_dictionary_speaks_and_records_the_hash(
        root: Path, tmp_path: Path, words: Dictionary, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="piper.voice")  # it logs the text it is given
    config = job(project(tmp_path, lines=LINES[:2]), BUNDLED_VOICE, engine="piper", variants=1)
    result = generation.generate(config, root, Piper(), concurrency=2)
    assert result.complete and result.done == 2
    given = [r.getMessage() for r in caplog.records if r.name == "piper.voice"]
    assert any("text=Hail, ALL-drick of Noo Yawk." in m for m in given), given
    assert any("text=The [[ θeɪn ]] rides at dawn!" in m for m in given), given
    meta = store.load_metadata(result.batch_dirs[0])
    assert {t["pronunciations_hash"] for t in meta["takes"]} == {words.hash}
    by_line = {t["line"]: t for t in meta["takes"]}
    assert by_line["Greet"]["characters"] == len("Hail, ALL-drick of Noo Yawk.")
    assert by_line["Greet"]["duration_s"] > 0.5
    assert sum(t["characters"] for t in meta["takes"]) == jobspec.estimate(config)["characters"]


def test_the_cli_finds_the_dictionary_beside_the_script(root: Path, tmp_path: Path,
                                                        words: Dictionary) -> None:
    script = project(tmp_path, lines=LINES[:1])
    env = child_env(root)
    proc = subprocess.run([sys.executable, "-m", "voicelab", "generate", str(script), "--skin",
                           "Knight", "--voice", BUNDLED_VOICE], env=env, capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [batch_id] = proc.stdout.split()
    [take] = store.load_metadata(store.find_batch(root, batch_id))["takes"]
    assert take["pronunciations_hash"] == words.hash


def test_more_takes_use_the_batch_copy_of_its_dictionary(
        fake: FakeElevenLabs, engine: ElevenLabs, root: Path, tmp_path: Path,
        words: Dictionary) -> None:
    """The batch keeps the dictionary it was made with, so more takes of a line say its words
    the same way after the project's file is gone and with no VOICELAB_PRONUNCIATIONS."""
    from voicelab.config import Settings
    from voicelab.lines.more import MoreJob, batch_dictionary, run_more

    script = project(tmp_path, lines=LINES[:2])
    config = job(script, fake.voice_ids[0], variants=1, model_id="eleven_multilingual_v2")
    batch_dir = generation.generate(config, root, engine, concurrency=2).batch_dirs[0]
    copy = batch_dir / pronunciation.BATCH_COPY
    assert pronunciation.load(copy).hash == words.hash
    (script.parent / "pronunciations.csv").unlink()
    settings = Settings(audio_root=root, elevenlabs_api_key=KEY, elevenlabs_base_url=fake.url)
    meta = store.load_metadata(batch_dir)
    found = batch_dictionary(batch_dir, meta, settings)
    assert found is not None and found.hash == words.hash
    fake.tts_log.clear()
    result = run_more(settings, MoreJob(meta["batch_id"], "Greet", takes=2, like=None), engine)
    assert result.complete and result.done == 2
    assert {e["body"]["text"] for e in fake.tts_log} == {"Hail, ALL-drick of Noo Yawk."}
    new = [t for t in store.load_metadata(batch_dir)["takes"] if t["take_number"] > 1]
    assert {t["pronunciations_hash"] for t in new} == {words.hash}
    other = pronunciation.parse(WORDS.replace("thayn", "thane").encode(), "p.csv", "csv")
    generation.keep_dictionary(batch_dir, other)  # the newest takes' dictionary wins
    assert pronunciation.load(copy).hash == other.hash
