"""Settings from the environment: defaults, each variable, and clear errors naming it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voicelab.config import DEFAULT_NOTEBOOKS, load_settings, settings_and_problems
from voicelab.errors import ConfigError
from voicelab.logs import RedactSecrets


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.audio_root == (tmp_path / "output").resolve()
    assert settings.audio_root.is_dir()
    assert settings.elevenlabs_base_url == "https://api.elevenlabs.io"
    assert settings.log_level == "INFO"
    assert settings.concurrency == 4
    assert settings.default_engine == "piper"


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = load_settings({
        "AUDIO_ROOT": str(tmp_path / "a"), "SECRET_KEY": "s", "CELERY_BROKER_URL": "redis://h:1/0",
        "ELEVENLABS_API_KEY": "sk_x", "ELEVENLABS_BASE_URL": "http://127.0.0.1:9/",
        "VOICELAB_API_TOKEN": "t", "LOG_LEVEL": "debug", "LOG_FILE": str(tmp_path / "x.log"),
        "VOICELAB_CONCURRENCY": "7", "VOICELAB_CORS_ORIGINS": "http://a,http://b",
    })
    assert settings.celery_result_backend == "redis://h:1/0"  # falls back to the broker
    assert settings.elevenlabs_base_url == "http://127.0.0.1:9"
    assert settings.log_level == "DEBUG"
    assert settings.concurrency == 7
    assert settings.cors_origins == ("http://a", "http://b")
    assert settings.default_engine == "elevenlabs"
    assert "sk_x" not in repr(settings) and "'t'" not in repr(settings)
    assert set(settings.secrets) == {"sk_x", "t", "s"}


@pytest.mark.parametrize(("env", "variable"), [
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"VOICELAB_CONCURRENCY": "0"}, "VOICELAB_CONCURRENCY"),
    ({"VOICELAB_CONCURRENCY": "many"}, "VOICELAB_CONCURRENCY"),
    ({"ELEVENLABS_BASE_URL": "ftp://x"}, "ELEVENLABS_BASE_URL"),
    ({"LOG_FILE": "/no/such/dir/app.log"}, "LOG_FILE"),
    ({"VOICELAB_PIPER_VOICES": "/no/such/voices"}, "VOICELAB_PIPER_VOICES"),
])
def test_bad_value_names_the_variable(env: dict[str, str], variable: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"AUDIO_ROOT": str(tmp_path), **env})
    assert info.value.variable == variable
    assert str(info.value).startswith(variable)


def test_audio_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"AUDIO_ROOT.*not a writable folder"):
        load_settings({"AUDIO_ROOT": str(tmp_path / "file")})


def test_every_problem_at_once_with_a_stand_in_for_each(tmp_path: Path) -> None:
    env = {"AUDIO_ROOT": str(tmp_path / "file" / "audio"), "LOG_LEVEL": "LOUD",
           "LOG_FILE": "/no/such/dir/app.log", "VOICELAB_PIPER_VOICES": "/no/such/voices",
           "VOICELAB_NOTEBOOKS": str(tmp_path), "ELEVENLABS_BASE_URL": "ftp://x",
           "VOICELAB_CONCURRENCY": "many", "CELERY_BROKER_URL": "redis://h:1/0"}
    (tmp_path / "file").write_text("x")
    settings, problems = settings_and_problems(env)
    assert [p.variable for p in problems] == [
        "LOG_LEVEL", "LOG_FILE", "VOICELAB_PIPER_VOICES", "VOICELAB_NOTEBOOKS", "AUDIO_ROOT",
        "ELEVENLABS_BASE_URL", "VOICELAB_CONCURRENCY"]
    assert [p.value for p in problems][:2] == ["LOUD", "/no/such/dir/app.log"]
    assert (settings.log_level, settings.log_file, settings.piper_voices) == ("INFO", None, None)
    assert settings.notebooks_dir == DEFAULT_NOTEBOOKS
    assert settings.audio_root == tmp_path / "file" / "audio"  # the given path, to report on
    assert settings.elevenlabs_base_url == "https://api.elevenlabs.io"
    assert settings.concurrency == 4
    assert settings.celery_broker_url == "redis://h:1/0"  # the rest is read as usual
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.variable == "LOG_LEVEL"  # load_settings still stops on the first


def test_no_problems_in_a_good_environment(tmp_path: Path) -> None:
    settings, problems = settings_and_problems({"AUDIO_ROOT": str(tmp_path)})
    assert problems == []
    assert settings == load_settings({"AUDIO_ROOT": str(tmp_path)})


def test_log_filter_masks_secrets(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("voicelab.test")
    logger.addFilter(RedactSecrets(("sk_secret",)))
    with caplog.at_level(logging.INFO):
        logger.info("calling with key %s", "sk_secret")
    assert "sk_secret" not in caplog.text and "***" in caplog.text
