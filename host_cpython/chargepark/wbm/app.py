"""The WBM API app: the head's HTTP stack (`chargepark.asgi`), every router of `wbm/`, the role matrix's
guard on every route, configuration refusals as 422 naming each field."""

from __future__ import annotations

import chargeschema
from fastapi import Depends, FastAPI, Request

from chargepark import __version__, asgi
from chargepark.auth.guard import authorize
from chargepark.wbm import (
    backup,
    bridge,
    calibration,
    config,
    history,
    login,
    modbus,
    network,
    operations,
    park,
    software,
    system,
)
from chargepark.wbm.certificate import router as certificate_router
from chargepark.wbm.context import WbmContext
from chargepark.wbm.loadmgmt import router as loadmgmt_router
from chargepark.wbm.ocpp import router as ocpp_router
from chargepark.wbm.rfidboard import router as rfidboard_router
from chargepark.wbm.whitelist import router as whitelist_router

ROUTERS = (login.router, park.router, history.router, config.router, operations.router, system.router,
           modbus.router, bridge.router,
           network.router, backup.router, software.router, certificate_router, whitelist_router, rfidboard_router,
           loadmgmt_router, ocpp_router, calibration.router)  # fmt: skip
DESCRIPTION = (
    "The WBM API of a chargepark head (docs/wbm-api.md). Log in with POST /api/wbm/auth/login; the session "
    "cookie and, on every state-changing request, the session's CSRF token in X-CSRF-Token. Roles as the "
    "manual's table (Guest: dashboard only)."
)


def _invalid(request: Request, exc: Exception) -> asgi.JSONBody:
    assert isinstance(exc, chargeschema.Invalid)
    first = sorted(exc.errors)[0] if exc.errors else "."
    return asgi.JSONBody(
        {"error": str(exc), "field": asgi.field_name(first), "fields": exc.errors},
        422,
        headers={"cache-control": "no-store"},
    )


def create_app(ctx: WbmContext | None = None) -> FastAPI:
    """The app; `ctx` may be None to render the OpenAPI document only."""
    app = asgi.make_app("chargepark WBM API", __version__, DESCRIPTION)
    app.router.dependencies.append(Depends(authorize))  # before the routes: each one gets the guard
    app.add_exception_handler(chargeschema.Invalid, _invalid)
    for router in ROUTERS:
        app.include_router(router)
    if ctx is not None:
        app.state.wbm = ctx
        app.state.accounts = ctx.accounts
    return app
