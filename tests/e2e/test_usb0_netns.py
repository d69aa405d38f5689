"""usb0, the USB-C service port, applied by the real systemd-networkd in a "head" namespace this test
creates (its veth end named usb0; never the machine's own interfaces), with a "PC" namespace whose own
networkd asks for an address by DHCP, as a laptop on the USB-C cable does: the PC gets one from the pool,
reaches the head at 192.168.5.1, and gets no default route from it. Needs what tests/e2e/test_network_netns.py
needs (root, iproute2, iputils-ping, systemd-networkd)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from chargepark.config.checks import USB_HEAD, USB_NET
from chargepark.network import layout, usb0
from chargepark.network.files import File, write_atomic
from chargepark.network.host import NetworkHost

from tests.e2e.test_network_netns import OUTSIDE, Pair, joined, sh, start_networkd, wait_for

PC_NETWORK = "etc/systemd/network/50-pc.network"  # the PC's side: DHCP on its end of the cable


@pytest.fixture
def cable(tmp_path: Path) -> Iterator[tuple[Pair, Pair]]:
    """(head, pc): each a namespace with its own networkd to start, joined by a veth pair usb0 <-> usb0."""
    with joined(tmp_path, "cpusb", "usb0") as ends:
        yield ends


def pc_address(pc: Pair) -> ipaddress.IPv4Address | None:
    for link in pc.head_json("-4", "addr", "show", "dev", "usb0"):
        for a in link.get("addr_info", []):
            return ipaddress.IPv4Address(a["local"])
    return None


def test_a_pc_on_the_usb_c_cable_gets_an_address_and_reaches_the_head(cable: tuple[Pair, Pair]) -> None:
    head, pc = cable
    head_root, pc_root = head.tmp / "head-root", head.tmp / "pc-root"
    done = usb0.apply(NetworkHost(head_root, system=True, netns=head.head, tools=OUTSIDE))
    assert done["changed"] == ["/" + layout.USB0_NETWORK]
    write_atomic(
        pc_root, File(PC_NETWORK, "[Match]\nName=usb0\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\n")
    )
    start_networkd(head, head_root)
    start_networkd(pc, pc_root)
    leased = wait_for("the PC's DHCP lease", lambda: pc_address(pc), 60)
    assert leased in USB_NET and leased != ipaddress.IPv4Address(USB_HEAD)
    pool = range(usb0.POOL_OFFSET, usb0.POOL_OFFSET + usb0.POOL_SIZE)
    assert int(leased) - int(USB_NET.network_address) in pool
    ping = ("ping", "-c", "1", "-W", "1", USB_HEAD)
    wait_for(
        "the PC reaching the head", lambda: sh(*pc.in_ns(pc.head, *ping), check=False).returncode == 0, 30
    )
    routes = pc.head_json("-4", "route")
    assert not [r for r in routes if r.get("dst") == "default"], routes  # the laptop keeps its own route
