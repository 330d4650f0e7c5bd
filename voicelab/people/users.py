"""The users file, `AUDIO_ROOT/.voicelab/users.json`: names, roles and hashes, never secrets.

Passwords are stored as Argon2id hashes (argon2-cffi); personal API tokens, 256 random bits
each, as SHA-256 digests (a slow hash adds nothing to a random token and would make every API
request pay for it). Each user has an `epoch` that sessions carry: `reset` and `remove` change
or drop it, which signs that user out everywhere.

Writes are atomic (temp file, fsync, rename; mode 0600) and serialized by a lock file; reads are
cached by the file's (mtime, size, inode), so a request costs one stat. A file that cannot be
read or breaks the format raises UsersFileError: sign-in then fails closed, never open.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from voicelab import clock
from voicelab.errors import InvalidName, UnknownPerson, UsersFileError
from voicelab.locks import file_lock
from voicelab.people.roles import ROLES, SERVICE, Person, check_role
from voicelab.store.durable import atomic_write_bytes

PEOPLE_DIR = ".voicelab"
USERS_NAME = "users.json"
FORMAT_VERSION = 1
TOKEN_PREFIX = "vl_"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
RESERVED_NAMES = frozenset({"cli", SERVICE.name, "anonymous", "unknown", "voicelab"})
"""Names VoiceLab itself writes into history: no user may take one."""
MAX_USERS = 1000
_STORED = ("role", "password_hash", "token_sha256", "epoch", "created")

_hasher = PasswordHasher()
_cache: dict[str, tuple[tuple[int, int, int], dict[str, UserRecord]]] = {}
_cache_guard = threading.Lock()


@dataclasses.dataclass(frozen=True)
class UserRecord:
    """One user as stored: no password or token, only their hashes."""

    name: str
    role: str
    password_hash: str
    token_sha256: str
    epoch: str
    created: str

    @property
    def person(self) -> Person:
        """The person this user acts as."""
        return Person(self.name, self.role)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What `add_user` and `reset_user` hand out, once: the only time the secrets exist."""

    name: str
    role: str
    password: str
    token: str


def users_path(root: Path | str) -> Path:
    """Where the users file of an AUDIO_ROOT lives."""
    return Path(root) / PEOPLE_DIR / USERS_NAME


