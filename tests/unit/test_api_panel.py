"""The API of rating panels (issue 14): opening one, raters ranking blind by opaque ids, what a
rater may read (metadata, line answers, the batch list, history, /audio), the lead's consensus
report and line decisions, and solo batches answering as before."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from api import create_app
from api.openapi import SCHEMAS
from tests.api_fixtures import bearer, copy_team, make_team
from tests.batches import make_batch, ranked_on_disk
from voicelab import store
from voicelab.config import Settings
from voicelab.panel.views import blind_id

TEAM = (("lena", "lead"), ("alice", "designer"), ("bob", "designer"), ("carol", "designer"),
        ("dana", "designer"), ("vic", "viewer"))
RATERS = ["alice", "bob", "carol"]


@pytest.fixture(scope="module")
def team_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Users are slow to make (Argon2): once per module; each test copies the users file."""
    return make_team(tmp_path_factory.mktemp("panel-team"), TEAM)


@pytest.fixture
def root(team_root: Path, tmp_path: Path) -> Path:
    return copy_team(team_root, tmp_path / "audio")


@pytest.fixture
def client(root: Path) -> FlaskClient:
    return create_app(Settings(audio_root=root)).test_client()


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, skin="Panel", lines=2, takes_per_line=3)


@pytest.fixture
def as_(team_root: Path):
    return functools.partial(bearer, team_root)


def conforms(schema: str, answer: Any) -> Any:
    """`answer`'s JSON, checked against the OpenAPI document's schema `schema`."""
    Draft202012Validator({"$ref": f"#/components/schemas/{schema}",
                          "components": {"schemas": SCHEMAS}}).validate(answer.json)
    return answer.json


def open_panel(client: FlaskClient, batch: Path, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/batch/{batch.name}/panel",
                       json={"raters": RATERS, **body}, headers=headers)


def take_id(batch: Path, rater: str, file: str) -> str:
    """The opaque id `rater` sees for `file` (what their board and GET /api/batch give them)."""
    return blind_id(store.load_metadata(batch)["panel"], rater, file)


def rate(client: FlaskClient, batch: Path, headers: dict[str, str], take: str,
         rank: int | None) -> Any:
    return client.patch(f"/api/batch/{batch.name}/take/{take}", json={"rank": rank},
                        headers=headers)


def rate_blind(client: FlaskClient, batch: Path, as_, rater: str, file: str,
               rank: int | None) -> Any:
    return rate(client, batch, as_(rater), take_id(batch, rater, file), rank)


def rate_example(client: FlaskClient, batch: Path, as_) -> None:
    """The hand-computed example (voicelab.panel.consensus's rules), three raters, blind:

    Line_1: alice t1:1 t2:2 t3:3; bob t2:1 t1:2; carol t2:1 t3:2.
      Borda points: t1 5+4 = 9, t2 4+5+5 = 14, t3 3+4 = 7 -> consensus t2:1, t1:2, t3:3.
      Completed rankings over (t1, t2, t3): alice (1, 2, 3), bob (2, 1, 3), carol (3, 1, 2);
      rank sums (6, 4, 8), spread 8, W = 12 * 8 / (3^2 * (3^3 - 3)) = 96 / 216 = 0.4444.
      tau with the consensus (2, 1, 3): alice 1/3, bob 1, carol 1/3.
    Line_2: alice t1:1; bob t2:1 -> 5 points each, one first place each: take order breaks the
      tie, t1:1 t2:2. W is over the takes someone ranked (t1, t2): alice (1, 2), bob (2, 1),
      rank sums (3, 3), no spread: W = 0, they disagree completely.
    """
    for rater, file, rank in (("alice", "Line_1_take_1.mp3", 1), ("alice", "Line_1_take_2.mp3", 2),
                              ("alice", "Line_1_take_3.mp3", 3), ("bob", "Line_1_take_2.mp3", 1),
                              ("bob", "Line_1_take_1.mp3", 2), ("carol", "Line_1_take_2.mp3", 1),
                              ("carol", "Line_1_take_3.mp3", 2), ("alice", "Line_2_take_1.mp3", 1),
                              ("bob", "Line_2_take_2.mp3", 1)):
        answer = rate_blind(client, batch, as_, rater, file, rank)
        assert answer.status_code == 200, answer.json


# --- opening a panel -------------------------------------------------------------------------


