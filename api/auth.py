"""The bearer-token check and CORS for /api and /audio.

With VOICELAB_API_TOKEN set, every /api and /audio request needs `Authorization: Bearer <token>`
(compared in constant time). `/audio` also accepts `?token=<token>`: an `<audio src>` element
cannot send headers, and fetching the MP3 into a Blob instead would lose streaming and Range
seeks. That is why only /audio takes it (never /api), and why the access log drops query strings.

CORS headers are added only for origins listed in VOICELAB_CORS_ORIGINS (`*` allows any);
preflight OPTIONS requests pass without a token, since browsers never send one on them.
"""

from __future__ import annotations

import hmac

from flask import Flask, Response, current_app, request

from api.errors import error_response

PROTECTED = ("/api/", "/audio/")
ALLOW_HEADERS = "Authorization, Content-Type, Range, If-None-Match, If-Modified-Since, If-Range"
EXPOSE_HEADERS = "Content-Range, Accept-Ranges, Content-Length, ETag"
PREFLIGHT_MAX_AGE = "600"


def _is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _presented_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.path.startswith("/audio/"):
        return request.args.get("token") or None
    return None


def token_ok(expected: str, presented: str | None) -> bool:
    """Whether `presented` is the token; constant-time, so timing does not leak it."""
    return presented is not None and hmac.compare_digest(
        presented.encode("utf-8"), expected.encode("utf-8")
    )


def check_token() -> Response | None:
    """before_request: a 401 envelope unless the request carries the configured token."""
    token = current_app.extensions["voicelab"].api_token
    if not token or _is_preflight() or not request.path.startswith(PROTECTED):
        return None
    if token_ok(token, _presented_token()):
        return None
    return error_response(
        "missing or wrong API token: send 'Authorization: Bearer <token>'",
        401,
        {"WWW-Authenticate": 'Bearer realm="voicelab"'},
    )


def add_cors(response: Response) -> Response:
    """after_request: CORS headers for allowed origins only (preflights included)."""
    origins = current_app.extensions["voicelab"].cors_origins
    origin = request.headers.get("Origin")
    if not origin or not origins or ("*" not in origins and origin not in origins):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers.add("Vary", "Origin")
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    if _is_preflight():
        allowed = response.headers.get("Allow") or "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Methods"] = allowed
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def install(app: Flask) -> None:
    """Register the token check and the CORS hook on the app."""
    app.before_request(check_token)
    app.after_request(add_cors)
