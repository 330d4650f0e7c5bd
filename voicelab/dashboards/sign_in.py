"""Sign-in for `voicelab serve`: the /login page, /logout, and who a dashboard request is from.

Built on Jupyter Server's own public hooks, which Voila honours (`Voila.identity_provider_class`,
`Voila.authorizer_class`):
- `identity_provider_class(gate)` answers every Jupyter handler's `current_user` (dashboard
  pages, the kernel and widget websockets, the kernel REST calls) with
  `voicelab.people.sessions.identify`, the function the API asks too. Without a person, pages
  redirect to `/login?next=...` and websockets are refused with 403, before any kernel starts;
- `authorizer_class()` lets a person reach only the kernels of their own pages: the render
  handler records each page kernel's owner (`PageTicket`), so a kernel id seen elsewhere opens
  nothing for anyone else;
- `SignedInOnly` wraps Voila's plain tornado handlers (static files, themes, extensions), and
  `LocalOnly` the websocket through which a preheated kernel learns its page's request, which
  only kernels on this machine use.
The session cookie is HttpOnly and SameSite=Lax (Secure behind https), signed with SECRET_KEY.
"""

from __future__ import annotations

import html
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from voicelab.errors import UsersFileError
from voicelab.people import Person
from voicelab.people.backoff import SignInBackoff
from voicelab.people.sessions import (
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    identify,
    issue_session,
)
from voicelab.people.users import verify_password

log = logging.getLogger(__name__)

MAX_CHECKING = 8  # passwords checked at once (Argon2id: ~64 MB and ~0.1 s each); more wait out
FREE_NAME_FAILURES = 3  # then a name waits 1 s, 2 s, 4 s ...
FREE_ADDRESS_FAILURES = 10  # an office shares one address
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
SESSION_PATH = "/session"