def test_a_lead_opens_a_panel_and_a_designer_cannot(client: FlaskClient, batch: Path,
                                                    as_) -> None:
    refused = open_panel(client, batch, as_("alice"))
    assert refused.status_code == 403 and "lead" in refused.json["error"]
    assert "panel" not in store.load_metadata(batch)
    opened = open_panel(client, batch, as_("lena"))
    assert opened.status_code == 201
    data = conforms("Panel", opened)["data"]
    assert data["raters"] == RATERS and data["blind"] is True and data["opened_by"] == "lena"
    assert "order_key" not in data and "order_key" not in opened.get_data(as_text=True)
    assert store.load_metadata(batch)["panel"]["raters"] == RATERS
    again = open_panel(client, batch, as_("lena"))
    assert again.status_code == 409 and "already ranked by a panel" in again.json["error"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "raters"), ({"raters": "alice"}, "raters"), ({"raters": []}, "raters"),
    ({"raters": ["alice", "alice"]}, "raters"), ({"raters": ["alice"], "blind": "yes"}, "blind"),
    ({"raters": ["alice"], "shuffle": True}, "shuffle"), ({"raters": ["zoe"]}, "zoe"),
    ({"raters": ["vic"]}, "viewer"),
])
def test_bad_panel_bodies_are_400_naming_the_field(client: FlaskClient, batch: Path, as_,
                                                   body: dict[str, Any], field: str) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    answer = client.post(f"/api/batch/{batch.name}/panel", json=body, headers=as_("lena"))
    assert answer.status_code == 400 and field in answer.json["error"]
    assert (batch / store.METADATA_NAME).read_bytes() == before


def test_a_locked_batch_gets_no_panel(client: FlaskClient, root: Path, as_) -> None:
    locked = make_batch(root, skin="Done", locked=True)
    answer = open_panel(client, locked, as_("lena"))
    assert answer.status_code == 423 and "locked" in answer.json["error"]


# --- raters, blind ---------------------------------------------------------------------------


def test_a_blind_raters_metadata_holds_no_file_settings_other_ranks_or_key(
        client: FlaskClient, batch: Path, as_) -> None:
    open_panel(client, batch, as_("lena"))
    rate_example(client, batch, as_)
    answer = client.get(f"/api/batch/{batch.name}", headers=as_("alice"))
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    for secret in (".mp3", "take_", "stability", "generation_settings", "seed", "order_key",
                   "ranks_by", "ranked_by", "bob", "carol", "consensus", "take_number",
                   "piper"):
        assert secret not in text, secret
    data = conforms("Metadata", answer)["data"]
    assert data["panel"] == {"size": 3, "blind": True, "you": "alice",
                             "progress": {"done": 2, "total": 2}}
    line_1 = [t for t in data["takes"] if t["line"] == "Line_1"]
    assert sorted(t["label"] for t in line_1) == ["A", "B", "C"]
    mine = {t["id"]: t["rank"] for t in line_1}
    assert mine == {take_id(batch, "alice", f"Line_1_take_{n}.mp3"): n for n in (1, 2, 3)}
    # bob's ids are his own: alice's board and his name different ids for the same takes
    bobs = client.get(f"/api/batch/{batch.name}", headers=as_("bob")).json["data"]
    assert {t["id"] for t in bobs["takes"]}.isdisjoint({t["id"] for t in data["takes"]})
    assert {t["id"]: t["rank"] for t in bobs["takes"] if t["rank"]} == {
        take_id(batch, "bob", "Line_1_take_2.mp3"): 1,
        take_id(batch, "bob", "Line_1_take_1.mp3"): 2,
        take_id(batch, "bob", "Line_2_take_2.mp3"): 1}


def test_a_blind_rater_ranks_by_id_and_gets_their_blind_line(client: FlaskClient, batch: Path,
                                                              as_) -> None:
    open_panel(client, batch, as_("lena"))
    by_name = rate(client, batch, as_("alice"), "Line_1_take_1.mp3", 1)
    assert by_name.status_code == 404 and "your board" in by_name.json["error"]
    answer = rate_blind(client, batch, as_, "alice", "Line_1_take_3.mp3", 1)
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert ".mp3" not in text and "stability" not in text and "ranks_by" not in text
    line = conforms("LineTakes", answer)["data"]
    assert len(line) == 3 and {t["line"] for t in line} == {"Line_1"}
    assert {t["id"]: t["rank"] for t in line if t["rank"]} == {
        take_id(batch, "alice", "Line_1_take_3.mp3"): 1}
    on_disk = {t["file"]: t for t in store.load_metadata(batch)["takes"]}
    assert on_disk["Line_1_take_3.mp3"]["ranks_by"] == {"alice": 1}
    assert on_disk["Line_1_take_3.mp3"]["rank"] == 1  # alone, her ranking is the consensus
    # bob ranks by his own ids only: alice's id is not one of his
    assert rate(client, batch, as_("bob"), take_id(batch, "alice", "Line_1_take_3.mp3"),
                1).status_code == 404
    undone = client.post(f"/api/batch/{batch.name}/undo", headers=as_("alice"))
    assert undone.status_code == 200 and ".mp3" not in undone.get_data(as_text=True)
    assert all(t["rank"] is None for t in undone.json["data"])
    assert ranked_on_disk(batch) == {}


