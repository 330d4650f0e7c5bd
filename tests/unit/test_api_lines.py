"""The API of a batch's lines (issue 15): more takes of one line (the estimate, a queued job)
and director notes, with roles respected and bad input refused."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from tests.batches import make_batch
from tests.unit.test_api_panel import as_, client, conforms, root, team_root  # noqa: F401
from voicelab import history, ranking, store
from voicelab.jobs import registry
from voicelab.jobs.kinds.more import pending_lines


def url(batch: Path, line: str, what: str) -> str:
    return f"/api/batch/{batch.name}/lines/{line}/{what}"


def test_the_estimate_comes_before_anything_is_spent(client: FlaskClient, root: Path,  # noqa: F811
                                                     as_) -> None:  # noqa: F811
    batch = make_batch(root, ranks={"Line_1_take_2.mp3": 1})
    answer = client.post(url(batch, "Line_1", "takes"), json={"takes": 4, "dry_run": True},
                         headers=as_("dana"))
    assert answer.status_code == 200, answer.json
    data = conforms("MoreEstimate", answer)["data"]
    assert data["takes"] == data["requests"] == 4 and data["first_take"] == 4
    assert data["characters"] == 4 * len("Text of Line_1.") and data["like"] == 1
    assert registry.recent(root) == []


def test_more_takes_queue_a_job_for_that_line(client: FlaskClient, root: Path, as_) -> None:  # noqa: F811
    batch = make_batch(root)
    answer = client.post(url(batch, "Line_2", "takes"), json={"takes": 2, "like": None},
                         headers=as_("dana"))
    assert answer.status_code == 202, answer.json
    task_id = conforms("TaskAccepted", answer)["data"]["task_id"]
    assert answer.headers["Location"] == f"/api/generate/{task_id}/status"
    record = registry.get(root, task_id)
    assert record["config"]["kind"] == "more" and record["config"]["requested_by"] == "dana"
    assert record["skin"] == "Skin" and record["state"] == "QUEUED"
    assert pending_lines(root, batch.name) == {"Line_2": task_id}


def test_refusals_name_the_problem_and_queue_nothing(client: FlaskClient, root: Path,  # noqa: F811
                                                     as_) -> None:  # noqa: F811
    batch = make_batch(root)
    cases = [("vic", "Line_1", {"takes": 2}, 403, "viewer"),
             ("dana", "Line_9", {"takes": 2}, 404, "no line 'Line_9'"),
             ("dana", "Line_1", {"takes": 0}, 400, "takes must be"),
             ("dana", "Line_1", {"like": 2}, 400, "no rank-2 take"),
             ("dana", "Line_1", {"tkaes": 2}, 400, "unknown field"),
             ("dana", "Line_1", {"text": ""}, 400, "text must be")]
    for who, line, body, status, words in cases:
        answer = client.post(url(batch, line, "takes"), json=body, headers=as_(who))
        assert answer.status_code == status, (body, answer.json)
        assert words in answer.json["error"], (body, answer.json)
    ranking.lock(batch, person="lena", force=True)
    answer = client.post(url(batch, "Line_1", "takes"), json={}, headers=as_("dana"))
    assert answer.status_code == 423
    assert registry.recent(root) == []


def test_a_note_is_written_by_its_author_and_read_back(client: FlaskClient, root: Path,  # noqa: F811
                                                       as_) -> None:  # noqa: F811
    batch = make_batch(root)
    answer = client.put(url(batch, "Line_1", "note"),
                        json={"text": "Less breathy.", "needs_pass": True}, headers=as_("dana"))
    assert answer.status_code == 200, answer.json
    note = conforms("LineNote", answer)["data"]
    assert note["text"] == "Less breathy." and note["by"] == "dana" and note["needs_pass"]
    meta = client.get(f"/api/batch/{batch.name}", headers=as_("vic")).json["data"]
    assert meta["notes"]["Line_1"]["text"] == "Less breathy."
    assert history.read(batch)[-1]["action"] == "note"
    refused = client.put(url(batch, "Line_1", "note"), json={"text": "x"}, headers=as_("vic"))
    assert refused.status_code == 403
    bad = client.put(url(batch, "Line_1", "note"), json={"text": 3}, headers=as_("dana"))
    assert bad.status_code == 400 and "a note is text" in bad.json["error"]
    gone = client.put(url(batch, "Line_1", "note"), json={"text": ""}, headers=as_("dana"))
    assert gone.status_code == 200 and gone.json["data"] is None
    assert "Line_1" not in store.load_metadata(batch)["notes"]
