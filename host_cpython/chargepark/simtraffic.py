"""EV traffic for a simulated park: vehicles arrive, plug in, charge, sometimes pause, unplug and leave."""

from __future__ import annotations

import asyncio
import logging
import random

from chargepark.simctl import SimControl

log = logging.getLogger("chargepark.traffic")


class Traffic:
    """One EV after another at each point, driven through the sim-control channel."""

    def __init__(
        self, endpoints: dict[int, str], seed: int | None = None, stay_s: tuple[float, float] = (40, 120)
    ) -> None:
        self.controls = {pos: SimControl(ep) for pos, ep in endpoints.items()}
        self.rng = random.Random(seed)
        self.stay_s = stay_s
        self.arrivals = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._point(pos, sim)) for pos, sim in self.controls.items()]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sim in self.controls.values():
            sim.close()

    async def _point(self, position: int, sim: SimControl) -> None:
        first = True
        while True:
            try:
                await asyncio.sleep(self.rng.uniform(0.2, 1.5) if first else self.rng.uniform(5, 20))
                first = False
                await self.visit(position, sim)
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionError, ValueError) as e:  # the module restarts: try again later
                log.info("traffic at point %d: %s", position, e)
                await asyncio.sleep(2.0)

    async def visit(self, position: int, sim: SimControl) -> None:
        rng = self.rng
        phases = rng.choice((1, 3, 3))
        await sim("ev", phases=phases, max_a=rng.choice((16, 32)), battery_wh=rng.choice((40000, 60000, 80000)),
                  soc_wh=rng.randint(5000, 30000))  # fmt: skip
        await sim("plug", cable_a=32)
        self.arrivals += 1
        if rng.random() < 0.5:  # the driver shows a card (its tag goes into the session record)
            await sim("rfid", tag="%08X" % rng.getrandbits(32))
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        await sim("charge")
        stay = rng.uniform(*self.stay_s)
        if rng.random() < 0.3:  # the vehicle pauses for a while (SuspendedEV)
            await asyncio.sleep(stay / 2)
            await sim("pause")
            await asyncio.sleep(rng.uniform(3, 8))
            await sim("resume")
            await asyncio.sleep(stay / 2)
        else:
            await asyncio.sleep(stay)
        await sim("unplug")
