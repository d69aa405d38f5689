"""One charging point as the data hub sees it: live values and the sessions its IO module reports.

The IO module is the session authority (iomodule/session.py, docs/services.md): it opens a session at
plug-in, reports the first charging release and closes it with the meter reading, the energy, the plug-in
and charging durations (manual, "Charge Point Status") and a reason. The hub keeps those durably and shows
the module's live durations; it counts nothing itself. It only mends a session whose events it missed
(the data hub was down while they passed): a live sample in a session it does not know opens one back
dated by the module's plug-in duration, and a sample without a session closes the one it holds (reason
`lost`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import chargedefs as cd

from chargepark.bus.agent import BUS_COUNTERS

LOST = "lost"  # a session closed by the hub: its stop event never arrived


def _code(value: Any) -> int:
    """A chargedefs code from a live sample; -1 (no code) when missing or not a number."""
    try:
        return int(value)
    except (ValueError, TypeError):
        return -1


def _name(table: tuple[str, ...], code: int) -> str:
    return table[code] if 0 <= code < len(table) else "unknown"


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts))


def error_enum(bits: int) -> str:
    names = cd.error_names(bits)
    return "ERR_STATE_" + names[0] if names else "NO_ERRORS"


@dataclass
class SessionEdge:
    kind: str  # "start" | "release" | "update" | "stop"
    uid: str
    at: float
    energy_wh: int
    meter_wh: int  # -1: the module had no meter reading
    id_tag: str
    reason: str = ""
    connected_s: int = 0
    charge_s: int = 0


@dataclass
class PointTracker:
    uid: str
    position: int = 0
    name: str = ""
    online: bool = False
    snap: dict[str, Any] = field(default_factory=dict)
    updated: float = 0.0  # wall time of the last live sample
    plugged: bool = False  # a session of the module is open
    session_started: float = 0.0
    rfid_tag: str = ""
    rfid_at: float = 0.0
    meter_info: dict[str, Any] | None = None  # the energy object's energy_meter_info (datahub/pointviews.py)

    @property
    def iec_code(self) -> int:
        return _code(self.snap.get("iec_state"))

    @property
    def status_code(self) -> int:
        return _code(self.snap.get("status"))

    @property
    def iec(self) -> str:
        return _name(cd.IEC_STATES, self.iec_code)

    @property
    def status(self) -> str:
        return _name(cd.STATUSES, self.status_code)

    @property
    def connected_s(self) -> int:
        return max(0, _code(self.snap.get("connected_s")))

    @property
    def charge_s(self) -> int:
        return max(0, _code(self.snap.get("charging_s")))

    def session_energy(self) -> int:
        return max(0, _code(self.snap.get("session_wh"))) if self.plugged else 0

    def meter(self) -> int:
        return _code(self.snap.get("energy_wh")) if "energy_wh" in self.snap else -1

    def resume(self, started: float, id_tag: str) -> None:
        """Continues a session the store still holds open (data hub restarted during a plug-in)."""
        self.plugged = True
        self.session_started = started
        self.rfid_tag = id_tag

    def edge(self, kind: str, now: float, reason: str = "") -> SessionEdge:
        return SessionEdge(kind, self.uid, now, self.session_energy(), self.meter(), self.rfid_tag, reason,
                           self.connected_s, self.charge_s)  # fmt: skip

    def update(self, snap: dict[str, Any], online: bool, now: float) -> list[SessionEdge]:
        """Takes one live sample; returns the session edges of a session whose events were missed."""
        self.snap = snap
        self.online = online
        self.updated = now
        in_session = self.connected_s > 0
        if in_session and not self.plugged:
            self.plugged = True
            self.session_started = now - self.connected_s
            start = self.edge("start", self.session_started)
            start.meter_wh = self.meter() - self.session_energy() if self.meter() >= 0 else -1
            return [start]
        if self.plugged and not in_session and _code(snap.get("iec_state")) in (cd.STATE_A1, cd.STATE_A2):
            stop = self.edge("stop", now, LOST)
            self.plugged = False
            return [stop]
        return []

    def event(self, name: str, arg: Any, now: float) -> SessionEdge | None:
        """A module event (chargedefs.EVENTS); the session edge it makes, if any."""
        if name == "rfid_read":
            self.rfid_tag = str(arg)
            self.rfid_at = now
            return self.edge("update", now) if self.plugged else None
        if name == "session_start":
            self.plugged = True
            self.session_started = now
            if now - self.rfid_at > 60:  # a card shown long before this plug-in is not this session's
                self.rfid_tag = ""
            start = self.edge("start", now)
            start.meter_wh = _code(arg[1])
            start.energy_wh = start.connected_s = start.charge_s = 0
            return start
        if name == "session_release":
            release = self.edge("release", now)
            release.meter_wh = _code(arg[1])
            return release
        if name == "session_stop":
            _, meter, energy, connected, charging, reason = (_code(v) for v in arg)
            self.plugged = False
            return SessionEdge("stop", self.uid, now, max(0, energy), meter, self.rfid_tag,
                               _name(cd.STOP_REASONS, reason), connected, charging)  # fmt: skip
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
            part_energy_real_power=m(self.session_energy(), "Wh"),
            timestamp=iso(self.updated),
            meas_interval_sec=1,
            energy_meter_info=self.meter_info,
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
            "charge_time_sec": self.charge_s,
            "connected_time_sec": self.connected_s,
            "pwm_duty_cycle_percent": int(s.get("duty_permille", 1000)) / 10,
            "pwm_current_a": int(s.get("set_current_ma", 0)) / 1000,
            "temperature_c": int(s.get("temp_dc", 0)) / 10,
            "bus_state": "online" if self.online else "offline",
            "hlc": s.get("hlc"),
        }

    def limit(self) -> dict[str, Any]:
        """The signalled current and the limit that binds it (the module's live field `limit`)."""
        code = int(self.snap.get("limit", 0))
        reason = cd.LIMITS[code] if 0 <= code < len(cd.LIMITS) else "unknown"
        return {"current_a": int(self.snap.get("set_current_ma", 0)) / 1000, "reason": reason}

    def io(self) -> dict[str, Any]:
        """The state of the point's inputs and outputs (the Event Actions page's top): each digital input
        high or not, each output's OUTPUT_MODES name, the analog inputs in mV."""
        s = self.snap
        inputs, outputs = int(s.get("inputs", 0)), int(s.get("outputs", 0))
        modes = [(outputs >> (4 * n)) & 0xF for n in range(cd.DIGITAL_OUTPUTS)]
        return {
            "inputs": [bool(inputs >> n & 1) for n in range(cd.DIGITAL_INPUTS)],
            "outputs": [cd.OUTPUT_MODES[m] if m < len(cd.OUTPUT_MODES) else "unknown" for m in modes],
            "analog_mv": [int(s.get("ai%d_mv" % (n + 1), 0)) for n in range(cd.ANALOG_INPUTS)],
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
                "energy_wh": self.session_energy(),
                "id_tag": self.rfid_tag,
            },
            limit=self.limit(),
            io=self.io(),
            bus_counters=dict(zip(BUS_COUNTERS, self.snap.get("bus") or (), strict=False)),
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
