"""usb0, the USB-C service port, applied by the real systemd-networkd in a "head" namespace this test
creates (its veth end named usb0; never the machine's own interfaces), with a "PC" namespace whose own
networkd asks for an address by DHCP, as a laptop on the USB-C cable does: the PC gets one from the pool,
reaches the head at 192.168.5.1, and gets no default route from it. Needs what tests/e2e/test_network_netns.py
needs (root, iproute2, iputils-ping, systemd-networkd)."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from chargepark.config.checks import USB_HEAD, USB_NET
from chargepark.network import layout, usb0
from chargepark.network.files import File, write_atomic
from chargepark.network.host import NetworkHost

from tests.e2e.test_network_netns import OUTSIDE, Pair, _require_privileges, end, sh, start_networkd, wait_for

PC_NETWORK = "etc/systemd/network/50-pc.network"  # the PC's side: DHCP on its end of the cable


@pytest.fixture
def cable(tmp_path: Path) -> Iterator[tuple[Pair, Pair]]:
    """(head, pc): each a namespace with its own networkd to start, joined by a veth pair usb0 <-> usb0."""
    _require_privileges()
    tag = "%d%d" % (os.getpid(), time.monotonic_ns() % 100000)
    head = Pair(head="cpusb-h" + tag, peer="cpusb-p" + tag, tmp=tmp_path)
    pc = Pair(head=head.peer, peer=head.head, tmp=tmp_path)
    sh("ip", "netns", "add", head.head)
    try:
        sh("ip", "netns", "add", pc.head)
        sh("ip", "-n", head.head, "link", "add", "usb0", "type", "veth", "peer", "name", "usb0",
           "netns", pc.head)  # fmt: skip
        for ns in (head.head, pc.head):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        yield head, pc
    finally:
        end(head.procs + pc.procs, (head.head, pc.head))


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
    write_atomic(pc_root, File(PC_NETWORK, "[Match]\nName=usb0\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\n"))
    start_networkd(head, head_root)
    start_networkd(pc, pc_root)
    leased = wait_for("the PC's DHCP lease", lambda: pc_address(pc), 60)
    assert leased in USB_NET and leased != ipaddress.IPv4Address(USB_HEAD)
    pool = range(usb0.POOL_OFFSET, usb0.POOL_OFFSET + usb0.POOL_SIZE)
    assert int(leased) - int(USB_NET.network_address) in pool
    ping = ("ping", "-c", "1", "-W", "1", USB_HEAD)
    wait_for("the PC reaching the head", lambda: sh(*pc.in_ns(pc.head, *ping), check=False).returncode == 0, 30)
    routes = pc.head_json("-4", "route")
    assert not [r for r in routes if r.get("dst") == "default"], routes  # the laptop keeps its own route