def test_only_the_panels_raters_rank(client: FlaskClient, batch: Path, as_) -> None:
    open_panel(client, batch, as_("lena"))
    dana = rate_blind(client, batch, as_, "dana", "Line_1_take_1.mp3", 1)
    assert dana.status_code == 403 and "not one of its raters" in dana.json["error"]
    lena = rate(client, batch, as_("lena"), "Line_1_take_1.mp3", 1)
    assert lena.status_code == 403 and "override" in lena.json["error"]
    vic = rate_blind(client, batch, as_, "vic", "Line_1_take_1.mp3", 1)
    assert vic.status_code == 403 and "viewer" in vic.json["error"]
    assert ranked_on_disk(batch) == {}


def test_the_consensus_matches_the_hand_computed_example(client: FlaskClient, batch: Path,
                                                         as_) -> None:
    open_panel(client, batch, as_("lena"))
    rate_example(client, batch, as_)
    assert client.get(f"/api/batch/{batch.name}/consensus",
                      headers=as_("alice")).status_code == 403
    answer = client.get(f"/api/batch/{batch.name}/consensus", headers=as_("lena"))
    assert answer.status_code == 200
    report = conforms("Consensus", answer)["data"]
    line_1, line_2 = report["lines"]
    assert line_1["consensus"] == {"Line_1_take_1.mp3": 2, "Line_1_take_2.mp3": 1,
                                   "Line_1_take_3.mp3": 3}
    assert line_1["ranks_by"]["bob"] == {"Line_1_take_2.mp3": 1, "Line_1_take_1.mp3": 2}
    assert line_1["agreement"] == pytest.approx(0.4444, abs=1e-4)
    assert line_1["rater_agreement"] == pytest.approx(
        {"alice": 0.3333, "bob": 1.0, "carol": 0.3333}, abs=1e-4)
    assert line_2["consensus"] == {"Line_2_take_1.mp3": 1, "Line_2_take_2.mp3": 2,
                                   "Line_2_take_3.mp3": None}
    assert line_2["agreement"] == 0.0
    assert report["disagreements"] == ["Line_2", "Line_1"]
    assert report["progress"] == {"alice": {"done": 2, "total": 2},
                                  "bob": {"done": 2, "total": 2},
                                  "carol": {"done": 1, "total": 2}}
    assert ranked_on_disk(batch) == {"Line_1_take_2.mp3": 1, "Line_1_take_1.mp3": 2,
                                     "Line_1_take_3.mp3": 3, "Line_2_take_1.mp3": 1,
                                     "Line_2_take_2.mp3": 2}
    # a lead reads the metadata as stored: every rater's ranks, the consensus, no order_key
    lead_view = client.get(f"/api/batch/{batch.name}", headers=as_("lena"))
    assert "order_key" not in lead_view.get_data(as_text=True)
    takes = {t["file"]: t for t in conforms("Metadata", lead_view)["data"]["takes"]}
    assert takes["Line_1_take_1.mp3"]["ranks_by"] == {"alice": 1, "bob": 2}
    assert takes["Line_1_take_1.mp3"]["rank"] == 2


