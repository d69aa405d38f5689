"""The supervisor's control channel: JSON lines over TCP on loopback (`chargepark service ...`)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

from chargepark.runtime import Runtime
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


async def answer(supervisor: Supervisor, line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
        cmd = request.get("cmd")
        if cmd == "status":
            return {"ok": True, "services": supervisor.status()}
        if cmd == "restart":
            return {"ok": True, "restarted": await supervisor.restart(str(request.get("name", "")))}
        return {"ok": False, "error": "unknown command %r" % cmd}
    except (ValueError, KeyError, AttributeError) as e:
        return {"ok": False, "error": str(e)}


def request(data_dir: Path, payload: dict[str, Any], timeout: float = 15.0) -> dict[str, Any]:
    """Sends one request to the supervisor of the head whose state directory is data_dir."""
    runtime_path = Path(data_dir) / "run" / "runtime.json"
    if not runtime_path.exists():
        raise ConnectionError(
            "no running head in %s (start it with `chargepark run --data %s`)" % (data_dir, data_dir)
        )
    rt = Runtime(**json.loads(runtime_path.read_text()))
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
