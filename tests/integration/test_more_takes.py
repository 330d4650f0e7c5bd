"""More takes for one line (issue 15) against the fake ElevenLabs server and with Piper: only
that line is billed, numbering continues, nothing else in the batch changes, ranking goes on
while takes land, and the same request as a queued job."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.batches import ranked_on_disk, ranks_in
from tests.fake_elevenlabs import FakeElevenLabs
from tests.integration.test_generation import config, short_script
from tests.unit.test_cli import run  # noqa: F401  # the CLI fixture
from voicelab import fsck, generation, history, lines, panel, ranking, store
from voicelab.config import Settings
from voicelab.engines.elevenlabs import ElevenLabs
from voicelab.engines.piper import Piper
from voicelab.errors import BatchLocked, LineError
from voicelab.lines.more import MoreJob, estimate_more, run_more

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> FakeElevenLabs:
    with FakeElevenLabs(concurrency_limit=5, latency=0.02) as server:
        yield server


@pytest.fixture
def settings(fake: FakeElevenLabs, root: Path) -> Settings:
    return Settings(audio_root=root, elevenlabs_api_key=fake.api_key,
                    elevenlabs_base_url=fake.url)


def made_batch(fake: FakeElevenLabs, settings: Settings, tmp_path: Path) -> Path:
    result = generation.generate(config(fake, short_script(tmp_path, 3), seed=5),
                                 settings.audio_root, ElevenLabs.from_settings(settings))
    [batch_dir] = result.batch_dirs
    return batch_dir


def sound(batch_dir: Path) -> None:
    metadata = store.load_metadata(batch_dir)
    assert fsck.check_batch(batch_dir).ok, fsck.check_batch(batch_dir).problems
    assert history.replay(history.read(batch_dir), [t["file"] for t in metadata["takes"]]) == {
        t["file"]: t["rank"] for t in metadata["takes"]}
    assert ranked_on_disk(batch_dir) == ranks_in(metadata)


def test_more_takes_bill_only_that_line_continue_numbering_and_touch_nothing_else(
        fake: FakeElevenLabs, settings: Settings, tmp_path: Path) -> None:
    batch = made_batch(fake, settings, tmp_path)
    before = store.load_metadata(batch)
    first, second = before["takes"][0]["line"], before["takes"][-1]["line"]
    ranking.change_rank(batch, f"{first}_take_2.mp3", 1, person="dana")
    ranking.change_rank(batch, f"{second}_take_1.mp3", 1, person="dana")
    ranked_before = ranked_on_disk(batch)
    before = store.load_metadata(batch)
    text = next(t["script_text"] for t in before["takes"] if t["line"] == first)
    estimate = estimate_more(store.load_metadata(batch), first, takes=3)
    assert estimate["characters"] == 3 * len(text) and estimate["first_take"] == 3
    billed = fake.stats()["characters_billed"]
    result = run_more(settings, MoreJob(before["batch_id"], first, takes=3),
                      ElevenLabs.from_settings(settings), person="dana")
    assert result.complete and result.done == 3
    assert fake.stats()["characters_billed"] - billed == estimate["characters"]
    after = store.load_metadata(batch)
    new = [t for t in after["takes"] if t["line"] == first and t["take_number"] > 2]
    assert [t["file"] for t in new] == [f"{first}_take_{n}.mp3" for n in (3, 4, 5)]
    liked = next(t for t in before["takes"] if t["file"] == f"{first}_take_2.mp3")
    assert all(abs(t["generation_settings"]["stability"]
                   - liked["generation_settings"]["stability"]) <= 0.05 + 1e-9 for t in new)
    assert all((batch / store.TAKES_DIR / t["file"]).stat().st_size > 0 for t in new)
    unchanged = {t["file"]: t for t in after["takes"]}
    assert all(unchanged[t["file"]] == t for t in before["takes"] if t["line"] != first)
    assert ranked_on_disk(batch) == ranked_before
    entry = history.read(batch)[-1]
    assert entry["action"] == "takes" and entry["person"] == "dana"
    assert entry["files"] == [t["file"] for t in new]
    sound(batch)


def test_an_edited_text_makes_the_old_takes_stale_and_the_new_ones_say_it(
        fake: FakeElevenLabs, settings: Settings, tmp_path: Path) -> None:
    batch = made_batch(fake, settings, tmp_path)
    metadata = store.load_metadata(batch)
    line = metadata["takes"][0]["line"]
    ranking.change_rank(batch, f"{line}_take_1.mp3", 1)
    run_more(settings, MoreJob(metadata["batch_id"], line, takes=2, like=None,
                               text="A brand new line!"), ElevenLabs.from_settings(settings))
    takes = [t for t in store.load_metadata(batch)["takes"] if t["line"] == line]
    assert [bool(t.get("stale")) for t in takes] == [True, True, False, False]
    assert {t["script_text"] for t in takes if not t.get("stale")} == {"A brand new line!"}
    assert {t["rank"] for t in takes} == {None}
    assert lines.current_texts(store.load_metadata(batch))[line] == "A brand new line!"
    sound(batch)


def test_a_locked_batch_refuses_and_spends_nothing(fake: FakeElevenLabs, settings: Settings,
                                                   tmp_path: Path) -> None:
    batch = made_batch(fake, settings, tmp_path)
    ranking.lock(batch, person="lena", force=True)
    metadata = store.load_metadata(batch)
    requests = fake.stats()["requests"]
    with pytest.raises(BatchLocked):
        run_more(settings, MoreJob(metadata["batch_id"], metadata["takes"][0]["line"]),
                 ElevenLabs.from_settings(settings))
    assert fake.stats()["requests"] == requests
    assert store.load_metadata(batch) == metadata
    with pytest.raises(LineError, match="no line"):
        estimate_more(metadata, "Nope")


def test_raters_ranking_while_takes_land_lose_nothing(fake: FakeElevenLabs, settings: Settings,
                                                      tmp_path: Path) -> None:
    batch = made_batch(fake, settings, tmp_path)
    metadata = store.load_metadata(batch)
    lines_of = list(dict.fromkeys(t["line"] for t in metadata["takes"]))
    panel.open_panel(batch, ["alice", "bob"], person="lena")
    stop = threading.Event()
    given: list[tuple[str, str, int]] = []

    def rank_all_the_time(rater: str, line: str) -> None:
        n = 0
        while not stop.is_set() and n < 40:
            rank = n % 2 + 1
            panel.rate(batch, f"{line}_take_{n % 2 + 1}.mp3", rank, person=rater)
            given.append((rater, line, rank))
            n += 1

    raters = [threading.Thread(target=rank_all_the_time, args=(name, line))
              for name, line in (("alice", lines_of[1]), ("bob", lines_of[2]))]
    for thread in raters:
        thread.start()
    try:
        result = run_more(settings, MoreJob(metadata["batch_id"], lines_of[0], takes=4,
                                            like=None), ElevenLabs.from_settings(settings))
    finally:
        stop.set()
        for thread in raters:
            thread.join(60)
    assert result.complete and given
    final = store.load_metadata(batch)
    assert sum(t["line"] == lines_of[0] for t in final["takes"]) == 6
    replayed = history.replay_raters(history.read(batch))
    assert replayed["alice"] == {t["file"]: t["ranks_by"]["alice"] for t in final["takes"]
                                 if "alice" in t.get("ranks_by", {})}
    assert replayed["alice"] and replayed["bob"]
    sound(batch)


def test_piper_makes_more_takes_offline(root: Path, tmp_path: Path) -> None:
    settings = Settings(audio_root=root)
    piper = Piper.from_settings(settings)
    script = tmp_path / "s.csv"
    script.write_text("Function,Line\nHello_01,Hello there.\nBye_01,Goodbye now.\n", "utf-8")
    from voicelab import jobspec

    job = jobspec.parse_config({"skin_name": "Test", "voice_ids": [piper.voices()[0].id],
                                "variants": 1, "engine": "piper",
                                "script_path": str(script)})
    [batch] = generation.generate(job, root, piper).batch_dirs
    metadata = store.load_metadata(batch)
    result = run_more(settings, MoreJob(metadata["batch_id"], "Bye_01", takes=2), piper)
    assert result.complete
    files = [t["file"] for t in store.load_metadata(batch)["takes"] if t["line"] == "Bye_01"]
    assert files == ["Bye_01_take_1.mp3", "Bye_01_take_2.mp3", "Bye_01_take_3.mp3"]
    sound(batch)


@pytest.fixture
def piper_batch(root: Path, tmp_path: Path) -> Path:
    from voicelab import jobspec

    piper = Piper.from_settings(Settings(audio_root=root))
    script = tmp_path / "s.csv"
    script.write_text("Function,Line\nHello_01,Hello there.\nBye_01,Goodbye now.\n", "utf-8")
    job = jobspec.parse_config({"skin_name": "Test", "voice_ids": [piper.voices()[0].id],
                                "variants": 2, "engine": "piper", "script_path": str(script)})
    [batch] = generation.generate(job, root, piper).batch_dirs
    return batch


def test_the_cli_estimates_makes_and_refuses_like_generate(run, piper_batch: Path) -> None:  # noqa: F811
    batch_id = piper_batch.name
    code, out, _ = run("more", batch_id, "--line", "Bye_01", "--takes", "2", "--dry-run")
    assert code == 0
    estimate = json.loads(out)
    assert estimate["characters"] == 2 * len("Goodbye now.") and estimate["first_take"] == 3
    assert len(store.load_metadata(piper_batch)["takes"]) == 4  # a dry run changes nothing
    code, out, _ = run("more", batch_id, "--line", "Bye_01", "--takes", "2", "--like", "ranges")
    assert code == 0 and out.split() == ["Bye_01_take_3.mp3", "Bye_01_take_4.mp3"]
    code, out, _ = run("note", batch_id, "--line", "Bye_01", "--text", "Softer.",
                        "--needs-pass")
    assert code == 0 and "Softer. (needs another pass)" in out
    assert store.load_metadata(piper_batch)["notes"]["Bye_01"]["by"] == "cli"
    code, _, err = run("more", batch_id, "--line", "Nope")
    assert code == 1 and "no line 'Nope'" in err
    code, _, err = run("more", batch_id, "--line", "Bye_01", "--like", "9")
    assert code == 2 and "--like takes a rank 1-5" in err  # argparse's usage error
    ranking.lock(piper_batch, person="lena", force=True)
    code, _, err = run("more", batch_id, "--line", "Bye_01")
    assert code == 1 and "locked" in err
    assert len(store.load_metadata(piper_batch)["takes"]) == 6
    sound(piper_batch)


def test_a_sync_job_config_runs_through_the_runner_like_any_job(piper_batch: Path,
                                                                root: Path) -> None:
    from voicelab.jobs import runner

    edited = "Function,Line\nHello_01,Hello there.\nBye_01,Farewell.\nNew_01,One more.\n"
    result = runner.run(config={"kind": "sync", "batch_id": piper_batch.name,
                                "script_csv": edited, "script_name": "edited.csv",
                                "requested_by": "lena"},
                        settings=Settings(audio_root=root))
    assert result["done"] == result["total"] == 4 and result["batch_ids"] == [piper_batch.name]
    takes = store.load_metadata(piper_batch)["takes"]
    assert sum(bool(t.get("stale")) for t in takes) == 2
    assert [t["file"] for t in takes if t["line"] == "New_01"] == ["New_01_take_1.mp3",
                                                                   "New_01_take_2.mp3"]
    assert {e["person"] for e in history.read(piper_batch) if e["action"] == "takes"} == {"lena"}
    sound(piper_batch)
