"""ModemRestartTimeout: the modem is restarted when the backend stays out of reach that long (and again each
further period), never while connected, with the modem off or with 0; against a real Central System that
goes away and comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chargepark.ocpp.modemwatch import ModemWatch

from tests.host.ocppkit import CentralSystem
from tests.host.test_ocpp_backend import Rig, run, running


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_restarts_after_the_timeout_and_each_period_while_out_of_reach() -> None:
    clock = Clock()
    restarts: list[float] = []
    settings: dict[str, int] = {"timeout": 600, "modem": True}

    async def restart() -> None:
        restarts.append(clock.t)

    watch = ModemWatch(lambda: settings["timeout"], lambda: bool(settings["modem"]), restart, clock)

    async def scenario() -> None:
        clock.t += 599
        assert not await watch.check()  # out of reach since the start, not yet long enough
        clock.t += 1
        assert await watch.check() and restarts == [1600.0]
        clock.t += 300
        watch.connected()
        clock.t += 5000
        assert not await watch.check()  # connected: never
        watch.lost()
        clock.t += 10
        watch.lost()  # still the same outage
        clock.t += 590
        assert await watch.check() and restarts[-1] == 7500.0
        clock.t += 600
        assert await watch.check() and len(restarts) == 3  # one more period out of reach
        settings["modem"] = False
        clock.t += 600
        assert not await watch.check()
        settings["modem"], settings["timeout"] = True, 0
        clock.t += 6000
        assert not await watch.check()  # 0: never

    run(scenario())


def test_a_failing_restart_is_logged_and_tried_again_a_period_later() -> None:
    clock = Clock()
    tries: list[float] = []

    async def restart() -> None:
        tries.append(clock.t)
        raise OSError("mmcli: no modem")

    watch = ModemWatch(lambda: 60, lambda: True, restart, clock)

    async def scenario() -> None:
        clock.t += 60
        assert await watch.check()
        clock.t += 30
        assert not await watch.check()
        clock.t += 30
        assert await watch.check() and len(tries) == 2

    run(scenario())


def test_the_backend_restarts_the_modem_only_while_it_is_out_of_reach(tmp_path: Path) -> None:
    cs = CentralSystem(interval=300)
    cs.start()
    restarts: list[bool] = []

    async def restart() -> None:
        restarts.append(True)

    async def scenario() -> None:
        r = Rig(tmp_path, cs, {"ModemRestartTimeout": 2})
        r.backend.modem = ModemWatch(
            lambda: int(r.station.settings()["ModemRestartTimeout"]), lambda: True, restart
        )
        async with running(r):
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await asyncio.sleep(3)
            assert restarts == []  # connected
            await asyncio.to_thread(cs.stop)
            await r.until("modem restarted", lambda: restarts, 30)
            await asyncio.to_thread(cs.start)
            await r.until("back", lambda: r.backend.online, 60)
            n = len(restarts)
            await asyncio.sleep(3)
            assert len(restarts) == n  # connected again: no more

    try:
        run(scenario())
    finally:
        cs.close()
