"""The takes' audio for players: MP3s under AUDIO_ROOT, with Range, ETag and 304."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_file
from werkzeug.exceptions import NotFound

from api import common, visibility
from api.auth import person
from api.openapi import AUDIO, EMPTY, RouteTable
from voicelab import paths

bp = Blueprint("audio", __name__)
table = RouteTable(bp)


@table.route("/audio/<path:relpath>", "GET", "An MP3 under AUDIO_ROOT (Range, ETag, 304)",
             {200: AUDIO, 206: AUDIO, 304: EMPTY, 403: "Error", 404: "Error", 416: "Error"})
def audio(relpath: str) -> Response:
    """GET /audio/<relpath>: an MP3 under AUDIO_ROOT, with Range (206), ETag and 304 for players.

    404 for anything but an existing MP3 inside the root (symlinks out of it included); 416 for a
    range past the file. 403 for a non-lead while the batch's panel is open: any take of a blind
    panel (a file name tells the take: listen on the board), `ranked/` of any panel.
    """
    path: Path | None = paths.resolve_under(common.settings().audio_root, relpath, suffix=".mp3")
    if path is None:
        raise NotFound(f"no MP3 at {relpath!r} under the audio root")
    visibility.refuse_audio(relpath, path, person())
    return send_file(path, mimetype="audio/mpeg", conditional=True, etag=True, max_age=0)
