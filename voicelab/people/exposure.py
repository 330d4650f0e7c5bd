"""Whether a server may listen where it was asked to: no open door beyond this machine.

With no users, anyone who reaches a server may rank, lock and start jobs. That is fine on
loopback (`make run` stays one command), and refused anywhere else unless the operator says
--insecure-no-auth, which is then printed in red at every start.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from voicelab.errors import ConfigError, UsersFileError
from voicelab.people.users import sign_in_required

INSECURE_WARNING = ("\033[1;31mWARNING: --insecure-no-auth: this server has no users and "
                    "listens on {host}: anyone who reaches it can {what}. Add a user "
                    "(voicelab users add NAME --role lead) to turn sign-in on.\033[0m")


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.x, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_users(root: Path | str, host: str, *, insecure_no_auth: bool,
                  guarded: bool = False, what: str = "rank, lock and start jobs") -> bool:
    """Whether a server on `host` must refuse everyone while it has no users.

    `guarded`: something else already keeps strangers out with no users (the API's service
    token). Prints the red warning when `insecure_no_auth` opens a door beyond loopback.

    Raises:
        ConfigError: beyond loopback, with no users, not guarded and not `insecure_no_auth`
            (the message says how to add a user); or the users file is broken.
    """
    try:
        has_users = sign_in_required(root)
    except UsersFileError as exc:
        raise ConfigError("users file", str(exc.path), exc.reason) from None
    if has_users or guarded or is_loopback(host):
        return not is_loopback(host) and not insecure_no_auth
    if not insecure_no_auth:
        raise ConfigError("--host", host, f"this server has no users, so anyone who reaches it "
                          f"could {what}. Add one first: voicelab users add NAME --role lead "
                          "(or pass --insecure-no-auth to serve without sign-in anyway)")
    print(INSECURE_WARNING.format(host=host, what=what), flush=True)
    return False
