"""Who a request is from: session cookies, bearer tokens, and the person a dashboard kernel serves.

One function, `identify`, is asked by both the dashboards' server (tornado) and the API (Flask),
so the two cannot disagree. Session cookies are signed with SECRET_KEY (itsdangerous), carry the
user's name and epoch, and expire after SESSION_MAX_AGE_S; with SECRET_KEY unset a random key is
made once and kept in `AUDIO_ROOT/.voicelab/secret_key` (mode 0600), so sessions survive
restarts and every process of the server agrees on it.

A dashboard kernel learns its person from the server, never from the browser: the server sets
the request header PERSON_HEADER itself (dropping any a browser sent), and Voila hands the
page's headers it is told about to the kernel as `HTTP_*` variables.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from voicelab.people.roles import ANONYMOUS, CLI, SERVICE, Person
from voicelab.people.users import PEOPLE_DIR, load_users, person_for_token

SESSION_COOKIE = "voicelab_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600
PERSON_HEADER = "X-Voicelab-Person"
PERSON_ENV = "HTTP_" + PERSON_HEADER.upper().replace("-", "_")
SECRET_NAME = "secret_key"
UNKNOWN = Person("unknown", "viewer")
"""A dashboard kernel that was never told its person: it may look, never change."""
_SALT = "voicelab-session"


def session_secret(root: Path | str, secret_key: str | None) -> str:
    """The key sessions are signed with: SECRET_KEY, else the one kept under AUDIO_ROOT."""
    if secret_key:
        return secret_key
    folder = Path(root) / PEOPLE_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / SECRET_NAME
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
            out.flush()
            os.fsync(out.fileno())
    for _ in range(50):  # another process may be between creating and writing it
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.01)
    raise OSError(f"{path} stays empty: remove it and start again")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def issue_session(secret: str, name: str, epoch: str) -> str:
    """A session cookie's value for a user (signed; it holds no secret)."""
    return _serializer(secret).dumps({"n": name, "e": epoch})


def session_person(root: Path | str, secret: str, cookie: str) -> Person | None:
    """The person a session cookie belongs to, or None (bad signature, expired, user removed
    or reset since)."""
    try:
        data = _serializer(secret).loads(cookie, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    record = load_users(root).get(str(data.get("n")))
    if record is None or not hmac.compare_digest(record.epoch, str(data.get("e"))):
        return None
    return record.person


def identify(root: Path | str, secret: Callable[[], str], *, cookie: str | None,
             bearer: str | None, service_token: str | None,
             token_required: bool = False) -> Person | None:
    """Who a request is from, or None when it must sign in.

    A bearer token is the service token (lead) or a personal token; otherwise the session
    cookie counts (`secret` gives the signing key, asked only then). With no users at all,
    anyone is ANONYMOUS, unless `token_required` (the API while a service token is set: a tool
    must then send it, as before users existed).

    Raises:
        UsersFileError: the users file is broken (fail closed).
    """
    if bearer:
        if service_token and hmac.compare_digest(bearer.encode(), service_token.encode()):
            return SERVICE
        record = person_for_token(root, bearer)
        return record.person if record else None
    if not load_users(root):
        return None if token_required else ANONYMOUS
    if cookie:
        return session_person(root, secret(), cookie)
    return None


def kernel_person(root: Path | str) -> Person:
    """The person a kernel acts for, with their role as it is now.

    Outside Voila (the CLI, JupyterLab, nbval) that is CLI. In a dashboard kernel it is the
    name `voicelab serve` put in PERSON_HEADER (read after the page's request has reached the
    kernel; see voicelab.widgets.views.wait_for_visit), with the role from the users file, so a
    role changed or a user removed takes effect at the next action. A kernel never told its
    person, or whose user is gone, may only look (UNKNOWN's role).
    """
    name = os.environ.get(PERSON_ENV)
    if name is None:
        return UNKNOWN if "VOILA_BASE_URL" in os.environ else CLI
    users = load_users(root)
    if name == ANONYMOUS.name and not users:
        return ANONYMOUS
    record = users.get(name)
    return record.person if record else Person(name, UNKNOWN.role)
