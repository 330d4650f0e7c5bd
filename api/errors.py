"""Every failure becomes `{"error": "message"}` with the right status (docs/design.md, decision 2).

One table maps VoiceLab's error tree to HTTP statuses; Werkzeug's HTTP errors (404, 405, 413,
416, ...) keep their status and headers but get the JSON envelope; anything unexpected is a
500 that names no internals (the stack trace goes to the log only).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from voicelab.errors import (
    BatchLocked,
    BatchNotFound,
    BrokerUnavailable,
    ConfigError,
    EngineError,
    Forbidden,
    InvalidName,
    InvalidRank,
    JobConfigError,
    LineClosed,
    MetadataError,
    NotARater,
    NotSignedIn,
    PanelRefused,
    RankError,
    ScriptError,
    TakeRetired,
    UndoRefused,
    UnknownPerson,
    UnknownTake,
    UsersFileError,
    VoicelabError,
)

log = logging.getLogger(__name__)

# Looked up along the exception's MRO, so the most specific class wins.
STATUS: dict[type[VoicelabError], int] = {
    BatchNotFound: 404,
    UnknownTake: 404,
    InvalidRank: 400,
    JobConfigError: 400,
    ScriptError: 400,
    BatchLocked: 423,
    UndoRefused: 409,
    # Panels: a bad raters list is a 400 the route raises itself (naming the field), so what
    # reaches here is the batch's state: already a panel, or a solo batch asked for a panel's
    # consensus or line decision.
    PanelRefused: 409,
    NotARater: 403,
    LineClosed: 409,
    TakeRetired: 409,
    RankError: 400,
    NotSignedIn: 401,
    Forbidden: 403,
    UnknownPerson: 404,
    InvalidName: 400,
    UsersFileError: 500,
    MetadataError: 500,
    ConfigError: 500,
    EngineError: 502,
    BrokerUnavailable: 503,
    VoicelabError: 500,
}

# Short reasons for Werkzeug's errors, instead of its HTML-minded descriptions.
HTTP_MESSAGES = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    416: "requested range not satisfiable",
}


def error_response(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """The JSON error envelope, with any secret of the running app masked out of `message`."""
    settings = current_app.extensions.get("voicelab")
    for secret in getattr(settings, "secrets", ()):
        message = message.replace(secret, "***")
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def status_for(exc: VoicelabError) -> int:
    """The HTTP status for a VoiceLab error (nearest class in STATUS)."""
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


def _voicelab_error(exc: VoicelabError) -> Response:
    status = status_for(exc)
    if isinstance(exc, MetadataError):
        # The message names the batch, not the server's folder layout.
        log.error("broken batch metadata: %s", exc)
        return error_response(f"batch {exc.path.parent.name!r}: metadata.json {exc.reason}", 500)
    if status >= 500:
        log.error("request failed: %s", exc)
    return error_response(str(exc), status)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if exc.description and exc.description != type(exc).description:
        message = exc.description
    elif status == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
        message = f"request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    else:
        message = HTTP_MESSAGES.get(status) or (exc.name or "error").lower()
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(message, status, headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error")
    return error_response("internal server error (the server log has the details)", 500)


def register(app: Flask) -> None:
    """Install the three handlers; together they cover every error a request can raise."""
    app.register_error_handler(VoicelabError, _voicelab_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
