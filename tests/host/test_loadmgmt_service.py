"""The load management round without I/O (live samples in, set-points and status out) and its CHARX REST."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import chargedefs as cd
import httpx
from chargepark.config.store import ConfigStore
from chargepark.loadmgmt import rest
from chargepark.loadmgmt.manager import Manager

A = 1000
CIRCUIT = {"name": "Garage", "fuse_a": 40, "threshold_a": 3, "meter_connection": "none", "upstream_fuse_a": 63,
           "points": [{"uid": "cp1"}, {"uid": "cp2"}, {"uid": "cp3"}]}  # fmt: skip
CONFIG = {"min_current_a": 6, "max_current_a": 32, "fallback_current_a": 6, "phase_rotation": "L1L2L3",
          "meter_type": "eem350"}  # fmt: skip


def live(i_ma: int = 0, *, state: int = cd.STATE_C2, online: bool = True, **extra: Any) -> dict[str, Any]:
    sample = {"online": online, "iec_state": state, "status": cd.ST_CHARGING, "i1_ma": i_ma, "i2_ma": i_ma,
              "i3_ma": i_ma, "set_current_ma": 16 * A, "cable_ma": 0, "charging_s": 100, "flags": 0,
              "error_bits": 0}  # fmt: skip
    sample.update(extra)
    return sample


def manager() -> Manager:
    """Three configured points, no vehicle yet (a member never heard of counts at its fallback current)."""
    m = Manager(circuits={"lc1": CIRCUIT}, points={u: dict(CONFIG) for u in ("cp1", "cp2", "cp3")})
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(0, state=cd.STATE_A1, set_current_ma=0), 0.0)
    return m


def test_a_40_a_fuse_across_three_points_limits_their_set_points() -> None:
    m = manager()
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(16 * A), 0.0)
    sent = m.round(0.0)
    assert sent == {"cp1": 13333, "cp2": 13333, "cp3": 13333}
    status = m.status("lc1", 0.0)
    assert status["limiting"] and status["monitored"] == 3
    assert status["phase_planned_a"] == [40.0, 40.0, 40.0]
    assert m.why("cp1")["reason"] == "load_circuit"


def test_lowerings_are_sent_before_raises() -> None:
    m = manager()
    m.on_live("cp1", live(16 * A), 0.0)
    m.on_live("cp2", live(16 * A, charging_s=50), 0.0)
    assert m.round(0.0) == {"cp3": 0, "cp1": 20 * A, "cp2": 20 * A}  # cp3 is told 0 before any vehicle
    m.on_live("cp3", live(0, state=cd.STATE_B2), 10.0)  # a third vehicle: 20 -> 13.3 A each, cp3 0 -> 13.3 A
    m.on_live("cp1", live(20 * A), 10.0)
    m.on_live("cp2", live(20 * A), 10.0)
    first = m.round(10.0)
    assert list(first)[:2] == ["cp1", "cp2"] and first["cp1"] == 13333
    assert first.get("cp3", 0) == 0  # no room until the others' vehicles had their 5 s
    for uid, i_ma in (("cp1", 13333), ("cp2", 13333), ("cp3", 0)):
        m.on_live(uid, live(i_ma, state=cd.STATE_B2 if uid == "cp3" else cd.STATE_C2), 15.0)
    assert m.round(15.0) == {"cp3": 13333}


def test_a_restarted_module_waiting_for_its_set_point_gets_it_again() -> None:
    m = manager()
    m.points["cp1"]["meter_type"] = "none"  # its set-point is its draw: the allocation stays put
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(16 * A), 0.0)
    assert m.round(0.0)["cp1"] == 13333
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(13333), 10.0)
    assert m.round(10.0) == {}  # settled: nothing to send
    # cp1's module restarted: it signals its 6 A fallback and says it waits for the manager
    m.on_live("cp1", live(6 * A, set_current_ma=6 * A, flags=cd.FLAG_AWAITING_SETPOINT), 20.0)
    m.on_live("cp2", live(13333), 20.0)
    assert m.round(20.0) == {"cp1": 13333}
    m.on_live("cp1", live(13333, set_current_ma=13333), 21.0)
    assert m.round(21.0) == {}
    m.on_live("cp2", live(13333, set_current_ma=13333), 22.0)  # the flag alone makes the difference
    assert m.round(22.0) == {}


def test_a_lost_meter_counts_the_set_point_and_says_so() -> None:
    m = manager()
    m.on_live("cp1", live(16 * A, error_bits=cd.ERR_METER_COMM), 0.0)
    m.round(0.0)
    assert m.status("lc1", 0.0)["notes"] == ["meter of cp1 lost: its set-point counted as its draw"]


def test_an_offline_point_keeps_room_for_its_fallback() -> None:
    m = manager()
    m.on_live("cp1", live(16 * A), 0.0)
    m.on_live("cp2", live(16 * A, online=False), 0.0)
    m.round(0.0)
    assert m.status("lc1", 0.0)["phase_budget_a"] == [34.0, 34.0, 34.0]  # 40 - cp2's 6 A fallback
    fresh = Manager(circuits={"lc1": CIRCUIT}, points={u: dict(CONFIG) for u in ("cp1", "cp2", "cp3")})
    fresh.round(0.0)  # nothing heard yet: every member may sit on its fallback
    assert fresh.status("lc1", 0.0)["phase_budget_a"] == [22.0, 22.0, 22.0]


def test_register_167_and_the_module_own_limits_are_named() -> None:
    m = manager()
    m.dynamic_a = 20
    m.on_live("cp1", live(10 * A, set_current_ma=10 * A, limit=cd.LIMIT_DERATING), 0.0)
    m.round(0.0)
    assert m.status("lc1", 0.0)["budget_reason"] == ["modbus_167"] * 3
    assert m.why("cp1")["allocation_reason"] == "modbus_167"
    assert m.why("cp1")["reason"] == "derating"  # the module signals less than it was given
    m.on_live("cp1", live(6 * A, set_current_ma=6 * A, limit=cd.LIMIT_AWAITING), 1.0)
    assert m.why("cp1")["reason"] == "awaiting_setpoint"  # not an Event Action (its flag is the same)
    assert m.why("nobody") == {"uid": "nobody", "circuit": None, "reason": "unmanaged"}


def test_the_higher_level_meter_and_its_loss() -> None:
    m = manager()
    m.circuits["lc1"] = dict(CIRCUIT, meter_connection="tcp", upstream_fuse_a=50)
    m.on_live("cp1", live(10 * A), 0.0)
    m.on_meter("lc1", {"online": True, "i1_ma": 40 * A, "i2_ma": 10 * A, "i3_ma": 10 * A}, 0.0)
    m.round(0.0)
    assert m.status("lc1", 0.0)["phase_budget_a"] == [20.0, 40.0, 40.0]  # 50 - (40 - 10) on L1
    m.on_live("cp1", live(10 * A), 10.0)
    for uid in ("cp2", "cp3"):
        m.on_live(uid, live(0, state=cd.STATE_A1, set_current_ma=0), 10.0)
    m.round(10.0)  # the reading is 10 s old: lost
    st = m.status("lc1", 10.0)
    assert st["phase_budget_a"] == [40.0, 40.0, 40.0]
    assert st["notes"] == ["higher-level meter lost: the higher-level fuse alone"]


def test_rest_lists_circuits_in_charx_names_and_refuses_with_the_field(tmp_path: Path) -> None:
    store = ConfigStore.open(tmp_path / "config.db")
    store.put("loadcircuit", {"name": "Garage", "fuse_a": 40, "points": [{"uid": "cp1"}]}, key="lc1")
    m = Manager(circuits={"lc1": store.get("loadcircuit", "lc1")})
    app = rest.build(m, store)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://lm") as client:
            got = (await client.get(rest.PREFIX + "/load_circuits")).json()
            assert got[0]["load_circuit_name"] == "Garage" and got[0]["fuse"] == 40
            assert got[0]["charging_points"] == ["cp1"] and got[0]["status"]["monitored"] == 1
            ok = await client.put(rest.PREFIX + "/load_circuits/lc1", json={"fuse": 50})
            assert ok.status_code == 200 and ok.json()["fuse"] == 50
            bad = await client.put(rest.PREFIX + "/load_circuits/lc1", json={"fuse": 3})
            assert bad.status_code == 422 and bad.json()["field"] == "fuse"
            assert (await client.get(rest.PREFIX + "/load_circuits/nope")).status_code == 404
            why = await client.get(rest.PREFIX + "/charging_controllers/cp9/limit")
            assert why.json()["reason"] == "unmanaged"
            # CHARX names the points by UID only: a point that stays keeps its phase contactor
            store.put("loadcircuit", {"points": [{"uid": "cp1", "phase_switch_output": 2}]}, key="lc1")
            ok = await client.put(
                rest.PREFIX + "/load_circuits/lc1", json={"charging_points": ["cp1", "cp2"]}
            )
            assert ok.status_code == 200 and ok.json()["charging_points"] == ["cp1", "cp2"]
            kept = store.get("loadcircuit", "lc1")["points"]
            assert [(e["uid"], e["phase_switch_output"]) for e in kept] == [("cp1", 2), ("cp2", 0)]

    asyncio.run(scenario())
    store.close()
