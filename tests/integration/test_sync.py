"""`voicelab sync` (issue 15): an edited script updates a batch, paying only for new and
changed lines, against the fake ElevenLabs server; a changed pronunciation marks exactly the
lines using the word; a dry run changes nothing; nothing ranked is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fake_elevenlabs import FakeElevenLabs
from tests.integration.test_generation import config
from tests.integration.test_more_takes import fake, settings, sound  # noqa: F401
from tests.unit.test_cli import run  # noqa: F401  # the CLI fixture
from voicelab import generation, lines, ranking, store
from voicelab.config import Settings
from voicelab.delivery import rows
from voicelab.engines.elevenlabs import ElevenLabs

pytestmark = pytest.mark.integration

ORIGINAL = ("Function,Line\nGate_01,Hold the gate!\nBell_01,Ring the bell for Aldric.\n"
            "Run_01,Run to the hills.\n")
EDITED = ("Function,Line\nGate_01,Hold the gate!\nBell_01,Ring the bell twice for Aldric.\n"
          "New_01,A brand new line.\n")


@pytest.fixture(autouse=True)
def elevenlabs_env(fake: FakeElevenLabs, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The CLI reaches the fake ElevenLabs server, as a user's environment would."""
    monkeypatch.setenv("ELEVENLABS_API_KEY", fake.api_key)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.url)


@pytest.fixture
def batch(fake: FakeElevenLabs, settings: Settings, tmp_path: Path) -> Path:  # noqa: F811
    script = tmp_path / "v1" / "script.csv"
    script.parent.mkdir()
    script.write_text(ORIGINAL, "utf-8")
    [made] = generation.generate(config(fake, script), settings.audio_root,
                                 ElevenLabs.from_settings(settings)).batch_dirs
    ranking.change_rank(made, "Gate_01_take_2.mp3", 1, person="dana")
    ranking.change_rank(made, "Bell_01_take_1.mp3", 1, person="dana")
    return made


def edited(tmp_path: Path, text: str = EDITED, lexicon: str | None = None) -> Path:
    folder = tmp_path / "v2"
    folder.mkdir(exist_ok=True)
    (folder / "script.csv").write_text(text, "utf-8")
    if lexicon is not None:
        (folder / "pronunciations.csv").write_text(lexicon, "utf-8")
    return folder / "script.csv"


def test_a_dry_run_prints_the_diff_and_cost_and_changes_nothing(
        run, batch: Path, fake: FakeElevenLabs, tmp_path: Path) -> None:  # noqa: F811
    before = (batch / store.METADATA_NAME).read_bytes()
    requests = fake.stats()["requests"]
    code, out, _ = run("sync", str(edited(tmp_path)), "--batch", batch.name, "--dry-run")
    assert code == 0, out
    assert "1 new, 1 changed, 1 removed, 1 unchanged line(s)" in out
    assert "'Ring the bell for Aldric.' -> 'Ring the bell twice for Aldric.'" in out
    assert "removed  Run_01" in out and "new      New_01: A brand new line." in out
    code, out, _ = run("sync", str(edited(tmp_path)), "--batch", batch.name, "--dry-run",
                       "--json")
    plan = json.loads(out)
    assert plan["takes"] == 4 and plan["characters"] == 2 * len(
        "Ring the bell twice for Aldric.") + 2 * len("A brand new line.")
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert fake.stats()["requests"] == requests


def test_sync_pays_only_for_what_changed_and_keeps_every_rank(
        run, batch: Path, fake: FakeElevenLabs, tmp_path: Path) -> None:  # noqa: F811
    billed = fake.stats()["characters_billed"]
    code, _, err = run("sync", str(edited(tmp_path)), "--batch", batch.name)
    assert code == 0, err
    assert fake.stats()["characters_billed"] - billed == 2 * len(
        "Ring the bell twice for Aldric.") + 2 * len("A brand new line.")
    takes = {t["file"]: t for t in store.load_metadata(batch)["takes"]}
    assert takes["Gate_01_take_2.mp3"]["rank"] == 1 and not takes["Gate_01_take_2.mp3"].get(
        "stale")
    old_bell = takes["Bell_01_take_1.mp3"]
    assert old_bell["stale"]["text_was"] == "Ring the bell for Aldric." and old_bell["rank"] is None
    assert takes["Bell_01_take_3.mp3"]["script_text"] == "Ring the bell twice for Aldric."
    assert all(t["removed"] for t in takes.values() if t["line"] == "Run_01")
    assert [f for f in takes if f.startswith("New_01")] == ["New_01_take_1.mp3",
                                                            "New_01_take_2.mp3"]
    ranking.change_rank(batch, "Bell_01_take_4.mp3", 1, person="dana")
    ranking.lock(batch, person="lena", force=True)
    chosen = {row["line"]: row for row in rows.selects(store.load_metadata(batch))}
    assert set(chosen) == {"Gate_01", "Bell_01", "New_01"}  # the removed line is not exported
    assert chosen["Bell_01"]["take_file"] == "Bell_01_take_4.mp3"
    assert chosen["Bell_01"]["text"] == "Ring the bell twice for Aldric."
    sound(batch)
    code, _, err = run("sync", str(edited(tmp_path)), "--batch", batch.name)
    assert code == 1 and "locked" in err


