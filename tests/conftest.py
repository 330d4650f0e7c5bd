"""Shared fixtures: a clean environment for every test, and settings on a temp AUDIO_ROOT."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voicelab.config import Settings

_PREFIXES = ("AUDIO_ROOT", "ELEVENLABS_", "CELERY_", "VOICELAB_", "LOG_", "SECRET_KEY", "FLASK_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own VoiceLab variables."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty AUDIO_ROOT."""
    path = tmp_path / "audio"
    path.mkdir()
    return path


@pytest.fixture
def settings(root: Path) -> Settings:
    return Settings(audio_root=root)
