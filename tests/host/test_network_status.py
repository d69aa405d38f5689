"""Status read back: the modem's fields from `mmcli -J` (a fake mmcli: no ModemManager test double exists),
"Not Available" without a modem, the OpenVPN management socket, wpa_cli output and the route flags."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from chargepark.config.areas import area
from chargepark.network import firewall, modem, openvpn, routes, status, wlan
from chargepark.network.runner import Runner

MODEM = "/org/freedesktop/ModemManager1/Modem/3"
SIM = "/org/freedesktop/ModemManager1/SIM/3"
BEARER = "/org/freedesktop/ModemManager1/Bearer/1"


def fake_mmcli(tmp: Path, answers: dict[str, Any]) -> Runner:
    """A runner whose `mmcli` answers each `-J` query from `answers` (keyed by the arguments)."""
    (tmp / "answers.json").write_text(json.dumps(answers))
    exe = tmp / "mmcli"
    exe.write_text(
        "#!%s\nimport json, sys\nkey = ' '.join(a for a in sys.argv[1:] if a != '-J')\n"
        "print(json.dumps(json.load(open(%r)).get(key, {})))\n" % (sys.executable, str(tmp / "answers.json"))
    )
    exe.chmod(0o755)
    return Runner(tools={"mmcli": str(exe)})


def answers(
    generic: dict[str, Any], gpp: dict[str, Any] | None = None, bearer: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "-L": {"modem-list": [MODEM]},
        "-m " + MODEM: {"modem": {"generic": generic, "3gpp": gpp or {}}},
        "-i " + SIM: {"sim": {"properties": {"imsi": "262011234567890", "iccid": "8949011234567890123"}}},
        "-b " + BEARER: {"bearer": bearer or {}},
        "-m %s --signal-get" % MODEM: {"modem": {"signal": {"lte": {"rssi": "-88.00"}}}},
    }


GENERIC = {"manufacturer": "Quectel", "model": "EG25", "revision": "R07", "state": "connected", "sim": SIM,
           "signal-quality": {"value": "85"}, "access-technologies": ["lte"], "bearers": [BEARER],
           "own-numbers": ["+4915112345678"], "unlock-required": "--"}  # fmt: skip
BEARER_UP = {"status": {"connected": "yes", "interface": "wwan0"}, "properties": {"apn": "internet"},
             "ipv4-config": {"method": "static", "address": "10.64.1.2", "prefix": "30", "dns": ["10.64.0.53"]},
             "stats": {"bytes-rx": "1234", "bytes-tx": "567"}}  # fmt: skip


def test_every_manual_modem_field_from_mmcli(tmp_path: Path) -> None:
    runner = fake_mmcli(tmp_path, answers(GENERIC, {"imei": "356938035643809", "operator-name": "Testnet",
                                                    "registration-state": "home"}, BEARER_UP))  # fmt: skip
    got = modem.status(runner)
    assert got == {
        "provider": "Testnet", "apn": "internet", "registration": "Registered", "roaming": "HOME",
        "signal_quality": "Excellent", "rssi_dbm": "-88.00", "cqi": "Not Available", "radio_technology": "LTE",
        "imsi": "262011234567890", "iccid": "8949011234567890123", "msisdn": "+4915112345678", "sim": "READY",
        "connection": "Connected", "ip": "10.64.1.2", "dns_primary": "10.64.0.53",
        "dns_secondary": "Not Available", "rx_bytes": "1234", "tx_bytes": "567", "imei": "356938035643809",
        "manufacturer": "Quectel", "model": "EG25", "revision": "R07",
    }  # fmt: skip
    assert set(got) == set(modem.FIELDS)


@pytest.mark.parametrize(
    ("generic", "sim"),
    [
        ({"sim": SIM, "unlock-required": "sim-pin"}, "SIM PIN required"),
        ({"sim": SIM, "unlock-required": "sim-puk"}, "SIM PUK required"),
        ({"sim": "--"}, "SIM not inserted"),
        ({"state": "failed", "state-failed-reason": "sim-missing"}, "SIM not inserted"),
        ({"state": "failed", "state-failed-reason": "sim-error"}, "SIM failure"),
    ],
)
def test_sim_states(tmp_path: Path, generic: dict[str, Any], sim: str) -> None:
    got = modem.status(fake_mmcli(tmp_path, answers(generic, {"registration-state": "searching"})))
    assert (got["sim"], got["registration"], got["connection"]) == (sim, "Searching", "Disconnected")


@pytest.mark.parametrize(("percent", "label"), [("0", "Unknown"), ("19", "Marginal or less"), ("20", "Marginal"),
                                                 ("59", "OK"), ("79", "Good"), ("100", "Excellent"), ("", "Unknown")])  # fmt: skip
def test_signal_quality_words(percent: str, label: str) -> None:
    assert modem.quality(percent) == label


def test_without_a_modem_everything_is_not_available(tmp_path: Path) -> None:
    absent = Runner(tools={"mmcli": str(tmp_path / "no-such-mmcli")})
    assert set(modem.status(absent).values()) == {"Not Available"}
    assert set(modem.status(fake_mmcli(tmp_path, {"-L": {"modem-list": []}})).values()) == {"Not Available"}


def test_roaming_and_denied_registration(tmp_path: Path) -> None:
    got = modem.status(fake_mmcli(tmp_path, answers(GENERIC, {"registration-state": "roaming"})))
    assert (got["registration"], got["roaming"]) == ("Registered", "ROAMING")
    got = modem.status(fake_mmcli(tmp_path, answers(GENERIC, {"registration-state": "denied"})))
    assert got["registration"] == "Registration denied"


def test_connect_argument_quotes_separators() -> None:
    c = {"apn": "web.de", "apn_use_credentials": True, "apn_user": "me", "apn_password": "p=w,d"}
    assert modem.connect_argument(c) == "--simple-connect=apn=web.de,user=me,password='p=w,d'"
    assert modem.connect_argument(dict(c, apn_use_credentials=False)) == "--simple-connect=apn=web.de"


def serve_management(path: Path, reply: bytes) -> threading.Thread:
    """A one-shot stand-in for the client's management socket answering `state`."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def answer() -> None:
        conn, _ = srv.accept()
        with conn, srv:
            conn.sendall(b">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n")
            assert conn.recv(100) == b"state\n"
            conn.sendall(reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


def test_openvpn_status_from_the_management_socket(tmp_path: Path) -> None:
    sock = tmp_path / "m.sock"
    thread = serve_management(sock, b"1700000000,CONNECTED,SUCCESS,10.8.0.2,198.51.100.4,1194,,,\r\nEND\r\n")
    got = openvpn.status("client\nremote 198.51.100.4 1194\n", str(sock))
    thread.join(5)
    assert got["status"] == "connected" and got["private_ip"] == "10.8.0.2"
    assert got["server_ip"] == "198.51.100.4" and got["connected_since"] == "2023-11-14T22:13:20Z"
    assert got["connected_s"] > 0


def test_openvpn_status_without_a_client_is_not_connected(tmp_path: Path) -> None:
    got = openvpn.status("client\nremote vpn.example.com\n", str(tmp_path / "none.sock"))
    assert got == {"status": "not connected", "server_ip": "", "private_ip": "", "connected_since": "",
                   "connected_s": 0}  # fmt: skip
    sock = tmp_path / "m.sock"
    thread = serve_management(sock, b"1700000000,RECONNECTING,init_instance,,,,,,\r\nEND\r\n")
    assert openvpn.status("", str(sock))["status"] == "not connected"
    thread.join(5)


def test_wlan_scan_list_strongest_first_one_row_per_network() -> None:
    text = ("bssid / frequency / signal level / flags / ssid\n"
            "aa:bb:cc:00:00:01\t2437\t-70\t[WPA2-PSK-CCMP][ESS]\tDepot\n"
            "aa:bb:cc:00:00:02\t5180\t-50\t[WPA2-PSK-CCMP][ESS]\tDepot\n"
            "aa:bb:cc:00:00:03\t2412\t-60\t[ESS]\tCafe\n"
            "aa:bb:cc:00:00:04\t2412\t-40\t[ESS]\t\n")  # fmt: skip
    assert [(r["ssid"], r["signal_dbm"], r["encrypted"]) for r in wlan.parse_scan(text)] == [
        ("Depot", -50, True), ("Cafe", -60, False)]  # fmt: skip
    status = wlan.parse_key_values("bssid=aa:bb\nssid=Depot\nwpa_state=COMPLETED\nip_address=10.1.1.5\n")
    assert (status["wpa_state"], status["ip_address"]) == ("COMPLETED", "10.1.1.5")


def test_route_rows_with_the_manual_flags_and_persistence() -> None:
    ip_json = json.dumps([
        {"dst": "default", "gateway": "192.168.1.1", "dev": "eth0", "protocol": "dhcp", "metric": 100},
        {"dst": "10.9.0.0/16", "gateway": "192.168.1.254", "dev": "eth0", "metric": 3},
        {"dst": "192.168.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link"},
        {"dst": "203.0.113.9", "dev": "ppp0", "protocol": "static", "type": "unreachable"},
    ])  # fmt: skip
    configured = [{"network": "10.9.0.0/16", "gateway": "192.168.1.254", "interface": "eth0", "metric": 3}]
    rows = routes.table(ip_json, configured)
    assert [(r["destination"], r["genmask"], r["flags"], r["persistent"]) for r in rows] == [
        ("0.0.0.0", "0.0.0.0", "UGD", False),
        ("10.9.0.0", "255.255.0.0", "UGS", True),
        ("192.168.1.0", "255.255.255.0", "U", False),
        ("203.0.113.9", "255.255.255.255", "UHRS", False),
    ]  # fmt: skip


def tool(tmp: Path, name: str, script: str) -> str:
    exe = tmp / name
    exe.write_text("#!%s\nimport sys\nargs = sys.argv[1:]\n%s" % (sys.executable, script))
    exe.chmod(0o755)
    return str(exe)


def test_wlan_infrastructure_status_from_wpa_cli_and_ip(tmp_path: Path) -> None:
    wpa = tool(tmp_path, "wpa_cli", "print({'status': 'ssid=Depot\\nwpa_state=COMPLETED', "
                                    "'signal_poll': 'RSSI=-61\\nLINKSPEED=72'}[args[-1]])\n")  # fmt: skip
    addr = [
        {
            "ifname": "wlan0",
            "address": "02:00:00:00:00:01",
            "addr_info": [
                {"family": "inet", "local": "10.20.0.7", "prefixlen": 24, "broadcast": "10.20.0.255"}
            ],
        }
    ]
    default = [{"dst": "default", "gateway": "10.20.0.1", "dev": "wlan0"}]  # fmt: skip
    ip = tool(
        tmp_path, "ip", "print(%r if 'addr' in args else %r)\n" % (json.dumps(addr), json.dumps(default))
    )
    c = area("network").validate({"wlan_enabled": True, "wlan_mode": "infrastructure", "wlan_ssid": "Depot",
                                  "wlan_password": "12345678", "dns": [{"address": "10.20.0.1"}]})  # fmt: skip
    got = status.wlan_status(Runner(tools={"wpa_cli": wpa, "ip": ip}), c)
    assert got == {"enabled": True, "mode": "infrastructure", "ssid": "Depot", "status": "COMPLETED",
                   "ip": "10.20.0.7", "signal_dbm": "-61", "gateway": "10.20.0.1", "dns": "10.20.0.1"}  # fmt: skip
    off = status.wlan_status(Runner(tools={"wpa_cli": wpa, "ip": ip}), area("network").defaults())
    assert off["status"] == off["ip"] == "Not Available"


def test_a_leased_eth0_address_in_the_access_point_subnet_is_reported() -> None:
    c = area("network").validate({"wlan_enabled": True, "wlan_ssid": "cp", "wlan_password": "12345678"})
    assert "share a subnet" in status.same_subnet_warning({"ipv4": "192.168.0.57", "prefix": 24}, c)
    assert status.same_subnet_warning({"ipv4": "10.0.0.57", "prefix": 24}, c) == ""
    assert status.same_subnet_warning({"ipv4": "", "prefix": 0}, c) == ""


# `nft -j list table inet chargepark` (nft 1.0.6) of the rendered ruleset with 4444 closed outgoing: the
# table and its port rules as nft answered them (tests/e2e/test_network_netns.py reads a loaded one).
NFT_JSON = json.dumps({"nftables": [
    {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
    {"table": {"family": "inet", "name": "chargepark", "handle": 2}},
    {"rule": {"family": "inet", "table": "chargepark", "chain": "input", "handle": 8, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": {"set": [68, 546]}}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "chargepark", "chain": "input", "handle": 9, "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["tcp", "udp"]}}},
        {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": {"set": [22, 502]}}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "chargepark", "chain": "output", "handle": 12, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 4444}},
        {"reject": {"type": "tcp reset"}}]}},
]})  # fmt: skip


def test_port_sharing_read_back_from_nft() -> None:
    assert firewall.applied(NFT_JSON) == {"loaded": True, "open_in": [22, 502], "closed_out": [4444]}
    assert firewall.applied("") == {"loaded": False, "open_in": [], "closed_out": []}  # no table (nft failed)
    assert firewall.applied("not json")["loaded"] is False
