"""One charging point as the data hub sees it: live values, durations as the manual defines them, session edges.

Manual, "Charge Point Status": the charging duration is the time the connected vehicle was in "Charging"
or status C; the plug-in duration is the time in "Occupied", "Charging" or "Error" and resets to 0 when the
vehicle is disconnected. Both are counted here from the live stream (the head's view), per plug-in.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import chargedefs as cd

# The point's statuses that count as plugged-in time: Occupied (Preparing, SuspendedEV/EVSE, Finishing),
# Charging, Error (Faulted).
PLUGGED_STATUSES = frozenset(
    {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Faulted"}
)
CHARGING_IEC = frozenset({"C1", "C2", "D1", "D2"})
VEHICLE_IEC = frozenset({"B1", "B2", "C1", "C2", "D1", "D2"})
NO_VEHICLE_IEC = frozenset({"A1", "A2"})
MAX_GAP_S = 5.0  # a longer silence (head restart, bus loss) is not counted as time in a state


def _name(table: tuple[str, ...], code: Any) -> str:
    try:
        return table[int(code)]
    except (ValueError, TypeError, IndexError):
        return "unknown"


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts))


def error_enum(bits: int) -> str:
    names = cd.error_names(bits)
    return "ERR_STATE_" + names[0] if names else "NO_ERRORS"


@dataclass
class SessionEdge:
    kind: str  # "start" | "update" | "stop"
    uid: str
    at: float
    energy_wh: int
    meter_wh: int
    id_tag: str
    reason: str = ""


@dataclass
class PointTracker:
    uid: str
    position: int = 0
    name: str = ""
    online: bool = False
    snap: dict[str, Any] = field(default_factory=dict)
    updated: float = 0.0  # wall time of the last live sample
    connected_s: float = 0.0
    charge_s: float = 0.0
    plugged: bool = False
    session_start_meter: int | None = None
    session_started: float = 0.0
    rfid_tag: str = ""
    rfid_at: float = 0.0

    @property
    def iec(self) -> str:
        return _name(cd.IEC_STATES, self.snap.get("iec_state"))

    @property
    def status(self) -> str:
        return _name(cd.STATUSES, self.snap.get("status"))

    def session_energy(self) -> int:
        meter = int(self.snap.get("energy_wh", 0))
        if self.session_start_meter is None:
            return int(self.snap.get("session_wh", 0))
        return max(0, meter - self.session_start_meter)

    def resume(
        self, started: float, start_meter: int, id_tag: str, connected_s: float, charge_s: float
    ) -> None:
        """Continues a session the store still holds open (data hub restarted during a plug-in)."""
        self.plugged = True
        self.session_started = started
        self.session_start_meter = start_meter
        self.rfid_tag = id_tag
        self.connected_s = connected_s
        self.charge_s = charge_s

    def update(self, snap: dict[str, Any], online: bool, now: float) -> list[SessionEdge]:
        """Takes one live sample; returns the session edges it causes."""
        gap = now - self.updated if self.updated else 0.0
        counted = 0.0 < gap <= MAX_GAP_S
        was_status, was_iec = self.status, self.iec
        self.snap = snap
        self.online = online
        self.updated = now
        edges: list[SessionEdge] = []
        iec = self.iec
        meter = int(snap.get("energy_wh", 0))
        if self.plugged and counted:
            if was_status in PLUGGED_STATUSES:
                self.connected_s += gap
            if was_status == "Charging" or was_iec in CHARGING_IEC:
                self.charge_s += gap
        if not self.plugged and iec in VEHICLE_IEC:
            self.plugged = True
            self.connected_s = self.charge_s = 0.0
            self.session_started = now
            self.session_start_meter = meter
            if now - self.rfid_at > 60:  # a card shown long before this plug-in is not this session's
                self.rfid_tag = ""
            edges.append(SessionEdge("start", self.uid, now, 0, meter, self.rfid_tag))
        elif self.plugged and iec in NO_VEHICLE_IEC:
            edges.append(
                SessionEdge(
                    "stop", self.uid, now, self.session_energy(), meter, self.rfid_tag, "EVDisconnected"
                )
            )
            self.plugged = False
            self.connected_s = self.charge_s = 0.0
            self.session_start_meter = None
        return edges

    def rfid(self, tag: str, now: float) -> SessionEdge | None:
        self.rfid_tag = tag
        self.rfid_at = now
        if self.plugged:
            return SessionEdge(
                "update", self.uid, now, self.session_energy(), int(self.snap.get("energy_wh", 0)), tag
            )
        return None

    def energy_object(self) -> dict[str, Any]:
        s = self.snap
        u = [int(s.get("u%d_mv" % n, 0)) / 1000 for n in (1, 2, 3)]
        i = [int(s.get("i%d_ma" % n, 0)) / 1000 for n in (1, 2, 3)]
        real = int(s.get("power_mw", 0)) / 1000
        apparent = sum(a * b for a, b in zip(u, i, strict=True))
        reactive = math.sqrt(max(0.0, apparent * apparent - real * real))

        def m(value: float, unit: str) -> dict[str, Any]:
            return {"value": round(value, 3), "unit": unit}

        obj: dict[str, Any] = {"u%d" % (n + 1): m(u[n], "V") for n in range(3)}
        obj.update({"i%d" % (n + 1): m(i[n], "A") for n in range(3)})
        obj.update(
            real_power=m(real, "W"),
            reactive_power=m(reactive, "var"),
            apparent_power=m(apparent, "VA"),
            power_factor=m(int(s.get("power_factor_pm", 0)) / 1000, ""),
            frequency=m(int(s.get("frequency_mhz", 0)) / 1000, "Hz"),
            energy_real_power=m(int(s.get("energy_wh", 0)), "Wh"),
            part_energy_real_power=m(self.session_energy() if self.plugged else 0, "Wh"),
            timestamp=iso(self.updated),
            meas_interval_sec=1,
        )
        return obj

    def params(self) -> dict[str, Any]:
        """Every CHARX data parameter of this point (topic map DATA_PARAMS), as JSON-able values."""
        s = self.snap
        bits = int(s.get("error_bits", 0))
        return {
            "iec_61851_state": self.iec,
            "status": self.status,
            "energy": self.energy_object(),
            "rfid": {"tag": self.rfid_tag, "timestamp": iso(self.rfid_at)} if self.rfid_tag else None,
            "error_status_int": bits,
            "error_status_enum": error_enum(bits),
            "charge_time_sec": int(self.charge_s),
            "connected_time_sec": int(self.connected_s),
            "pwm_duty_cycle_percent": int(s.get("duty_permille", 1000)) / 10,
            "pwm_current_a": int(s.get("set_current_ma", 0)) / 1000,
            "temperature_c": int(s.get("temp_dc", 0)) / 10,
            "bus_state": "online" if self.online else "offline",
            "hlc": s.get("hlc"),
        }

    def live(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(
            params,
            uid=self.uid,
            position=self.position,
            name=self.name,
            errors=cd.error_names(int(self.snap.get("error_bits", 0))),
            session={
                "plugged": self.plugged,
                "started": iso(self.session_started) if self.plugged else None,
                "energy_wh": self.session_energy() if self.plugged else 0,
                "id_tag": self.rfid_tag,
            },
            sampled=self.updated,
            configured=bool(self.snap.get("configured", True)),
            measured=self.snap.get("t"),  # when the controller agent read it from the module
        )


def payload(value: Any) -> str:
    """The MQTT payload of a parameter: plain text for scalars (as CHARX), JSON for objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
