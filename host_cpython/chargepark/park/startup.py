"""What `chargepark run` does for the park before it starts its broker, by the station's role: a server
applies its own ETH1 file (as a client's Module Switch applied the client's) and listens on the park address
too; a client's broker gets its connection to the server (park/link.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from chargepark.network.host import NetworkHost
from chargepark.park import eth1, link, role
from chargepark.runtime import Runtime

log = logging.getLogger("chargepark.park")
ADDRESS_WAIT_S = 15.0  # a real server's ETH1 address, once networkd took the file
POLL_S = 0.2


@dataclass(frozen=True)
class BrokerPart:
    """The park's share of the broker's configuration."""

    role: str
    listeners: tuple[tuple[str, int], ...] = ()  # a server's park listener
    bridge: str = ""  # a client's connection to its server
    password: str = field(default="", repr=False)  # the park listener's secret (park/auth.py)


async def _address_up(host: str, port: int, wait: bool) -> bool:
    deadline = time.monotonic() + (ADDRESS_WAIT_S if wait else 0.0)
    while not link.bindable(host, port):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
    return True


async def prepare(
    runtime: Runtime, system: dict[str, Any], network: NetworkHost, own_broker: bool
) -> BrokerPart:
    """The station's role and what its broker needs for the park; a server's ETH1 applied first. A part
    that cannot be had is logged and left out: the station itself runs regardless."""
    station_role = role.station_role(runtime)
    host, port = link.server_of(system)
    password = link.password_of(system)
    if station_role == role.CLIENT:
        if not own_broker:
            log.warning("park client on a system broker: its points are not bridged to the park server")
            return BrokerPart(station_role)
        station = str(runtime.bus.get("station", ""))
        log.info("park client %s: points bridged to the server's broker at %s:%d", station, host, port)
        if not password:
            log.warning("park client: system park_password is empty: the server refuses its bridge")
        return BrokerPart(station_role, bridge=link.bridge(host, port, station, password))
    applied = None
    try:
        applied = await asyncio.to_thread(eth1.apply, network, role.SERVER, "")
    except eth1.Eth1Refused as exc:
        log.warning("park server: %s", exc)
    if not own_broker or (host, port) == (runtime.mqtt_host, runtime.mqtt_port):
        return BrokerPart(station_role)
    if not await _address_up(host, port, wait=network.system and applied is not None):
        log.warning("park server: %s:%d cannot be bound (no such address here, or the port is taken): "
                    "no client reaches this broker", host, port)  # fmt: skip
        return BrokerPart(station_role)
    if not password:
        log.warning("park server: system park_password is empty: its park listener refuses every client")
    return BrokerPart(station_role, listeners=((host, port),), password=password)