def test_an_override_sticks_and_closes_the_line(client: FlaskClient, batch: Path, as_) -> None:
    open_panel(client, batch, as_("lena"))
    rate_example(client, batch, as_)
    url = f"/api/batch/{batch.name}/lines/Line_1/override"
    body = {"filename": "Line_1_take_3.mp3", "rank": 1}
    assert client.post(url, json=body, headers=as_("alice")).status_code == 403
    wrong_line = client.post(url, json={"filename": "Line_2_take_1.mp3", "rank": 1},
                             headers=as_("lena"))
    assert wrong_line.status_code == 400 and "line Line_2" in wrong_line.json["error"]
    assert client.post(url, json={"file": "x", "rank": 1},
                       headers=as_("lena")).status_code == 400
    answer = client.post(url, json=body, headers=as_("lena"))
    assert answer.status_code == 200
    line = conforms("PanelLine", answer)["data"]
    assert line["consensus"] == {"Line_1_take_3.mp3": 1, "Line_1_take_2.mp3": 2,
                                 "Line_1_take_1.mp3": 3}
    assert line["closed"] is True and line["override"] is True and line["closed_by"] == "lena"
    assert ranked_on_disk(batch)["Line_1_take_3.mp3"] == 1
    late = rate_blind(client, batch, as_, "bob", "Line_1_take_1.mp3", 1)
    assert late.status_code == 409 and "closed by someone" in late.json["error"]
    assert "lena" not in late.json["error"], "a blind rater was told who closed the line"
    assert ranked_on_disk(batch)["Line_1_take_3.mp3"] == 1  # the override stuck
    report = client.get(f"/api/batch/{batch.name}/consensus", headers=as_("lena")).json["data"]
    assert report["lines"][0]["override"] is True
    reopened = client.post(f"/api/batch/{batch.name}/lines/Line_1/reopen", headers=as_("lena"))
    assert reopened.status_code == 200 and reopened.json["data"]["closed"] is False
    assert reopened.json["data"]["consensus"]["Line_1_take_2.mp3"] == 1  # Borda again
    assert rate_blind(client, batch, as_, "bob", "Line_1_take_1.mp3", 1).status_code == 200


def test_close_and_reopen_a_line(client: FlaskClient, batch: Path, as_) -> None:
    open_panel(client, batch, as_("lena"))
    close = f"/api/batch/{batch.name}/lines/Line_2/close"
    assert client.post(close, headers=as_("bob")).status_code == 403
    missing = client.post(f"/api/batch/{batch.name}/lines/Line_9/close", headers=as_("lena"))
    assert missing.status_code == 404 and "Line_9" in missing.json["error"]
    closed = client.post(close, headers=as_("lena"))
    assert closed.status_code == 200
    assert closed.json["data"]["closed"] is True and closed.json["data"]["override"] is False
    assert rate_blind(client, batch, as_, "carol", "Line_2_take_1.mp3", 1).status_code == 409
    assert rate_blind(client, batch, as_, "carol", "Line_1_take_1.mp3", 1).status_code == 200
    assert client.post(f"/api/batch/{batch.name}/lines/Line_2/reopen",
                       headers=as_("lena")).status_code == 200
    assert rate_blind(client, batch, as_, "carol", "Line_2_take_1.mp3", 1).status_code == 200


# --- the other channels: the list, history, /audio -------------------------------------------


def test_the_batch_list_shows_a_rater_only_their_own_count(client: FlaskClient, batch: Path,
                                                           as_) -> None:
    open_panel(client, batch, as_("lena"))
    rate_example(client, batch, as_)

    def count(name: str) -> int:
        records = conforms("BatchList", client.get("/api/batches", headers=as_(name)))["data"]
        return next(r["ranked_count"] for r in records if r["batch_id"] == batch.name)

    assert count("lena") == 5  # the consensus: three takes of Line_1, two of Line_2
    assert (count("alice"), count("bob"), count("carol"), count("dana")) == (4, 3, 2, 0)


def test_history_of_an_open_panel_is_a_leads_only(client: FlaskClient, batch: Path,
                                                  as_) -> None:
    open_panel(client, batch, as_("lena"))
    rate_example(client, batch, as_)
    url = f"/api/batch/{batch.name}/history"
    refused = client.get(url, headers=as_("alice"))
    assert refused.status_code == 403 and "panel is open" in refused.json["error"]
    entries = client.get(url, headers=as_("lena")).json["data"]
    assert [e["action"] for e in entries][:2] == ["panel", "rank"]
    assert client.post(f"/api/batch/{batch.name}/lock", headers=as_("lena"),
                       json={"force": True}).status_code == 200
    assert client.get(url, headers=as_("alice")).status_code == 200  # the panel is over


def test_audio_is_refused_to_a_blind_rater_until_the_lock(client: FlaskClient, root: Path,
                                                          batch: Path, as_) -> None:
    take = "/audio/" + (batch / "takes" / "Line_1_take_1.mp3").relative_to(root).as_posix()
    assert client.get(take, headers=as_("alice")).status_code == 200  # solo: as before
    open_panel(client, batch, as_("lena"))
    refused = client.get(take, headers=as_("alice"))
    assert refused.status_code == 403 and "listen on the board" in refused.json["error"]
    assert client.get(take, headers=as_("vic")).status_code == 403
    assert client.get(take, headers=as_("lena")).status_code == 200
    client.post(f"/api/batch/{batch.name}/lock", headers=as_("lena"), json={"force": True})
    assert client.get(take, headers=as_("alice")).status_code == 200


