"""Who is asking, and CORS, for /api and /audio.

Every /api and /audio request is from someone (`voicelab.people.sessions.identify`, the same
function the dashboards' server asks): `Authorization: Bearer <token>` with a personal token or
the service token (VOICELAB_API_TOKEN, a lead named "service"), or a signed-in browser's session
cookie. With no users and no service token the API is open (anyone is "anonymous"), unless the
server was started on an address beyond loopback (`require_users`): then it fails closed.
A route asks `person()` and `people.require(...)` for what the role allows.

`/audio` also accepts `?token=<token>`: an `<audio src>` element cannot send headers, and
fetching the MP3 into a Blob instead would lose streaming and Range seeks. That is why only
/audio takes it (never /api), and why the access log drops query strings.

CORS headers are added only for origins listed in VOICELAB_CORS_ORIGINS (`*` allows any);
preflight OPTIONS requests pass without a token, since browsers never send one on them.
Sessions are never valid cross-site: the cookie is SameSite=Lax, and every change is a POST,
PATCH or DELETE, which browsers send cross-site without it.
"""

from __future__ import annotations

import functools

from flask import Flask, Response, current_app, g, request

from api.errors import error_response
from voicelab.config import Settings
from voicelab.people import Person
from voicelab.people.sessions import SESSION_COOKIE, identify, session_secret

PROTECTED = ("/api/", "/audio/")
ALLOW_HEADERS = "Authorization, Content-Type, Range, If-None-Match, If-Modified-Since, If-Range"
EXPOSE_HEADERS = "Content-Range, Accept-Ranges, Content-Length, ETag"
PREFLIGHT_MAX_AGE = "600"
REQUIRE_USERS = "voicelab.require_users"
SESSION_SECRET = "voicelab.session_secret"


def _is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _presented_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.path.startswith("/audio/"):
        return request.args.get("token") or None
    return None


def _who() -> Person | None:
    settings: Settings = current_app.extensions["voicelab"]
    found = identify(settings.audio_root, current_app.extensions[SESSION_SECRET],
                     cookie=request.cookies.get(SESSION_COOKIE), bearer=_presented_token(),
                     service_token=settings.api_token,
                     token_required=bool(settings.api_token))
    if found is not None and found.name == "anonymous" and current_app.extensions[REQUIRE_USERS]:
        return None
    return found


def check_person() -> Response | None:
    """before_request: a 401 envelope unless the request is from someone (see the module).

    A broken users file raises UsersFileError, answered as a 500 naming the file: closed.
    """
    if _is_preflight() or not request.path.startswith(PROTECTED):
        return None
    found = _who()
    if found is None:
        return error_response(
            "sign in first: send 'Authorization: Bearer <personal or service token>' "
            "(voicelab users add NAME prints one)",
            401,
            {"WWW-Authenticate": 'Bearer realm="voicelab"'},
        )
    g.person = found
    return None


def person() -> Person:
    """The person the current request is from (set by `check_person`)."""
    found: Person = g.person
    return found


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


def install(app: Flask, settings: Settings, require_users: bool) -> None:
    """Register the person check and the CORS hook on the app.

    `require_users`: with no users, refuse everyone instead of letting anyone in.
    """
    app.extensions[SESSION_SECRET] = functools.cache(
        functools.partial(session_secret, settings.audio_root, settings.secret_key))
    app.extensions[REQUIRE_USERS] = require_users
    app.before_request(check_person)
    app.after_request(add_cors)
