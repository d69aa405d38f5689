"""One load management round, without I/O: the service feeds it the configuration, the points' live
samples, the higher-level meters' readings, register 167 and each point's external limits (OCPP, the Modbus
charge current), and sends what `round()` returns. It is the one set-point path: every point's `setpoint_ma`
comes from here, a point in no load circuit included (the least of its external limits, no fuse).

Inputs become the allocation's `Circuit` and `Point`s here; the set-points go through the `Applier`; the
status (CHARX "Load Management Status") and every point's binding limit come back for MQTT and REST.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import chargedefs as cd

from chargepark.loadmgmt.allocate import (
    ALL_PHASES,
    PHASES,
    UNLIMITED,
    Allocation,
    Circuit,
    Grant,
    Point,
    allocate,
    ceiling,
    vehicle_phases,
)
from chargepark.loadmgmt.apply import Applier
from chargepark.loadmgmt.surplus import SURPLUS, Candidate, Settings, decide

A = 1000
STALE_S = 5.0  # a live sample or a meter reading older than this is lost
CONNECTED = frozenset(range(cd.STATE_B1, cd.STATE_D2 + 1))  # a vehicle is plugged in (B, C, D)
# the module's own reasons for signalling less than the set-point: its live `limit` (chargedefs.LIMITS)
MODULE_REASONS = tuple(name for name in cd.LIMITS if name not in ("max_current", "setpoint"))
NO_DYNAMIC = 65535  # register 167: no dynamic cap
# an OCPP limit's reason (topics.OCPP_LIMIT) -> the limit's name in "why is this point limited"
OCPP_LIMITS = {"charge_point_max_profile": "ocpp_profile", "tx_default_profile": "ocpp_profile",
               "tx_profile": "ocpp_profile", "max_current": "ocpp_max_current",
               "global_max_current": "ocpp_global_max_current"}  # fmt: skip
MODBUS = "modbus"  # the charge current a Modbus client wrote (X301, or X306 once its watchdog expired)


@dataclass
class Sample:
    live: dict[str, Any]
    at: float


@dataclass
class CircuitState:
    allocation: Allocation | None = None
    at: float = 0.0
    measured_ma: tuple[int, int, int] = (0, 0, 0)


@dataclass
class Manager:
    circuits: dict[str, dict[str, Any]] = field(default_factory=dict)  # loadcircuit area by id
    points: dict[str, dict[str, Any]] = field(default_factory=dict)  # chargepoint area by UID
    live: dict[str, Sample] = field(default_factory=dict)
    meters: dict[str, Sample] = field(default_factory=dict)  # higher-level meter readings by circuit
    dynamic_a: int = NO_DYNAMIC  # Modbus register 167 (the first load circuit)
    applier: Applier = field(default_factory=Applier)
    state: dict[str, CircuitState] = field(default_factory=dict)
    seen_phases: dict[str, int] = field(default_factory=dict)  # vehicle phases that drew, this session
    external: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)  # uid -> source -> limit
    unmanaged: dict[str, Grant] = field(default_factory=dict)  # points in no circuit: their last set-point
    volts: int = 230  # the park's nominal phase voltage (surplus power <-> current)
    surplus_since: dict[str, float] = field(default_factory=dict)  # surplus points running, since when
    phases_wanted: dict[str, int] = field(default_factory=dict)  # the phase count surplus charging wants
    phases_asked: dict[str, int] = field(default_factory=dict)  # what the module was asked for
    surplus_notes: dict[str, list[str]] = field(default_factory=dict)  # by circuit
    _members: tuple[object, frozenset[str]] = (None, frozenset())

    # ---- inputs -----------------------------------------------------------------------------------

    def on_live(self, uid: str, live: dict[str, Any], now: float) -> None:
        signalled = int(live.get("set_current_ma", 0))
        if int(live.get("iec_state", 0)) not in CONNECTED:
            self.seen_phases.pop(uid, None)
            self.surplus_since.pop(uid, None)
            self.phases_asked.pop(uid, None)  # a new session: the module counts its switches anew
            held = self.applier.sent.get(uid)
            if held is not None and held.ma > 0 and uid in self.members():
                self.applier.forget(uid)  # no vehicle: it draws nothing; a new one gets 0 first
        held = self.applier.sent.get(uid)
        if held is not None and held.known and int(live.get("flags", 0)) & cd.FLAG_AWAITING_SETPOINT:
            # the module restarted and forgot our set-point: send it again, counted
            # at the higher of the two meanwhile (this sample may predate the last one we sent)
            self.applier.seed(uid, max(held.ma, held.before, signalled), now)
        if uid not in self.applier.sent and live.get("online"):
            self.applier.seed(uid, signalled, now)
        before = self.live.get(uid)
        if (
            before is not None
            and (int(before.live.get("flags", 0)) ^ int(live.get("flags", 0))) & cd.FLAG_ONE_PHASE
        ):
            self.seen_phases.pop(uid, None)  # the phase contactor switched: the vehicle's phases anew
        self.live[uid] = Sample(live, now)

    def on_meter(self, circuit: str, reading: dict[str, Any], now: float) -> None:
        self.meters[circuit] = Sample(reading, now)

    def on_limit(self, uid: str, source: str, name: str, ma: int | None) -> bool:
        """An external limit of one point from `source` (`ocpp`, `modbus`): `ma` None lifts it. True when
        it changed (the service then rounds at once rather than at the next tick)."""
        held = self.external.setdefault(uid, {})
        before = held.get(source)
        if ma is None:
            held.pop(source, None)
        else:
            held[source] = (name, max(0, int(ma)))
        return held.get(source) != before

    def on_ocpp(self, uid: str, message: dict[str, Any]) -> bool:
        """`topics.OCPP_LIMIT`: {ma, reason}; an unknown reason is still a limit (named `ocpp`)."""
        ma = message.get("ma")
        name = OCPP_LIMITS.get(str(message.get("reason")), "ocpp")
        return self.on_limit(uid, "ocpp", name, None if ma is None else int(ma))

    def on_modbus(self, uid: str, message: dict[str, Any]) -> bool:
        """`topics.MODBUS_POINT_CURRENT`: {ma}."""
        ma = message.get("ma")
        return self.on_limit(uid, MODBUS, MODBUS, None if ma is None else int(ma))

    def first_circuit(self) -> str | None:
        return min(self.circuits) if self.circuits else None

    # ---- one round --------------------------------------------------------------------------------

    def circuit_input(self, cid: str, now: float) -> tuple[Circuit, list[Point]]:
        c = self.circuits[cid]
        limits = []
        if cid == self.first_circuit() and self.dynamic_a != NO_DYNAMIC:
            limits.append(("modbus_167", self.dynamic_a * A))
        upstream: tuple[int, int, int] | None = None
        reading = self.meters.get(cid)
        if reading is not None and reading.live.get("online") and now - reading.at < STALE_S:
            r = reading.live
            upstream = (int(r["i1_ma"]), int(r["i2_ma"]), int(r["i3_ma"]))
        points, reserved = [], 0
        for entry in c["points"]:
            uid = entry["uid"]
            point = self.point_input(uid, now)
            if point is None:  # out of reach: it falls back on its own, keep room for that
                reserved += self._fallback_ma(uid)
            else:
                points.append(point)
        self.surplus_notes[cid] = []
        if any(entry.get("surplus") for entry in c["points"]):  # records from the store have it
            points = self._surplus(cid, points, upstream is not None and reading is not None, now)
        circuit = Circuit(
            fuse_ma=c["fuse_a"] * A,
            threshold_ma=c["threshold_a"] * A,
            upstream_fuse_ma=c["upstream_fuse_a"] * A if c["meter_connection"] != "none" else None,
            upstream_ma=upstream,
            limits=tuple(limits),
            reserved_ma=reserved,
        )
        return circuit, points

    def _surplus(self, cid: str, points: list[Point], metered: bool, now: float) -> list[Point]:
        """Caps the circuit's surplus points at what the export carries (loadmgmt/surplus.py); without a
        reading of the higher-level meter they stop (nothing says there is a surplus)."""
        c = self.circuits[cid]
        entries = {e["uid"]: e for e in c["points"] if e.get("surplus")}
        export_w = 0
        if metered:
            export_w = -int(self.meters[cid].live.get("power_mw", 0)) // 1000
        else:
            self.surplus_notes[cid].append("higher-level meter lost: surplus charging stopped")
        settings = Settings(c["surplus_start_w"], c["surplus_stop_w"], c["surplus_min_run_s"], self.volts)
        candidates = []
        for p in points:
            entry = entries.get(p.uid)
            if entry is None:
                continue
            flags = int(self.live[p.uid].live.get("flags", 0))
            measured = p.measured_ma or (p.setpoint_ma,) * bin(vehicle_phases(p)).count("1")
            candidates.append(Candidate(
                p.uid, p.min_ma, p.max_ma, p.wants and metered, bin(vehicle_phases(p)).count("1"),
                sum(measured) * self.volts // 1000,
                switchable=entry["phase_switch_output"] > 0, one_phase=bool(flags & cd.FLAG_ONE_PHASE),
                running_since=self.surplus_since.get(p.uid)))  # fmt: skip
        decisions = decide(settings, export_w, candidates, now)
        out = []
        for p in points:
            d = decisions.get(p.uid)
            if d is None:
                out.append(p)
                continue
            if d.running_since is None:
                self.surplus_since.pop(p.uid, None)
            else:
                self.surplus_since[p.uid] = d.running_since
            if d.phases is not None:
                self.phases_wanted[p.uid] = d.phases
            out.append(replace(p, limits=(*p.limits, (SURPLUS, d.ma))))
        return out

    def phase_requests(self) -> dict[str, int]:
        """The `phases` commands to send (uid -> 1 or 3): a wish the module has not been asked for yet and
        does not already hold; asked once (the module refuses within its hold time or past its maximum)."""
        out = {}
        for uid, want in self.phases_wanted.items():
            sample = self.live.get(uid)
            if sample is None or not sample.live.get("online"):
                continue
            flags = int(sample.live.get("flags", 0))
            holds = 1 if flags & cd.FLAG_ONE_PHASE else 3
            if flags & cd.FLAG_PHASE_SWITCHING or holds == want:
                self.phases_asked.pop(uid, None)
            elif self.phases_asked.get(uid) != want:
                self.phases_asked[uid] = want
                out[uid] = want
        return out

    def phase_refused(self, uid: str) -> None:
        """The module refused a `phases` request (its hold time, its maximum): the next round asks again."""
        self.phases_asked.pop(uid, None)

    def _config(self, uid: str) -> dict[str, Any]:
        return self.points.get(uid, {"min_current_a": 10, "max_current_a": 16, "fallback_current_a": 6,
                                     "phase_rotation": "unknown", "meter_type": "none"})  # fmt: skip

    def _fallback_ma(self, uid: str) -> int:
        cfg = self._config(uid)
        fallback: int = cfg["fallback_current_a"]
        return fallback * A if fallback >= cfg["min_current_a"] else 0

    def point_input(self, uid: str, now: float) -> Point | None:
        sample = self.live.get(uid)
        if sample is None or not sample.live.get("online") or now - sample.at >= STALE_S:
            return None
        live, cfg = sample.live, self._config(uid)
        connected = int(live.get("iec_state", 0)) in CONNECTED
        status = int(live.get("status", 0))
        wants = connected and status not in (cd.ST_UNAVAILABLE, cd.ST_FAULTED)
        metered = cfg["meter_type"] != "none" and not int(live.get("error_bits", 0)) & cd.ERR_METER_COMM
        measured = (int(live["i1_ma"]), int(live["i2_ma"]), int(live["i3_ma"])) if metered else None
        if measured is not None:
            drew = sum(1 << k for k in range(PHASES) if measured[k] >= 1000)
            self.seen_phases[uid] = self.seen_phases.get(uid, 0) | drew
        limits = list(self.external.get(uid, {}).values())
        if int(live.get("cable_ma", 0)) > 0:
            limits.append(("cable", int(live["cable_ma"])))
        sent = self.applier.sent.get(uid)
        return Point(
            uid,
            min_ma=cfg["min_current_a"] * A,
            max_ma=cfg["max_current_a"] * A,
            wants=wants,
            rotation=cfg["phase_rotation"],
            measured_ma=measured,
            setpoint_ma=sent.ma if sent else int(live.get("set_current_ma", 0)),
            charging_s=int(live.get("charging_s", 0)),
            seen_phases=self.seen_phases.get(uid, 0),
            limits=tuple(limits),
        )

    def members(self) -> frozenset[str]:
        """The points in some load circuit (cached per configuration: the service replaces `circuits`)."""
        if self._members[0] is not self.circuits:
            self._members = (
                self.circuits,
                frozenset(e["uid"] for c in self.circuits.values() for e in c["points"]),
            )
        return self._members[1]

    def round(self, now: float) -> dict[str, int]:
        """Allocates every circuit and sets every point in none; the set-points to send now (uid -> mA),
        lowerings among them first."""
        out: dict[str, int] = {}
        for cid in sorted(self.circuits):
            circuit, points = self.circuit_input(cid, now)
            allocation = allocate(circuit, points)
            allocation.notes.extend(self.surplus_notes.get(cid, ()))
            # a member out of reach holds its last set-point until its fallback time: it still counts
            grid = {entry["uid"]: ALL_PHASES for entry in self.circuits[cid]["points"]}
            grid.update({u: g.grid for u, g in allocation.grants.items()})
            target = {u: g.ma for u, g in allocation.grants.items()}
            out.update(self.applier.step(now, target, grid, allocation.budget_ma))
            measured = [0, 0, 0]
            for p in points:
                if p.measured_ma is not None:
                    for k in range(PHASES):
                        measured[k] += p.measured_ma[k]
            self.state[cid] = CircuitState(allocation, now, (measured[0], measured[1], measured[2]))
        for gone in self.state.keys() - self.circuits.keys():
            del self.state[gone]
        out.update(self._unmanaged(now))
        return dict(sorted(out.items(), key=lambda kv: kv[1] >= self._before(kv[0])))

    def _unmanaged(self, now: float) -> dict[str, int]:
        """A point in no load circuit: the least of its external limits and its maximum, vehicle or not (no
        fuse to share, so nothing to take back when a vehicle leaves); below its minimum it suspends."""
        members = self.members()
        grants: dict[str, Grant] = {}
        for uid in sorted(set(self.points) - members):
            point = self.point_input(uid, now)
            if point is None:
                continue
            top, reason = ceiling(point, UNLIMITED)
            grants[uid] = Grant(top if top >= point.min_ma else 0, reason, 0, 0)
        self.unmanaged = grants
        target = {u: g.ma for u, g in grants.items()}
        return self.applier.step(now, target, {}, (UNLIMITED, UNLIMITED, UNLIMITED))

    def _before(self, uid: str) -> int:
        s = self.applier.sent.get(uid)
        return s.before if s else 0

    def failed(self, uid: str) -> None:
        """A set-point did not reach the point: count it at the higher of the two until it is known again."""
        s = self.applier.sent.get(uid)
        if s is not None:
            self.applier.seed(uid, max(s.ma, s.before), s.at)

    # ---- status -----------------------------------------------------------------------------------

    def why(self, uid: str) -> dict[str, Any]:
        """The point's binding limit now ("why is this point limited")."""
        for cid, st in self.state.items():
            if st.allocation is None or uid not in st.allocation.grants:
                continue
            return self._why(uid, cid, st.allocation.grants[uid])
        if uid in self.unmanaged:
            return self._why(uid, None, self.unmanaged[uid])
        return {"uid": uid, "circuit": None, "reason": "unmanaged"}

    def _why(self, uid: str, cid: str | None, g: Grant) -> dict[str, Any]:
        sample = self.live.get(uid)
        live = sample.live if sample else {}
        signalled = int(live.get("set_current_ma", 0))
        reason = g.reason
        if live and 0 < signalled < g.ma:
            code = int(live.get("limit", -1))
            name = cd.LIMITS[code] if 0 <= code < len(cd.LIMITS) else ""
            reason = name if name in MODULE_REASONS else "module"  # e.g. still raising at 1 step per 5 s
        limits = {name: ma for name, ma in self.external.get(uid, {}).values()}
        return {"uid": uid, "circuit": cid, "setpoint_ma": g.ma, "signalled_ma": signalled, "reason": reason,
                "allocation_reason": g.reason, "grid_phases": g.grid, "limits": limits}  # fmt: skip

    def status(self, cid: str, now: float) -> dict[str, Any]:
        """CHARX "Load Management Status" of one circuit, with the per-phase detail and the safe assumptions."""
        st = self.state.get(cid, CircuitState())
        c = self.circuits.get(cid, {})
        a = st.allocation
        return {
            "circuit": cid,
            "name": c.get("name", ""),
            "active": True,
            "limiting": bool(a and a.limiting),
            "monitored": len(c.get("points", [])),
            "current_a": round(sum(st.measured_ma) / A, 1),
            "planned_a": round(sum(a.planned_ma) / A, 1) if a else 0.0,
            "phase_current_a": [round(m / A, 1) for m in st.measured_ma],
            "phase_planned_a": [round(m / A, 1) for m in a.planned_ma] if a else [0.0] * PHASES,
            "phase_budget_a": [round(m / A, 1) for m in a.budget_ma] if a else [0.0] * PHASES,
            "budget_reason": list(a.budget_reason) if a else [],
            "notes": list(a.notes) if a else [],
            "points": {u: self.why(u) for u in sorted(a.grants)} if a else {},
            "t": round(now, 3),
        }
