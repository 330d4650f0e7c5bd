"""People: the users file, sessions, tokens, roles, the sign-in backoff and the open-door rule."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.unit.test_cli import run  # noqa: F401  # the CLI fixture
from voicelab import people
from voicelab.errors import ConfigError, Forbidden, InvalidName, UnknownPerson, UsersFileError
from voicelab.people import exposure, sessions
from voicelab.people.backoff import SignInBackoff
from voicelab.people.users import users_path


def _identify(root: Path, **kwargs: object) -> people.Person | None:
    args = {"cookie": None, "bearer": None, "service_token": None, **kwargs}
    return sessions.identify(root, lambda: "k" * 32, **args)  # type: ignore[arg-type]


def test_add_stores_only_hashes_in_a_private_file(root: Path) -> None:
    made = people.add_user(root, "alice", "lead")
    raw = users_path(root).read_text()
    assert made.password not in raw and made.token not in raw
    assert "$argon2id$" in raw
    assert stat.S_IMODE(os.stat(users_path(root)).st_mode) == 0o600
    assert people.verify_password(root, "alice", made.password).role == "lead"
    assert people.verify_password(root, "alice", made.password + "x") is None
    assert people.verify_password(root, "nobody", made.password) is None
    assert people.person_for_token(root, made.token).name == "alice"
    assert people.person_for_token(root, made.token + "x") is None


@pytest.mark.parametrize("name", ["", "Alice", "a b", "-x", "x" * 33, "../x", "cli", "service",
                                  "anonymous", 7])
def test_bad_or_reserved_names_are_refused(root: Path, name: object) -> None:
    with pytest.raises(InvalidName):
        people.add_user(root, name, "designer")  # type: ignore[arg-type]
    assert not users_path(root).exists()


def test_bad_role_and_duplicate_change_nothing(root: Path) -> None:
    people.add_user(root, "alice")
    before = users_path(root).read_bytes()
    with pytest.raises(InvalidName, match="role"):
        people.add_user(root, "bob", "admin")
    with pytest.raises(InvalidName, match="exists"):
        people.add_user(root, "alice", "lead")
    assert users_path(root).read_bytes() == before
    assert people.find_user(root, "alice").role == "designer"  # the default role


def test_reset_and_remove_end_old_secrets_and_sessions(root: Path) -> None:
    first = people.add_user(root, "alice", "designer")
    cookie = sessions.issue_session("k" * 32, "alice", people.find_user(root, "alice").epoch)
    assert _identify(root, cookie=cookie) == people.Person("alice", "designer")
    second = people.reset_user(root, "alice")
    assert second.password != first.password and second.token != first.token
    assert people.verify_password(root, "alice", first.password) is None
    assert _identify(root, bearer=first.token) is None
    assert _identify(root, cookie=cookie) is None
    assert _identify(root, bearer=second.token).name == "alice"
    people.add_user(root, "bob")
    people.remove_user(root, "alice")
    assert _identify(root, bearer=second.token) is None
    with pytest.raises(UnknownPerson):
        people.remove_user(root, "alice")
    with pytest.raises(UnknownPerson):
        people.reset_user(root, "alice")


def test_identify_without_users_with_service_token_and_forged_cookies(root: Path) -> None:
    assert _identify(root) == people.ANONYMOUS
    assert _identify(root, service_token="s3cret") == people.ANONYMOUS  # the dashboards
    assert _identify(root, service_token="s3cret", token_required=True) is None  # the API
    assert _identify(root, service_token="s3cret", bearer="s3cret") == people.SERVICE
    people.add_user(root, "alice", "viewer")
    assert _identify(root) is None  # sign-in is on with one user
    epoch = people.find_user(root, "alice").epoch
    assert _identify(root, cookie=sessions.issue_session("other-key", "alice", epoch)) is None
    assert _identify(root, cookie="alice") is None
    assert _identify(root, service_token="s3cret", bearer="s3cret") == people.SERVICE


def test_session_expires(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people.add_user(root, "alice")
    cookie = sessions.issue_session("k" * 32, "alice", people.find_user(root, "alice").epoch)
    monkeypatch.setattr(sessions, "SESSION_MAX_AGE_S", -1)
    assert _identify(root, cookie=cookie) is None


@pytest.mark.parametrize("content, words", [
    (b"{", "not valid JSON"),
    (b'{"version": 2, "users": {}}', "version"),
    (b'{"version": 1, "users": []}', "users"),
    (b'{"version": 1, "users": {"Bad Name": {}}}', "invalid name"),
    (b'{"version": 1, "users": {"al": {"role": "lead"}}}', "missing or empty"),
])
def test_a_broken_users_file_fails_closed(root: Path, content: bytes, words: str) -> None:
    people.add_user(root, "alice", "lead")
    users_path(root).write_bytes(content)
    with pytest.raises(UsersFileError, match=words):
        _identify(root)
    with pytest.raises(UsersFileError):
        people.add_user(root, "bob")
    assert users_path(root).read_bytes() == content


def test_a_role_the_file_does_not_know_is_an_error(root: Path) -> None:
    people.add_user(root, "alice", "lead")
    data = json.loads(users_path(root).read_text())
    data["users"]["alice"]["role"] = "admin"
    users_path(root).write_text(json.dumps(data))
    with pytest.raises(UsersFileError, match="admin"):
        people.list_users(root)


def test_roles_allow_what_the_issue_says() -> None:
    viewer, designer, lead = (people.Person("v", r) for r in people.ROLES)
    assert viewer.allowed() == ["listen"]
    assert designer.allowed() == ["listen", "rank", "undo", "note", "more"]
    assert lead.allowed() == list(people.ACTIONS)
    with pytest.raises(Forbidden, match="v is a viewer: only a designer may rank takes"):
        people.require(viewer, "rank")
    with pytest.raises(Forbidden, match="only a lead may lock a batch"):
        people.require(designer, "lock")
    people.require(lead, "jobs")
    assert not people.Person("x", "admin").may("listen")


def test_kernel_person(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert people.kernel_person(root) == people.CLI  # outside Voila
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    assert people.kernel_person(root) == sessions.UNKNOWN  # in Voila, never told
    monkeypatch.setenv(sessions.PERSON_ENV, "anonymous")
    assert people.kernel_person(root) == people.ANONYMOUS  # an open server
    people.add_user(root, "alice", "designer")
    assert people.kernel_person(root).role == "viewer"  # "anonymous" is nobody once users exist
    monkeypatch.setenv(sessions.PERSON_ENV, "alice")
    assert people.kernel_person(root) == people.Person("alice", "designer")
    people.remove_user(root, "alice")
    assert people.kernel_person(root) == people.Person("alice", "viewer")


def test_the_session_secret_is_made_once_and_private(root: Path) -> None:
    first = sessions.session_secret(root, None)
    assert first == sessions.session_secret(root, None) and len(first) == 64
    path = root / ".voicelab" / sessions.SECRET_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sessions.session_secret(root, "from-env") == "from-env"


def test_backoff_after_free_failures() -> None:
    backoff = SignInBackoff(free=2, clock=lambda: 0.0)
    backoff.failed("a")
    backoff.failed("a")
    assert backoff.wait_s("a") == 0
    backoff.failed("a")
    assert backoff.wait_s("a") == pytest.approx(1.0)


def test_backoff_doubles_per_key_and_forgets_on_success() -> None:
    now = [100.0]
    backoff = SignInBackoff(clock=lambda: now[0], max_keys=3)
    assert backoff.wait_s("name:a", "address:1") == 0
    backoff.failed("name:a", "address:1")
    assert backoff.wait_s("name:a") == pytest.approx(1.0)
    backoff.failed("name:a", "address:1")
    assert backoff.wait_s("address:1") == pytest.approx(2.0)
    now[0] += 2.5
    assert backoff.wait_s("name:a", "address:1") == 0
    backoff.failed("name:a")
    assert backoff.wait_s("name:a") == pytest.approx(4.0)
    backoff.succeeded("name:a")
    assert backoff.wait_s("name:a") == 0
    for n in range(10):  # a flood of names cannot grow the books past max_keys
        backoff.failed(f"name:x{n}")
    assert len(backoff) == 3


def test_open_door_refused_beyond_loopback(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert exposure.require_users(root, "127.0.0.1", insecure_no_auth=False) is False
    assert exposure.require_users(root, "::1", insecure_no_auth=False) is False
    with pytest.raises(ConfigError, match="voicelab users add NAME"):
        exposure.require_users(root, "0.0.0.0", insecure_no_auth=False)
    assert exposure.require_users(root, "0.0.0.0", insecure_no_auth=True) is False
    assert "\033[1;31mWARNING: --insecure-no-auth" in capsys.readouterr().out
    assert exposure.require_users(root, "0.0.0.0", insecure_no_auth=False, guarded=True)
    people.add_user(root, "alice", "lead")
    assert exposure.require_users(root, "0.0.0.0", insecure_no_auth=False) is True
    assert exposure.require_users(root, "localhost", insecure_no_auth=False) is False


def test_users_cli(run, root: Path) -> None:  # noqa: F811
    code, out, _ = run("users", "list")
    assert code == 0 and "no users" in out
    code, out, _ = run("users", "add", "alice", "--role", "lead", "--json")
    made = json.loads(out)
    assert code == 0 and made["name"] == "alice" and made["role"] == "lead"
    assert people.verify_password(root, "alice", made["password"]) is not None
    assert people.person_for_token(root, made["token"]).name == "alice"
    code, out, _ = run("users", "add", "bob")
    assert code == 0 and "bob (designer)" in out and "vl_" in out
    code, out, _ = run("users", "list", "--json")
    assert [u["name"] for u in json.loads(out)] == ["alice", "bob"]
    assert "password" not in out and "vl_" not in out
    code, _, err = run("users", "add", "Bob!")
    assert code == 1 and "invalid name 'Bob!'" in err
    code, out, _ = run("users", "reset", "bob", "--json")
    assert code == 0 and people.verify_password(root, "bob", json.loads(out)["password"])
    code, _, _ = run("users", "remove", "bob")
    assert code == 0 and people.find_user(root, "bob") is None
    code, _, err = run("users", "remove", "bob")
    assert code == 1 and "no user named 'bob'" in err


def test_users_file_writes_are_serialized(root: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: people.add_user(root, f"u{n}"), range(8)))
    assert [u.name for u in people.list_users(root)] == [f"u{n}" for n in range(8)]


def test_serve_and_api_refuse_an_open_door(run, root: Path) -> None:  # noqa: F811
    code, _, err = run("serve", "--host", "0.0.0.0", "--port", "0", "--no-worker", "--no-demo")
    assert code == 1 and "no users" in err and "voicelab users add NAME --role lead" in err
    code, _, err = run("api", "--host", "0.0.0.0", "--port", "0")
    assert code == 1 and "--insecure-no-auth" in err
    assert not list(root.iterdir())  # nothing was made: no demo batch, no users file
