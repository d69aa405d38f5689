"""The head's HTTP stack (chargepark.asgi): uvicorn in the service's loop, JSON refusals, body limit, stop."""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import Any

import httpx
import pytest
from chargepark import asgi, pointops
from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    on: bool
    amps: int = Field(6, ge=6, le=80)


JSON = {"content-type": "application/json"}


def app() -> Any:
    a = asgi.make_app("test", "1", max_body=1000)

    @a.put("/thing")
    async def put_thing(body: Body) -> dict[str, Any]:
        return {"on": body.on, "amps": body.amps}

    @a.get("/refuse")
    async def refuse() -> None:
        raise asgi.ApiError(409, "release mode forbids it", "external_release")

    @a.get("/offline")
    async def offline() -> None:
        raise pointops.PointOffline("module offline")

    @a.get("/bug")
    async def bug() -> None:
        raise RuntimeError("boom")

    @a.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(0.5)
        return {"done": True}

    return a


async def _served() -> tuple[asgi.Served, httpx.AsyncClient]:
    served = await asgi.serve(app(), "127.0.0.1", 0)
    return served, httpx.AsyncClient(base_url="http://127.0.0.1:%d" % served.port)


def test_refusals_are_4xx_with_a_json_error_and_field() -> None:
    async def run() -> None:
        served, client = await _served()
        async with client:
            ok = await client.put("/thing", json={"on": True})
            assert (ok.status_code, ok.json()) == (200, {"on": True, "amps": 6})
            cases = [
                (lambda: client.put("/thing", content=b"{nope", headers=JSON), 400, ""),
                (lambda: client.put("/thing", json={"on": "yes"}), 422, "on"),
                (lambda: client.put("/thing", json={"on": True, "colour": 1}), 422, "colour"),
                (lambda: client.put("/thing", json={"on": True, "amps": 10**30}), 422, "amps"),
                (lambda: client.put("/thing", json={"on": True, "amps": 1e308}), 422, "amps"),
                (lambda: client.put("/thing", json={}), 422, "on"),
                (lambda: client.put("/thing", json=[1, 2]), 422, "body"),  # the whole body is wrong
                (lambda: client.get("/nowhere"), 404, ""),
                (lambda: client.delete("/thing"), 405, ""),
                (lambda: client.get("/refuse"), 409, "external_release"),
                (lambda: client.get("/offline"), 504, ""),
            ]
            for request, status, field in cases:
                r = await request()
                assert r.status_code == status, r.text
                assert r.headers["content-type"] == "application/json"
                body = r.json()
                assert set(body) == {"error", "field"} and body["error"] and body["field"] == field, body
            assert (await client.get("/refuse")).json()["error"] == "release mode forbids it"
            assert (await client.put("/thing", json={"on": True, "colour": 1})).json()[
                "error"
            ] == "unknown field"
        await served.stop()

    asyncio.run(run())


def test_bodies_over_the_limit_are_refused_whether_announced_or_streamed() -> None:
    async def run() -> None:
        served, client = await _served()
        async with client:
            big = b'{"on": true, "pad": "' + b"x" * 2000 + b'"}'
            r = await client.put("/thing", content=big, headers=JSON)
            assert r.status_code == 413 and "1000 bytes" in r.json()["error"]

            async def chunks() -> Any:
                for _ in range(20):
                    yield b" " * 100  # no Content-Length: chunked transfer

            r = await client.put("/thing", content=chunks(), headers=JSON)
            assert r.status_code == 413 and set(r.json()) == {"error", "field"}
        await served.stop()

    asyncio.run(run())


def test_a_handler_bug_is_a_json_500_and_the_server_lives_on(caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> None:
        served, client = await _served()
        async with client:
            r = await client.get("/bug")
            assert r.status_code == 500 and r.json() == {"error": "internal error: RuntimeError", "field": ""}
            assert (await client.put("/thing", json={"on": False})).status_code == 200
        await served.stop()

    asyncio.run(run())
    assert "GET /bug failed" in caplog.text


def test_serves_in_the_callers_loop_keeps_its_signals_and_stops_gracefully() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: None)
        before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
        served, client = await _served()
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
        async with client:
            slow = asyncio.create_task(client.get("/slow"))
            await asyncio.sleep(0.1)
            await served.stop()  # the open request finishes
            assert (await slow).json() == {"done": True}
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", served.port), timeout=1):
            pass
        loop.remove_signal_handler(signal.SIGTERM)

    asyncio.run(run())


def test_a_taken_port_is_an_oserror() -> None:
    async def run() -> None:
        served = await asgi.serve(app(), "127.0.0.1", 0)
        with pytest.raises(OSError):
            await asgi.serve(app(), "127.0.0.1", served.port)
        await served.stop()

    asyncio.run(run())


def test_the_listening_socket_says_tcp_so_asyncio_sets_nodelay_on_each_connection() -> None:
    async def run() -> None:
        served = await asgi.serve(app(), "127.0.0.1", 0)
        assert served.socket.proto == socket.IPPROTO_TCP  # proto 0 cost ~40 ms per response (delayed ACK)
        await served.stop()

    asyncio.run(run())
