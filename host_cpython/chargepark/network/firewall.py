"""Port Sharing as an nftables ruleset: incoming TCP/UDP ports open only where the `ports` table says so
(closed ones refuse at once); outgoing ports are open unless the table closes them. The internal links are not filtered."""

from __future__ import annotations

import json
from typing import Any

from chargepark.network import layout
from chargepark.network.files import HEADER, File

Record = dict[str, Any]
TABLE = "inet chargepark"
DHCP_CLIENT_PORTS = (68, 546)  # answers to our own DHCPv4/DHCPv6 requests


def _ports(c: Record, direction: str, is_open: bool) -> list[int]:
    return sorted(e["port"] for e in c["ports"] if e["direction"] == direction and e["open"] == is_open)


def _set(items: list[str]) -> str:
    return "{ %s }" % ", ".join(items)


def ruleset(c: Record) -> str:
    open_in = _ports(c, "in", True)
    closed_out = _ports(c, "out", False)
    internal = _set(['"%s"' % name for name in layout.INTERNAL_LINKS])
    lines = [
        "#!/usr/sbin/nft -f",
        "# " + HEADER,
        "# Port Sharing: open incoming ports %s; closed outgoing ports %s."
        % (",".join(map(str, open_in)) or "none", ",".join(map(str, closed_out)) or "none"),
        "table %s" % TABLE,
        "delete table %s" % TABLE,  # the two lines make a reload replace the table in one transaction
        "table %s {" % TABLE,
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        "\t\tiifname %s accept" % internal,
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        "\t\tmeta l4proto { icmp, ipv6-icmp } accept",
        "\t\tudp dport %s accept" % _set([str(p) for p in DHCP_CLIENT_PORTS]),
    ]
    if c["wlan_enabled"] and c["wlan_mode"] == "access_point":
        lines.append('\t\tiifname "%s" udp dport 67 accept' % layout.WLAN)  # the access point's DHCP server
    if open_in:
        lines.append("\t\tmeta l4proto { tcp, udp } th dport %s accept" % _set([str(p) for p in open_in]))
    lines += [
        "\t\tmeta l4proto tcp reject with tcp reset",
        "\t\tmeta l4proto udp reject with icmpx port-unreachable",
        "\t}",
        "\tchain output {",
        "\t\ttype filter hook output priority filter; policy accept;",
        "\t\toifname %s accept" % internal,
    ]
    if closed_out:
        lines += [
            "\t\tmeta l4proto tcp th dport %s reject with tcp reset" % _set([str(p) for p in closed_out]),
            "\t\tmeta l4proto udp th dport %s reject with icmpx port-unreachable"
            % _set([str(p) for p in closed_out]),
        ]
    lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


def unit() -> str:
    return "\n".join(
        (
            "# " + HEADER,
            "[Unit]",
            "Description=chargepark Port Sharing firewall",
            "DefaultDependencies=no",
            "Before=network-pre.target",
            "Wants=network-pre.target",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            "ExecStart=/usr/sbin/nft -f /" + layout.FIREWALL,
            "ExecStop=/usr/sbin/nft delete table " + TABLE,
            "",
            "[Install]",
            "WantedBy=sysinit.target",
            "",
        )
    )


def render(c: Record) -> list[File]:
    return [File(layout.FIREWALL, ruleset(c)), File(layout.FIREWALL_UNIT, unit())]


def commands(root: str) -> list[list[str]]:
    unit = layout.FIREWALL_UNIT.rsplit("/", 1)[-1]
    return [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", unit],  # loads the ruleset at boot, before any interface is up
        ["nft", "-f", root.rstrip("/") + "/" + layout.FIREWALL],
    ]


# ---- read back (the WBM's Port Sharing beside the configuration) ------------------------------------


def _dports(expr: list[Record]) -> list[int]:
    """The destination ports a rule matches (`th`, `tcp` or `udp` dport, one port or a set)."""
    for e in expr:
        match = e.get("match", {})
        if match.get("left", {}).get("payload", {}).get("field") == "dport":
            right = match.get("right")
            items = right.get("set", []) if isinstance(right, dict) else [right]
            return [p for p in items if isinstance(p, int)]
    return []


def applied(nft_json: str) -> Record:
    """`nft -j list table inet chargepark` -> whether our ruleset is loaded, the incoming ports it opens
    (the DHCP client answers left out) and the outgoing ports it closes."""
    try:
        items = [i for i in json.loads(nft_json or "{}").get("nftables", []) if isinstance(i, dict)]
    except ValueError:
        items = []
    opened: set[int] = set()
    closed: set[int] = set()
    for rule in (i["rule"] for i in items if "rule" in i):
        verdicts = {k for e in rule.get("expr", []) for k in e if k in ("accept", "reject")}
        if rule.get("chain") == "input" and "accept" in verdicts:
            opened.update(p for p in _dports(rule["expr"]) if p not in DHCP_CLIENT_PORTS)
        elif rule.get("chain") == "output" and "reject" in verdicts:
            closed.update(_dports(rule["expr"]))
    return {
        "loaded": any("table" in i for i in items),
        "open_in": sorted(opened),
        "closed_out": sorted(closed),
    }
