"""The configuration areas: name, schema, checks, and whether the area holds one record or one per key."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import chargeschema
import pointconfig
from iomodule.rfid import board as rfid_board

from chargepark.config import schemas as s
from chargepark.datahub import control
from chargepark.services.controller_agent import areas as agent

Record = dict[str, Any]
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Area:
    """One configuration area. Keyed areas hold one record per key (a device UID, a whitelist tag, a
    load circuit id); singletons hold one record that reads as the factory defaults until saved."""

    def __init__(
        self,
        name: str,
        title: str,
        fields: tuple[Any, ...],
        checks: tuple[Callable[[Record], tuple[str, str] | None], ...] = (),
        key: str = "",
        max_items: int | None = None,
    ) -> None:
        self.name = name
        self.title = title
        self.fields = fields
        self.checks = checks
        self.key = key  # what a key names; empty for a singleton
        self.max_items = max_items

    @property
    def keyed(self) -> bool:
        return bool(self.key)

    def defaults(self) -> Record:
        record: Record = chargeschema.defaults(self.fields)
        return record

    def validate(self, data: Any, base: Record | None = None) -> Record:
        """The complete clean record; `base` makes `data` a partial update. Raises `chargeschema.Invalid`."""
        clean: Record = chargeschema.validate(self.fields, data, self.checks, base)
        return clean

    def key_problem(self, key: Any) -> str | None:
        if not self.keyed:
            return None if key is None else "this area has no keys"
        if not isinstance(key, str) or not _KEY.match(key):
            return "a %s: 1..64 letters, digits or . _ : -" % self.key
        return None


AREAS: dict[str, Area] = {
    a.name: a
    for a in (
        Area("park", "Charging park", s.PARK),
        Area("station", "Charging stations", s.STATION, s.STATION_CHECKS, key="station UID"),
        Area("module", "Discovered modules (written by discovery)", agent.MODULE, key="device UID"),
        Area("parkpoint", "A park client's points as its server derives them (written by replication)",
             agent.PARKPOINT, agent.PARKPOINT_CHECKS, key="device UID"),
        Area(
            "chargepoint",
            "Charging points (pointconfig, shared with the IO module)",
            pointconfig.FIELDS,
            tuple(pointconfig.CHECKS),
            key="device UID",
        ),
        Area("control", "Charging point control (CHARX REST `control`, watchdog; datahub/control.py)",
             control.FIELDS, key="device UID"),
        Area("loadcircuit", "Load management circuits", s.LOADCIRCUIT, s.LOADCIRCUIT_CHECKS, key="circuit id"),
        Area("ocpp", "OCPP 1.6J", s.OCPP, s.OCPP_CHECKS),
        Area("rfidboard", "CHARX RFID/NFC boards (iomodule/rfid/board.py, shared with the IO module)",
             rfid_board.FIELDS, (rfid_board.fade_range,), key="device UID"),
        Area("modbus", "Modbus/TCP server", s.MODBUS, s.MODBUS_CHECKS),
        Area("whitelist", "Local whitelist", s.WHITELIST, s.WHITELIST_CHECKS, key="RFID tag or EVCC ID",
             max_items=s.WHITELIST_MAX),
        Area("network", "Network", s.NETWORK, s.NETWORK_CHECKS),
        Area("mqtt_bridge", "MQTT bridge", s.MQTT_BRIDGE, s.MQTT_BRIDGE_CHECKS),
        Area("system", "System control", s.SYSTEM, s.SYSTEM_CHECKS),
    )
}  # fmt: skip


def area(name: str) -> Area:
    try:
        return AREAS[name]
    except KeyError:
        raise chargeschema.Invalid(
            {"area": "unknown area %r (known: %s)" % (name, ", ".join(AREAS))}
        ) from None
