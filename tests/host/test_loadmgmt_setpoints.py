"""Load management as the one set-point path: OCPP limits and the Modbus charge current are inputs of the
round (not commands of their own), a point in no load circuit gets the least of its external limits, and
"why is this point limited" names the binding one."""

from __future__ import annotations

import chargedefs as cd
from chargepark.loadmgmt.manager import Manager

from tests.host.test_loadmgmt_service import CIRCUIT, CONFIG, live, manager

A = 1000


def test_an_ocpp_profile_caps_a_member_and_its_share_goes_to_the_others() -> None:
    m = manager()
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(16 * A), 0.0)
    assert m.on_ocpp("cp1", {"ma": 8 * A, "reason": "tx_profile"})
    assert not m.on_ocpp("cp1", {"ma": 8 * A, "reason": "tx_profile"})  # unchanged: no early round
    sent = m.round(0.0)
    assert sent == {"cp1": 8 * A, "cp2": 16 * A, "cp3": 16 * A}  # 40 A: 8 + 16 + 16
    why = m.why("cp1")
    assert why["reason"] == "ocpp_profile" and why["limits"] == {"ocpp_profile": 8 * A}
    assert m.why("cp2")["reason"] == "load_circuit"


def test_the_modbus_charge_current_is_a_limit_and_the_least_one_binds() -> None:
    m = manager()
    m.on_live("cp1", live(16 * A), 0.0)
    m.on_ocpp("cp1", {"ma": 12 * A, "reason": "max_current"})
    m.on_modbus("cp1", {"ma": 10 * A})
    assert m.round(0.0)["cp1"] == 10 * A and m.why("cp1")["reason"] == "modbus"
    m.on_modbus("cp1", {"ma": None})  # lifted: OCPP binds
    m.on_live("cp1", live(10 * A), 6.0)
    assert m.round(6.0)["cp1"] == 12 * A and m.why("cp1")["reason"] == "ocpp_max_current"
    m.on_modbus("cp1", {"ma": 0})  # X301 = 0: paused
    assert m.round(7.0)["cp1"] == 0 and m.why("cp1")["reason"] == "modbus"


def test_a_point_in_no_circuit_gets_its_least_external_limit_no_fuse() -> None:
    m = Manager(circuits={}, points={"solo": dict(CONFIG)})
    m.on_live("solo", live(0, state=cd.STATE_A1, set_current_ma=0), 0.0)
    assert m.round(0.0) == {"solo": 32 * A}  # no limit: its maximum, vehicle or not
    assert m.why("solo")["reason"] == "max_current" and m.why("solo")["circuit"] is None
    assert m.round(1.0) == {}  # nothing changed: nothing sent
    m.on_ocpp("solo", {"ma": 20 * A, "reason": "charge_point_max_profile"})
    assert m.round(2.0) == {"solo": 20 * A}
    m.on_modbus("solo", {"ma": 4 * A})  # below its 6 A minimum: suspended
    assert m.round(3.0) == {"solo": 0} and m.why("solo")["reason"] == "modbus"
    m.on_modbus("solo", {"ma": None})
    m.on_ocpp("solo", {"ma": None})
    assert m.round(4.0) == {"solo": 32 * A}  # a raise without a fuse goes out at once


def test_every_change_is_lowered_before_raised_across_members_and_others() -> None:
    m = manager()
    m.points["solo"] = dict(CONFIG)
    for uid in ("cp1", "cp2", "cp3", "solo"):
        m.on_live(uid, live(16 * A), 0.0)
    m.on_ocpp("solo", {"ma": 20 * A, "reason": "tx_profile"})
    m.round(0.0)
    for uid in ("cp1", "cp2", "cp3", "solo"):
        m.on_live(uid, live(13333), 10.0)
    m.on_ocpp("cp1", {"ma": 6 * A, "reason": "tx_profile"})
    m.on_ocpp("solo", {"ma": 10 * A, "reason": "tx_profile"})
    sent = list(m.round(10.0).items())
    lowered = [ma < m.applier.sent[u].before for u, ma in sent]
    assert lowered == sorted(lowered, reverse=True) and ("cp1", 6 * A) in sent and ("solo", 10 * A) in sent


def test_two_circuits_do_not_count_each_other_against_their_fuse() -> None:
    circuits = {"lc1": dict(CIRCUIT, points=[{"uid": "cp1"}]), "lc2": dict(CIRCUIT, points=[{"uid": "cp2"}])}
    m = Manager(circuits=circuits, points={u: dict(CONFIG, max_current_a=40) for u in ("cp1", "cp2")})
    for uid in ("cp1", "cp2"):
        m.on_live(uid, live(0, set_current_ma=0), 0.0)
    assert m.round(0.0) == {"cp1": 40 * A, "cp2": 40 * A}  # each has its own 40 A fuse


def test_a_circuit_deleted_leaves_its_points_to_their_own_limits() -> None:
    m = manager()
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(16 * A), 0.0)
    m.round(0.0)
    m.circuits = {}
    for uid in ("cp1", "cp2", "cp3"):
        m.on_live(uid, live(13333), 6.0)
    assert m.round(6.0) == {"cp1": 32 * A, "cp2": 32 * A, "cp3": 32 * A}
    assert m.why("cp1")["circuit"] is None


def test_a_point_in_no_circuit_is_not_told_again_every_round_while_idle() -> None:
    m = Manager(circuits={}, points={"solo": dict(CONFIG)})
    m.on_live("solo", live(0, state=cd.STATE_A1, set_current_ma=0), 0.0)
    assert m.round(0.0) == {"solo": 32 * A}
    for t in (1.0, 2.0, 3.0):  # no vehicle, it signals nothing: its set-point stays known
        m.on_live("solo", live(0, state=cd.STATE_A1, set_current_ma=0), t)
    assert m.round(5.0) == {}
