"""People: who someone is (users, sessions, tokens) and what their role lets them do.

docs/design.md, decision 11: identity comes from the server's session or a personal bearer token,
never from what a browser sends to a kernel. Sign-in is on as soon as one user exists.
"""

from voicelab.people.roles import (
    ACTIONS,
    ANONYMOUS,
    CLI,
    ROLES,
    SERVICE,
    Person,
    check_role,
    require,
)
from voicelab.people.sessions import kernel_person
from voicelab.people.users import (
    Credentials,
    UserRecord,
    add_user,
    check_name,
    find_user,
    list_users,
    person_for_token,
    remove_user,
    reset_user,
    sign_in_required,
    users_path,
    verify_password,
)

__all__ = [
    "ACTIONS", "ANONYMOUS", "CLI", "ROLES", "SERVICE", "Credentials", "Person", "UserRecord",
    "add_user", "check_name", "check_role", "find_user", "kernel_person", "list_users",
    "person_for_token", "remove_user", "require", "reset_user", "sign_in_required", "users_path",
    "verify_password",
]
