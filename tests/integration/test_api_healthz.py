"""`voicelab api`'s /healthz: answers without the token the rest of the API needs."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.api_fixtures import ApiServer
from voicelab import __version__

pytestmark = pytest.mark.integration


def test_healthz_needs_no_token(tmp_path: Path) -> None:
    root = tmp_path / "audio"
    root.mkdir()
    with ApiServer(root, VOICELAB_API_TOKEN="tok-health-1a2b3c") as server:
        assert requests.get(server.url + "/api/batches", timeout=10).status_code == 401
        response = requests.get(server.url + "/healthz", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "version": __version__}
        assert "tok-health" not in server.log()