def test_a_changed_pronunciation_marks_exactly_the_lines_using_the_word(
        run, fake: FakeElevenLabs, settings: Settings, tmp_path: Path) -> None:  # noqa: F811
    script = edited(tmp_path, ORIGINAL, "word,say_as\nAldric,ALL-drick\n")
    [batch] = generation.generate(config(fake, script), settings.audio_root,
                                  ElevenLabs.from_settings(settings)).batch_dirs
    bell = [t for t in store.load_metadata(batch)["takes"] if t["line"] == "Bell_01"]
    assert {json.dumps(t["pronunciations_used"]) for t in bell} == {
        json.dumps({"Aldric": ["ALL-drick", None]})}
    assert lines.diff_script(store.load_metadata(batch), generation_script(script)).empty
    code, out, _ = run("sync", str(edited(tmp_path, ORIGINAL, "word,say_as\nAldric,ALL-drik\n")),
                       "--batch", batch.name)
    assert code == 0
    assert "0 new, 1 changed, 0 removed, 2 unchanged" in out and "Bell_01" in out
    takes = store.load_metadata(batch)["takes"]
    assert {t["file"] for t in takes if t.get("stale")} == {"Bell_01_take_1.mp3",
                                                           "Bell_01_take_2.mp3"}
    sound(batch)


def generation_script(path: Path):  # type: ignore[no-untyped-def]
    from voicelab.script import parse_script

    return parse_script(path)


def test_a_sync_stopped_halfway_finishes_its_lines_when_run_again(
        batch: Path, fake: FakeElevenLabs, settings: Settings, tmp_path: Path) -> None:  # noqa: F811
    """A sync whose quota ran out after one take of a new line, run again once topped up, makes
    exactly the takes it still lacks: the begun line is not taken for an unchanged one."""
    from voicelab.errors import QuotaExhausted
    from voicelab.lines import sync
    from voicelab.script import parse_script

    script = parse_script(edited(tmp_path))
    engine = ElevenLabs.from_settings(settings)
    fake.quota = fake.stats()["characters_billed"] + len("A brand new line.") + 5
    with pytest.raises(QuotaExhausted):
        sync.run_sync(batch, script, engine, concurrency=1)
    begun = [t for t in store.load_metadata(batch)["takes"] if t["line"] == "New_01"]
    assert len(begun) == 1  # the new line holds one take of two: it now reads as unchanged
    assert len(sync.plan_sync(store.load_metadata(batch), script).takes) == 2  # Bell_01 only
    plan = sync.plan_sync(store.load_metadata(batch), script, job_id=sync.run_id(script, None))
    assert sorted(t.file for t in plan.takes) == ["Bell_01_take_3.mp3", "Bell_01_take_4.mp3",
                                                  "New_01_take_2.mp3"]
    fake.quota = 1_000_000
    billed = fake.stats()["characters_billed"]
    _plan, again = sync.run_sync(batch, script, engine)
    assert again.complete
    assert fake.stats()["characters_billed"] - billed == sum(len(t.line.text) for t in plan.takes)
    current = [t for t in store.load_metadata(batch)["takes"]
               if not t.get("stale") and not t.get("removed")]
    assert {line: sum(t["line"] == line for t in current) for line in ("Bell_01", "New_01")} == {
        "Bell_01": 2, "New_01": 2}
    assert sync.plan_sync(store.load_metadata(batch), script,
                          job_id=sync.run_id(script, None)).takes == []
