"""Roles and what each allows: one table, asked the same way by the API, the board and the CLI.

viewer lists and listens; designer also ranks (and undoes their own ranks), writes director notes
and asks for more takes of a line; lead also locks,
unlocks, starts and cancels jobs, exports, and runs rating panels (opens one, sets a line's final
ranks, closes and reopens lines). On a panel batch only its raters rank (`voicelab.panel`).
"""

from __future__ import annotations

from dataclasses import dataclass

from voicelab.errors import Forbidden, InvalidName

ROLES = ("viewer", "designer", "lead")
"""Every role, weakest first: a role may do everything the ones before it may."""

ACTIONS: dict[str, str] = {
    "listen": "viewer",
    "rank": "designer",
    "undo": "designer",
    "note": "designer",
    "more": "designer",
    "lock": "lead",
    "unlock": "lead",
    "jobs": "lead",
    "export": "lead",
    "panel": "lead",
}
"""Each action and the weakest role allowed it."""

_WORDS = {"rank": "rank takes", "undo": "undo ranks", "lock": "lock a batch",
          "unlock": "unlock a batch", "jobs": "start or cancel jobs", "export": "export",
          "listen": "listen", "note": "write director notes",
          "more": "ask for more takes of a line",
          "panel": "run a rating panel (open it, override or close a line)"}


@dataclass(frozen=True)
class Person:
    """Someone acting on VoiceLab: a signed-in user, or one of the fixed names below."""

    name: str
    role: str

    def may(self, action: str) -> bool:
        """Whether this person's role allows `action` (a key of ACTIONS)."""
        needs = ACTIONS[action]
        return self.role in ROLES and ROLES.index(self.role) >= ROLES.index(needs)

    def allowed(self) -> list[str]:
        """Every action this person may do, in ACTIONS order."""
        return [action for action in ACTIONS if self.may(action)]


CLI = Person("cli", "lead")
"""Someone with a shell on the machine (the CLI, a notebook outside `voicelab serve`)."""
SERVICE = Person("service", "lead")
"""A tool holding VOICELAB_API_TOKEN, the service token."""
ANONYMOUS = Person("anonymous", "lead")
"""Anyone, on a server with no users (loopback, or started with --insecure-no-auth)."""


def require(person: Person, action: str) -> None:
    """Raise unless `person` may do `action`.

    Raises:
        Forbidden: the person's role does not allow it (the message names role and action).
    """
    if not person.may(action):
        raise Forbidden(person.name, person.role, _WORDS[action], ACTIONS[action])


def check_role(role: object) -> str:
    """Return `role` if it is one of ROLES.

    Raises:
        InvalidName: anything else (the message lists the roles).
    """
    if isinstance(role, str) and role in ROLES:
        return role
    raise InvalidName(role, f"a role is one of {', '.join(ROLES)}")