def check_name(name: object) -> str:
    """Return `name` if it can be a user's name (it goes into history lines and URLs).

    Raises:
        InvalidName: not 1-32 of a-z 0-9 . _ - starting with a letter or digit, or reserved.
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidName(name)
    if name in RESERVED_NAMES:
        raise InvalidName(name, f"{name!r} is reserved for VoiceLab's own entries")
    return name


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _parse(path: Path, raw: bytes) -> dict[str, UserRecord]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsersFileError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise UsersFileError(path, f"expected an object with \"version\": {FORMAT_VERSION}")
    users = data.get("users")
    if not isinstance(users, dict):
        raise UsersFileError(path, "expected \"users\" to be an object of name -> user")
    records = {}
    for name, entry in users.items():
        try:
            check_name(name)
        except InvalidName as exc:
            raise UsersFileError(path, str(exc)) from None
        fields: dict[str, Any] = {f: entry.get(f) for f in _STORED} if isinstance(entry,
                                                                                  dict) else {}
        bad = [f for f, value in fields.items() if not isinstance(value, str) or not value]
        if not fields or bad:
            missing = ", ".join(bad) or "fields"
            raise UsersFileError(path, f"user {name!r}: missing or empty {missing}")
        if fields["role"] not in ROLES:
            raise UsersFileError(path, f"user {name!r}: role {fields['role']!r} is not one of "
                                       f"{', '.join(ROLES)}")
        if not re.fullmatch(r"[0-9a-f]{64}", fields["token_sha256"]):
            raise UsersFileError(path, f"user {name!r}: token_sha256 is not a SHA-256 digest")
        records[name] = UserRecord(name=name, **fields)
    return records


def load_users(root: Path | str) -> dict[str, UserRecord]:
    """Every user of `root`, by name; empty when there is no users file (sign-in off).

    Raises:
        UsersFileError: the file cannot be read or breaks the format.
    """
    path = users_path(root)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsersFileError(path, f"cannot be read ({exc.strerror})") from None
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    with _cache_guard:
        cached = _cache.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsersFileError(path, f"cannot be read ({exc.strerror})") from None
    records = _parse(path, raw)
    with _cache_guard:
        _cache[str(path)] = (key, records)
    return records


def _save(root: Path | str, records: dict[str, UserRecord]) -> None:
    body = {"version": FORMAT_VERSION,
            "users": {name: {k: v for k, v in dataclasses.asdict(r).items() if k != "name"}
                      for name, r in sorted(records.items())}}
    atomic_write_bytes(users_path(root), json.dumps(body, indent=2).encode("utf-8") + b"\n",
                       mode=0o600)


def _edit(root: Path | str) -> Any:
    folder = Path(root) / PEOPLE_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return file_lock(folder / "users.lock")


def _new_secrets(name: str, role: str, created: str) -> tuple[Credentials, UserRecord]:
    password = secrets.token_urlsafe(12)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = UserRecord(name=name, role=role, password_hash=_hasher.hash(password),
                        token_sha256=_token_digest(token), epoch=secrets.token_hex(8),
                        created=created)
    return Credentials(name, role, password, token), record


def add_user(root: Path | str, name: str, role: str = "designer") -> Credentials:
    """Create a user with a new password and personal token; return them (shown once).

    Raises:
        InvalidName: a bad or reserved name, an unknown role, a name already taken, or the
            MAX_USERS cap reached.
        UsersFileError: the users file is broken (nothing is written).
    """
    check_name(name)
    check_role(role)
    credentials, record = _new_secrets(name, role, clock.utc_now())  # slow: outside the lock
    with _edit(root):
        records = dict(load_users(root))
        if name in records:
            raise InvalidName(name, "a user with this name exists (voicelab users reset NAME "
                                    "gives them a new password)")
        if len(records) >= MAX_USERS:
            raise InvalidName(name, f"this server already has {MAX_USERS} users, the most "
                                    "it keeps")
        records[name] = record
        _save(root, records)
    return credentials


def reset_user(root: Path | str, name: str) -> Credentials:
    """Give a user a new password and token; their old ones and sessions stop working.

    Raises:
        UnknownPerson: no such user.
        UsersFileError: the users file is broken.
    """
    if find_user(root, name) is None:
        raise UnknownPerson(name)
    credentials, record = _new_secrets(name, "viewer", "")  # slow: outside the lock
    with _edit(root):
        records = dict(load_users(root))
        if name not in records:
            raise UnknownPerson(name)
        old = records[name]
        records[name] = dataclasses.replace(record, role=old.role, created=old.created)
        _save(root, records)
    return Credentials(name, old.role, credentials.password, credentials.token)


def remove_user(root: Path | str, name: str) -> None:
    """Remove a user: their password, token and sessions stop working at once.

    Their name stays in the history they wrote. Raises UnknownPerson or UsersFileError.
    """
    with _edit(root):
        records = dict(load_users(root))
        if name not in records:
            raise UnknownPerson(name)
        del records[name]
        _save(root, records)


def list_users(root: Path | str) -> list[UserRecord]:
    """Every user, by name."""
    return sorted(load_users(root).values(), key=lambda r: r.name)


def find_user(root: Path | str, name: str) -> UserRecord | None:
    """The user called `name`, or None."""
    return load_users(root).get(name)


def sign_in_required(root: Path | str) -> bool:
    """Whether sign-in is on: as soon as one user exists. Raises UsersFileError (fail closed)."""
    return bool(load_users(root))


def verify_password(root: Path | str, name: str, password: str) -> UserRecord | None:
    """The user if `password` is theirs, else None (an unknown name costs a hash as well,
    so timing does not tell which names exist)."""
    record = load_users(root).get(name)
    try:
        if record is None:
            _hasher.verify(_dummy_hash(), password)
            return None
        _hasher.verify(record.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return record


def person_for_token(root: Path | str, token: str) -> UserRecord | None:
    """The user whose personal token this is, or None (constant-time comparisons)."""
    digest = _token_digest(token)
    found = None
    for record in load_users(root).values():
        if hmac.compare_digest(record.token_sha256, digest):
            found = record
    return found


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(12))
