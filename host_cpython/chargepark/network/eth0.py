"""ETH0 as a systemd-networkd `.network` file, and the host name."""

from __future__ import annotations

import ipaddress
from typing import Any

from chargepark.network import layout
from chargepark.network.files import HEADER, File

Record = dict[str, Any]


def prefix(mask: str) -> int:
    return ipaddress.IPv4Network("0.0.0.0/" + mask).prefixlen


def network_file(c: Record) -> str:
    lines = ["# " + HEADER, "[Match]", "Name=" + layout.ETH0, "", "[Network]"]
    if c["dhcp"]:
        lines.append("DHCP=yes")  # IPv4 from DHCP; IPv6 from DHCPv6/router advertisements
    else:
        lines.append("Address=%s/%d" % (c["ip_address"], prefix(c["subnet_mask"])))
    lines += ["DNS=" + entry["address"] for entry in c["dns"]]
    if c["dhcp"]:
        lines += ["", "[DHCPv4]", "SendHostname=yes", "Hostname=" + c["hostname"]]
        lines.append("RouteMetric=%d" % layout.ETH0_METRIC)
        if c["no_gateway"]:
            lines.append("UseGateway=no")  # "No Gateway": no Internet via ETH0
        lines += ["", "[IPv6AcceptRA]", "RouteMetric=%d" % layout.ETH0_METRIC]
        if c["no_gateway"]:
            lines.append("UseGateway=no")  # nor over IPv6: a router advertisement's default route
    elif c["gateway"]:
        lines += ["", "[Route]", "Gateway=" + c["gateway"], "Metric=%d" % layout.ETH0_METRIC]
    return "\n".join(lines) + "\n"


def render(c: Record) -> list[File]:
    return [File(layout.ETH0_NETWORK, network_file(c)), File(layout.HOSTNAME, c["hostname"] + "\n")]


def commands(c: Record) -> list[list[str]]:
    """Make networkd and the kernel take the new files."""
    return [
        # hostnamed sets it (and /etc/hostname) on the head's behalf: sethostname(2) itself would
        # need CAP_SYS_ADMIN, which the head's unit does not grant (systemd/rights.py).
        ["hostnamectl", "set-hostname", c["hostname"]],
        ["networkctl", "reload"],
        ["networkctl", "reconfigure", layout.ETH0],
    ]
