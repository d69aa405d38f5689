"""The simulated park of `chargepark run --sim N`: its bus medium runs beside the head's loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from chargepark.bus.agent import ControllerAgent
from chargepark.bus.transport import SimTransport
from chargepark.config import StoreError
from chargepark.simpark import SimPark


def test_park_modules_answer_over_a_medium_on_its_own_thread(tmp_path: Path) -> None:
    async def scenario() -> None:
        park = SimPark(tmp_path, 2, tmp_path / "config.db", traffic=False)
        try:
            bus = await park.start()
            medium_loop = park.medium_thread.loop
            assert medium_loop is not asyncio.get_running_loop() and medium_loop.is_running()
            transport = await SimTransport.connect(str(bus["endpoint"]))
            try:
                agent = ControllerAgent(transport, [1, 2])
                ids = [await agent.identify(p) for p in (1, 2)]
            finally:
                await transport.close()
            assert [i["uid"] for i in ids] == ["CPSIM0001", "CPSIM0002"]
            assert park.medium.counters.frames > 0  # the frames went through the park's medium
        finally:
            await park.stop()
        assert medium_loop.is_closed()
        assert not any(t.name == "bus-medium" for t in threading.enumerate())

    asyncio.run(scenario())


def test_a_park_that_fails_before_its_medium_starts_stops_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        park = SimPark(tmp_path, 1, tmp_path / "missing" / "config.db", traffic=False)
        with pytest.raises(StoreError):
            await park.start()
        async with asyncio.timeout(5):
            await park.stop()

    asyncio.run(scenario())
