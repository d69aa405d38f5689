"""A Central System for the OCPP tests, built on the `ocpp` package's central-system side: a websockets
server on loopback (subprotocol ocpp1.6, Basic authentication checked; TLS with a server context: wss://), one `ocpp.v16.ChargePoint` per
connection with a handler for every charge point request. It records every CALL it receives in order
(`received`), answers the ways a test asks for (boot status, CALLERROR for some actions), and makes calls to
the charge point (`call`). It runs on its own thread, so a synchronous e2e test can use it as well."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.server
import itertools
import json
import ssl
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from chargepark.runtime import free_port
from ocpp.exceptions import GenericError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer


@dataclass
class Received:
    action: str
    payload: dict[str, Any]
    unique_id: str
    at: float = field(default_factory=time.monotonic)


class _Box(ChargePoint):  # type: ignore[misc]
    def __init__(self, cs: CentralSystem, box_id: str, ws: Any) -> None:
        super().__init__(box_id, ws)
        self.cs = cs

    async def route_message(self, raw_msg: str) -> None:
        self.cs.frames.append(raw_msg)
        await super().route_message(raw_msg)

    async def _handle_call(self, msg: Any) -> Any:
        self.cs.received.append(Received(msg.action, msg.payload, msg.unique_id))
        if msg.action in self.cs.refuse:
            self.cs.refuse.remove(msg.action)
            self.cs.refused.append(msg.unique_id)
            await self._send(msg.create_call_error(GenericError()).to_json())
            return None
        return await super()._handle_call(msg)

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> call_result.BootNotification:
        status = self.cs.boot.pop(0) if self.cs.boot else RegistrationStatus.accepted
        return call_result.BootNotification(
            current_time=self.cs.now(), interval=self.cs.interval, status=status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=self.cs.now())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        ok = id_tag not in self.cs.invalid_tags
        info: dict[str, Any] = {"status": AuthorizationStatus.accepted if ok else "Invalid"}
        if id_tag in self.cs.parents:
            info["parent_id_tag"] = self.cs.parents[id_tag]
        return call_result.Authorize(id_tag_info=info)

    @on(Action.start_transaction)
    def on_start(self, id_tag: str, **_: Any) -> call_result.StartTransaction:
        status = "Invalid" if id_tag in self.cs.invalid_tags else "Accepted"
        return call_result.StartTransaction(
            transaction_id=next(self.cs.tx_ids), id_tag_info={"status": status}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **_: Any) -> call_result.StopTransaction:
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=self.cs.data_transfer_status)

    @on(Action.diagnostics_status_notification)
    def on_diagnostics(self, **_: Any) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()


class CentralSystem:
    def __init__(
        self, user: str = "", key: str = "", interval: int = 300, tls: ssl.SSLContext | None = None
    ) -> None:
        self.port = free_port()
        self.tls = tls
        self.user, self.key, self.interval = user, key, interval
        self.received: list[Received] = []
        self.refused: list[str] = []  # unique ids answered with CALLERROR
        self.refuse: list[str] = []  # answer the next CALL of each action listed with a CALLERROR (once each)
        self.boot: list[str] = []  # the next BootNotification answers (then Accepted)
        self.invalid_tags: set[str] = set()
        self.data_transfer_status = "Accepted"  # what a DataTransfer from the charge point gets
        self.parents: dict[str, str] = {}  # idTag -> the parentIdTag Authorize answers
        self.time_offset = 0.0
        self.tx_ids = itertools.count(1001)
        self.frames: list[str] = []  # every frame from the charge point, as sent
        self.paths: list[str] = []
        self.auth: list[str] = []
        self.box: _Box | None = None
        self.loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def now(self) -> str:
        """The currentTime this backend answers (its clock may be off by `time_offset` seconds)."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + self.time_offset))

    @property
    def url(self) -> str:
        return "%s://127.0.0.1:%d/ocpp/CB0001" % ("wss" if self.tls else "ws", self.port)

    def _run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        async def up() -> None:
            self._server = await websockets.serve(self._serve, "127.0.0.1", self.port, subprotocols=["ocpp1.6"],
                                                  process_request=self._check, ssl=self.tls)  # fmt: skip

        self._run(up())

    def stop(self) -> None:
        """The backend goes away: the server closes with its connections."""

        async def down() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            self.box = None

        self._run(down())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def _check(self, conn: Any, request: Any) -> Any:
        self.paths.append(request.path)
        got = request.headers.get("Authorization", "")
        self.auth.append(got)
        if self.user or self.key:
            want = "Basic " + base64.b64encode(("%s:%s" % (self.user, self.key)).encode()).decode()
            if got != want:
                return conn.respond(401, "bad credentials\n")
        return None

    async def _serve(self, ws: Any) -> None:
        self.box = _Box(self, ws.request.path.rsplit("/", 1)[-1], ws)
        try:
            await self.box.start()
        except websockets.exceptions.ConnectionClosed:
            pass

    def call(self, payload: Any, timeout: float = 30) -> Any:
        """A CALL to the charge point; its answer (raises the CALLERROR as OCPPError)."""
        assert self.box is not None, "no charge point connected"
        return self._run(self.box.call(payload, suppress=False), timeout)

    def send_raw(self, frame: str) -> None:
        assert self.box is not None
        self._run(self.box._connection.send(frame))

    def actions(self, *names: str) -> list[Received]:
        return [r for r in list(self.received) if not names or r.action in names]

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError("%s: not within %.0f s (received: %s)" % (what, timeout,
                             [(r.action, r.payload) for r in self.received[-10:]]))  # fmt: skip


class FileServer:
    """Loopback HTTP (GET of `root`'s files, PUT into `root`) and FTP (user `u`, password `p`, `root`)
    servers for UpdateFirmware and GetDiagnostics."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        served = root

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a: Any, **kw: Any) -> None:
                super().__init__(*a, directory=str(served), **kw)

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                (served / self.path.lstrip("/")).write_bytes(body)
                self.send_response(201)
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        authorizer = DummyAuthorizer()
        authorizer.add_user("u", "p", str(root), perm="elradfmw")
        handler = type("Ftp", (FTPHandler,), {"authorizer": authorizer})
        self.ftp = ThreadedFTPServer(("127.0.0.1", 0), handler)
        for target in (self.http.serve_forever, self.ftp.serve_forever):
            threading.Thread(target=target, daemon=True).start()

    def url(self, name: str = "") -> str:
        return "http://127.0.0.1:%d/%s" % (self.http.server_address[1], name)

    def ftp_url(self, path: str = "") -> str:
        return "ftp://u:p@127.0.0.1:%d/%s" % (self.ftp.address[1], path)

    def close(self) -> None:
        self.http.shutdown()
        self.ftp.close_all()


def firmware_package(out: Path, blob: bytes, board: str = "sim") -> Path:
    """A firmware package as UpdateFirmware downloads it: a tar.gz of the images build output."""
    image = out.parent / (out.name + ".d")
    image.mkdir()
    (image / "firmware.img").write_bytes(blob)
    manifest = {"board": board, "image": {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}}
    (image / "manifest.json").write_text(json.dumps(manifest))
    with tarfile.open(out, "w:gz") as tar:
        tar.add(image, arcname="sim")
    return out
