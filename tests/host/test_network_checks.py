"""The manual's network rules, enforced by the store's validation (schemas.NETWORK_CHECKS)."""

from __future__ import annotations

from typing import Any

import chargeschema
import pytest
from chargepark.config.areas import area


def errors(**changes: Any) -> dict[str, str]:
    try:
        area("network").validate(changes)
    except chargeschema.Invalid as exc:
        return dict(exc.errors)
    return {}


STATIC = dict(dhcp=False, ip_address="192.168.1.20", subnet_mask="255.255.255.0", gateway="192.168.1.1")


def test_a_sound_static_setting_passes() -> None:
    assert errors(**STATIC) == {}


@pytest.mark.parametrize("field", ["ip_address", "gateway"])
@pytest.mark.parametrize("address", ["192.168.4.10", "192.168.5.1"])
def test_eth0_address_and_gateway_never_in_the_usb_and_park_subnets(field: str, address: str) -> None:
    record = dict(STATIC, ip_address="192.168.4.20", subnet_mask="255.255.254.0", gateway="192.168.4.1")
    record[field] = address
    assert "192.168.4.x and 192.168.5.x are reserved" in errors(**record)[field]


def test_eth0_and_the_wlan_access_point_not_in_one_subnet() -> None:
    wlan = dict(wlan_enabled=True, wlan_ssid="cp", wlan_password="12345678", ap_network="192.168.1.1/24",
                ap_ip="192.168.1.1", ap_dhcp_from="192.168.1.100", ap_dhcp_to="192.168.1.200")  # fmt: skip
    assert "different subnets" in errors(**STATIC, **wlan)["ip_address"]
    assert errors(**STATIC, **dict(wlan, ap_network="192.168.9.1/24", ap_ip="192.168.9.1",
                                   ap_dhcp_from="192.168.9.100", ap_dhcp_to="192.168.9.200")) == {}  # fmt: skip


def test_at_most_three_dns_servers_each_an_address() -> None:
    three = [{"address": "10.0.0.%d" % i} for i in (1, 2, 3)]
    assert errors(dns=three) == {}
    assert errors(dns=[*three, {"address": "10.0.0.4"}]) == {"dns": "at most 3 entries"}
    assert "IPv4" in errors(dns=[{"address": "dns.example"}])["dns[0].address"]


def test_static_address_and_gateway_are_hosts_of_the_eth0_subnet() -> None:
    assert "must lie in the subnet 192.168.1.0/24" in errors(**dict(STATIC, gateway="10.0.0.1"))["gateway"]
    assert "network or broadcast" in errors(**dict(STATIC, ip_address="192.168.1.255"))["ip_address"]
    assert "network or broadcast" in errors(**dict(STATIC, ip_address="192.168.1.0"))["ip_address"]
    # With DHCP the static fields are not used and not judged.
    assert errors(dhcp=True, ip_address="192.168.1.20", subnet_mask="255.255.255.0", gateway="10.0.0.1") == {}


def test_access_point_network_not_in_the_reserved_subnets() -> None:
    got = errors(ap_network="192.168.5.1/24", ap_ip="192.168.5.1", ap_dhcp_from="192.168.5.10",
                 ap_dhcp_to="192.168.5.20")  # fmt: skip
    assert "reserved" in got["ap_network"]


def test_wlan_on_needs_a_network_name_and_an_ascii_password() -> None:
    assert errors(wlan_enabled=True, wlan_password="12345678") == {"wlan_ssid": "required when WLAN is on"}
    assert "printable ASCII" in errors(wlan_password="pässwort1")["wlan_password"]
    assert "printable ASCII" in errors(wlan_password="line\nbreak1")["wlan_password"]


def test_ports_unique_per_direction() -> None:
    ports = [{"port": 25, "open": False, "label": "", "direction": "out"},
             {"port": 25, "open": True, "label": "", "direction": "in"}]  # fmt: skip
    assert errors(ports=ports) == {}
    assert errors(ports=[*ports, dict(ports[0])]) == {"ports[2].port": "listed twice"}


def test_openvpn_on_needs_a_pasted_or_an_imported_configuration() -> None:
    assert "required" in errors(openvpn_mode="on")["openvpn_config"]
    assert errors(openvpn_mode="on", openvpn_imported="site.ovpn") == {}
    assert errors(openvpn_mode="on_request", openvpn_config="client\n") == {}
