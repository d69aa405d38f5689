"""This head's role in its park (manual "System Control/Module Switch"): its station record's, a server
until a Module Switch makes it a client; a head without a station UID of its own (no bus) is a server."""

from __future__ import annotations

import ipaddress

from chargepark.config.checks import USB_HEAD
from chargepark.config.store import ConfigStore
from chargepark.runtime import Runtime

SERVER, CLIENT = "server", "client"


def station_role(runtime: Runtime) -> str:
    station, path = runtime.bus.get("station"), runtime.config_path
    if not station or not path.exists():
        return SERVER
    store = ConfigStore.open(path)
    try:
        record = store.get("station", str(station))
    finally:
        store.close()
    return str(record["role"]) if record else SERVER


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def wbm_host(runtime: Runtime, role: str) -> str:
    """Where the WBM listens: a client on the USB-C link only (manual: "WBM only accessible via USB after
    module switch-over", 192.168.5.1); a head that listens on loopback only (development) stays there."""
    if role != CLIENT or _loopback(runtime.listen_host):
        return runtime.listen_host
    return USB_HEAD
