"""The head's HTTP stack: a FastAPI app served by uvicorn inside a service's own running asyncio loop.

Every service that answers HTTP builds its app with `make_app` and serves it with `serve`:
- the bind address and port come from the caller (the configuration), port 0 picks a free one;
- the service keeps its signals (uvicorn's own SIGTERM/SIGINT capture is switched off) and stops the
  server with `Served.stop()` (graceful: open requests finish, up to `GRACE_S`);
- a request body is limited to `MAX_BODY` bytes (413 before the app reads it);
- every refusal is a 4xx with the JSON body `{"error": reason, "field": name or ""}`: validation errors
  name the offending field (`WHOLE_BODY` when it is the body as a whole), malformed JSON is a 400, an
  unknown route a 404; a handler bug is a logged 500 with the same shape, never a crash of the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargepark import pointops

log = logging.getLogger("chargepark.asgi")
MAX_BODY = 64 * 1024  # the largest body a head route takes (a whole configuration export is ~20 KB)
GRACE_S = 3.0
WHOLE_BODY = "body"  # the field a refusal names when the body as a whole is wrong (not an object, ...)


def field_name(path: str) -> str:
    """The field a refusal names for a validation path: "." (the record) is the body; an empty key
    (`{"": 1}`) is shown quoted, so that every 422 names something."""
    return {".": WHOLE_BODY, "": '""'}.get(path, path)


class ApiError(Exception):
    """A refusal a route raises: answered as `status` with `{"error": reason, "field": field}`."""

    def __init__(self, status: int, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field


class ErrorBody(BaseModel):
    """Every refusal's body (the OpenAPI documents name it for every 4xx)."""

    error: str
    field: str


REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": why}
    for status, why in (
        (400, "malformed JSON"),
        (404, "no such resource"),
        (409, "refused by the point's state or modes; nothing changed"),
        (413, "body too large"),
        (422, "invalid field (named); nothing stored"),
        (504, "the module is offline or did not confirm"),
    )
}


class JSONBody(Response):
    """JSON encoded by orjson (the head's routes answer plain dicts and lists)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, reason: str, field: str = "") -> JSONBody:
    return JSONBody({"error": reason, "field": field}, status, headers={"cache-control": "no-store"})


def _validation_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ())]
    field = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    if loc[:1] == ["body"]:
        field = field_name(field) if loc[1:] else WHOLE_BODY
    if first.get("type") == "json_invalid":
        return error(400, "malformed JSON: %s" % first.get("ctx", {}).get("error", "invalid"), "")
    if first.get("type") == "extra_forbidden":
        return error(422, "unknown field", field)
    return error(422, str(first.get("msg", "invalid request")), field)


def _http_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail), "")


def _api_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.reason, exc.field)


def _command_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, pointops.CommandError)
    return error(exc.http_status, exc.reason, exc.field)


def _bug(request: Request, exc: Exception) -> JSONBody:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error: %s" % type(exc).__name__, "")


def make_app(title: str, version: str, description: str = "", max_body: int = MAX_BODY) -> FastAPI:
    """A FastAPI app with the head's error shape, body limit and JSON encoder."""
    app = FastAPI(title=title, version=version, description=description, default_response_class=JSONBody,
                  responses=REFUSALS)  # fmt: skip
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(pointops.CommandError, _command_error)
    app.add_exception_handler(Exception, _bug)
    app.add_middleware(BodyLimit, limit=max_body)
    return app


def openapi_text(app: FastAPI) -> str:
    """The app's OpenAPI document as committed under docs/openapi/ (stable key order)."""
    return json.dumps(app.openapi(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "request body larger than %d bytes" % limit)


class BodyLimit:
    """Refuses a body over `limit` bytes with 413: by its Content-Length before the app runs, and while it
    streams in (chunked) by counting what the app receives."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await error(413, _TooLarge(self.limit).detail)(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge(self.limit)  # an HTTPException: answered by the app's own handler
            return message

        await self.app(scope, counted, send)


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the service owns SIGTERM/SIGINT (services/base.py cancels its body, which stops us)


class Served:
    """A running server; `stop()` ends it gracefully."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], sock: socket.socket) -> None:
        self._server = server
        self._task = task
        self.socket = sock
        self.host, self.port = sock.getsockname()[:2]

    async def stop(self) -> None:
        self._server.should_exit = True
        try:
            async with asyncio.timeout(GRACE_S + 1.0):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _listen(host: str, port: int) -> socket.socket:
    # proto IPPROTO_TCP, not socket.create_server's 0: asyncio sets TCP_NODELAY only on sockets that say
    # TCP, and without it every response (head and body are two writes) waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


async def serve(app: ASGIApp, host: str, port: int, tls: tuple[str, str] | None = None) -> Served:
    """Serves app on host:port in the running loop; returns once it listens (OSError if it cannot bind).
    `tls` = (certificate file, key file) serves HTTPS."""
    sock = _listen(host, port)
    config = uvicorn.Config(
        app,
        http="httptools",
        lifespan="off",
        log_config=None,  # the service's logging stays as run_service set it
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(GRACE_S),
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    server = _InLoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="http-%s:%d" % (host, port))
    while not server.started:
        if task.done():
            sock.close()
            task.result()  # raises what stopped it
            raise OSError("server on %s:%d ended before it listened" % (host, port))
        await asyncio.sleep(0.01)
    return Served(server, task, sock)
