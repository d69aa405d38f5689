"""Rules that span several records of the park (one record's own rules live in its area's checks).

`State` is the whole configuration: a singleton area maps to its record, a keyed area to {key: record}.
Each rule returns problems as (area, key or None, field path, reason); the store names them to the user.
`changed` holds the (area, key) pairs being written: a duplicate is reported on the record that is being
written, not on the one that already held the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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
    one_server,
    module_positions,
)


def problems(state: State, changed: Changed = frozenset()) -> list[Problem]:
    return [p for rule in RULES for p in rule(state, changed)]
