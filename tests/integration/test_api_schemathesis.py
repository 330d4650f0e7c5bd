"""Schemathesis against /api/openapi.json of a real server: no 5xx, no response off the schema.

Bounded (30 examples per operation, fixed seed) so it finishes well inside a minute. Real ids
for one batch, take and MP3 are supplied, so ranking and /audio are fuzzed past the 404s. The
server has users and the service token: the run signs in as a designer with a personal token,
so the lead's routes answer 403 and the rest run as they would for a person. That batch is an
open blind panel the designer rates (ranked by their opaque take id), so the blind shapes of
GET /api/batch, PATCH take and undo are checked against the document; /audio plays a locked
batch (a blind rater may not fetch takes). A second, shorter run signs in as a lead and
fuzzes the panel's routes (open, consensus, line override, close, reopen) and the lead's view.

`positive_data_acceptance` is off, on purpose: a schema-valid config can still be refused
(its CSV rows, or voice ids the engine does not have), a valid rank body on a locked batch is
a 423, and JSON Schema calls `1.0` an integer where the API insists on a whole-number rank.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.api_fixtures import REPO, ApiServer
from tests.batches import make_batch
from voicelab import panel, people, store
from voicelab.panel.views import blind_id

pytestmark = pytest.mark.integration

TOKEN = "tok-schemathesis-0a1b2c3d"


PANEL_OPERATIONS = ["open_panel", "consensus", "override_line", "close_line", "reopen_line",
                    "batch", "rank_take", "undo_change"]


def _config(batch_id: str, take: str, relpath: str, solo_id: str) -> str:
    return f"""
[checks]
positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = ["rank_take"]
parameters = {{ batch_id = "{batch_id}", filename = "{take}" }}

[[operations]]
include-operation-id = ["batch", "batch_history", "undo_change", "unlock_batch", "consensus",
                        "presence_beat", "presence_leave"]
parameters = {{ batch_id = "{batch_id}" }}

[[operations]]
include-operation-id = ["open_panel"]
parameters = {{ batch_id = "{solo_id}" }}

[[operations]]
include-operation-id = ["override_line", "close_line", "reopen_line"]
parameters = {{ batch_id = "{batch_id}", line = "Line_1" }}

[[operations]]
include-operation-id = ["audio"]
parameters = {{ relpath = "{relpath}" }}
"""


def _schemathesis(url: str, token: str, config: Path, report: Path,
                  *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "st"), "--no-color", "--config-file", str(config),
         "run", f"{url}/api/openapi.json", "-H", f"Authorization: Bearer {token}",
         "--max-examples", "30", "--seed", "20240601", "--workers", "2",
         "--report-dir", str(report), *extra],
        cwd=config.parent, capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(280)
def test_schemathesis_finds_no_server_error_or_schema_break(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, takes_per_line=3)
    solo = make_batch(root, skin="Solo", lines=2, takes_per_line=3)
    other = make_batch(root, skin="Other", locked=True)
    relpath = f"{other.relative_to(root).as_posix()}/takes/Line_1_take_1.mp3"
    designer = people.add_user(root, "dana", "designer").token
    lead = people.add_user(root, "lena", "lead").token
    people.add_user(root, "bob", "designer")
    panel.open_panel(batch, ["dana", "bob", "lena"], person="lena")
    panel.rate(batch, "Line_1_take_2.mp3", 1, person="bob")
    take = blind_id(store.load_metadata(batch)["panel"], "dana", "Line_1_take_1.mp3")
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(batch.name, take, relpath, solo.name), "utf-8")
    lead_config = tmp_path / "schemathesis-lead.toml"  # a lead names takes by file
    lead_config.write_text(_config(batch.name, "Line_1_take_1.mp3", relpath, solo.name), "utf-8")
    with ApiServer(root, VOICELAB_API_TOKEN=TOKEN) as server:
        as_designer = _schemathesis(server.url, designer, config, tmp_path / "report")
        as_lead = _schemathesis(server.url, lead, lead_config, tmp_path / "report-lead",
                                "--include-operation-id-regex",
                                "^(" + "|".join(PANEL_OPERATIONS) + ")$")
        log = server.log()
    for done in (as_designer, as_lead):
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-12000:]
        assert "Operations:" in output
    assert "27 selected / 27 total" in as_designer.stdout + as_designer.stderr
    assert f"{len(PANEL_OPERATIONS)} selected" in as_lead.stdout + as_lead.stderr
    assert " 500 " not in log and "Traceback" not in log, log[-4000:]
