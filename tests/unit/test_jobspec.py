"""Job configs: every problem reported at once, ranges checked, the estimate."""

from __future__ import annotations

import pytest

from voicelab.errors import JobConfigError
from voicelab.jobspec import estimate, parse_config

CSV = "Function,Line\nIntro_1,Hello there.\nIntro_2,\"Well met, traveller.\"\n"


def base(**extra: object) -> dict[str, object]:
    return {"skin_name": "Aldric", "voice_ids": ["en_US-joe-medium"], "variants": 2,
            "script_csv": CSV, **extra}


def test_valid_config_with_defaults() -> None:
    job = parse_config(base())
    assert job.engine == "piper" and job.model_id is None
    assert [line.function for line in job.script.lines] == ["Intro_1", "Intro_2"]
    assert job.ranges["speed"].fixed and job.ranges["speed"].low == 1.0
    params = job.params()
    assert params["settings"]["stability"] == 0.5 and params["lines"] == 2
    assert "script_csv" not in params


def test_elevenlabs_gets_the_default_model() -> None:
    assert parse_config(base(engine="elevenlabs")).model_id == "eleven_multilingual_v2"


def test_ranges_and_numbers() -> None:
    job = parse_config(base(settings={"stability": [0.2, 0.6], "speed": 1.1, "style": [0.3]}))
    assert job.ranges["stability"].to_json() == [0.2, 0.6]
    assert job.ranges["speed"].to_json() == 1.1
    assert job.ranges["style"].to_json() == 0.3


def test_every_problem_at_once() -> None:
    raw = {"skin_name": " ", "voice_ids": [], "variants": 21, "engine": "espeak",
           "settings": {"stability": [0.9, 0.1], "speed": 2.0, "style": "high",
                        "use_speaker_boost": "yes", "pitch": 1},
           "seed": -1, "script_csv": "Function,Line\nA,\n", "colour": "red"}
    with pytest.raises(JobConfigError) as info:
        parse_config(raw)
    fields = {p.field for p in info.value.problems}
    assert {"skin_name", "voice_ids", "variants", "engine", "settings.stability",
            "settings.speed", "settings.style", "settings.use_speaker_boost",
            "settings.pitch", "seed", "colour"} <= fields
    message = str(info.value)
    assert "row 2" in message and "settings.speed must lie within 0.7-1.2" in message


@pytest.mark.parametrize("variants", [0, 21, 2.5, "3", True])
def test_variants_must_be_1_to_20(variants: object) -> None:
    with pytest.raises(JobConfigError, match="variants"):
        parse_config(base(variants=variants))


def test_script_given_twice_or_not_at_all(tmp_path) -> None:
    with pytest.raises(JobConfigError, match="exactly one"):
        parse_config({**base(), "script_path": "x.csv"})
    with pytest.raises(JobConfigError, match="exactly one"):
        parse_config({k: v for k, v in base().items() if k != "script_csv"})
    with pytest.raises(JobConfigError, match=r"cannot read script|missing|not found|No such"):
        parse_config({**{k: v for k, v in base().items() if k != "script_csv"},
                      "script_path": str(tmp_path / "missing.csv")})


def test_text_limit_follows_the_model() -> None:
    csv = "Function,Line\nLong_1," + "a" * 3500 + "\n"
    parse_config(base(script_csv=csv, engine="elevenlabs"))
    with pytest.raises(JobConfigError, match="row 2"):
        parse_config(base(script_csv=csv, engine="elevenlabs", model_id="eleven_v3"))


def test_estimate_counts_characters_and_requests() -> None:
    job = parse_config(base(voice_ids=["a", "b", "a"], variants=3))
    figures = estimate(job)
    characters = len("Hello there.") + len("Well met, traveller.")
    assert figures == {"voices": 2, "lines": 2, "takes": 12, "requests": 12,
                       "characters": characters * 3 * 2}


def test_unquoted_separator_in_text_is_refused_not_cut_short() -> None:
    with pytest.raises(JobConfigError, match=r"row 3: has 3 cells but the header names 2"):
        parse_config(base(script_csv="Function,Line\nA_1,Fine.\nA_2,Well met, traveller.\n"))


def test_script_text_that_is_not_text() -> None:
    with pytest.raises(JobConfigError, match="script_csv is not valid text"):
        parse_config(base(script_csv="Function,Line\nA_1,\ud800\n"))


@pytest.mark.parametrize("engine", [["piper"], 3, {"name": "piper"}])
def test_an_engine_that_is_not_a_name_is_named(engine: object) -> None:
    with pytest.raises(JobConfigError, match="engine must be one of") as caught:
        parse_config(base(engine=engine))
    assert [p.field for p in caught.value.problems] == ["engine"]


def test_a_batch_has_a_language_that_the_speech_check_reads(tmp_path) -> None:
    """`lang` (default en) is kept in generation_params only when not English, so English jobs
    keep their fingerprint; a batch in French is not heard (PocketSphinx knows English)."""
    from tests.batches import make_batch
    from voicelab import store
    from voicelab.speech.check import check_batch

    assert parse_config(base()).lang == "en" and "lang" not in parse_config(base()).params()
    assert parse_config(base(lang="fr-FR")).params()["lang"] == "fr-FR"
    with pytest.raises(JobConfigError) as caught:
        parse_config(base(lang="french!"))
    [problem] = caught.value.problems
    assert problem.field == "lang" and "french!" in problem.message
    batch = make_batch(tmp_path, lines=1, takes_per_line=2)
    with store.batch_lock(batch):
        metadata = store.load_metadata(batch)
        metadata["generation_params"] = parse_config(base(lang="fr")).params()
        store.save_metadata(batch, metadata)
    summary = check_batch(batch)
    assert (summary.skipped, summary.checked) == (2, 0)
    facts = [t["quality"]["speech"] for t in store.load_metadata(batch)["takes"]]
    assert all("language fr" in f["skipped"] for f in facts)
