"""The supervisor's control channel: JSON lines over TCP on loopback (`chargepark service ...`)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

from chargehandlers import Table
from chargeschema import STR, Field

from chargepark import runtime
from chargepark.supervisor import Supervisor


async def serve(supervisor: Supervisor, host: str = "127.0.0.1") -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            reply = await answer(supervisor, line)
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, 0)
    port = int(server.sockets[0].getsockname()[1])
    return server, port


async def _status(supervisor: Supervisor) -> dict[str, Any]:
    return {"services": supervisor.status()}


async def _restart(supervisor: Supervisor, name: str) -> dict[str, Any]:
    return {"restarted": await supervisor.restart(name)}


# The channel's commands, one handler each; a request is {"cmd": name, **arguments}. Filed by calling
# the decorator: the firmware's Table is untyped, and a decorated function would lose its type here.
COMMANDS = Table()
COMMANDS.on("status", doc="the service table (as `chargepark service status` prints it)")(_status)
COMMANDS.on(
    "restart",
    Field("name", STR, "", lo=1, hi=64, doc="a service name, or `all`"),
    doc="restart one service (all running ones with `all`); cuts a backoff wait short",
)(_restart)


async def answer(supervisor: Supervisor, line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        cmd = str(request.pop("cmd", ""))
        result: dict[str, Any] = await COMMANDS.call(supervisor, cmd, request)
        return {"ok": True, **result}
    except (ValueError, KeyError) as e:
        return {"ok": False, "error": str(e)}


def request(data_dir: Path, payload: dict[str, Any], timeout: float = 15.0) -> dict[str, Any]:
    """Sends one request to the supervisor of the head whose state directory is data_dir."""
    rt = runtime.of_data(data_dir)
    if rt is None:
        raise ConnectionError(
            "no running head in %s (start it with `chargepark run --data %s`)" % (data_dir, data_dir)
        )
    port = rt.control_port
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(json.dumps(payload).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        raise ConnectionError("the head in %s does not answer on port %d: %s" % (data_dir, port, e)) from e
    reply: dict[str, Any] = json.loads(data)
    return reply
