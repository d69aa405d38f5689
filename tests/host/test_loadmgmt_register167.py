"""Modbus register 167 (dynamic maximum current of the first load circuit) reaches load management: the
Modbus server announces each write, and the next round caps the first circuit's phases with it."""

from __future__ import annotations

from typing import Any

import chargedefs as cd
from chargepark.loadmgmt.manager import NO_DYNAMIC, Manager
from chargepark.modbus.control import Control
from pymodbus.client import AsyncModbusTcpClient

from tests.host.test_modbus_server import park, serve

A = 1000


def test_a_register_167_write_is_announced_and_caps_the_first_circuit() -> None:
    _, control, _ = park()
    announced: list[int] = []
    control.announce_dynamic = announced.append

    async def body(c: AsyncModbusTcpClient, _: Control) -> None:
        assert not (await c.write_register(167, 20, device_id=1)).isError()
        assert not (await c.write_register(167, 65535, device_id=1)).isError()

    serve(control, body)
    assert announced == [20, NO_DYNAMIC]

    circuit: dict[str, Any] = {"name": "a", "fuse_a": 63, "threshold_a": 3, "meter_connection": "none",
                               "upstream_fuse_a": 63, "points": [{"uid": "cp1"}]}  # fmt: skip
    m = Manager(circuits={"a": circuit, "b": dict(circuit, points=[])})
    live = {"online": True, "iec_state": cd.STATE_C2, "status": cd.ST_CHARGING, "i1_ma": 0, "i2_ma": 0,
            "i3_ma": 0, "set_current_ma": 0, "charging_s": 0}  # fmt: skip
    m.on_live("cp1", live, 0.0)
    m.dynamic_a = announced[0]
    m.round(0.0)
    assert m.status("a", 0.0)["phase_budget_a"] == [20.0] * 3
    assert m.status("b", 0.0)["budget_reason"] == ["load_circuit"] * 3  # only the first circuit
    m.dynamic_a = announced[1]
    m.round(1.0)
    assert m.status("a", 1.0)["phase_budget_a"] == [63.0] * 3