@dataclass
class Gate:
    """What sign-in needs to know about the server: its root, keys and posture.

    `require_users`: the server listens beyond loopback, so with no users nobody gets in
    (it refuses to start that way unless told --insecure-no-auth, which sets it False).
    """

    root: Path
    secret: Callable[[], str]
    service_token: str | None
    require_users: bool
    names: SignInBackoff = field(default_factory=lambda: SignInBackoff(free=FREE_NAME_FAILURES))
    addresses: SignInBackoff = field(
        default_factory=lambda: SignInBackoff(free=FREE_ADDRESS_FAILURES))
    checking: int = 0

    def begin_check(self) -> bool:
        """Take a slot to check a password; False when MAX_CHECKING are being checked (a
        flood of sign-ins gets "busy" instead of queueing memory-hungry hashes)."""
        if self.checking >= MAX_CHECKING:
            return False
        self.checking += 1
        return True

    def end_check(self) -> None:
        """Give the slot back."""
        self.checking -= 1

    def person(self, cookie: str | None, authorization: str | None) -> Person | None:
        """Who a request with this cookie and Authorization header is from, or None.

        A broken users file lets nobody in (logged once per request).
        """
        scheme, _, value = (authorization or "").partition(" ")
        bearer = value.strip() if scheme.lower() == "bearer" and value.strip() else None
        try:
            found = identify(self.root, self.secret, cookie=cookie, bearer=bearer,
                             service_token=self.service_token)
        except UsersFileError as exc:
            log.error("Nobody can sign in: %s", exc)
            return None
        if found is not None and found.name == "anonymous" and self.require_users:
            return None
        return found


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · VoiceLab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; }}
main {{ max-width: 22rem; margin: 14vh auto; padding: 2rem 2rem 1.5rem; background: #fff;
        border: 1px solid #d1d9e0; border-radius: 8px; }}
h1 {{ font-size: 1.3rem; margin: 0 0 1.25rem; }}
label {{ display: block; font-weight: 600; font-size: .9rem; margin: 0 0 .25rem; }}
input[type=text], input[type=password] {{ box-sizing: border-box; width: 100%; font: inherit;
  padding: .45rem .6rem; margin: 0 0 1rem; border: 1px solid #d1d9e0; border-radius: 6px; }}
input:focus {{ outline: 2px solid #0969da; outline-offset: 0; border-color: #0969da; }}
button {{ width: 100%; font: inherit; font-weight: 600; padding: .5rem; border: 0;
          border-radius: 6px; background: #1f883d; color: #fff; cursor: pointer; }}
button:hover {{ background: #1a7f37; }}
.message {{ margin: 0 0 1rem; padding: .5rem .75rem; border-radius: 6px; font-size: .9rem; }}
.message.error {{ background: #ffebe9; border: 1px solid #ff818266; color: #82071e; }}
.message.info {{ background: #ddf4ff; border: 1px solid #54aeff66; color: #0a3069; }}
.note {{ color: #59636e; font-size: .85rem; margin: 1rem 0 0; }}
</style></head>
<body><main>
<h1>Sign in to VoiceLab</h1>
{message}
<form method="post" action="{action}">
{xsrf}
<input type="hidden" name="next" value="{next}">
<label for="name">Name</label>
<input type="text" id="name" name="name" value="{name}" autocomplete="username"
       autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="note">No account? A lead adds one with <code>voicelab users add NAME</code>.</p>
</main></body></html>
"""


def login_page(*, action: str, next_path: str, xsrf: str, name: str = "",
               error: str = "", info: str = "") -> str:
    """The sign-in page: plain HTML, its style inline, nothing fetched from anywhere."""
    message = ""
    if error:
        message = f'<p class="message error" role="alert">{html.escape(error)}</p>'
    elif info:
        message = f'<p class="message info" role="status">{html.escape(info)}</p>'
    return LOGIN_PAGE.format(message=message, action=html.escape(action),
                             next=html.escape(next_path), xsrf=xsrf, name=html.escape(name))


def _is_local(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address.startswith("/")  # a unix socket


def handlers(gate: Gate) -> dict[str, Any]:
    """The tornado classes sign-in adds, built on first use (tornado and Jupyter are heavy).

    Keys: identity_provider, authorizer, login, logout, session, signed_in_only, local_only.
    """
    import tornado.web
    from jupyter_server.auth.authorizer import Authorizer
    from jupyter_server.auth.identity import IdentityProvider, User
    from tornado.ioloop import IOLoop

    def request_person(handler: tornado.web.RequestHandler) -> Person | None:
        return gate.person(handler.get_cookie(SESSION_COOKIE),
                           handler.request.headers.get("Authorization"))

    class LoginHandler(tornado.web.RequestHandler):
        """GET: the form. POST: check the password, set the session cookie, go on."""

        def _page(self, status: int, **kwargs: Any) -> None:
            self.set_status(status)
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("X-Frame-Options", "DENY")
            self.finish(login_page(action=LOGIN_PATH, xsrf=self.xsrf_form_html(), **kwargs))

        def get(self) -> None:
            next_path = safe_next(self.get_argument("next", None))
            if not gate.require_users and not _has_users(gate):
                self.redirect(next_path)  # no users: nobody needs to sign in
                return
            info = "You are signed out." if self.get_argument("signed_out", None) else ""
            self._page(200, next_path=next_path, info=info)

        async def post(self) -> None:
            self.check_xsrf_cookie()
            name = self.get_argument("name", "").strip().lower()[:64]
            password = self.get_argument("password", "")
            next_path = safe_next(self.get_argument("next", None))
            address = self.request.remote_ip or ""
            wait_s = max(gate.names.wait_s(name), gate.addresses.wait_s(address))
            if wait_s > 0:
                self.set_header("Retry-After", str(int(wait_s) + 1))
                self._page(429, next_path=next_path, name=name,
                           error=f"Too many failed sign-ins: try again in {int(wait_s) + 1} s.")
                return
            if not gate.begin_check():
                self.set_header("Retry-After", "1")
                self._page(503, next_path=next_path, name=name,
                           error="Too many sign-ins at once: try again in a moment.")
                return
            try:
                record = await IOLoop.current().run_in_executor(
                    None, verify_password, gate.root, name, password)
            except UsersFileError as exc:
                log.error("Sign-in impossible: %s", exc)
                self._page(503, next_path=next_path, name=name,
                           error="Sign-in is broken on this server: its users file is "
                                 "damaged. Tell whoever runs it.")
                return
            finally:
                gate.end_check()
            if record is None:
                gate.names.failed(name)
                gate.addresses.failed(address)
                log.warning("Failed sign-in for %r from %s", name, self.request.remote_ip)
                self._page(401, next_path=next_path, name=name,
                           error="Wrong name or password.")
                return
            gate.names.succeeded(name)
            gate.addresses.succeeded(address)
            log.info("%s signed in from %s", name, self.request.remote_ip)
            self.set_cookie(SESSION_COOKIE, issue_session(gate.secret(), name, record.epoch),
                            path="/", httponly=True, samesite="Lax",
                            secure=self.request.protocol == "https",
                            max_age=SESSION_MAX_AGE_S)
            self.redirect(next_path)

    class LogoutHandler(tornado.web.RequestHandler):
        """Forget the session cookie and show the sign-in page."""

        def get(self) -> None:
            self.clear_cookie(SESSION_COOKIE, path="/")
            self.redirect(f"{LOGIN_PATH}?{urlencode({'signed_out': 1})}")

    class SessionHandler(tornado.web.RequestHandler):
        """Who this browser is, for the dashboards' header: always a 200 (no console error),
        `{"data": null}` when nobody is signed in or the server has no users."""

        def get(self) -> None:
            self.set_header("Cache-Control", "no-store")
            found = request_person(self) if _has_users(gate) else None
            self.finish({"data": found and {"name": found.name, "role": found.role}})

    class VoicelabIdentity(IdentityProvider):
        """Jupyter's identity hook, answered from VoiceLab's people."""

        def get_user(self, handler: tornado.web.RequestHandler) -> User | None:
            found = request_person(handler)
            if found is None:
                return None
            return User(username=found.name, name=found.name,
                        display_name=f"{found.name} ({found.role})")

        def is_token_authenticated(self, handler: tornado.web.RequestHandler) -> bool:
            """A person named by an Authorization header, not a cookie: a script, which
            Jupyter then spares the XSRF and origin checks (a browser page never sends one)."""
            return bool(handler.request.headers.get("Authorization")) and \
                request_person(handler) is not None

        def get_handlers(self) -> list[tuple[str, object]]:
            return [(LOGIN_PATH, LoginHandler), (LOGOUT_PATH, LogoutHandler),
                    (SESSION_PATH, SessionHandler)]

        def validate_security(self, app: Any, ssl_options: Any = None) -> None:
            """Nothing to warn about: VoiceLab's own rules apply (see `voicelab serve`)."""

    class KernelOwners(Authorizer):
        """A kernel answers only the person whose page it was started for."""

        def is_authorized(self, handler: Any, user: User, action: str, resource: str) -> bool:
            if resource != "kernels":
                return True
            kernel_id = getattr(handler, "kernel_id", None) or handler.path_kwargs.get(
                "kernel_id")
            return owns_kernel(handler.settings["kernel_manager"], kernel_id, user.username)

    return {"identity_provider": VoicelabIdentity, "authorizer": KernelOwners,
            "login": LoginHandler, "logout": LogoutHandler, "session": SessionHandler,
            "signed_in_only": signed_in_only(request_person),
            "local_only": local_only}


def _has_users(gate: Gate) -> bool:
    from voicelab.people import sign_in_required

    try:
        return sign_in_required(gate.root)
    except UsersFileError:
        return True


def owns_kernel(manager: Any, kernel_id: str | None, name: str) -> bool:
    """Whether `name` may reach kernel `kernel_id`: only its page's person may."""
    owners: dict[str, str] = getattr(manager, "owners", {})
    return kernel_id is not None and owners.get(kernel_id) == name


def signed_in_only(request_person: Callable[[Any], Person | None]) -> Callable[[type], type]:
    """A wrapper for plain tornado handlers: 403 (or the sign-in page for a page) without a
    person."""

    def wrap(cls: type) -> type:
        class SignedIn(cls):
            def prepare(self) -> Any:
                if request_person(self) is None:
                    import tornado.web

                    raise tornado.web.HTTPError(403, "sign in first")
                return super().prepare()

        SignedIn.__name__ = SignedIn.__qualname__ = f"SignedIn{cls.__name__}"
        return SignedIn

    return wrap


def local_only(cls: type) -> type:
    """A wrapper for a handler only this machine's kernels use: others get 403."""

    class Local(cls):
        def prepare(self) -> Any:
            if not _is_local(self.request.remote_ip or ""):
                import tornado.web

                raise tornado.web.HTTPError(403)
            return super().prepare()

    Local.__name__ = Local.__qualname__ = f"Local{cls.__name__}"
    return Local
