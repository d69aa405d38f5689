"""The Modbus/TCP server: pymodbus's TCP server over `MapStore`, knowing each request's client address
(the write allow-list needs it; pymodbus's datastore calls carry none)."""

from __future__ import annotations

from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

from chargepark.modbus.datastore import CLIENT, MapStore


class _Handler(ServerRequestHandler):
    async def handle_request(self) -> None:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        CLIENT.set(str(peer[0]) if peer else "")  # this request's own task: the datastore action sees it
        await super().handle_request()  # type: ignore[no-untyped-call]


class MapServer(ModbusTcpServer):
    def __init__(self, store: MapStore, host: str, port: int) -> None:
        super().__init__(store.devices(), address=(host, port))

    def callback_new_connection(self) -> Any:
        return _Handler(self, self.trace_packet, self.trace_pdu, self.trace_connect)  # type: ignore[no-untyped-call]

    @property
    def port(self) -> int:
        """The bound port (port 0 asks for a free one)."""
        server: Any = self.transport
        return int(server.sockets[0].getsockname()[1])


async def start(store: MapStore, host: str, port: int) -> MapServer:
    server = MapServer(store, host, port)
    await server.serve_forever(background=True)
    return server
