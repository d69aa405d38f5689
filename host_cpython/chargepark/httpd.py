"""A tiny asyncio HTTP/1.1 server for the head's read endpoints (JupiCore REST, WBM pages).

Why not a framework: the head needs a handful of GET routes today; this keeps the head's RSS and start-up
small. Bad requests get a 4xx answer, never a crash.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("chargepark.httpd")

MAX_HEAD = 16384
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, value: object, status: int = 200) -> Response:
        return cls(status, json.dumps(value).encode())

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        return cls.json({"error": message}, status)


Route = Callable[[Request], Awaitable[Response]]


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEAD:
        raise ValueError("request head too large")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line")
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length < 0 or length > 1 << 20:
        raise ValueError("bad content-length")
    body = await reader.readexactly(length) if length else b""
    url = urlsplit(parts[1])
    return Request(parts[0].upper(), unquote(url.path), parse_qs(url.query), body)


async def serve(route: Route, host: str, port: int) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    req = await _read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except (ValueError, asyncio.LimitOverrunError) as e:
                    _write(writer, Response.error(400, str(e)), close=True)
                    return
                if req is None:
                    return
                try:
                    resp = await route(req)
                except Exception as e:  # a handler bug answers 500 and is logged; the server lives on
                    log.exception("handler failed for %s %s", req.method, req.path)
                    resp = Response.error(500, type(e).__name__)
                _write(writer, resp, close=False)
                await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, limit=MAX_HEAD)


def _write(writer: asyncio.StreamWriter, resp: Response, close: bool) -> None:
    head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nCache-Control: no-store\r\n%s\r\n" % (
        resp.status,
        REASONS.get(resp.status, "Status"),
        resp.content_type,
        len(resp.body),
        "Connection: close\r\n" if close else "",
    )
    writer.write(head.encode() + resp.body)
