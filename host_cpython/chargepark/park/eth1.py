"""ETH1, the park's server-client link (manual "WBM - Network": no configuration option; it is set up by
"setting the operating mode to Client"): a systemd-networkd file from the station's role, the server at
192.168.4.1, a client at the ETH1 address its Module Switch names, both in the park's /24. Written below
the network backend's root and made live with networkctl, as ETH0 is (network/host.py: the machine's own
root and commands on a head, a development root with the commands only listed elsewhere)."""

from __future__ import annotations

from typing import Any

from chargepark.config.checks import PARK_NET, PARK_SERVER, park_client_problem
from chargepark.network import layout, links
from chargepark.network.files import File
from chargepark.network.host import NetworkHost

HEADER = "Written by the Module Switch from the station's role; local edits are overwritten."


class Eth1Refused(ValueError):
    """The role and address make no ETH1 configuration, or it could not be applied (the old one stays)."""


def address_of(role: str, address: str) -> str:
    if role == "server":
        return str(PARK_SERVER)
    problem = park_client_problem(address)
    if problem:
        raise Eth1Refused(problem)
    return address


def network_file(role: str, address: str) -> str:
    """ETH1's .network file: one static address in the park's subnet, nothing beyond the link (no gateway,
    no DNS, no IPv6 autoconfiguration: the link only carries the park)."""
    lines = [
        "# " + HEADER,
        "[Match]",
        "Name=" + layout.ETH1,
        "",
        "[Network]",
        "Address=%s/%d" % (address_of(role, address), PARK_NET.prefixlen),
        "LinkLocalAddressing=no",
        "IPv6AcceptRA=no",
        # the address stays without a cable: the server's broker binds it at start (park/startup.py)
        "ConfigureWithoutCarrier=yes",
    ]
    return "\n".join(lines) + "\n"


def commands() -> list[list[str]]:
    return [["networkctl", "reload"], ["networkctl", "reconfigure", layout.ETH1]]


def apply(host: NetworkHost, role: str, address: str) -> dict[str, Any]:
    """Writes ETH1's file for `role` and has networkd take it; if a command fails, the previous file is put
    back (and taken again) and Eth1Refused says why."""
    new = File(layout.ETH1_NETWORK, network_file(role, address))
    try:
        done = links.apply(host, layout.ETH1, new, commands())
    except links.LinkRefused as exc:
        raise Eth1Refused(str(exc)) from exc
    return {"address": address_of(role, address), **done}
