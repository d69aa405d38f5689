"""The forwarding rows of the `mqtt_bridge` area as concrete routes between local and remote topics.

Every remote topic sits below `<prefix>/<device type>/<device id>/` (manual "MQTT Bridge"). The device id is
that of the charging controller the topic belongs to: the level a `+` fills in a local topic
(`charging_controllers/+/data/energy`), else the station's. mosquitto's bridge remaps topics by prefix only,
so a `+` that moves from the middle of the local topic into the remote hierarchy is expanded into one route
per known device id (`expand`); a trailing `#` stays a wildcard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chargepark import topics

# The CHARX head's device type, so dashboards built for CHARX/ev3000/<id>/... read this station as well.
DEVICE_TYPE = "ev3000"
OUT, IN = "out", "in"  # local -> remote, remote -> local (the area's `direction` values)


@dataclass(frozen=True)
class Route:
    local: str  # concrete topic, or a filter ending in `/#`
    remote: str
    direction: str

    @property
    def tree(self) -> bool:
        """Both ends are topic trees (`.../#`): the bridge maps the prefix."""
        return self.remote.endswith("/#")


def base(prefix: str, device_id: str) -> str:
    """`<prefix>/<device type>/<device id>` (without a prefix the hierarchy starts at the device type)."""
    return "/".join(p for p in (prefix, DEVICE_TYPE, device_id) if p)


def per_device(row: dict[str, Any]) -> bool:
    return "+" in row["local"].split("/")


def info_topic(cfg: dict[str, Any], row: dict[str, Any], station_id: str) -> str:
    """The full remote topic of a forwarding row, as the WBM's info pop-up shows it (`+` for every device)."""
    return "%s/%s" % (base(cfg["prefix"], "+" if per_device(row) else station_id), row["remote"])


def builtin_routes(cfg: dict[str, Any], station_id: str) -> list[Route]:
    """The bridge's own topics (manual: config, VPN_Connection_State, the OpenVPN command)."""
    station = base(cfg["prefix"], station_id)
    return [
        Route(topics.BRIDGE_CONFIG, station + "/config", OUT),
        Route(topics.BRIDGE_VPN_STATE, station + "/VPN_Connection_State", OUT),
        Route(topics.BRIDGE_COMMAND, station + "/command", IN),
    ]


def _tree(topic: str) -> str:
    return topic if topic.endswith("/#") else topic.removesuffix("#").rstrip("/") + "/#"


def _row_routes(cfg: dict[str, Any], row: dict[str, Any], station_id: str, devices: list[str]) -> list[Route]:
    """A row's routes; a row whose source ends in `/#` forwards the tree below it onto the tree below its
    target."""
    source = row["local"] if row["direction"] == OUT else row["remote"]
    tree = source.endswith("/#")
    out = []
    for device_id in devices if per_device(row) else [station_id]:
        local = "/".join(device_id if level == "+" else level for level in row["local"].split("/"))
        remote = base(cfg["prefix"], device_id) + "/" + row["remote"]
        if tree:
            local, remote = _tree(local), _tree(remote)
        out.append(Route(local, remote, row["direction"]))
    return out


def problem(row: dict[str, Any]) -> str | None:
    """Why the bridge cannot carry a row the area's checks let through, else None."""
    if row["local"].split("/").count("+") > 1:
        return "at most one '+' (the device id) in the local topic"
    if row["direction"] == IN and "+" in row["remote"].split("/"):
        return "a remote -> local row forwards one remote topic or a '#' tree"
    if any(c.isspace() for c in row["local"] + row["remote"]):
        return "topics with white space cannot be bridged"
    return None


def expand(cfg: dict[str, Any], station_id: str, devices: Iterable[str]) -> tuple[list[Route], list[str]]:
    """(routes, skipped rows with the reason): the built-in routes, then each row per device id. A remote
    topic forwarded both ways would loop through the remote broker: the later row is skipped."""
    devices = sorted(set(devices))
    routes = builtin_routes(cfg, station_id)
    skipped: list[str] = []
    for i, row in enumerate(cfg["topics"]):
        why = problem(row)
        if why:
            skipped.append("row %d (%s): %s" % (i + 1, row["local"], why))
            continue
        for route in _row_routes(cfg, row, station_id, devices):
            if any(r.remote == route.remote and r.direction != route.direction for r in routes):
                skipped.append(
                    "row %d (%s): %s is forwarded the other way already" % (i + 1, row["local"], route.remote)
                )
                break
            if route not in routes:
                routes.append(route)
    return routes, skipped
