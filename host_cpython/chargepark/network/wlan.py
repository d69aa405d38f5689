"""WLAN: hostapd (Access Point) or wpa_supplicant (Infrastructure), the wlan0 networkd file, and what
`wpa_cli` reports back (scan list, connection status)."""

from __future__ import annotations

import ipaddress
from typing import Any

from chargepark.network import layout
from chargepark.network.files import HEADER, File
from chargepark.network.runner import Tolerant

Record = dict[str, Any]

# Band -> hostapd hw_mode and a channel every regulatory domain allows there.
BANDS = {"2.4ghz": ("g", 6), "5ghz": ("a", 36)}
# Access point encryption -> hostapd lines (the password goes in `PASSWORD_KEY`).
ENCRYPTIONS: dict[str, tuple[str, ...]] = {
    "wpa2": ("wpa=2", "wpa_key_mgmt=WPA-PSK", "rsn_pairwise=CCMP"),
    "wpa3": ("wpa=2", "wpa_key_mgmt=SAE", "rsn_pairwise=CCMP", "ieee80211w=2"),
    "none": (),
}
PASSWORD_KEY = {"wpa2": "wpa_passphrase", "wpa3": "sae_password"}


def _hex(text: str) -> str:
    """An SSID as hostapd/wpa_supplicant hex: any UTF-8 name, no quoting problems."""
    return text.encode().hex()


def hostapd_conf(c: Record) -> str:
    hw_mode, channel = BANDS[c["wlan_band"]]
    lines = [
        "# " + HEADER,
        "# network name: %r" % c["wlan_ssid"],
        "interface=" + layout.WLAN,
        "driver=nl80211",
        "ssid2=" + _hex(c["wlan_ssid"]),
        "utf8_ssid=1",
        "country_code=" + c["wlan_country"],
        "ieee80211d=1",
        "hw_mode=" + hw_mode,
        "channel=%d" % channel,
        "ieee80211n=1",
    ]
    if c["wlan_band"] == "5ghz":
        lines.append("ieee80211ac=1")
    lines += ["auth_algs=1", *ENCRYPTIONS[c["wlan_encryption"]]]
    if c["wlan_encryption"] != "none":
        lines.append("%s=%s" % (PASSWORD_KEY[c["wlan_encryption"]], c["wlan_password"]))
    return "\n".join(lines) + "\n"


def wpa_supplicant_conf(c: Record) -> str:
    lines = [
        "# " + HEADER,
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev",
        "update_config=0",
        "country=" + c["wlan_country"],
        "network={",
        "\tssid=" + _hex(c["wlan_ssid"]),
        "\tscan_ssid=1",
    ]
    if c["wlan_password"]:
        # WPA2 and WPA3 networks alike; management frame protection where the network offers it.
        lines += [
            '\tpsk="%s"' % c["wlan_password"],
            "\tkey_mgmt=WPA-PSK WPA-PSK-SHA256 SAE",
            "\tieee80211w=1",
        ]
    else:
        lines.append("\tkey_mgmt=NONE")
    lines.append("}")
    return "\n".join(lines) + "\n"


def network_file(c: Record) -> str:
    lines = ["# " + HEADER, "[Match]", "Name=" + layout.WLAN, "", "[Network]"]
    if c["wlan_mode"] == "infrastructure":
        lines.append("DHCP=ipv4")
        return "\n".join(lines) + "\n"
    net = ipaddress.IPv4Interface(c["ap_network"]).network
    first, last = ipaddress.IPv4Address(c["ap_dhcp_from"]), ipaddress.IPv4Address(c["ap_dhcp_to"])
    lines += [
        "Address=%s/%d" % (c["ap_ip"], net.prefixlen),
        "DHCPServer=yes",
        "",
        "[DHCPServer]",
        "PoolOffset=%d" % (int(first) - int(net.network_address)),
        "PoolSize=%d" % (int(last) - int(first) + 1),
    ]
    return "\n".join(lines) + "\n"


def ap_timeout_unit(c: Record) -> str:
    return "\n".join(
        (
            "# " + HEADER,
            "[Unit]",
            "Description=Switch the WLAN access point off if no device connects within %d s"
            % c["ap_timeout_s"],
            "After=" + layout.HOSTAPD_SERVICE,
            "BindsTo=" + layout.HOSTAPD_SERVICE,
            "",
            "[Service]",
            "Type=oneshot",
            "ExecStart=/bin/sh -c 'sleep %d; [ -n \"$(hostapd_cli -i %s all_sta)\" ] || systemctl stop %s'"
            % (c["ap_timeout_s"], layout.WLAN, layout.HOSTAPD_SERVICE),
            "",
            "[Install]",
            "WantedBy=" + layout.HOSTAPD_SERVICE,
            "",
        )
    )


def render(c: Record) -> list[File]:
    on = c["wlan_enabled"]
    ap = on and c["wlan_mode"] == "access_point"
    infra = on and c["wlan_mode"] == "infrastructure"
    timeout = ap and c["ap_timeout_s"] > 0
    return [
        File(layout.WLAN_NETWORK, network_file(c) if on else None),
        File(layout.HOSTAPD, hostapd_conf(c) if ap else None, 0o600),
        File(layout.WPA_SUPPLICANT, wpa_supplicant_conf(c) if infra else None, 0o600),
        File(layout.AP_TIMEOUT_UNIT, ap_timeout_unit(c) if timeout else None),
    ]


def commands(c: Record) -> list[list[str]]:
    on = c["wlan_enabled"]
    wanted = {
        layout.HOSTAPD_SERVICE: on and c["wlan_mode"] == "access_point",
        layout.WPA_SERVICE: on and c["wlan_mode"] == "infrastructure",
        layout.AP_TIMEOUT_SERVICE: on and c["wlan_mode"] == "access_point" and c["ap_timeout_s"] > 0,
    }
    out = [["systemctl", "daemon-reload"]]
    for unit, run in wanted.items():
        out.append(
            ["systemctl", "enable", unit] if run else Tolerant(["systemctl", "disable", "--now", unit])
        )
        if run:
            out.append(["systemctl", "restart", unit])
    if on:
        out += [["networkctl", "reload"], ["networkctl", "reconfigure", layout.WLAN]]
    return out


# ---- read back --------------------------------------------------------------------------------------


def parse_scan(text: str) -> list[Record]:
    """`wpa_cli scan_results`: bssid, frequency, signal level, flags, ssid (tab separated) -> the networks
    the WBM offers, strongest first, one row per SSID."""
    best: dict[str, Record] = {}
    for line in text.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 5 or not cols[4]:
            continue
        row = {"ssid": cols[4], "bssid": cols[0], "frequency_mhz": int(cols[1]), "signal_dbm": int(cols[2]),
               "encrypted": "WPA" in cols[3] or "SAE" in cols[3]}  # fmt: skip
        if cols[4] not in best or row["signal_dbm"] > best[cols[4]]["signal_dbm"]:
            best[cols[4]] = row
    return sorted(best.values(), key=lambda r: -int(r["signal_dbm"]))


def parse_key_values(text: str) -> dict[str, str]:
    """`wpa_cli status` / `signal_poll` output: key=value lines."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out
