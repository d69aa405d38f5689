"""The whole network record -> every file the backend owns (pure: same record, same files)."""

from __future__ import annotations

from typing import Any

from chargepark.network import eth0, firewall, openvpn, routes, wlan
from chargepark.network.files import File

Record = dict[str, Any]


def render(c: Record, imported_vpn: str | None = None) -> list[File]:
    """`c` is a clean network record (the store validated it); `imported_vpn` the imported OpenVPN file."""
    return [
        *eth0.render(c),
        *wlan.render(c),
        *firewall.render(c),
        *routes.render(c),
        *openvpn.render(c, imported_vpn),
    ]
