"""WBM pages of the session: language, log-in and log-out, the user's profile and password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chargepark.auth.roles import Role
from chargepark.services.web_server.pagekit import Nav, htmx_only, page, refused, to_login
from chargepark.web import i18n

router = APIRouter()
NAV: Nav = ()


@router.get("/lang/{code}")
async def language(code: str, next: str = "/wbm/") -> Response:
    r = RedirectResponse(next if next.startswith("/wbm") else "/wbm/", 303)
    if code in i18n.LANGS:
        r.set_cookie(i18n.COOKIE, code, max_age=10 * 365 * 86400, samesite="strict", path="/")
    return r


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/wbm/") -> Response:
    p = await page(request)
    return p.render("login.html", next=next if next.startswith("/wbm") else "/wbm/")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=403)
    form = await request.form()
    r = await p.api.call("POST", "/api/wbm/auth/login",
                         {"login": str(form.get("login", "")), "password": str(form.get("password", ""))})  # fmt: skip
    if r.status_code != 200:
        return refused(p, r)
    nxt = str(form.get("next", "/wbm/"))
    target = "/wbm/profile" if r.json()["password_change_required"] else nxt
    out = Response(headers={"hx-redirect": target if target.startswith("/wbm") else "/wbm/"})
    out.headers["set-cookie"] = r.headers["set-cookie"]
    return out


@router.post("/logout")
async def logout(request: Request) -> Response:
    p = await page(request)
    r = await p.api.call("POST", "/api/wbm/auth/logout")
    out = Response(headers={"hx-redirect": "/wbm/"})
    if "set-cookie" in r.headers:
        out.headers["set-cookie"] = r.headers["set-cookie"]
    return out


@router.get("/profile", response_class=HTMLResponse)
async def profile(request: Request) -> Response:
    p = await page(request)
    if p.role == Role.GUEST:
        return to_login(request)
    return p.render("profile.html")


@router.post("/profile/password", response_class=HTMLResponse)
async def change_password(request: Request) -> Response:
    p = await page(request)
    form = await request.form()
    if str(form.get("new_password")) != str(form.get("repeat")):
        return p.render("_result.html", ok=False, text=p.gettext("The new passwords differ"), fields={})
    r = await p.api.call("POST", "/api/wbm/auth/password",
                         {"old_password": str(form.get("old_password", "")),
                          "new_password": str(form.get("new_password", ""))})  # fmt: skip
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/"})
