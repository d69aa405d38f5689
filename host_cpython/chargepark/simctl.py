"""Client of a simulated module's sim-control channel (docs/point-api.md): JSON lines over TCP."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

ENDPOINTS_FILE = "sim.json"
_TRUE = ("on", "true", "yes", "1")
_FALSE = ("off", "false", "no", "0")


def _value(kind: str, text: str) -> Any:
    """A command-line word as the field's kind wants it (the module validates the value itself)."""
    if kind == "bool" and text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    if kind == "str":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def arguments(cmd: str, words: list[str]) -> dict[str, Any]:
    """The request arguments of `chargepark sim ... CMD WORDS`: in field order, or as name=value."""
    from simboard.runner import SIM

    fields = {f.name: f for f in SIM.fields(cmd)}
    order = list(fields)
    out: dict[str, Any] = {}
    for word in words:
        name, eq, text = word.partition("=")
        if not eq:
            if len(out) >= len(order):
                raise ValueError("%s takes at most %d arguments (%s)" % (cmd, len(order), ", ".join(order)))
            name, text = order[len(out)], word
        if name not in fields:
            raise ValueError(
                "%s has no argument %s (arguments: %s)" % (cmd, name, ", ".join(order) or "none")
            )
        out[name] = _value(fields[name].kind, text)
    return out


def endpoints_path(data_dir: Path) -> Path:
    return Path(data_dir) / "run" / ENDPOINTS_FILE


def load_endpoints(data_dir: Path) -> dict[int, dict[str, Any]]:
    """Position -> {uid, sim_control} of the simulated park running with this state directory."""
    path = endpoints_path(data_dir)
    if not path.exists():
        raise ConnectionError(
            "no simulated park runs with %s (start `chargepark run --sim N --data %s`)" % (data_dir, data_dir)
        )
    return {int(k): v for k, v in json.loads(path.read_text())["points"].items()}


def request(endpoint: str, req: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    host, port = endpoint.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(json.dumps(req).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("sim-control %s closed the connection" % endpoint)
            data += chunk
    reply: dict[str, Any] = json.loads(data)
    return reply


class SimControl:
    """A kept-open asyncio connection to one module's sim-control channel, reopened after a module restart."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def __call__(self, cmd: str, **args: Any) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                if self._streams is None:
                    host, port = self.endpoint.rsplit(":", 1)
                    self._streams = await asyncio.open_connection(host, int(port))
                reader, writer = self._streams
                writer.write(json.dumps(dict(args, cmd=cmd)).encode() + b"\n")
                await writer.drain()
                line = await reader.readline()
                if not line:
                    raise ConnectionError("closed")
                reply: dict[str, Any] = json.loads(line)
                return reply
            except (OSError, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None
