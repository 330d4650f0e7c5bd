"""The API's routes: one blueprint per area, each route parsing, calling voicelab and returning
`{"data": ...}`; errors are raised, never returned (api.errors maps them).

Every area registers its routes through its own `table` (api.openapi.RouteTable), which also
records each operation, so the OpenAPI document (`openapi_document`, below) is written from the
same tables that route and cannot drift. `AREAS` lists them in the order the document lists
their operations; `create_app` registers `BLUEPRINTS`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import audio, batches, common, export, generation, lines, panel, people, presence
from api.openapi import RAW, Operation, RouteTable, document
from voicelab import __version__
from voicelab import people as voicelab_people

bp = Blueprint("document", __name__)
table = RouteTable(bp)

AREAS = (generation, batches, presence, people, panel, lines, export, audio)
BLUEPRINTS = (*(area.bp for area in AREAS), bp)


def operations() -> list[Operation]:
    """Every operation of every area, in the document's order, this document's own last."""
    return [op for area in AREAS for op in area.table.operations] + table.operations


@table.route("/api/openapi.json", "GET", "This document (plain JSON, no envelope)", {200: RAW})
def openapi_document() -> dict[str, Any]:
    """GET /api/openapi.json: the document built from the areas' tables, so it cannot drift from
    the routes.

    Plain JSON, no envelope; the token schemes appear only when the server has a service token
    or users.
    """
    root = common.settings().audio_root
    secured = bool(common.settings().api_token) or voicelab_people.sign_in_required(root)
    return document(operations(), secured=secured, version=__version__)


# Outside /api/, so outside the token check; `voicelab serve` answers this path itself.
@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """A health check: answers without a token and touches nothing (no disk, no broker)."""
    return {"status": "ok", "version": __version__}
