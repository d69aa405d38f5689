"""The simulated park's meters: each point's meter is a pymodbus RTU server on a pty serving the configured
type's own register map with the plant's reading, and the module's firmware reads it with its RTU driver.
Every selectable type is configured in turn and read back; a meter that fails raises error bit 25 and the
point recovers when it answers again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import chargedefs as d
from chargepark.simctl import request
from chargepark.simpark import SIM_POINT_CONFIG, SimPark
from iomodule import meters
from simboard.plant import FREQUENCY_MHZ, PHASE_MV


async def ask(endpoint: str, req: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.to_thread(request, endpoint, req, 5.0)


async def until(endpoint: str, cond: Any, what: str, limit_s: float = 8.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while True:
        state = await ask(endpoint, {"cmd": "state"})
        if cond(state["point"]):
            return state
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s: %s" % (what, limit_s, state["point"]))
        await asyncio.sleep(0.1)


def test_every_meter_type_is_read_over_rtu_from_the_parks_meter(tmp_path: Path) -> None:
    async def scenario() -> None:
        park = SimPark(tmp_path, 1, tmp_path / "config.db", traffic=False)
        try:
            await park.start()
            ep = park.endpoints[1]
            meter = park.meters[1]
            for meter_type in sorted(meters.MAPS):
                reply = await ask(
                    ep, {"cmd": "configure", "config": dict(SIM_POINT_CONFIG, meter_type=meter_type)}
                )
                assert reply["ok"], reply
                three_phase = any(f[0] == meters.U3 for f in meters.MAPS[meter_type]["fields"])
                deadline = time.monotonic() + 5
                while meter.image is None or meter.image.meter_map is not meters.MAPS[meter_type]:
                    assert time.monotonic() < deadline, "the park's meter did not follow %s" % meter_type
                    await asyncio.sleep(0.05)
                image = meter.image
                await until(
                    ep,
                    lambda p, three_phase=three_phase, image=image: (
                        image.reads >= 2 * len(image.meter_map["blocks"])  # a whole cycle from this map
                        and abs(p["u1_mv"] - PHASE_MV) <= 100
                        and (abs(p["u3_mv"] - PHASE_MV) <= 100) == three_phase
                        and not p["error_bits"] & d.ERR_METER_COMM
                    ),
                    meter_type,
                )
                state = await ask(ep, {"cmd": "state"})
                assert abs(state["point"]["energy_wh"] - state["meter"]["reading"][meters.ENERGY]) <= 100
                if meter_type != "wm3m4" and meter_type != "em111":
                    assert abs(state["point"]["frequency_mhz"] - FREQUENCY_MHZ) <= 100, meter_type
            await ask(ep, {"cmd": "fault", "name": "meter_comm", "on": True})
            await until(ep, lambda p: p["error_bits"] & d.ERR_METER_COMM, "meter loss")
            await ask(ep, {"cmd": "fault", "name": "meter_comm", "on": False})
            await until(ep, lambda p: not p["error_bits"] & d.ERR_METER_COMM, "meter back")
        finally:
            await park.stop()

    asyncio.run(scenario())
