"""Login, logout, password change and "who am I" (manual "Login", "Change Password")."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from chargepark.asgi import ApiError, JSONBody, error
from chargepark.auth.accounts import PasswordRefused
from chargepark.auth.guard import COOKIE, Caller
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/auth", tags=["login"])
Ctx = Annotated[WbmContext, Depends(of)]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    login: str = Field(min_length=1, max_length=64, description="user, operator or manufacturer")
    password: str = Field(min_length=1, max_length=256)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


def _caller(request: Request) -> Caller:
    caller: Caller = request.state.caller  # set by the guard
    return caller


def _who(caller: Caller) -> dict[str, Any]:
    s = caller.session
    if s is None:
        return {"role": "guest", "login": None, "password_change_required": False, "csrf_token": None}
    return {"role": s.role.name.lower(), "login": s.user, "password_change_required": s.must_change,
            "csrf_token": s.csrf}  # fmt: skip


@router.get("/session", operation_id="auth_session", summary="Who is logged in (guest without a session)")
async def session(request: Request, ctx: Ctx) -> dict[str, Any]:
    who = _who(_caller(request))
    # Logged-in callers learn which factory passwords still work (the WBM's banner); guests do not.
    who["factory_logins"] = ctx.accounts.factory_logins() if who["login"] else []
    return who


@router.post(
    "/login",
    operation_id="auth_login",
    response_model=None,
    summary="Log in; a factory password answers password_change_required and allows only the change",
)
async def login(
    body: Credentials, request: Request, response: Response, ctx: Ctx
) -> dict[str, Any] | JSONBody:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "the login takes application/json only")
    client = request.client.host if request.client else "?"
    wait = int(ctx.limiter.retry_after(client) + 0.999)
    if wait > 0:
        refused = error(429, "too many failed logins from %s: try again in %d s" % (client, wait))
        refused.headers["retry-after"] = str(wait)
        return refused
    found = await asyncio.to_thread(ctx.accounts.login, body.login, body.password)
    if found is None:
        ctx.limiter.failed(client)
        raise ApiError(401, "wrong login or password", "password")
    token, sess = found
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )
    reply = _who(Caller(sess, token))
    if sess.must_change:
        reply["detail"] = "password change required: the factory password works only to change it"
    return reply


@router.post("/logout", operation_id="auth_logout", summary="End this session")
async def logout(request: Request, response: Response, ctx: Ctx) -> dict[str, Any]:
    ctx.accounts.logout(_caller(request).token)
    response.delete_cookie(COOKIE, path="/")
    return {"logged_out": True}


@router.post(
    "/password",
    operation_id="auth_change_password",
    summary="Change this login's password (with the old one); other sessions of the login end",
)
async def change_password(body: PasswordChange, request: Request, ctx: Ctx) -> dict[str, Any]:
    caller = _caller(request)
    assert caller.session is not None  # the guard let no guest through
    try:
        await asyncio.to_thread(
            ctx.accounts.change_password,
            caller.session.user,
            body.old_password,
            body.new_password,
            caller.token,
        )
    except PasswordRefused as e:
        raise ApiError(422 if e.field == "new_password" else 403, str(e), e.field) from None
    return {"changed": True, "login": caller.session.user}
