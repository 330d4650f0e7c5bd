"""The sign-in pieces that need no server: the gate's person, slots, the page and `next`."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicelab import people
from voicelab.dashboards.sign_in import MAX_CHECKING, Gate, login_page, owns_kernel, safe_next
from voicelab.people.sessions import issue_session
from voicelab.people.users import users_path


def gate(root: Path, require_users: bool = False) -> Gate:
    return Gate(root=root, secret=lambda: "k" * 32, service_token="svc",
                require_users=require_users)


def test_the_gate_lets_in_by_cookie_or_token_and_fails_closed(root: Path) -> None:
    assert gate(root).person(None, None) == people.ANONYMOUS  # loopback, no users
    assert gate(root, require_users=True).person(None, None) is None  # beyond loopback
    assert gate(root, require_users=True).person(None, "Bearer svc") == people.SERVICE
    made = people.add_user(root, "bob", "designer")
    assert gate(root).person(None, None) is None
    assert gate(root).person(None, f"Bearer {made.token}") == people.Person("bob", "designer")
    assert gate(root).person(None, f"Basic {made.token}") is None
    cookie = issue_session("k" * 32, "bob", people.find_user(root, "bob").epoch)
    assert gate(root).person(cookie, None) == people.Person("bob", "designer")
    users_path(root).write_text("[]")
    assert gate(root).person(cookie, None) is None  # a broken users file lets nobody in


def test_password_checks_at_once_are_bounded(root: Path) -> None:
    the_gate = gate(root)
    assert all(the_gate.begin_check() for _ in range(MAX_CHECKING))
    assert not the_gate.begin_check()  # past the bound: "busy", nothing queued
    the_gate.end_check()
    assert the_gate.begin_check()


@pytest.mark.parametrize(("target", "safe"), [
    ("/voila/render/rank.ipynb?batch_id=x", "/voila/render/rank.ipynb?batch_id=x"),
    (None, "/"), ("", "/"), ("https://evil.example/", "/"), ("//evil.example/x", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/")])
def test_after_sign_in_only_a_path_here(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


def test_the_page_has_labelled_fields_and_escapes_what_it_echoes() -> None:
    page = login_page(action="/login", next_path='/x"><script>', xsrf="<input name=_xsrf>",
                      name="<b>", error="Wrong name or password.")
    assert '<label for="name">Name</label>' in page
    assert '<label for="password">Password</label>' in page
    assert '<button type="submit">Sign in</button>' in page
    assert "<script>" not in page and "&lt;b&gt;" in page and "&quot;&gt;&lt;script&gt;" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from anywhere


def test_a_kernel_is_its_owners_only() -> None:
    class Manager:
        def __init__(self) -> None:
            self.owners = {"k1": "alice"}

    assert owns_kernel(Manager(), "k1", "alice")
    assert not owns_kernel(Manager(), "k1", "bob")
    assert not owns_kernel(Manager(), "k2", "alice")  # a pool kernel nobody was given
    assert not owns_kernel(Manager(), None, "alice")
