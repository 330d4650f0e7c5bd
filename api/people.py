"""Who the request is from."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import common
from api.auth import person
from api.openapi import RouteTable
from voicelab import people

bp = Blueprint("people", __name__)
table = RouteTable(bp)


@table.route("/api/me", "GET", "Who the request is from, and what their role allows",
             {200: "Person"})
def me() -> dict[str, Any]:
    """GET /api/me: the caller's name, role and allowed actions; `sign_in` says whether this
    server has users (the dashboards' header shows the name and a sign-out link then)."""
    caller = person()
    return {"data": {"name": caller.name, "role": caller.role, "allowed": caller.allowed(),
                     "sign_in": people.sign_in_required(common.settings().audio_root)}}
