"""usb0, the USB-C service port: its networkd file (the head at 192.168.5.1, a DHCP pool for the PC with
no router, DNS or NTP offered), applied through networkd's reload only, left as it was when that fails, and
applied by the Web Server before it binds. The real networkd leasing an address to a PC:
tests/e2e/test_usb0_netns.py."""

from __future__ import annotations

import configparser
import ipaddress
import logging
from pathlib import Path

import pytest
from chargepark.config.checks import RESERVED_NETS, USB_HEAD, USB_NET
from chargepark.network import layout, links, usb0
from chargepark.network.host import NetworkHost
from chargepark.services.web_server import main as web_main


def _sections(text: str) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(strict=True)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]  # networkd keys are case-sensitive
    parsed.read_string(text)
    return parsed


def test_the_head_at_192_168_5_1_leases_the_pc_an_address_and_offers_no_route() -> None:
    f = _sections(usb0.network_file())
    assert f["Match"]["Name"] == "usb0"
    assert f["Network"]["Address"] == "192.168.5.1/24" and f["Network"]["DHCPServer"] == "yes"
    server = f["DHCPServer"]
    assert (server["EmitRouter"], server["EmitDNS"], server["EmitNTP"]) == ("no", "no", "no")
    first = USB_NET.network_address + int(server["PoolOffset"])
    last = first + int(server["PoolSize"]) - 1
    assert ipaddress.ip_address(USB_HEAD) < first <= last < USB_NET.broadcast_address  # the head's not leased
    assert USB_NET in RESERVED_NETS  # no network area field may take the port's subnet


def test_applied_with_a_reload_only_and_left_as_it_was_when_networkd_refuses(tmp_path: Path) -> None:
    listed = NetworkHost(tmp_path, system=False)
    done = usb0.apply(listed)
    assert done["changed"] == ["/" + layout.USB0_NETWORK] and done["commands"] == ["networkctl reload"]
    assert (tmp_path / layout.USB0_NETWORK).read_text() == usb0.network_file()
    assert usb0.apply(listed)["changed"] == []  # the same file: nothing written
    (tmp_path / layout.USB0_NETWORK).write_text("# an older file\n")
    failing = NetworkHost(tmp_path, system=True, tools={"networkctl": "false"})
    with pytest.raises(links.LinkRefused, match="USB0 not configured"):
        usb0.apply(failing)
    assert (tmp_path / layout.USB0_NETWORK).read_text() == "# an older file\n"
    (tmp_path / layout.USB0_NETWORK).unlink()
    with pytest.raises(links.LinkRefused):
        usb0.apply(failing)
    assert not (tmp_path / layout.USB0_NETWORK).exists()  # none before: none after


def test_the_web_server_applies_it_and_a_refusal_costs_only_the_port(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    web_main._usb0(NetworkHost(tmp_path, system=False))
    assert (tmp_path / layout.USB0_NETWORK).read_text() == usb0.network_file()
    (tmp_path / layout.USB0_NETWORK).unlink()
    with caplog.at_level(logging.WARNING, logger="chargepark.web"):
        web_main._usb0(NetworkHost(tmp_path, system=True, tools={"networkctl": "false"}))
    assert "USB0 not configured" in caplog.text
    assert not (tmp_path / layout.USB0_NETWORK).exists()
