"""JupiCore's per-controller views beside `/config` (charx-interfaces.md 2.2; their CHARX JSON schema is
not published, so ours is the configuration schema's own fields):

- `event-action-config`: the point's Event Actions, the chargepoint field `event_actions`;
- `function-config`: what the controller does on its own, the chargepoint fields of the manual's
  "Monitoring" (protection, charge current monitoring, derating) and the digital outputs' start-up modes;
- `hmi-config`: the point's CHARX RFID/NFC board (LED profiles, buzzer), the "rfidboard" area;
- `hmi-data`: what that board is and shows, read only;
- `coupled-clients`: the client stations of this server's park (station area) with their controllers;
- `energy_meter_info` of the energy object: the meter's type and model, RS-485 address, serial and firmware.

Left out, because nothing here acts on them: the calibration law's display fields (`screen_abbreviation`,
`cp_selection`: no CHARX display is driven), and writing `hmi-data` (no display text to set).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from iomodule.rfid import board

from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore
from chargepark.datahub.hub import DataHub
from chargepark.meterdoc import PROVENANCE

BOARDS = Path(__file__).resolve().parents[3] / "boards"
CHARGEPOINT = AREAS["chargepoint"]
RFIDBOARD = AREAS["rfidboard"]

# path -> the chargepoint fields it reads and writes (a PUT is a partial record of these, validated whole)
SECTIONS: dict[str, tuple[str, ...]] = {
    "event-action-config": ("event_actions",),
    "function-config": (
        "contactor_monitoring", "contactor_input", "rcm_enabled", "overcurrent", "out_of_balance",
        "temp_sensor", "derating_start_temp_c", "derating_stop_temp_c", "derating_start_current_a",
        "derating_stop_current_a", "ptc_trip_ohm", "outputs",
    ),
}  # fmt: skip
HMI_FIELDS = tuple(f.name for f in RFIDBOARD.fields)


def section_fields(path: str) -> tuple[Any, ...]:
    return tuple(f for f in CHARGEPOINT.fields if f.name in SECTIONS[path])


@cache
def meter_address(board_name: str) -> int | None:
    """The RS-485 address the module reads its meter at: its board's data (boards/<board>/board.json), None
    where the head has no such board file or the board has no meter line of its own (the simulated one)."""
    path = BOARDS / board_name / "board.json"
    if not board_name or "/" in board_name or not path.is_file():
        return None
    address = json.loads(path.read_text()).get("meter", {}).get("address")
    return int(address) if isinstance(address, int) else None


def meter_info(cfg: dict[str, Any] | None, module: dict[str, Any]) -> dict[str, Any] | None:
    """The energy object's `energy_meter_info` (None: no meter configured). Serial and firmware are what
    the module read from the meter at its start ("" where its type has no such register)."""
    meter_type = str((cfg or {}).get("meter_type", "none"))
    if meter_type == "none":
        return None
    info: dict[str, Any] = {
        "meter_type": meter_type,
        "model_number": PROVENANCE[meter_type].products if meter_type in PROVENANCE else meter_type,
        "serial_number": str(module.get("meter_serial", "")),
        "firmware_version": str(module.get("meter_firmware", "")),
    }
    address = meter_address(str(module.get("device_name", "")))
    if address is not None:
        info["modbus_address"] = address
    return info


def meter_infos(store: ConfigStore) -> dict[str, dict[str, Any] | None]:
    """`meter_info` of every configured point."""
    modules = store.get("module")
    return {uid: meter_info(cfg, modules.get(uid, {})) for uid, cfg in store.get("chargepoint").items()}


class MeterInfoFeed:
    """Keeps the hub's energy_meter_info current: read anew only when the chargepoint or module area or
    the set of points changed (reading every record blocks the loop ~8 ms at 250 points; the check, 6 us)."""

    def __init__(self, store: ConfigStore, hub: DataHub) -> None:
        self.store = store
        self.hub = hub
        self.seen: tuple[int, int, int] | None = None

    def refresh(self) -> None:
        versions = self.store.versions()
        now = (versions["chargepoint"], versions["module"], len(self.hub.points))
        if now != self.seen:
            self.seen = now
            self.hub.set_meter_infos(meter_infos(self.store))


def hmi_config(store: ConfigStore, uid: str) -> dict[str, Any]:
    record = store.get("rfidboard", uid)
    return dict(record) if record is not None else RFIDBOARD.defaults()


def hmi_data(store: ConfigStore, uid: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """The point's card reader and, with a CHARX RFID/NFC board, the board's firmware and the profiles its
    connection type shows (the manual's table)."""
    reader = str(cfg["rfid_reader_type"])
    module = store.get("module", uid) or {}
    charx = reader == "charx"
    record = hmi_config(store, uid)
    return {
        "rfid_reader_type": reader,
        "charx_rfid_board": charx,
        "firmware_version": str(module.get("rfid_board_firmware", "")) if charx else "",
        "profiles_shown": board.used(record["rfid_board_connection"]) if charx else [],
    }


def coupled_clients(store: ConfigStore, online: set[str]) -> list[dict[str, Any]]:
    """The park's client stations (manual System Control/Module Switch) and their charging controllers."""
    modules = store.get("module")
    out = []
    for uid, station in sorted(store.get("station").items()):
        if station["role"] != "client":
            continue
        members = sorted((m["position"], m_uid) for m_uid, m in modules.items() if m["station"] == uid)
        out.append({
            "device_uid": uid,
            "name": station["name"],
            "location": station["location"],
            "ip_address": station["address"],
            "charging_controllers": [m_uid for _pos, m_uid in members],
            "online": any(m_uid in online for _pos, m_uid in members),
        })  # fmt: skip
    return out
