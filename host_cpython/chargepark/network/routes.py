"""The routing table: configured (persistent) routes as an `ip -batch` file replayed at boot, runtime
additions and removals with `ip route`, and `ip -j route` read back with the manual's flags."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from chargepark.network import layout
from chargepark.network.files import HEADER, File, write_atomic
from chargepark.network.runner import Runner, Tolerant

Record = dict[str, Any]


def spec(route: Record) -> list[str]:
    """A route of the `routes` list as `ip route` arguments after the verb."""
    net = str(ipaddress.IPv4Network(route["network"], strict=False))
    args = [net]
    if route["gateway"]:
        args += ["via", route["gateway"]]
    return [*args, "dev", route["interface"], "metric", str(route["metric"])]


def batch(c: Record) -> str:
    lines = [
        "# " + HEADER,
        "# Replayed at boot by %s (ip -force -batch)." % layout.ROUTES_UNIT.rsplit("/")[-1],
    ]
    lines += ["route replace " + " ".join(spec(r)) for r in c["routes"]]
    return "\n".join(lines) + "\n"


def unit() -> str:
    return "\n".join(
        (
            "# " + HEADER,
            "[Unit]",
            "Description=chargepark persistent routes",
            "After=network-online.target",
            "Wants=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            "ExecStart=/usr/sbin/ip -force -batch /" + layout.ROUTES,
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        )
    )


def render(c: Record) -> list[File]:
    return [File(layout.ROUTES, batch(c)), File(layout.ROUTES_UNIT, unit())]


def _lines(text: str | None) -> set[str]:
    return {ln for ln in (text or "").splitlines() if ln.startswith("route replace ")}


def commands(root: str, old_batch: str | None, new_batch: str) -> list[list[str]]:
    """Delete the routes the previous apply installed and the new one drops, then replay the new file."""
    out = [["systemctl", "daemon-reload"], ["systemctl", "enable", layout.ROUTES_UNIT.rsplit("/", 1)[-1]]]
    gone = sorted(_lines(old_batch) - _lines(new_batch))
    out += [Tolerant(["ip", "route", "del", *line.split()[2:]]) for line in gone]  # may be gone with its link
    if _lines(new_batch):
        out.append(["ip", "-force", "-batch", root.rstrip("/") + "/" + layout.ROUTES])
    return out


# ---- runtime changes (the WBM's Add Row / Remove without Persist) ------------------------------------


def add(runner: Runner, route: Record) -> None:
    runner.run(["ip", "route", "replace", *spec(route)])


def remove(runner: Runner, root: Path, route: Record, *, until_restart: bool) -> None:
    """Delete a route now; `until_restart` keeps it listed in a runtime file so that it stays visible and
    can be restored (the manual's non-persistent system routes)."""
    runner.run(["ip", "route", "del", *spec(route)])
    if until_restart:
        kept = removed(root)
        if route not in kept:
            write_atomic(root, File(layout.REMOVED_ROUTES, json.dumps([*kept, route], indent=1) + "\n"))


def restore(runner: Runner, root: Path, route: Record) -> None:
    runner.run(["ip", "route", "replace", *spec(route)])
    kept = [r for r in removed(root) if r != route]
    write_atomic(root, File(layout.REMOVED_ROUTES, json.dumps(kept, indent=1) + "\n"))


def removed(root: Path) -> list[Record]:
    try:
        kept: list[Record] = json.loads((root / layout.REMOVED_ROUTES).read_text())
    except (OSError, ValueError):
        return []
    return kept


# ---- read back --------------------------------------------------------------------------------------


def flags(entry: Record) -> str:
    """The manual's route flags from one `ip -j route` entry (U up, G gateway, H host, R reject,
    D dynamic, M modified, S static)."""
    out = "U" if "linkdown" not in entry.get("flags", []) else ""
    if "gateway" in entry:
        out += "G"
    dst = entry.get("dst", "default")
    if dst != "default" and ("/" not in dst or dst.endswith("/32")):
        out += "H"
    if entry.get("type") in ("unreachable", "prohibit", "blackhole"):
        out += "R"
    if entry.get("protocol") in ("redirect", "ra", "dhcp"):
        out += "D"
    if entry.get("protocol", "boot") in ("static", "boot"):  # `ip -j` leaves out the default proto boot
        out += "S"
    return out


def table(ip_json: str, configured: list[Record]) -> list[Record]:
    """`ip -j -4 route` as the WBM's rows; `persistent` marks the routes of the `routes` list."""
    persistent = {tuple(spec(r)) for r in configured}
    rows = []
    for entry in json.loads(ip_json or "[]"):
        dst = entry.get("dst", "default")
        net = ipaddress.IPv4Network("0.0.0.0/0" if dst == "default" else dst, strict=False)
        metric = int(entry.get("metric", 0))
        as_config = {"network": str(net), "gateway": entry.get("gateway", ""),
                     "interface": entry.get("dev", ""), "metric": metric}  # fmt: skip
        rows.append(
            {
                "destination": str(net.network_address),
                "gateway": entry.get("gateway", "0.0.0.0"),
                "genmask": str(net.netmask),
                "flags": flags(entry),
                "metric": metric,
                "iface": entry.get("dev", ""),
                "persistent": tuple(spec(as_config)) in persistent,
            }
        )
    return rows
