"""The one gate of the WBM API: an app-wide dependency that looks the route's operation id up in the role
matrix and checks the caller's session, the password-change requirement and the CSRF token.

Sessions ride in an HttpOnly, SameSite=Strict cookie; every state-changing request (any method but GET,
HEAD, OPTIONS) must also carry the session's CSRF token in `X-CSRF-Token`, which a cross-site page cannot
read. The login itself has no session yet: it only takes `application/json`, which a cross-site form
cannot send without a CORS preflight this server never grants.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from chargepark.asgi import ApiError
from chargepark.auth.accounts import Accounts, Session
from chargepark.auth.matrix import ROLE_MATRIX, WHILE_PASSWORD_CHANGE_REQUIRED
from chargepark.auth.roles import Role

COOKIE = "chargepark_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """Who asks: a session (None for a guest) and its cookie token."""

    session: Session | None
    token: str

    @property
    def role(self) -> Role:
        return self.session.role if self.session else Role.GUEST


def operation_of(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "operation_id", "") or "")


async def authorize(request: Request) -> Caller:
    """Raises ApiError 401/403 unless the matrix lets this caller run this route's operation."""
    op = operation_of(request)
    need = ROLE_MATRIX.get(op)
    if need is None:  # fail closed; the role-matrix test keeps this unreachable
        raise ApiError(403, "operation %r is not in the role matrix" % op)
    accounts: Accounts = request.app.state.accounts
    token = request.cookies.get(COOKIE, "")
    session = accounts.session(token) if token else None
    caller = Caller(session, token if session else "")
    request.state.caller = caller
    if need == Role.GUEST:
        return caller
    if session is None:
        raise ApiError(401, "session expired or unknown: log in again" if token else "login required")
    if session.must_change and op not in WHILE_PASSWORD_CHANGE_REQUIRED:
        raise ApiError(403, "password change required", "new_password")
    if request.method not in SAFE_METHODS and not hmac.compare_digest(
        request.headers.get(CSRF_HEADER, ""), session.csrf
    ):
        raise ApiError(403, "CSRF token missing or wrong (send the session's token in X-CSRF-Token)")
    if session.role < need:
        raise ApiError(
            403, "%s needs the role %s (you are %s)" % (op, need.name.lower(), session.role.name.lower())
        )
    return caller
