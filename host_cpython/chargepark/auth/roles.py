"""The manual's user roles ("Login", table "User roles"): the one table of logins, factory passwords and rights."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """Ordered: each role has every right of the ones below it."""

    GUEST = 0
    USER = 1
    OPERATOR = 2
    MANUFACTURER = 3


@dataclass(frozen=True)
class Login:
    name: str  # the login name, also the user's name in the auth database
    role: Role
    factory_password: str  # works until changed; a login with it may only change it
    rights: str  # the manual's wording


# Guest has no login: it is whoever has no session.
LOGINS: tuple[Login, ...] = (
    Login("user", Role.USER, "user",
          "All read-only access rights, charging releases, editing of whitelists, download of log files"),
    Login("operator", Role.OPERATOR, "operator",
          "User rights, plus settings required for operation and local startup (network, backend, load "
          "management), software updates"),
    Login("manufacturer", Role.MANUFACTURER, "manufacturer", "No restrictions"),
)  # fmt: skip
GUEST_RIGHTS = "Read-only access only to the dashboard"
