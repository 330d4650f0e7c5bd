"""The speech check on real Piper takes with the real PocketSphinx: its accuracy, `voicelab
check`, rank changes made during a check, and the job's step after generation."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_cli import run  # noqa: F401  (the CLI fixture)
from voicelab import jobspec, quality, ranking, store
from voicelab.config import Settings
from voicelab.engines.piper import Piper
from voicelab.generation import generate
from voicelab.jobs import runner
from voicelab.speech import check
from voicelab.speech.recognizers import PocketSphinx, load_16k
from voicelab.speech.text import word_error_rate

pytestmark = pytest.mark.integration

LINES = {  # lines PocketSphinx hears well in the bundled voice (docs/speech-check.md's figures)
    "Banners_1": "The banners rise. Let them see who answers.",
    "Low_Health_1": "Not yet... not while they still stand.",
    "Kill_1": "Rest now. The fight is done for you.",
}
SETTINGS = {"stability": 0.8, "speed": 0.95, "style": 0.0}


def write_script(folder: Path, lines: dict[str, str]) -> Path:
    path = folder / "script.csv"
    path.write_text("Function,Line\n" + "".join(f'{f},"{t}"\n' for f, t in lines.items()),
                    "utf-8")
    return path


def job(folder: Path, lines: dict[str, str] = LINES, variants: int = 2) -> dict[str, Any]:
    return {"skin_name": "Speech", "voice_ids": [Piper().voices()[0].id], "variants": variants,
            "engine": "piper", "script_path": str(write_script(folder, lines)),
            "settings": SETTINGS}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Piper batch of LINES, two takes each, made once for the module (copied per test)."""
    folder = tmp_path_factory.mktemp("speech")
    [batch] = generate(jobspec.parse_config(job(folder)), folder / "audio", Piper()).batch_dirs
    return batch


@pytest.fixture
def batch(made: Path, root: Path) -> Path:
    """A fresh copy of the module's batch under this test's AUDIO_ROOT."""
    target = root / made.relative_to(made.parents[2])
    shutil.copytree(made, target, symlinks=True)
    return target


@pytest.fixture(scope="module")
def recognizer() -> PocketSphinx:
    return PocketSphinx()


def test_a_take_scores_low_against_its_line_and_high_against_another(
        made: Path, recognizer: PocketSphinx) -> None:
    takes = store.load_metadata(made)["takes"]
    assert len(takes) == 6
    for take in takes:
        heard = recognizer.transcribe(load_16k(made / "takes" / take["file"]))
        own = word_error_rate(take["script_text"], heard)
        others = [word_error_rate(text, heard) for line, text in LINES.items()
                  if line != take["line"]]
        assert own is not None and own < quality.WORDS_WER_MAX, (take["script_text"], heard)
        assert all(w is not None and w > quality.WORDS_WER_MAX for w in others), heard


def test_voicelab_check_writes_facts_and_flags(run, batch: Path) -> None:  # noqa: F811
    metadata = store.load_metadata(batch)
    wrong = metadata["takes"][0]  # as if this take said another line: its text is not its words
    wrong["script_text"] = LINES["Kill_1"]
    store.save_metadata(batch, metadata)

    code, out, err = run("check", batch.name)
    assert code == 0, err
    assert out.strip().startswith("6 take(s) checked, 1 flagged \"words\", mean WER ")
    assert "hearing takes (pocketsphinx)" in err and "6/6" in err
    takes = store.load_metadata(batch)["takes"]
    for take in takes:
        speech = take["quality"]["speech"]
        assert speech["engine"] == "pocketsphinx" and speech["heard"] and speech["checked_at"]
        assert ("words" in take["quality"]["flags"]) == (take is takes[0])
    assert takes[0]["quality"]["speech"]["wer"] > quality.WORDS_WER_MAX
    assert all(t["quality"]["speech"]["wer"] < quality.WORDS_WER_MAX for t in takes[1:])
    assert "peaks" in takes[0]["quality"]  # the other quality facts stay

    code, out, _ = run("check", batch.name, "--json")  # nothing left to check
    assert code == 0 and json.loads(out)["total"] == 0
    code, out, _ = run("check", batch.name, "--json", "--force", "--workers", "2")
    summary = json.loads(out)
    assert code == 0 and (summary["total"], summary["checked"], summary["flagged"]) == (6, 6, 1)


def test_rank_changes_during_a_check_are_kept(batch: Path) -> None:
    files = [t["file"] for t in store.load_metadata(batch)["takes"]]
    outcome: dict[str, Any] = {}
    started = threading.Event()

    def hear() -> None:
        outcome["summary"] = check.check_batch(batch, workers=1, flush_s=0.0,
                                               progress=lambda _s: started.set())

    thread = threading.Thread(target=hear)
    thread.start()
    started.wait(10)
    given: dict[str, int | None] = {}
    while thread.is_alive() or not given:  # rank every take while it is being checked
        for n, file in enumerate(files):
            ranking.set_rank(batch, file, 1 + (n + len(given)) % 2, person="dana")
        given = {t["file"]: t["rank"] for t in store.load_metadata(batch)["takes"]}
    thread.join()
    takes = store.load_metadata(batch)["takes"]
    assert outcome["summary"].checked == 6
    assert {t["file"]: t["rank"] for t in takes} == given and all(given.values())
    assert all("wer" in t["quality"]["speech"] for t in takes)
    ranked_1 = {t["file"] for t in takes if t["rank"] == 1}
    assert {p.name for p in (batch / "ranked" / "01").iterdir()} == ranked_1


def test_the_job_checks_the_takes_it_made(root: Path, tmp_path: Path) -> None:
    settings = Settings(audio_root=root)
    result = runner.run(config=job(tmp_path, dict(list(LINES.items())[:2]), variants=1),
                        settings=settings)
    assert result["done"] == 2 and not result["failed"]
    batch = store.find_batch(root, result["batch_ids"][0])
    for take in store.load_metadata(batch)["takes"]:
        speech = take["quality"]["speech"]
        assert speech["engine"] == "pocketsphinx" and speech["wer"] < quality.WORDS_WER_MAX
        assert take["quality"]["flags"] == []


def test_a_failed_check_never_fails_the_job(root: Path, tmp_path: Path) -> None:
    settings = Settings(audio_root=root, stt_model=tmp_path)  # a folder with no model in it
    result = runner.run(config=job(tmp_path, dict(list(LINES.items())[:1]), variants=1),
                        settings=settings)
    assert result["done"] == 1
    [take] = store.load_metadata(store.find_batch(root, result["batch_ids"][0]))["takes"]
    assert "VOICELAB_STT_MODEL" in take["quality"]["speech"]["error"]
