"""Rules that span several records of the park (one record's own rules live in its area's checks).

`State` is the whole configuration: a singleton area maps to its record, a keyed area to {key: record}.
Each rule returns problems as (area, key or None, field path, reason); the store names them to the user.
`changed` holds the (area, key) pairs being written: a duplicate is reported on the record that is being
written, not on the one that already held the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import chargedefs
import chargeschema
import pointconfig
from iomodule import phases

from chargepark.config.schemas import MODBUS_AUTO

Record = dict[str, Any]
State = dict[str, Any]
Problem = tuple[str, str | None, str, str]
Changed = frozenset[tuple[str, str | None]]


def _in_order(state: State, area: str, changed: Changed) -> list[tuple[str, Record]]:
    """Records of a keyed area, those being written last."""
    return sorted(state[area].items(), key=lambda item: ((area, item[0]) in changed, item[0]))


def ocpp_connector_ids(state: State, changed: Changed) -> Iterator[Problem]:
    """Manual "OCPP ConnectorID": required (from 1) for release By OCPP, and unique in the charging park."""
    first: dict[int, str] = {}
    for uid, cp in _in_order(state, "chargepoint", changed):
        cid = cp["ocpp_connector_id"]
        if cp["release_mode"] == "ocpp" and cid < 1:
            yield ("chargepoint", uid, "ocpp_connector_id", "must be >= 1 when the release mode is ocpp")
        if cid < 1:
            continue
        if cid in first:
            yield ("chargepoint", uid, "ocpp_connector_id", "%d is already used by %s" % (cid, first[cid]))
        else:
            first[cid] = uid


def chargepoint_names(state: State, changed: Changed) -> Iterator[Problem]:
    """Manual: "The name serves to uniquely identify the charging point"."""
    first: dict[str, str] = {}
    for uid, cp in _in_order(state, "chargepoint", changed):
        if cp["name"] in first:
            yield ("chargepoint", uid, "name", "%r is already used by %s" % (cp["name"], first[cp["name"]]))
        else:
            first[cp["name"]] = uid


def modbus_start_addresses(state: State, changed: Changed) -> Iterator[Problem]:
    """Manual "Modbus": unique start addresses; manual and automatic ones cannot be mixed, so once one
    point has a manual start address every configured point needs one."""
    entries = state["modbus"]["start_addresses"]
    by_uid: dict[str, int] = {}
    owner: dict[int, str] = {}
    for i, entry in enumerate(entries):
        uid, start = entry["uid"], entry["start"]
        if uid in by_uid:
            yield ("modbus", None, "start_addresses[%d].uid" % i, "%s is listed twice" % uid)
            continue
        by_uid[uid] = start
        if start == MODBUS_AUTO:
            continue
        if start in owner:
            yield (
                "modbus",
                None,
                "start_addresses[%d].start" % i,
                "%d is already used by %s" % (start, owner[start]),
            )
        else:
            owner[start] = uid
    if not owner:
        return
    for i, entry in enumerate(entries):
        if entry["start"] == MODBUS_AUTO:
            yield (
                "modbus",
                None,
                "start_addresses[%d].start" % i,
                "manual and automatic (-1) cannot be mixed",
            )
    for uid in sorted(state["chargepoint"]):
        if uid not in by_uid:
            yield (
                "chargepoint",
                uid,
                "",
                "needs a manual Modbus start address (modbus.start_addresses): the others are manual",
            )


def loadcircuit_members(state: State, changed: Changed) -> Iterator[Problem]:
    """A charging point belongs to at most one load circuit."""
    member_of: dict[str, str] = {}
    for cid, circuit in _in_order(state, "loadcircuit", changed):
        for i, entry in enumerate(circuit["points"]):
            uid = entry["uid"]
            if uid in member_of:
                yield (
                    "loadcircuit",
                    cid,
                    "points[%d].uid" % i,
                    "%s is already in load circuit %s" % (uid, member_of[uid]),
                )
            else:
                member_of[uid] = cid


def loadcircuit_rs485_meter(state: State, changed: Changed) -> Iterator[Problem]:
    """Manual "RS-485 connection": the higher-level meter is of the type of the meter on that point's line
    (at its address + 1), so the point needs a configured meter; one such meter a line."""
    carried: dict[str, str] = {}
    for cid, circuit in _in_order(state, "loadcircuit", changed):
        uid = circuit["rs485_point"]
        if circuit["meter_connection"] != "rs485" or not uid:
            continue
        cp = state["chargepoint"].get(uid)
        if cp is None or cp["meter_type"] == "none":
            why = "needs an energy meter type: the higher-level meter on its RS-485 line is of the same type"
            if cp is not None and ("chargepoint", uid) in changed:
                yield ("chargepoint", uid, "meter_type", "%s of load circuit %s" % (why, cid))
            else:
                yield ("loadcircuit", cid, "rs485_point", "%s %s" % (uid, why))
        if uid in carried:
            yield ("loadcircuit", cid, "rs485_point",
                   "%s already carries the higher-level meter of load circuit %s" % (uid, carried[uid]))  # fmt: skip
        else:
            carried[uid] = cid


def loadcircuit_fallback_within_fuse(state: State, changed: Changed) -> Iterator[Problem]:
    """When load management dies its points fall back to their fallback currents (all may sit on one phase):
    together they must fit the circuit's fuse. A fallback below the point's minimum suspends it (0 A)."""
    default = fallback_current(chargeschema.defaults(pointconfig.FIELDS))
    for cid, circuit in _in_order(state, "loadcircuit", changed):
        uids = [entry["uid"] for entry in circuit["points"]]
        total = sum(
            fallback_current(state["chargepoint"][u]) if u in state["chargepoint"] else default for u in uids
        )
        if total <= circuit["fuse_a"]:
            continue
        why = "the fallback currents of load circuit %s add up to %d A, above its fuse of %d A" % (
            cid,
            total,
            circuit["fuse_a"],
        )
        written = [u for u in uids if ("chargepoint", u) in changed]
        if written and ("loadcircuit", cid) not in changed:
            yield ("chargepoint", written[0], "fallback_current_a", why)
        else:
            yield ("loadcircuit", cid, "fuse_a", why)


def loadcircuit_phase_outputs(state: State, changed: Changed) -> Iterator[Problem]:
    """A member's phase contactor output is no output its Event Actions drive (the module's own check,
    iomodule/phases.py, on the two records the head keeps apart)."""
    check = phases.checker(chargedefs.DIGITAL_OUTPUTS)
    for cid, circuit in _in_order(state, "loadcircuit", changed):
        for i, entry in enumerate(circuit["points"]):
            cp = state["chargepoint"].get(entry["uid"])
            problem = check(dict(cp, phase_switch_output=entry["phase_switch_output"])) if cp else None
            if problem is None:
                continue
            if ("chargepoint", entry["uid"]) in changed and ("loadcircuit", cid) not in changed:
                yield ("chargepoint", entry["uid"], problem[0], problem[1])
            else:
                yield ("loadcircuit", cid, "points[%d].phase_switch_output" % i, problem[1])


def fallback_current(cp: Record) -> int:
    """What a point draws at most on its fallback (pointconfig: below the minimum it suspends)."""
    fallback: int = cp["fallback_current_a"]
    return fallback if fallback >= cp["min_current_a"] else 0


def one_server(state: State, changed: Changed) -> Iterator[Problem]:
    """A charging park has one server; the other stations are its clients."""
    servers = [k for k, st in _in_order(state, "station", changed) if st["role"] == "server"]
    for uid in servers[1:]:
        yield ("station", uid, "role", "the park already has the server %s" % servers[0])


def module_positions(state: State, changed: Changed) -> Iterator[Problem]:
    """One module per bus position of a station."""
    taken: dict[tuple[str, int], str] = {}
    for uid, mod in _in_order(state, "module", changed):
        slot = (mod["station"], mod["position"])
        if slot in taken:
            yield (
                "module",
                uid,
                "position",
                "station %s position %d is %s" % (slot[0], slot[1], taken[slot]),
            )
        else:
            taken[slot] = uid


RULES: tuple[Callable[[State, Changed], Iterator[Problem]], ...] = (
    ocpp_connector_ids,
    chargepoint_names,
    modbus_start_addresses,
    loadcircuit_members,
    loadcircuit_rs485_meter,
    loadcircuit_fallback_within_fuse,
    loadcircuit_phase_outputs,
    one_server,
    module_positions,
)


def problems(state: State, changed: Changed = frozenset()) -> list[Problem]:
    return [p for rule in RULES for p in rule(state, changed)]
