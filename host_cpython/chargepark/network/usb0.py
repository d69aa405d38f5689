"""usb0, the USB-C service port (manual "Access via the USB-C interface"): the PC that plugs in finds the
WBM at 192.168.5.1, and a client of a park can be reached nowhere else (park/role.py). networkd gives the
head that address and the PC one from the same /24 by DHCP; no router or DNS is offered, so plugging a
laptop in never moves its default route. Applied by the Web Server at its start, before it binds."""

from __future__ import annotations

from typing import Any

from chargepark.config.checks import USB_HEAD, USB_NET
from chargepark.network import layout, links
from chargepark.network.files import File
from chargepark.network.host import NetworkHost

HEADER = "Written by the head for its USB-C service port; local edits are overwritten."
POOL_OFFSET, POOL_SIZE = 10, 20  # the PC's addresses: 192.168.5.10 .. .29


def network_file() -> str:
    lines = [
        "# " + HEADER,
        "[Match]",
        "Name=" + layout.USB0,
        "",
        "[Network]",
        "Address=%s/%d" % (USB_HEAD, USB_NET.prefixlen),
        "DHCPServer=yes",
        "LinkLocalAddressing=no",
        "IPv6AcceptRA=no",
        "",
        "[DHCPServer]",
        "PoolOffset=%d" % POOL_OFFSET,
        "PoolSize=%d" % POOL_SIZE,
        "EmitRouter=no",
        "EmitDNS=no",
        "EmitNTP=no",
    ]
    return "\n".join(lines) + "\n"


def commands() -> list[list[str]]:
    """A reload only: networkd reconfigures the links a new or changed file matches, and takes usb0 up
    whenever the gadget's link appears; `reconfigure` would fail while it is absent."""
    return [["networkctl", "reload"]]


def apply(host: NetworkHost) -> dict[str, Any]:
    return links.apply(host, layout.USB0, File(layout.USB0_NETWORK, network_file()), commands())
