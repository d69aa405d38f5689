"""The network status read back from the system, as one JSON-able document for the WBM (`read`):
ETH0 addresses and counters, WLAN, modem, OpenVPN and the routing table."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from chargepark.network import firewall, layout, modem, openvpn, routes, wlan
from chargepark.network.runner import Runner

Record = dict[str, Any]
NA = layout.NOT_AVAILABLE


def _addr_info(runner: Runner, iface: str) -> Record:
    done = runner.run(["ip", "-j", "addr", "show", "dev", iface], check=False)
    links = json.loads(done.stdout) if done.rc == 0 and done.stdout.strip() else []
    return links[0] if links else {}


def _counter(runner: Runner, iface: str, name: str) -> int | None:
    text = runner.read("/sys/class/net/%s/statistics/%s" % (iface, name))
    return int(text) if text and text.strip().isdigit() else None


def interface(runner: Runner, iface: str) -> Record:
    """The manual's Network Configuration fields of one interface."""
    link = _addr_info(runner, iface)
    v4 = [a for a in link.get("addr_info", []) if a.get("family") == "inet"]
    v6 = [a for a in link.get("addr_info", []) if a.get("family") == "inet6"]
    v6.sort(key=lambda a: a.get("scope") != "global")  # a global address before the link-local one
    first = v4[0] if v4 else {}
    broadcast = first.get("broadcast", "")
    if first and not broadcast:
        broadcast = str(
            ipaddress.IPv4Interface("%s/%d" % (first["local"], first["prefixlen"])).network.broadcast_address
        )
    return {
        "present": bool(link),
        "ipv4": first.get("local", ""),
        "prefix": first.get("prefixlen", 0),
        "broadcast": broadcast,
        "ipv6": v6[0]["local"] if v6 else "",
        "rx_bytes": _counter(runner, iface, "rx_bytes"),
        "tx_bytes": _counter(runner, iface, "tx_bytes"),
        "mac": link.get("address", ""),
    }


def wlan_status(runner: Runner, c: Record) -> Record:
    base = {"enabled": c["wlan_enabled"], "mode": c["wlan_mode"], "ssid": NA, "status": NA, "ip": NA,
            "signal_dbm": NA, "gateway": NA, "dns": NA}  # fmt: skip
    if not c["wlan_enabled"]:
        return base
    ip = interface(runner, layout.WLAN)
    base["ip"] = ip["ipv4"] or NA
    if c["wlan_mode"] == "access_point":
        listed = runner.run(["hostapd_cli", "-i", layout.WLAN, "status"], check=False)
        state = wlan.parse_key_values(listed.stdout) if listed.rc == 0 else {}
        base.update(ssid=c["wlan_ssid"], status=state.get("state", NA))
        return base
    done = runner.run(["wpa_cli", "-i", layout.WLAN, "status"], check=False)
    state = wlan.parse_key_values(done.stdout) if done.rc == 0 else {}
    poll = runner.run(["wpa_cli", "-i", layout.WLAN, "signal_poll"], check=False)
    signal = wlan.parse_key_values(poll.stdout) if poll.rc == 0 else {}
    gateways = [r for r in _routes_json(runner) if r.get("dst") == "default" and r.get("dev") == layout.WLAN]
    base.update(
        ssid=state.get("ssid", c["wlan_ssid"] or NA),
        status=state.get("wpa_state", NA),
        signal_dbm=signal.get("RSSI", NA),
        gateway=gateways[0].get("gateway", NA) if gateways else NA,
        dns=", ".join(e["address"] for e in c["dns"]) or NA,
    )
    return base


def _routes_json(runner: Runner) -> list[Record]:
    done = runner.run(["ip", "-j", "-4", "route", "show", "table", "main"], check=False)
    found: list[Record] = json.loads(done.stdout) if done.rc == 0 and done.stdout.strip() else []
    return found


def same_subnet_warning(eth: Record, c: Record) -> str:
    """The manual: ETH0 and WLAN must not share a subnet. A DHCP address is only known at run time."""
    if not (eth["ipv4"] and c["wlan_enabled"] and c["wlan_mode"] == "access_point"):
        return ""
    mine = ipaddress.IPv4Interface("%s/%d" % (eth["ipv4"], eth["prefix"])).network
    if mine.overlaps(ipaddress.IPv4Interface(c["ap_network"]).network):
        return "ETH0 (%s) and the WLAN access point (%s) share a subnet" % (mine, c["ap_network"])
    return ""


def read(
    c: Record, runner: Runner, root: Path = Path("/"), vpn_socket: str = layout.OPENVPN_MANAGEMENT
) -> Record:
    """Everything the WBM's network pages show; `c` is the network record (the configured side)."""
    eth = interface(runner, layout.ETH0)
    vpn_text = openvpn.source(c, openvpn.read_imported(root))
    return {
        "eth0": eth,
        "hostname": (runner.read("/proc/sys/kernel/hostname") or "").strip(),
        "warnings": [w for w in (same_subnet_warning(eth, c),) if w],
        "wlan": wlan_status(runner, c),
        "modem": modem.status(runner),
        "openvpn": dict(
            openvpn.status(vpn_text, vpn_socket), mode=c["openvpn_mode"], imported=c["openvpn_imported"]
        ),
        "firewall": firewall.applied(
            runner.run(["nft", "-j", "list", "table", *firewall.TABLE.split()], check=False).stdout
        ),
        "routes": routes.table(json.dumps(_routes_json(runner)), c["routes"]),
        "removed_routes": routes.removed(root),
    }
