"""Presence (issue 26): the in-memory book (voicelab.presence) and its API (api/presence.py):
who else has a batch open and on which line, a closed view gone within seconds, bounded, and a
panel's rater told only how many others are here."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from api import create_app
from api.openapi import SCHEMAS
from tests.api_fixtures import bearer, copy_team, make_team
from tests.batches import make_batch
from voicelab import panel
from voicelab.config import Settings
from voicelab.presence import Presence

TEAM = (("lena", "lead"), ("alice", "designer"), ("bob", "designer"), ("vic", "viewer"))


def test_a_view_is_here_until_it_leaves_or_goes_quiet() -> None:
    book = Presence(ttl_s=8)
    book.beat("b1", "view-a", "alice", "Line_1", now=100)
    book.beat("b1", "view-b", "bob", None, now=101)
    book.beat("b2", "view-c", "alice", "Line_9", now=101)
    assert [(h.person, h.line) for h in book.here("b1", now=102)] == [
        ("alice", "Line_1"), ("bob", None)]
    book.beat("b1", "view-a", "alice", "Line_2", now=103)  # moved on: one entry, its new line
    assert [(h.person, h.line) for h in book.here("b1", now=103)] == [
        ("alice", "Line_2"), ("bob", None)]
    book.leave("b1", "view-b")  # the tab closed
    assert [h.person for h in book.here("b1", now=104)] == ["alice"]
    assert book.counts(now=105) == {"b1": 1, "b2": 1}
    assert book.counts(now=101 + 8.5) == {"b1": 1}  # b2 not heard from for longer than the TTL
    assert book.here("b1", now=103 + 8.5) == []


def test_a_persons_tabs_count_once_and_the_book_stays_bounded() -> None:
    book = Presence(ttl_s=60, max_views=3)
    book.beat("b1", "tab-1", "alice", "L", now=1)
    book.beat("b1", "tab-2", "alice", "L", now=2)
    book.beat("b1", "tab-3", "bob", "L", now=3)
    assert book.counts(now=4) == {"b1": 2}
    book.beat("b2", "tab-4", "carol", "L", now=5)  # past the bound: the oldest view makes room
    assert {h.view for h in book.here("b1", now=6)} == {"tab-2", "tab-3"}
    assert book.counts(now=6) == {"b1": 2, "b2": 1}


def test_beats_from_many_threads_keep_the_book_whole() -> None:
    book = Presence(ttl_s=60, max_views=100)

    def designer(n: int) -> None:
        for i in range(200):
            book.beat("b1", f"view-{n}", f"p{n}", f"Line_{i}")
    threads = [threading.Thread(target=designer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [h.line for h in book.here("b1")] == ["Line_199"] * 8


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_team(tmp_path_factory.mktemp("presence-team"), TEAM)


@pytest.fixture
def root(team_root: Path, tmp_path: Path) -> Path:
    return copy_team(team_root, tmp_path / "audio")


@pytest.fixture
def client(root: Path) -> FlaskClient:
    return create_app(Settings(audio_root=root)).test_client()


@pytest.fixture
def as_(team_root: Path) -> Any:
    return functools.partial(bearer, team_root)


def beat(client: FlaskClient, headers: dict[str, str], batch_id: str, view: str,
         line: str | None) -> Any:
    answer = client.put(f"/api/batch/{batch_id}/presence", json={"view": view, "line": line},
                        headers=headers)
    assert answer.status_code == 200, answer.json
    Draft202012Validator({"$ref": "#/components/schemas/Presence",
                          "components": {"schemas": SCHEMAS}}).validate(answer.json)
    return answer.json["data"]


def test_designers_see_each_other_and_the_batch_list_counts_them(
        client: FlaskClient, root: Path, as_: Any) -> None:
    batch = make_batch(root, skin="Here", lines=3)
    assert beat(client, as_("alice"), batch.name, "alice-tab-1", "Line_1") == {
        "count": 0, "others": []}
    assert beat(client, as_("bob"), batch.name, "bob-tab-01", "Line_2") == {
        "count": 1, "others": [{"name": "alice", "line": "Line_1"}]}
    assert beat(client, as_("alice"), batch.name, "alice-tab-1", "Line_3") == {
        "count": 1, "others": [{"name": "bob", "line": "Line_2"}]}
    counts = client.get("/api/presence", headers=as_("vic"))
    assert counts.status_code == 200 and counts.json == {"data": {batch.name: 2}}
    gone = client.delete(f"/api/batch/{batch.name}/presence?view=bob-tab-01",
                         headers=as_("bob"))
    assert gone.status_code == 204
    assert beat(client, as_("alice"), batch.name, "alice-tab-1", "Line_3")["count"] == 0


def test_a_panels_rater_learns_only_how_many_are_here(
        client: FlaskClient, root: Path, as_: Any) -> None:
    batch = make_batch(root, skin="Blind", lines=2)
    panel.open_panel(batch, ["alice", "bob"], person="lena")
    beat(client, as_("lena"), batch.name, "lena-tab-1", "Line_1")
    beat(client, as_("bob"), batch.name, "bob-tab-01", "Line_2")
    seen = beat(client, as_("alice"), batch.name, "alice-tab-1", "Line_1")
    assert seen == {"count": 2, "others": []}  # neither who nor where
    lead = beat(client, as_("lena"), batch.name, "lena-tab-1", "Line_2")
    assert {(o["name"], o["line"]) for o in lead["others"]} == {("alice", "Line_1"),
                                                               ("bob", "Line_2")}


@pytest.mark.parametrize(("body", "names"), [
    ({"line": "Line_1"}, "view must be"),
    ({"view": "short", "line": None}, "view must be"),
    ({"view": "../../etc/passwd", "line": None}, "view must be"),
    ({"view": "view-tab-1", "line": 7}, "line must be"),
    ({"view": "view-tab-1", "line": "x" * 201}, "line must be"),
    ({"view": "view-tab-1", "line": None, "rank": 1}, "only \"view\" and \"line\""),
])
def test_a_bad_beat_is_named_and_changes_nothing(client: FlaskClient, root: Path, as_: Any,
                                                 body: dict[str, Any], names: str) -> None:
    batch = make_batch(root, skin="Bad", lines=1)
    answer = client.put(f"/api/batch/{batch.name}/presence", json=body, headers=as_("bob"))
    assert answer.status_code == 400 and names in answer.json["error"]
    assert client.get("/api/presence", headers=as_("bob")).json == {"data": {}}


def test_presence_needs_a_batch_and_a_person(client: FlaskClient, as_: Any) -> None:
    unknown = client.put("/api/batch/20990101-000000-zz/presence",
                         json={"view": "view-tab-1", "line": None}, headers=as_("bob"))
    assert unknown.status_code == 404
    anonymous = client.put("/api/batch/20990101-000000-zz/presence",
                           json={"view": "view-tab-1", "line": None})
    assert anonymous.status_code == 401
    assert client.get("/api/presence").status_code == 401
