"""ETH1, the park's server-client link, configured from the station's role as the Module Switch does and
applied by the real systemd-networkd in two network namespaces this test creates (a server and a client
whose veth ends are both named eth1; never the machine's own interfaces): the client reaches the server at
192.168.4.1 and the server the client at the address its Module Switch named. Needs what
tests/e2e/test_network_netns.py needs (root, iproute2, iputils-ping, systemd-networkd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chargepark.network import layout
from chargepark.network.files import File, write_atomic
from chargepark.network.host import NetworkHost
from chargepark.park import eth1

from tests.e2e.test_network_netns import OUTSIDE, Pair, joined, sh, start_networkd, wait_for

CLIENT_IP = "192.168.4.23"


@pytest.fixture
def park(tmp_path: Path) -> Iterator[tuple[Pair, Pair]]:
    """(server, client): each a namespace with its own networkd to start, joined by an eth1 veth pair."""
    with joined(tmp_path, "cppark", "eth1") as ends:
        yield ends


def reaches(p: Pair, address: str) -> bool:
    return sh(*p.in_ns(p.head, "ping", "-c", "1", "-W", "1", address), check=False).returncode == 0


def test_a_switched_client_and_the_server_reach_each_other_over_eth1(park: tuple[Pair, Pair]) -> None:
    server, client = park
    server_root, client_root = server.tmp / "server-root", server.tmp / "client-root"
    write_atomic(server_root, File(layout.ETH1_NETWORK, eth1.network_file("server", "")))
    # the client's file as its Module Switch writes it, networkctl mapped to `true` (networkd below reads it)
    host = NetworkHost(client_root, system=True, netns=client.head, tools=OUTSIDE)
    done = eth1.apply(host, "client", CLIENT_IP)
    assert done["address"] == CLIENT_IP and done["changed"] == ["/" + layout.ETH1_NETWORK]
    start_networkd(server, server_root)
    start_networkd(client, client_root)
    wait_for("the client reaching the server at 192.168.4.1", lambda: reaches(client, "192.168.4.1"), 30)
    wait_for("the server reaching the client", lambda: reaches(server, CLIENT_IP), 30)
    addrs = sh("ip", "-n", client.head, "-4", "-o", "addr", "show", "dev", "eth1").stdout
    assert "inet %s/24" % CLIENT_IP in addrs and addrs.count("inet ") == 1
