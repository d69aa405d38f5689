"""Helpers for the WBM API tests: a context of fakes around a real store and auth database, a client that
logs in (changing the factory password first), a real uvicorn server on a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from chargepark import asgi, pointops
from chargepark.auth.accounts import Accounts
from chargepark.auth.guard import CSRF_HEADER
from chargepark.config.store import ConfigStore
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext
from chargepark.wbm.live import ParkView
from fastapi import FastAPI

OFFLINE = "CPOFFLINE"  # FakeCommands answers this point like an offline module


class FakeCommands:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def command(self, uid: str, name: str, value: Any = None) -> None:
        if uid == OFFLINE:
            raise pointops.PointOffline("charging controller %s (position 3) is offline" % uid)
        self.sent.append((uid, name, value))


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.t = now
        self.sets: list[float] = []

    def now(self) -> float:
        return self.t

    def set(self, unix: float) -> None:
        self.sets.append(unix)
        self.t = unix


class FakeSupervisor:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if request["cmd"] == "status":
            return {"ok": True, "services": [{"name": "jupicore", "state": "running"}]}
        return {"ok": True, "restarted": [request["name"]]}


def make_ctx(tmp: Path, clock: Callable[[], float] = time.time) -> WbmContext:
    return WbmContext(
        store=ConfigStore.open(tmp / "config.db"),
        accounts=Accounts(tmp / "auth.db", clock=clock),
        view=ParkView(),
        commands=FakeCommands(),
        control=FakeSupervisor(),
        sessions_db=tmp / "sessions.db",
        logs_dir=tmp / "logs",
        clock=FakeClock(),
        data_dir=tmp,
    )


def new_password(login: str) -> str:
    return "%s-secret-2030" % login


def log_in(client: httpx.Client, login: str, password: str | None = None) -> dict[str, Any]:
    """Logs in (with the changed password by default); the client keeps the cookie and sends the CSRF token."""
    r = client.post("/api/wbm/auth/login", json={"login": login, "password": password or new_password(login)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    client.headers[CSRF_HEADER] = body["csrf_token"]
    return body


def change_factory_password(client: httpx.Client, login: str) -> None:
    log_in(client, login, login)
    r = client.post(
        "/api/wbm/auth/password", json={"old_password": login, "new_password": new_password(login)}
    )
    assert r.status_code == 200, r.text


@contextmanager
def logged_in(base: str, login: str) -> Iterator[httpx.Client]:
    """A client of the served WBM logged in as `login` (its factory password changed)."""
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, login)
        yield c


class Server(str):
    """The base URL of a served app; `call_soon` runs a callback on the server's loop (the live view is
    fed there, as the service's MQTT link does)."""

    loop: asyncio.AbstractEventLoop

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)


@contextmanager
def served(app: FastAPI) -> Iterator[Server]:
    """The app on a real uvicorn (chargepark.asgi) in a thread of its own; yields its base URL."""
    loop = asyncio.new_event_loop()
    started: list[asgi.Served] = []
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        started.append(loop.run_until_complete(asgi.serve(app, "127.0.0.1", 0)))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        server = Server("http://127.0.0.1:%d" % started[0].port)
        server.loop = loop
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(started[0].stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def app_of(ctx: WbmContext) -> FastAPI:
    return create_app(ctx)


def restarted_all(ctx: WbmContext) -> None:
    """The supervisor was asked to restart every service (sent after the answer left)."""
    supervisor = ctx.control
    assert isinstance(supervisor, FakeSupervisor)
    deadline = time.monotonic() + 5
    while {"cmd": "restart", "name": "all"} not in supervisor.requests:
        assert time.monotonic() < deadline, supervisor.requests
        time.sleep(0.02)
