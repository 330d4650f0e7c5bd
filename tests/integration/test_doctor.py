"""`voicelab doctor` reports real problems, each with what to do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.environment import child_env, without_voicelab
from tests.fake_elevenlabs import FakeElevenLabs
from voicelab import doctor
from voicelab.config import Settings

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def test_embedded_set_up_without_a_worker(settings: Settings) -> None:
    checks = by_name(doctor.run_checks(settings))
    assert checks["AUDIO_ROOT"].status == "ok" and "links work" in checks["AUDIO_ROOT"].detail
    assert checks["broker"].status == "ok" and "embedded" in checks["broker"].detail
    assert checks["workers"].status == "fail" and "voicelab worker" in checks["workers"].fix
    assert checks["Piper"].status == "ok" and "en_US-joe-medium" in checks["Piper"].detail
    assert checks["ElevenLabs"].status == "ok"


def test_unreachable_redis_is_named_without_its_password(root: Path) -> None:
    settings = Settings(audio_root=root, celery_broker_url="redis://:s3cret@127.0.0.1:1/0")
    checks = by_name(doctor.run_checks(settings))
    broker, workers = checks["broker"], checks["workers"]
    assert broker.status == "fail" and "127.0.0.1:1" in broker.detail
    assert "s3cret" not in broker.detail and "CELERY_BROKER_URL" in broker.fix
    assert workers.status == "fail" and "not checked" in workers.detail and workers.fix


def test_embedded_broker_skipped_when_audio_root_is_unusable(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    checks = by_name(doctor.run_checks(Settings(audio_root=missing), {"AUDIO_ROOT"}))
    assert "AUDIO_ROOT" not in checks  # the variable's own row reports it
    assert checks["broker"].status == "fail"
    assert checks["broker"].detail.startswith("skipped: AUDIO_ROOT is not usable")
    assert checks["workers"].status == "fail" and "not checked" in checks["workers"].detail
    assert checks["Piper"].status == "ok"
    assert not missing.exists()


def doctor_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`voicelab doctor` in a child process with only the given VoiceLab variables."""
    base = without_voicelab()
    return subprocess.run([sys.executable, "-m", "voicelab", "doctor", *args],
                          env={**base, "PYTHONPATH": str(REPO), "COLUMNS": "300", **env},
                          capture_output=True, text=True, timeout=60)


def test_cli_reports_every_problem_at_once() -> None:
    env = {"AUDIO_ROOT": "/proc/nope", "CELERY_BROKER_URL": "redis://:s3cret@127.0.0.1:1/0",
           "LOG_LEVEL": "LOUD", "VOICELAB_JOB_STALE_S": "soon"}
    started = time.monotonic()
    table = doctor_cli(**env)
    assert time.monotonic() - started < 20
    assert table.returncode == 1, table.stdout + table.stderr
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines()
            if line.count("│") == 5}
    assert "/proc/nope" in rows["AUDIO_ROOT"] and "writable folder" in rows["AUDIO_ROOT"]
    assert "LOUD" in rows["LOG_LEVEL"] and "127.0.0.1:1" in rows["broker"]
    assert "not checked" in rows["workers"]
    assert "s3cret" not in table.stdout + table.stderr

    listed = doctor_cli("--json", **env)
    assert listed.returncode == 1
    checks = {c["name"]: c for c in json.loads(listed.stdout)}
    for name in ("LOG_LEVEL", "AUDIO_ROOT", "VOICELAB_JOB_STALE_S", "broker", "workers"):
        assert checks[name]["status"] == "fail" and checks[name]["fix"], checks[name]
    assert checks["AUDIO_ROOT"]["detail"].startswith("'/proc/nope'")
    assert "CELERY_BROKER_URL" in checks["broker"]["fix"]
    assert checks["Piper"]["status"] == "ok"
    assert "s3cret" not in listed.stdout + listed.stderr


