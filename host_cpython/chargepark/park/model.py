"""The park model: charging park -> stations (one head module each) -> charging points (bus positions 1..12).

A point appears once its module has been discovered on a station's bus (`record_discovery`, persisted in
the store's "module" area so that an offline point keeps its place) and is *configured* once a
"chargepoint" record is saved for its device UID. Unconfigured points are hidden from the dashboard.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore


@dataclass(frozen=True)
class Point:
    uid: str  # device UID of the module, unique in the park
    station: str  # device UID of the station's head module
    position: int  # backplane bus position, 1 = the head module's own point
    device_name: str
    firmware_version: str
    configured: bool
    name: str  # from the configuration; the device name while unconfigured
    location: str
    online: bool
    meter_serial: str = ""  # its energy meter's, as the module read them ("": none or not available)
    meter_firmware: str = ""


@dataclass(frozen=True)
class Station:
    uid: str
    name: str
    location: str
    role: str  # "server" or "client"
    points: tuple[Point, ...] = field(default=())


@dataclass(frozen=True)
class Park:
    name: str
    stations: tuple[Station, ...]

    def points(self) -> list[Point]:
        return [p for st in self.stations for p in st.points]

    def dashboard(self) -> list[Point]:
        """What the dashboard shows: configured points only (manual, Dashboard)."""
        return [p for p in self.points() if p.configured]

    def point(self, uid: str) -> Point | None:
        return next((p for p in self.points() if p.uid == uid), None)


def record_discovery(
    store: ConfigStore,
    station: str,
    position: int,
    uid: str,
    device_name: str = "",
    hardware_version: str = "",
    firmware_version: str = "",
) -> bool:
    """Remember the module found at `station`/`position` (replacing a module formerly there, whose
    configuration stays keyed by its UID). Returns whether anything changed; unchanged discoveries do
    not write."""
    record = {
        "station": station,
        "position": position,
        "device_name": device_name,
        "hardware_version": hardware_version,
        "firmware_version": firmware_version,
    }
    modules = store.get("module")
    # the module area's other fields (what the module reported about its reader's board and its meter, by
    # their own events) stay until it reports them again
    for f in AREAS["module"].fields:
        if f.name not in record:
            record[f.name] = modules.get(uid, {}).get(f.name, f.default)
    if modules.get(uid) == record:
        return False
    gone = [
        k for k, m in modules.items() if k != uid and (m["station"], m["position"]) == (station, position)
    ]
    store.apply([("module", k, None) for k in gone] + [("module", uid, record)])
    return True


def forget_module(store: ConfigStore, uid: str) -> None:
    """Drop a module that was removed for good (its configuration, if any, stays until deleted)."""
    store.delete("module", uid)


def park_view(store: ConfigStore, online: Collection[str] = ()) -> Park:
    """The park as configured and discovered; `online` = device UIDs the controller agents see now."""
    modules = store.get("module")
    configs = store.get("chargepoint")
    station_cfgs = store.get("station")
    by_station: dict[str, list[Point]] = {}
    for uid, mod in modules.items():
        cfg = configs.get(uid)
        by_station.setdefault(mod["station"], []).append(
            Point(
                uid=uid,
                station=mod["station"],
                position=mod["position"],
                device_name=mod["device_name"],
                firmware_version=mod["firmware_version"],
                configured=cfg is not None,
                name=cfg["name"] if cfg else mod["device_name"],
                location=cfg["location"] if cfg else "",
                online=uid in online,
                meter_serial=mod.get("meter_serial", ""),
                meter_firmware=mod.get("meter_firmware", ""),
            )
        )
    stations = []
    for suid in set(by_station) | set(station_cfgs):
        cfg = station_cfgs.get(suid) or AREAS["station"].defaults()
        stations.append(
            Station(
                uid=suid,
                name=cfg["name"],
                location=cfg["location"],
                role=cfg["role"],
                points=tuple(sorted(by_station.get(suid, []), key=lambda p: p.position)),
            )
        )
    stations.sort(key=lambda st: (st.role != "server", st.uid))
    return Park(name=store.get("park")["name"], stations=tuple(stations))
