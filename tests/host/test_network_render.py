"""The renderers are pure functions record -> files; each output is compared with its golden text here.
(The same files are applied for real in tests/e2e/test_network_netns.py.)"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from chargepark.config.areas import area
from chargepark.network import eth0, files, firewall, layout, openvpn, routes, wlan
from chargepark.network.render import render

HEADER = "# Written by `chargepark network apply` from the network area; local edits are overwritten.\n"


def network(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = area("network").validate(changes)
    return record


def test_eth0_static_with_gateway_and_dns() -> None:
    c = network(dhcp=False, ip_address="192.168.1.20", subnet_mask="255.255.255.0", gateway="192.168.1.1",
                hostname="cp-west", dns=[{"address": "192.168.1.1"}, {"address": "9.9.9.9"}])  # fmt: skip
    assert eth0.network_file(c) == HEADER + (
        "[Match]\nName=eth0\n\n[Network]\nAddress=192.168.1.20/24\nDNS=192.168.1.1\nDNS=9.9.9.9\n\n"
        "[Route]\nGateway=192.168.1.1\nMetric=100\n"
    )
    files = {f.path: f for f in eth0.render(c)}
    assert files[layout.HOSTNAME].text == "cp-west\n"


def test_eth0_static_without_gateway_has_no_route() -> None:
    c = network(dhcp=False, ip_address="10.0.0.5", subnet_mask="255.0.0.0")
    assert eth0.network_file(c) == HEADER + "[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.5/8\n"


def test_eth0_dhcp_sends_the_host_name_and_no_gateway_drops_the_offered_one() -> None:
    c = network(dhcp=True, no_gateway=True, hostname="ev3000", dns=[{"address": "1.1.1.1"}])
    assert eth0.network_file(c) == HEADER + (
        "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\nDNS=1.1.1.1\n\n"
        "[DHCPv4]\nSendHostname=yes\nHostname=ev3000\nRouteMetric=100\nUseGateway=no\n\n"
        "[IPv6AcceptRA]\nRouteMetric=100\nUseGateway=no\n"
    )
    assert "UseGateway" not in eth0.network_file(network(dhcp=True))


AP = dict(wlan_enabled=True, wlan_ssid="Ladepark Süd", wlan_password="geheim123", wlan_encryption="wpa3",
          wlan_band="5ghz", wlan_country="AT", ap_network="192.168.50.1/24", ap_ip="192.168.50.1",
          ap_dhcp_from="192.168.50.10", ap_dhcp_to="192.168.50.49", ap_timeout_s=600)  # fmt: skip


def test_access_point_hostapd_network_and_timeout() -> None:
    files = {f.path: f for f in wlan.render(network(**AP))}
    assert files[layout.HOSTAPD].mode == 0o600  # it holds the password
    assert files[layout.HOSTAPD].text == HEADER + (
        "# network name: 'Ladepark Süd'\ninterface=wlan0\ndriver=nl80211\nssid2=4c6164657061726b2053c3bc64\n"
        "utf8_ssid=1\ncountry_code=AT\nieee80211d=1\nhw_mode=a\nchannel=36\nieee80211n=1\nieee80211ac=1\n"
        "auth_algs=1\nwpa=2\nwpa_key_mgmt=SAE\nrsn_pairwise=CCMP\nieee80211w=2\nsae_password=geheim123\n"
    )
    assert files[layout.WLAN_NETWORK].text == HEADER + (
        "[Match]\nName=wlan0\n\n[Network]\nAddress=192.168.50.1/24\nDHCPServer=yes\n\n"
        "[DHCPServer]\nPoolOffset=10\nPoolSize=40\n"
    )
    unit = files[layout.AP_TIMEOUT_UNIT].text
    assert unit is not None and "sleep 600;" in unit and "hostapd_cli -i wlan0 all_sta" in unit
    assert files[layout.WPA_SUPPLICANT].text is None


@pytest.mark.parametrize(
    ("encryption", "lines"),
    [
        ("wpa2", "wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=geheim123\n"),
        ("none", ""),
    ],
)
def test_access_point_encryptions_and_the_2_4_ghz_band(encryption: str, lines: str) -> None:
    c = network(**dict(AP, wlan_encryption=encryption, wlan_band="2.4ghz", ap_timeout_s=0))
    text = wlan.hostapd_conf(c)
    assert text.endswith("hw_mode=g\nchannel=6\nieee80211n=1\nauth_algs=1\n" + lines)
    assert {f.path: f.text for f in wlan.render(c)}[layout.AP_TIMEOUT_UNIT] is None


def test_infrastructure_wpa_supplicant_and_dhcp() -> None:
    c = network(wlan_enabled=True, wlan_mode="infrastructure", wlan_ssid="Depot", wlan_password="pass word1")
    files = {f.path: f for f in wlan.render(c)}
    assert files[layout.WPA_SUPPLICANT].text == HEADER + (
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\nupdate_config=0\ncountry=DE\nnetwork={\n"
        '\tssid=4465706f74\n\tscan_ssid=1\n\tpsk="pass word1"\n\tkey_mgmt=WPA-PSK WPA-PSK-SHA256 SAE\n'
        "\tieee80211w=1\n}\n"
    )
    assert files[layout.WLAN_NETWORK].text == HEADER + "[Match]\nName=wlan0\n\n[Network]\nDHCP=ipv4\n"
    assert files[layout.HOSTAPD].text is None
    open_net = network(
        wlan_enabled=True, wlan_mode="infrastructure", wlan_ssid="Cafe", wlan_encryption="none"
    )
    assert "\tkey_mgmt=NONE\n" in wlan.wpa_supplicant_conf(open_net)


def test_wlan_off_removes_every_wlan_file() -> None:
    assert all(f.text is None for f in wlan.render(network()))


def with_ports(*extra: dict[str, Any]) -> dict[str, Any]:
    return network(ports=network()["ports"] + list(extra))


FIREWALL_GOLDEN = """#!/usr/sbin/nft -f
{header}# Port Sharing: open incoming ports 22,80,81,443,502,1603,2106,5000,5353,8443,9502; closed outgoing ports 25.
table inet chargepark
delete table inet chargepark
table inet chargepark {{
\tchain input {{
\t\ttype filter hook input priority filter; policy drop;
\t\tiifname {{ "lo", "eth1", "usb0" }} accept
\t\tct state established,related accept
\t\tct state invalid drop
\t\tmeta l4proto {{ icmp, ipv6-icmp }} accept
\t\tudp dport {{ 68, 546 }} accept
\t\tmeta l4proto {{ tcp, udp }} th dport {{ 22, 80, 81, 443, 502, 1603, 2106, 5000, 5353, 8443, 9502 }} accept
\t\tmeta l4proto tcp reject with tcp reset
\t\tmeta l4proto udp reject with icmpx port-unreachable
\t}}
\tchain output {{
\t\ttype filter hook output priority filter; policy accept;
\t\toifname {{ "lo", "eth1", "usb0" }} accept
\t\tmeta l4proto tcp th dport {{ 25 }} reject with tcp reset
\t\tmeta l4proto udp th dport {{ 25 }} reject with icmpx port-unreachable
\t}}
}}
"""


def test_firewall_opens_the_open_incoming_ports_and_refuses_closed_outgoing_ones() -> None:
    c = with_ports({"port": 8443, "open": True, "label": "custom", "direction": "in"},
                   {"port": 25, "open": False, "label": "smtp", "direction": "out"})  # fmt: skip
    assert firewall.ruleset(c) == FIREWALL_GOLDEN.format(header=HEADER.replace("{", "{{"))
    # The manual's defaults: 1883 and 5555 closed, every other listed port open, nothing closed outgoing.
    default = firewall.ruleset(network())
    assert "th dport { 22, 80, 81, 443, 502, 1603, 2106, 5000, 5353, 9502 } accept" in default
    assert "chain output" in default and "reject with tcp reset\n\t\tmeta l4proto udp th" not in default


def test_firewall_lets_access_point_clients_reach_its_dhcp_server() -> None:
    rule = '\t\tiifname "wlan0" udp dport 67 accept\n'
    assert rule in firewall.ruleset(network(**AP))
    assert rule not in firewall.ruleset(network(**dict(AP, wlan_mode="infrastructure")))
    assert rule not in firewall.ruleset(network())


def test_firewall_with_every_port_closed_opens_none() -> None:
    closed = [dict(e, open=False) for e in network()["ports"]]
    text = firewall.ruleset(network(ports=closed))
    assert "th dport {" not in text and "open incoming ports none" in text


def test_firewall_ruleset_is_valid_nft_syntax() -> None:
    """`nft -c` parses the ruleset without loading it (needs nftables and CAP_NET_ADMIN, as root in CI)."""
    if shutil.which("nft") is None:
        pytest.fail("nft missing: ./dev.sh setup installs nftables")
    c = network(
        **dict(
            AP, ports=with_ports({"port": 25, "open": False, "label": "smtp", "direction": "out"})["ports"]
        )
    )
    done = subprocess.run(["nft", "-c", "-f", "-"], input=firewall.ruleset(c), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_routes_batch_normalises_the_network() -> None:
    c = network(routes=[{"network": "10.1.2.3/8", "gateway": "192.168.1.254", "interface": "eth0", "metric": 5},
                        {"network": "172.16.0.0/12", "gateway": "10.8.0.1", "interface": "ppp0", "metric": 0}])  # fmt: skip
    assert routes.batch(c) == HEADER + (
        "# Replayed at boot by chargepark-routes.service (ip -force -batch).\n"
        "route replace 10.0.0.0/8 via 192.168.1.254 dev eth0 metric 5\n"
        "route replace 172.16.0.0/12 via 10.8.0.1 dev ppp0 metric 0\n"
    )


def test_routes_commands_delete_what_the_previous_apply_installed_and_the_new_one_drops() -> None:
    old = routes.batch(
        network(routes=[{"network": "10.0.0.0/8", "gateway": "1.2.3.4", "interface": "eth0", "metric": 1}])
    )
    new = routes.batch(network())
    cmds = routes.commands("/r", old, new)
    assert ["ip", "route", "del", "10.0.0.0/8", "via", "1.2.3.4", "dev", "eth0", "metric", "1"] in cmds
    assert not any("-batch" in c for c in cmds)  # nothing to replay
    assert ["ip", "-force", "-batch", "/r/etc/chargepark/routes.batch"] in routes.commands("/r", None, old)


def test_openvpn_tap_becomes_tun_and_inline_blocks_stay_untouched() -> None:
    text = "client\ndev tap0\ndev-type tap\nremote vpn.example.com 1194\n<ca>\ndev tap\n</ca>\n"
    assert openvpn.client_conf(text) == (
        "client\n# chargepark: was 'dev tap0' (only tun is supported)\ndev tun\n"
        "# chargepark: was 'dev-type tap' (only tun is supported)\ndev-type tun\n"
        "remote vpn.example.com 1194\n<ca>\ndev tap\n</ca>\n" + HEADER +
        "management /run/chargepark/openvpn.sock unix\nstatus /run/chargepark/openvpn.status 10\n"
    )  # fmt: skip
    assert "management" not in openvpn.client_conf(text, managed=False)


def test_openvpn_file_from_the_pasted_text_else_the_imported_one() -> None:
    pasted = network(openvpn_mode="on", openvpn_config="client\nremote 10.0.0.1\n")
    vpn, _ = openvpn.render(pasted, "client\nremote 10.9.9.9\n")
    assert vpn.mode == 0o600 and vpn.text is not None and "remote 10.0.0.1" in vpn.text
    imported = network(openvpn_mode="on_request", openvpn_imported="site.ovpn")
    vpn, _ = openvpn.render(imported, "client\nremote 10.9.9.9\n")
    assert vpn.text is not None and "remote 10.9.9.9" in vpn.text
    assert [f.text for f in openvpn.render(network(), None)] == [None, None]


def test_openvpn_runtime_directory_is_made_at_boot_by_systemd_tmpfiles(tmp_path: Path) -> None:
    """A client enabled at boot may start before the head (whose unit also makes /run/chargepark): openvpn
    refuses to start when its management socket's or status file's directory is missing."""
    c = network(openvpn_mode="on", openvpn_config="client\nremote 10.0.0.1\n")
    for f in openvpn.render(c, None):
        files.write_atomic(tmp_path, f)
    conf = tmp_path / layout.RUNTIME_TMPFILES
    done = subprocess.run(["systemd-tmpfiles", "--create", "--root", str(tmp_path), str(conf)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for path in (layout.OPENVPN_MANAGEMENT, layout.OPENVPN_STATUS):
        made = tmp_path / Path(path).parent.relative_to("/")
        assert made.is_dir() and stat.S_IMODE(made.stat().st_mode) == 0o755


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("on", [["systemctl", "enable", layout.OPENVPN_SERVICE], ["systemctl", "restart", layout.OPENVPN_SERVICE]]),
        ("off", [["systemctl", "disable", "--now", layout.OPENVPN_SERVICE]]),
        ("on_request", [["systemctl", "disable", layout.OPENVPN_SERVICE],
                        ["systemctl", "try-restart", layout.OPENVPN_SERVICE]]),
    ],
)  # fmt: skip
def test_openvpn_activation_modes(mode: str, expected: list[list[str]]) -> None:
    assert openvpn.commands(network(openvpn_mode=mode, openvpn_config="client\n")) == expected


def test_openvpn_server_ip_only_from_an_address_never_resolved() -> None:
    assert openvpn.server_ip("client\nremote 203.0.113.7 1194 udp\n") == "203.0.113.7"
    assert openvpn.server_ip("client\nremote vpn.example.com 1194\n") == ""


def test_render_is_pure_and_names_every_file_once() -> None:
    c = network(**AP)
    first, second = render(c), render(c)
    assert first == second
    paths = [f.path for f in first]
    assert len(paths) == len(set(paths)) and all(not p.startswith("/") for p in paths)