def test_elevenlabs_key_checked_against_the_service(root: Path) -> None:
    with FakeElevenLabs(quota=50_000) as fake:
        url = fake.url
        good = Settings(audio_root=root, elevenlabs_api_key=fake.api_key,
                        elevenlabs_base_url=fake.url)
        check = doctor.check_elevenlabs(good)
        assert check.status == "ok" and "50000 characters left" in check.detail
        bad = Settings(audio_root=root, elevenlabs_api_key="sk-bad", elevenlabs_base_url=fake.url)
        check = doctor.check_elevenlabs(bad)
        assert check.status == "fail" and "refused" in check.detail and "sk-bad" not in str(check)
    gone = Settings(audio_root=root, elevenlabs_api_key="k", elevenlabs_base_url=url)
    assert doctor.check_elevenlabs(gone).status == "fail"


def test_audio_root_that_is_not_a_folder(tmp_path: Path) -> None:
    check = doctor.check_audio_root(Settings(audio_root=tmp_path / "missing"))
    assert check.status == "fail" and "does not exist" in check.detail


def test_cli_sees_a_live_worker(root: Path) -> None:
    env = child_env(root, COLUMNS="200")
    worker = subprocess.Popen([sys.executable, "-m", "voicelab", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        for line in worker.stderr:
            if " ready." in line or time.monotonic() > deadline:
                break
        proc = subprocess.run([sys.executable, "-m", "voicelab", "doctor"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout
        assert "1 alive" in proc.stdout
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def test_a_worker_busy_with_a_job_counts_by_its_heartbeat(settings: Settings) -> None:
    """A solo-pool worker running a job answers no ping; its heartbeat says it is alive."""
    from voicelab.jobs import liveness

    liveness.beat(settings.audio_root, "voicelab-7@busy", started_at=0.0)
    checks = by_name(doctor.run_checks(settings))
    assert checks["workers"].status == "ok"
    assert "1 alive" in checks["workers"].detail and "busy with a job: voicelab-7@busy" in (
        checks["workers"].detail)


def test_the_embedded_queue_row_counts_and_names_set_aside_messages(settings: Settings) -> None:
    from voicelab.jobs import embedded_queue

    checks = by_name(doctor.run_checks(settings))
    assert checks["queue"].status == "ok" and "0 message(s) waiting" in checks["queue"].detail
    bad = settings.audio_root / ".jobs" / "bad"
    bad.mkdir(parents=True)
    (bad / embedded_queue.message_name("celery")).write_bytes(b"{half")
    check = by_name(doctor.run_checks(settings))["queue"]
    assert check.status == "warn" and "1 unreadable message(s)" in check.detail
    assert str(bad) in check.detail and "delete" in check.fix


def test_the_pronunciation_dictionary_is_read_and_a_broken_one_named(root: Path,
                                                                     tmp_path: Path) -> None:
    assert "not set" in by_name(doctor.run_checks(Settings(audio_root=root)))[
        "Pronunciations"].detail
    good = tmp_path / "pronunciations.csv"
    good.write_text("word,say_as\nAldric,ALL-drick\nThane,thayn\n", "utf-8")
    row = by_name(doctor.run_checks(Settings(audio_root=root, pronunciations=good)))[
        "Pronunciations"]
    assert row.status == "ok" and "2 entries" in row.detail
    broken = tmp_path / "broken" / "pronunciations.csv"
    broken.parent.mkdir()
    broken.write_text("word,say_as\nAldric,\n", "utf-8")
    row = by_name(doctor.run_checks(Settings(audio_root=root, pronunciations=broken)))[
        "Pronunciations"]
    assert row.status == "fail" and "pronunciations.csv" in row.detail and "row 2" in row.detail
    assert "VOICELAB_PRONUNCIATIONS" not in row.detail and "unset" in row.fix


def test_dashboards_row_says_when_no_server_runs_and_skips_a_dead_servers_record(
        settings: Settings) -> None:
    from voicelab import servers

    assert by_name(doctor.run_checks(settings))["dashboards"].detail == (
        "no `voicelab serve` is running for this AUDIO_ROOT")
    record = servers.announce(settings.audio_root, "http://127.0.0.1:9")
    record.write_text('{"url": "http://127.0.0.1:9", "pid": 999999999}')  # its process is gone
    assert by_name(doctor.run_checks(settings))["dashboards"].status == "ok"
    record.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid()}))
    stuck = by_name(doctor.run_checks(settings))["dashboards"]
    assert stuck.status == "warn" and "http://127.0.0.1:9: no answer from /healthz" in stuck.detail
    servers.withdraw(record)
    assert servers.announced(settings.audio_root) == []
