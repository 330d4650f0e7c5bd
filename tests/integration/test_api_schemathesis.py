"""Schemathesis against /api/openapi.json of a real server: no 5xx, no response off the schema.

Bounded (30 examples per operation, fixed seed) so it finishes well inside a minute. Real ids
for one batch, take and MP3 are supplied, so ranking and /audio are fuzzed past the 404s. The
server has users and the service token: the run signs in as a designer with a personal token,
so the lead's routes answer 403 and the rest run as they would for a person.

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
from voicelab import people

pytestmark = pytest.mark.integration

TOKEN = "tok-schemathesis-0a1b2c3d"


def _config(batch_id: str, take: str, relpath: str) -> str:
    return f"""
[checks]
positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = ["rank_take"]
parameters = {{ batch_id = "{batch_id}", filename = "{take}" }}

[[operations]]
include-operation-id = ["batch", "batch_history", "undo_change", "unlock_batch"]
parameters = {{ batch_id = "{batch_id}" }}

[[operations]]
include-operation-id = ["audio"]
parameters = {{ relpath = "{relpath}" }}
"""


@pytest.mark.timeout(180)
def test_schemathesis_finds_no_server_error_or_schema_break(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, lines=2, takes_per_line=3)
    make_batch(root, skin="Other", locked=True)
    relpath = f"{batch.relative_to(root).as_posix()}/takes/Line_1_take_1.mp3"
    designer = people.add_user(root, "dana", "designer").token
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(batch.name, "Line_1_take_1.mp3", relpath), "utf-8")
    with ApiServer(root, VOICELAB_API_TOKEN=TOKEN) as server:
        done = subprocess.run(
            [str(REPO / ".venv" / "bin" / "st"), "--no-color", "--config-file", str(config),
             "run", f"{server.url}/api/openapi.json", "-H", f"Authorization: Bearer {designer}",
             "--max-examples", "30", "--seed", "20240601", "--workers", "2",
             "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, capture_output=True, text=True, timeout=170)
        log = server.log()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    assert "15 selected / 15 total" in output or "Operations:" in output
    assert " 500 " not in log and "Traceback" not in log, log[-4000:]
