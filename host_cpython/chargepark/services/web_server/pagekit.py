"""What every WBM page module uses: the WBM API called in process with the browser's own cookie (so the role
guard decides what a page may show and do), the page context (caller, language, rendering) and the answers
shared by all pages. A page module (`pages_*.py`) declares its `router` and its `NAV` entries (and in
`NAV_WHEN` the entries shown only when an API answer says they apply); `pages.py` assembles them."""

from __future__ import annotations

import json
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from chargepark.auth.guard import COOKIE, CSRF_HEADER
from chargepark.auth.matrix import ROLE_MATRIX
from chargepark.auth.roles import Role
from chargepark.web import i18n, messages, numbers, status

WEB = Path(str(files("chargepark.web")))
Nav = tuple[tuple[str, str, str], ...]  # path, title, the operation whose role the page needs

env = Environment(
    loader=FileSystemLoader(str(WEB / "templates")),
    autoescape=select_autoescape(["html"]),
)
env.filters["unit"] = numbers.unit_sign


class Api:
    """The WBM API in process, as the browser's request would reach it (cookie, CSRF token, client)."""

    def __init__(self, app: FastAPI, request: Request) -> None:
        headers = {}
        if CSRF_HEADER in request.headers:
            headers[CSRF_HEADER] = request.headers[CSRF_HEADER]
        client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=client),
            base_url="%s://%s" % (request.url.scheme, request.url.netloc),
            cookies={COOKIE: request.cookies[COOKIE]} if COOKIE in request.cookies else {},
            headers=headers,
        )

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body)

    async def get(self, path: str) -> Any:
        r = await self.client.get(path)
        return r.json() if r.status_code == 200 else None


class Page:
    """One page's rendering context: the caller, the language, the API."""

    def __init__(self, request: Request, api: Api, who: dict[str, Any]) -> None:
        self.request = request
        self.api = api
        self.who = who
        self.lang = i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language", ""))
        self.gettext = i18n.gettext_of(self.lang)
        self.role = Role[who["role"].upper()]
        self.hidden_nav: set[str] = set()

    def may(self, operation: str) -> bool:
        return self.role >= ROLE_MATRIX[operation]

    def render(self, template: str, **values: Any) -> HTMLResponse:
        html = env.get_template(template).render(
            _=self.gettext, who=self.who, may=self.may, lang=self.lang, langs=i18n.LANGS,
            nav=self.request.app.state.nav, path=self.request.url.path,
            csrf=json.dumps({"X-CSRF-Token": self.who.get("csrf_token") or ""}), msg=self.message,
            duration=status.duration, hidden_nav=self.hidden_nav, num=partial(numbers.number, self.lang),
            qty=partial(numbers.quantity, self.lang), **values,
        )  # fmt: skip
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    def message(self, text: str) -> str:
        return messages.translate(text, self.gettext)


async def page(request: Request) -> Page:
    """The page context of a request to the pages' app (its state holds the WBM API's app)."""
    api = Api(request.app.state.api_app, request)
    who = await api.get("/api/wbm/auth/session")
    p = Page(request, api, who)
    for href, (path, shown) in request.app.state.nav_when.items():  # entries shown only when they apply
        if who is not None and who.get("role") != "guest" and not shown(await api.get(path)):
            p.hidden_nav.add(href)
    return p


def to_login(request: Request) -> Response:
    return RedirectResponse("/wbm/login?next=" + quote(request.url.path), 303)


def refused(p: Page, r: httpx.Response) -> HTMLResponse:
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    text = p.message(str(body.get("error", r.status_code)))
    return p.render("_result.html", ok=False, text=text, fields=body.get("fields") or {})


def htmx_only(request: Request) -> bool:
    # Writes come from htmx only: a cross-site form cannot send this header without a CORS preflight.
    return request.headers.get("hx-request") == "true"
