"""The environment tests run in: none of the developer's own VoiceLab variables.

One list of prefixes, stripped from this process by `tests/conftest.py` (`clean_env`, every test)
and from every process a test starts (`child_env`: `voicelab serve` in tests/browser/harness.py,
workers in tests/processes.py, the API server in tests/api_fixtures.py). Those processes get
AUDIO_ROOT and whatever the test passes, nothing else of VoiceLab's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STRIPPED_PREFIXES = (
    # Where batches live: a developer's own would be read, listed and written to.
    "AUDIO_ROOT",
    # The API key and base URL: a real key would spend credits, a URL would bypass the fake.
    "ELEVENLABS_",
    # Broker and result backend: a developer's Redis would take the tests' jobs (and theirs).
    "CELERY_",
    # Every VoiceLab setting: API token, concurrency, kernel cap, job staleness, speech check,
    # Piper voices, STT model, pronunciations, notebooks folder...
    "VOICELAB_",
    # LOG_LEVEL and LOG_FILE: tests read INFO lines from stderr; a bad level fails the config.
    "LOG_",
    # Signs session cookies; tests check what happens without it (production refuses to start).
    "SECRET_KEY",
    # FLASK_ENV=production makes the API demand SECRET_KEY (and changes what it answers).
    "FLASK_",
    # The person header as a dashboard kernel reads it (Voila's http_header_envs): one left
    # over from a kernel shell would make every CLI and notebook in a test act as that person.
    "HTTP_X_VOICELAB_",
    # Set inside Voila kernels: VOILA_BASE_URL makes people.kernel_person treat the process as
    # a dashboard kernel never told its person (a viewer), VOILA_PREHEAT changes how a
    # dashboard waits for its page.
    "VOILA_",
)


def without_voicelab(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environ` (this process's environment by default) minus every STRIPPED_PREFIXES name."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if not k.startswith(STRIPPED_PREFIXES)}


def child_env(audio_root: Path, **extra: str) -> dict[str, str]:
    """An environment for a process a test starts: this one without VoiceLab's variables, plus
    AUDIO_ROOT, the repository on PYTHONPATH, unbuffered output and `extra`."""
    env = without_voicelab()
    env.update(AUDIO_ROOT=str(audio_root), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **extra)
    return env
