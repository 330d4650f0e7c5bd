"""The generator against a real fake-ElevenLabs HTTP server and the real Piper engine."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.environment import child_env
from tests.fake_elevenlabs import FakeElevenLabs
from voicelab import cli, fsck, generation, jobspec, panel, quality, ranking, store
from voicelab.config import Settings, get_settings
from voicelab.engines.elevenlabs import ElevenLabs
from voicelab.errors import AuthFailed, JobConfigError, QuotaExhausted

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "tests" / "data" / "scripts"
SCRIPT = SCRIPTS / "example_30_lines.csv"
VOICELAB = [sys.executable, "-m", "voicelab"]


def short_script(tmp_path: Path, lines: int = 6) -> Path:
    rows = SCRIPT.read_text("utf-8").splitlines()[: lines + 1]
    path = tmp_path / "short.csv"
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


@pytest.fixture
def fake() -> FakeElevenLabs:
    with FakeElevenLabs(concurrency_limit=5, latency=0.02) as server:
        yield server


@pytest.fixture
def engine(fake: FakeElevenLabs, root: Path) -> ElevenLabs:
    return ElevenLabs.from_settings(Settings(audio_root=root, elevenlabs_api_key=fake.api_key,
                                             elevenlabs_base_url=fake.url))


def config(fake: FakeElevenLabs, script: Path, **extra: object) -> jobspec.GenerationConfig:
    raw = {"skin_name": "Aldric Knight", "voice_ids": [fake.voice_ids[0]], "variants": 2,
           "engine": "elevenlabs", "script_path": str(script),
           "settings": {"stability": [0.2, 0.8], "speed": [0.9, 1.1], "style": 0.1}, **extra}
    return jobspec.parse_config(raw)


def test_batch_follows_the_contract(fake, engine, root, tmp_path):
    seen = []
    result = generation.generate(config(fake, short_script(tmp_path), seed=100), root, engine,
                                 concurrency=5, progress=seen.append)
    assert result.complete and result.done == result.total == 12
    [batch_dir] = result.batch_dirs
    assert batch_dir.parent.parent.name == "Aldric_Knight"
    assert batch_dir.name == result.batch_ids[0]
    assert batch_dir.name.endswith(fake.voice_ids[0])
    meta = store.load_metadata(batch_dir)
    assert meta["complete"] is True and meta["generated_at_utc"]
    assert meta["generation_params"]["settings"]["stability"] == [0.2, 0.8]
    assert sorted(p.name for p in (batch_dir / "takes").iterdir()) == sorted(
        t["file"] for t in meta["takes"])
    assert sorted(p.name for p in (batch_dir / "ranked").iterdir()) == list(store.RANK_DIRS)
    assert not any(r.problems for r in fsck.check_root(root))
    sent = {(e["body"]["text"], e["body"]["seed"]): e["body"] for e in fake.tts_log}
    for take in meta["takes"]:
        body = sent[(take["script_text"], take["seed"])]
        assert body["voice_settings"] == {**take["generation_settings"]}
        assert take["quality"]["lufs"] is not None and take["duration_s"] > 0
        assert take["request_id"] and take["characters"] == len(take["script_text"])
    assert sorted(t["seed"] for t in meta["takes"]) == list(range(100, 112))
    assert seen[-1].done == 12 and seen[-1].batch_ids == result.batch_ids
    assert fake.stats()["max_in_flight"] <= 5


def test_a_root_that_does_not_exist_yet_is_made(fake, engine, tmp_path):
    root = tmp_path / "new" / "audio"
    result = generation.generate(config(fake, short_script(tmp_path, 1), variants=1), root,
                                 engine, concurrency=2)
    assert result.complete and [p.parent.parent.parent for p in result.batch_dirs] == [root]


def test_settings_spread_evenly_per_line(fake, tmp_path):
    job = config(fake, short_script(tmp_path, 2), variants=4)
    plan = generation.plan_takes(job, "v", "20250101-000000-v")
    for line in job.script.lines:
        takes = [t for t in plan if t.line == line]
        assert sorted(t.settings.stability for t in takes) == [0.275, 0.425, 0.575, 0.725]
        assert sorted(t.settings.speed for t in takes) == [0.925, 0.975, 1.025, 1.075]
        assert {t.settings.style for t in takes} == {0.1}
    assert plan == generation.plan_takes(job, "v", "20250101-000000-v")
    assert plan != generation.plan_takes(job, "v", "20250101-000000-w")


@pytest.mark.parametrize("kind", ["429_busy", "429_concurrent", "500", "503", "drop",
                                  "truncate", "garbage"])
def test_transient_failures_are_retried(kind, fake, engine, root, tmp_path):
    fake.fail_next(3, kind, retry_after=0.05 if kind.startswith("429") else None)
    result = generation.generate(config(fake, short_script(tmp_path, 2)), root, engine,
                                 concurrency=2)
    assert result.complete and result.done == 4
    assert fake.stats()["tts"][kind] == 3


def test_rejected_take_fails_with_the_api_message(fake, engine, root, tmp_path):
    fake.fail_next(1, "422")
    result = generation.generate(config(fake, short_script(tmp_path, 2)), root, engine,
                                 concurrency=1)
    assert result.done == 3 and not result.complete
    [failure] = result.failed
    assert "text cannot be spoken" in failure["reason"] and "422" in failure["reason"]
    meta = store.load_metadata(result.batch_dirs[0])
    assert meta["failed"] == result.failed and meta["complete"] is True
    assert fake.stats()["tts"]["422"] == 1  # never retried


def test_unknown_voice_is_refused_before_anything_is_written(fake, engine, root, tmp_path):
    job = jobspec.parse_config({"skin_name": "S", "voice_ids": ["nope"], "engine": "elevenlabs",
                                "script_path": str(short_script(tmp_path, 1))})
    with pytest.raises(JobConfigError, match="unknown elevenlabs voice 'nope'"):
        generation.generate(job, root, engine)
    assert list(root.iterdir()) == []
    assert fake.stats()["routes"].get("tts", 0) == 0


def test_invalid_key_stops_the_job_at_once(fake, root, tmp_path):
    good = ElevenLabs(fake.api_key, fake.url)
    job = config(fake, short_script(tmp_path, 6))
    good.voices()  # the voice list is cached for this key only; a bad key must fail on TTS
    bad = ElevenLabs("sk-wrong-key-000", fake.url)
    with pytest.raises(AuthFailed) as info:
        generation.generate(job, root, bad, concurrency=2)
    assert "sk-wrong-key-000" not in str(info.value)
    assert fake.stats()["routes"].get("tts", 0) <= 4


def test_quota_exhausted_stops_and_keeps_what_was_made(root, tmp_path):
    with FakeElevenLabs(concurrency_limit=5, quota=150) as fake:
        engine = ElevenLabs(fake.api_key, fake.url)
        with pytest.raises(QuotaExhausted):
            generation.generate(config(fake, short_script(tmp_path, 6)), root, engine,
                                concurrency=1)
        [batch_dir] = list(root.glob("*/*/*"))
        meta = store.load_metadata(batch_dir)
        assert meta["complete"] is False
        assert 1 <= len(meta["takes"]) < 12
        assert len(list((batch_dir / "takes").glob("*.mp3"))) == len(meta["takes"])


def test_rerun_resumes_the_same_batch_and_keeps_ranks(fake, engine, root, tmp_path):
    job = config(fake, short_script(tmp_path, 4))
    stop_after = 3
    made = []
    cancelled = generation.generate(job, root, engine, concurrency=1,
                                    progress=made.append,
                                    should_stop=lambda: len(made) > stop_after)
    assert cancelled.cancelled and not cancelled.complete
    [batch_dir] = cancelled.batch_dirs
    meta = store.load_metadata(batch_dir)
    assert meta["complete"] is False and meta["generated_at_utc"] is None
    first = meta["takes"][0]["file"]
    ranking.set_rank(batch_dir, first, 1)
    store.update_metadata(batch_dir, lambda m: m.update(reviewer="ana"))
    before = fake.stats()["tts"]["200"]
    resumed = generation.generate(job, root, engine, concurrency=2)
    assert resumed.batch_ids == cancelled.batch_ids and resumed.complete
    assert fake.stats()["tts"]["200"] - before == 8 - len(meta["takes"])
    final = store.load_metadata(batch_dir)
    assert final["complete"] is True and len(final["takes"]) == 8
    assert next(t for t in final["takes"] if t["file"] == first)["rank"] == 1
    assert next(t for t in final["takes"] if t["file"] == first)["ranked_by"] == "cli"
    assert final["reviewer"] == "ana" and final["revision"] >= 1
    assert (batch_dir / "ranked" / "01" / first).is_symlink()


def test_a_panel_ranking_while_takes_land_keeps_every_raters_ranks(fake, engine, root, tmp_path):
    job = config(fake, short_script(tmp_path, 4))
    made = []
    cancelled = generation.generate(job, root, engine, concurrency=1, progress=made.append,
                                    should_stop=lambda: len(made) > 3)
    [batch_dir] = cancelled.batch_dirs
    first = store.load_metadata(batch_dir)["takes"][0]["file"]
    panel.open_panel(batch_dir, ["alice", "bob"], person="lena")
    panel.rate(batch_dir, first, 1, person="alice")
    during: list[object] = []

    def rank_while_landing(_progress: object) -> None:
        if not during:  # after the run read the batch, before its flushes
            during.append(panel.rate(batch_dir, first, 2, person="bob"))

    assert generation.generate(job, root, engine, concurrency=2,
                               progress=rank_while_landing).complete
    assert during
    final = {t["file"]: t for t in store.load_metadata(batch_dir)["takes"]}
    assert len(final) == 8
    assert final[first]["ranks_by"] == {"alice": 1, "bob": 2}
    assert final[first]["rank"] == 1 and final[first]["ranked_by"] == panel.PANEL_NAME
    assert fsck.check_batch(batch_dir).ok


def test_a_job_delivered_again_after_it_finished_makes_no_second_batch(fake, engine, root,
                                                                      tmp_path):
    job = config(fake, short_script(tmp_path, 3))
    first = generation.generate(job, root, engine, concurrency=2, job_id="job-1")
    [batch_dir] = first.batch_dirs
    done = store.load_metadata(batch_dir)
    ranking.set_rank(batch_dir, done["takes"][0]["file"], 1)
    before = fake.stats()["tts"]["200"]
    again = generation.generate(job, root, engine, concurrency=2, job_id="job-1")
    assert again.batch_ids == first.batch_ids and again.complete and again.done == 6
    assert fake.stats()["tts"]["200"] == before, "nothing was synthesized again"
    meta = store.load_metadata(batch_dir)
    assert meta["generated_at_utc"] == done["generated_at_utc"]
    assert meta["takes"][0]["rank"] == 1
    other = generation.generate(job, root, engine, concurrency=2, job_id="job-2")
    assert other.batch_ids != first.batch_ids, "another job of the same script: a new batch"
    cli_again = generation.generate(job, root, engine, concurrency=2)
    assert cli_again.batch_ids not in (first.batch_ids, other.batch_ids)


def run_cli(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VOICELAB, *args], env=env, capture_output=True, text=True,
                          cwd=REPO, timeout=120, **kw)


def cli_env(root: Path, **extra: str) -> dict[str, str]:
    return child_env(root, **extra)


def test_cli_resumes_after_kill_and_never_leaks_the_key(root, tmp_path):
    with FakeElevenLabs(concurrency_limit=5, latency=0.15) as fake:
        env = cli_env(root, ELEVENLABS_API_KEY=fake.api_key, ELEVENLABS_BASE_URL=fake.url,
                      LOG_LEVEL="DEBUG", LOG_FILE=str(tmp_path / "voicelab.log"))
        args = ["generate", str(SCRIPT), "--skin", "Aldric", "--voice", fake.voice_ids[1],
                "--variants", "2", "--concurrency", "3", "--no-check"]
        proc = subprocess.Popen([*VOICELAB, *args], env=env, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        takes = root / "Aldric"
        deadline = time.monotonic() + 60
        while len(list(takes.glob("*/*/takes/*.mp3"))) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        _, first_err = proc.communicate()
        [batch_dir] = list(takes.glob("*/*"))
        on_disk = len(list((batch_dir / "takes").glob("*.mp3")))
        assert 10 <= on_disk < 60
        before = fake.stats()["tts"].get("200", 0)
        done = run_cli(args, env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [batch_dir.name]
        made_now = fake.stats()["tts"]["200"] - before
        assert made_now <= 60 - on_disk + 3  # at most the requests in flight at the kill redone
        meta = store.load_metadata(batch_dir)
        assert meta["complete"] is True and len(meta["takes"]) == 60
        assert [p for r in fsck.check_root(root) for p in r.problems] == []
        leaked = [p for p in root.rglob("*") if p.is_file() and fake.api_key.encode() in
                  p.read_bytes()]
        assert leaked == []
        log_text = (tmp_path / "voicelab.log").read_text()
        assert "retrying" in log_text or "HTTP" in log_text or log_text
        for text in (first_err, done.stderr, done.stdout, log_text):
            assert fake.api_key not in text


def test_cli_exit_codes(fake, root, tmp_path):
    env = cli_env(root, ELEVENLABS_API_KEY=fake.api_key, ELEVENLABS_BASE_URL=fake.url)
    script = tmp_path / "mixed.csv"
    script.write_text("Function,Line\nGood_1,Hello there.\nBad_1,Reject me please.\n")
    good = run_cli(["generate", str(script), "--skin", "S", "--voice", fake.voice_ids[0],
                    "--dry-run"], env)
    assert good.returncode == 0 and json.loads(good.stdout)["requests"] == 2
    assert list(root.iterdir()) == []
    fake.fail_next(1, "422")
    partial = run_cli(["generate", str(script), "--skin", "S", "--voice", fake.voice_ids[0],
                       "--concurrency", "1"], env)
    assert partial.returncode == 2, partial.stderr
    assert "failed:" in partial.stderr
    bad = run_cli(["generate", str(SCRIPTS / "duplicate_function.csv"), "--skin", "S2",
                   "--voice", fake.voice_ids[0]], env)
    assert bad.returncode == 1 and "duplicate" in bad.stderr.lower() and "row" in bad.stderr
    assert not (root / "S2").exists()


@pytest.mark.parametrize("name", sorted(p.name for p in SCRIPTS.glob("*.csv")))
def test_every_fixture_script_either_plans_or_names_its_problem(name, root, monkeypatch, capsys):
    monkeypatch.setenv("AUDIO_ROOT", str(root))
    get_settings.cache_clear()
    code = cli.main(["generate", str(SCRIPTS / name), "--skin", "S", "--voice",
                     "en_US-joe-medium", "--dry-run"])
    get_settings.cache_clear()
    out, err = capsys.readouterr()
    if code == 0:
        assert json.loads(out)["requests"] >= 1
    else:
        assert code == 1
        message = " ".join(err.split())
        assert message.startswith("error: invalid generation config: ")
        assert f"{name}: " in message and len(message) > len(name) + 60
    assert list(root.iterdir()) == []


def test_piper_batch_of_real_speech(root, tmp_path):
    env = cli_env(root)
    proc = run_cli(["generate", str(short_script(tmp_path, 2)), "--skin", "Aldric", "--voice",
                    "en_US-joe-medium", "--variants", "2", "--speed", "0.9:1.1"], env)
    assert proc.returncode == 0, proc.stderr
    [batch_id] = proc.stdout.split()
    batch_dir = store.find_batch(root, batch_id)
    meta = store.load_metadata(batch_dir)
    assert meta["engine"] == "piper" and len(meta["takes"]) == 4
    for take in meta["takes"]:
        chars = len(take["script_text"])
        assert 0.03 * chars < take["duration_s"] < 0.2 * chars
        assert take["quality"]["lufs"] is not None and take["quality"]["lufs"] > -40
        assert take["quality"]["flags"] == [] or "duration_outlier" not in take["quality"]["flags"]
        speech = take["quality"]["speech"]  # heard here and now, as a job would
        assert speech["engine"] == "pocketsphinx" and speech["heard"], speech
        assert ("words" in take["quality"]["flags"]) == (speech["wer"] > quality.WORDS_WER_MAX)
    assert "4 take(s) checked" in proc.stderr
    assert not any(r.problems for r in fsck.check_root(root))
    (tmp_path / "b").mkdir()
    skipped = run_cli(["generate", str(short_script(tmp_path / "b", 1)), "--skin", "Quiet",
                       "--voice", "en_US-joe-medium", "--no-check"], env)
    assert skipped.returncode == 0, skipped.stderr
    [take] = store.load_metadata(store.find_batch(root, skipped.stdout.split()[0]))["takes"]
    assert "speech" not in take["quality"] and "checked" not in skipped.stderr
