"""The WBM pages: Jinja2 templates rendered from the WBM API's answers, htmx for partial updates and writes,
the API's server-sent events for live values. Each page module (`pages_*.py`, built on `pagekit`) declares
its routes and navigation entries; this module mounts them in `GROUPS` order. Static files are this
package's `web/static`; the front-end libraries are served from where the set-up installed them (never a
CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from chargepark.services.web_server import (
    pages_bridge,
    pages_certificate,
    pages_loadmgmt,
    pages_modbus,
    pages_network,
    pages_ocpp,
    pages_points,
    pages_release,
    pages_rfidboard,
    pages_session,
    pages_system,
)
from chargepark.services.web_server.pagekit import WEB

REPO = WEB.parents[2]
# Where the set-up installs each front-end library: name -> candidate files (first that exists).
VENDOR: dict[str, tuple[Path, ...]] = {
    "htmx.min.js": (REPO / "out/web-vendor/node_modules/htmx.org/dist/htmx.min.js",
                    Path("/usr/share/chargepark/web-vendor/htmx.min.js")),
    "sse.min.js": (REPO / "out/web-vendor/node_modules/htmx-ext-sse/dist/sse.min.js",
                   Path("/usr/share/chargepark/web-vendor/sse.min.js")),
    "chart.min.js": (Path("/usr/share/javascript/chart.js/chart.min.js"),),
}  # fmt: skip
# navigation order
GROUPS = (pages_points, pages_rfidboard, pages_release, pages_loadmgmt, pages_network, pages_ocpp, pages_modbus,
          pages_bridge, pages_system, pages_certificate, pages_session)  # fmt: skip
NAV = tuple(entry for group in GROUPS for entry in group.NAV)
NAV_WHEN = {href: when for group in GROUPS for href, when in getattr(group, "NAV_WHEN", {}).items()}
OPERATIONS = pages_points.OPERATIONS


def create_pages(api_app: FastAPI) -> FastAPI:
    pages = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    pages.state.api_app = api_app
    pages.state.nav = NAV
    pages.state.nav_when = NAV_WHEN
    for group in GROUPS:
        pages.include_router(group.router)
    pages.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    return pages


def vendor_file(name: str) -> Path | None:
    return next((p for p in VENDOR.get(name, ()) if p.is_file()), None)


def install(api_app: FastAPI) -> None:
    """Mounts the pages at /wbm and the front-end libraries at /wbm/vendor on the API's app."""

    async def vendor(request: Request) -> Response:
        path = vendor_file(request.path_params["name"])
        if path is None:
            return Response("not installed (run ./dev.sh setup)", 404)
        return Response(path.read_bytes(), media_type="text/javascript",
                        headers={"cache-control": "max-age=86400"})  # fmt: skip

    from starlette.routing import Route

    api_app.router.routes.insert(0, Route("/wbm/vendor/{name}", vendor))
    api_app.mount("/wbm", create_pages(api_app))