def test_a_panel_that_is_not_blind_shows_settings_but_only_ones_own_ranks(
        client: FlaskClient, root: Path, batch: Path, as_) -> None:
    assert open_panel(client, batch, as_("lena"), blind=False).json["data"]["blind"] is False
    assert rate(client, batch, as_("alice"), "Line_1_take_1.mp3", 1).status_code == 200
    answer = rate(client, batch, as_("bob"), "Line_1_take_2.mp3", 1)
    assert answer.status_code == 200
    assert {t["file"]: t["rank"] for t in answer.json["data"]} == {
        "Line_1_take_1.mp3": None, "Line_1_take_2.mp3": 1, "Line_1_take_3.mp3": None}
    seen = client.get(f"/api/batch/{batch.name}", headers=as_("bob"))
    conforms("Metadata", seen)
    text = seen.get_data(as_text=True)
    assert "stability" in text and "Line_1_take_1.mp3" in text
    take_1 = next(t for t in seen.json["data"]["takes"] if t["file"] == "Line_1_take_1.mp3")
    assert take_1["rank"] is None and take_1["ranked_at"] is None  # alice's, not his
    assert "ranks_by" not in text and '"alice":' not in text and "order_key" not in text
    takes = "/audio/" + (batch / "takes" / "Line_1_take_1.mp3").relative_to(root).as_posix()
    assert client.get(takes, headers=as_("bob")).status_code == 200
    # ranked/01 holds the consensus's best take of each line: alice's and bob's tie goes to take 1
    link = "/audio/" + (batch / "ranked" / "01" / "Line_1_take_1.mp3").relative_to(root).as_posix()
    refused = client.get(link, headers=as_("bob"))
    assert refused.status_code == 403 and "ranked/" in refused.json["error"]
    assert client.get(link, headers=as_("lena")).status_code == 200


# --- solo batches ----------------------------------------------------------------------------


def test_solo_batches_answer_as_before(client: FlaskClient, root: Path, as_) -> None:
    solo = make_batch(root, skin="Solo", lines=2, takes_per_line=3,
                      ranks={"Line_1_take_1.mp3": 1})
    answer = rate(client, solo, as_("bob"), "Line_1_take_2.mp3", 1)
    assert answer.status_code == 200
    stored = store.load_metadata(solo)
    assert answer.json["data"] == [t for t in stored["takes"] if t["line"] == "Line_1"]
    assert {t["file"]: t["rank"] for t in answer.json["data"] if t["rank"]} == {
        "Line_1_take_2.mp3": 1, "Line_1_take_1.mp3": 2}
    got = client.get(f"/api/batch/{solo.name}", headers=as_("vic"))
    assert got.json == {"data": json.loads((solo / store.METADATA_NAME).read_text())}
    assert client.get(f"/api/batch/{solo.name}/history", headers=as_("vic")).status_code == 200
    records = client.get("/api/batches", headers=as_("vic")).json["data"]
    assert [r["ranked_count"] for r in records if r["batch_id"] == solo.name] == [2]
    undone = client.post(f"/api/batch/{solo.name}/undo", headers=as_("bob"))
    assert undone.status_code == 200 and undone.json["data"][0]["file"] == "Line_1_take_1.mp3"
    consensus = client.get(f"/api/batch/{solo.name}/consensus", headers=as_("lena"))
    assert consensus.status_code == 409 and "ranked solo" in consensus.json["error"]
    override = client.post(f"/api/batch/{solo.name}/lines/Line_1/override",
                           json={"filename": "Line_1_take_1.mp3", "rank": 1},
                           headers=as_("lena"))
    assert override.status_code == 409 and "solo" in override.json["error"]


def test_opening_a_panel_on_solo_ranks_keeps_them_as_the_openers(client: FlaskClient,
                                                                 root: Path, as_) -> None:
    ranked = make_batch(root, skin="Half", ranks={"Line_1_take_2.mp3": 1})
    opened = open_panel(client, ranked, as_("lena"))
    assert opened.json["data"]["raters"] == [*RATERS, "lena"]
    assert ranked_on_disk(ranked) == {"Line_1_take_2.mp3": 1}
    mine = rate(client, ranked, as_("lena"), take_id(ranked, "lena", "Line_1_take_1.mp3"), 1)
    # a lead sees (and names) takes as they are, even when rating
    assert mine.status_code == 404
    answer = rate(client, ranked, as_("lena"), "Line_1_take_1.mp3", 1)
    assert answer.status_code == 200
    assert {t["file"]: t["ranks_by"] for t in answer.json["data"]}["Line_1_take_2.mp3"] == {
        "lena": 2}
