"""Head agent <-> real micropython modules (recording points) on the simulated medium.

The point here only records what it is told, so the test can compare, command by command, what the head
had acknowledged with what each module really applied, also on a lossy, corrupting medium.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import chargeschema
import pointconfig
import pytest
from backplane import catalog
from chargepark.bus.agent import BusError, BusRefused, ControllerAgent
from chargepark.bus.medium import Faults, MediumThread, SimMedium
from chargepark.bus.transport import SimTransport

CASE = Path(__file__).resolve().parent.parent / "firmware" / "bus_module_case.py"


class Bus:
    def __init__(
        self, medium: MediumThread, agent: ControllerAgent, procs: dict[int, subprocess.Popen[bytes]]
    ):
        self.thread = medium
        self.medium = medium.medium
        self.agent = agent
        self.procs = procs


async def start_bus(
    micropython: Any,
    procs: list[Any],
    positions: list[int],
    faults: Faults,
    absent: tuple[int, ...] = (),
    **kw: Any,
) -> Bus:
    thread = MediumThread(SimMedium(faults=faults, seed=7))
    medium = thread.start()
    mods = {}
    for p in positions:
        proc = micropython.spawn([str(CASE), medium.endpoint, str(p)])
        procs.append(proc)
        mods[p] = proc
    assert medium.wait_for(set(positions))
    agent = ControllerAgent(await SimTransport.connect(medium.endpoint), sorted([*positions, *absent]), **kw)
    return Bus(thread, agent, mods)


def applied(proc: subprocess.Popen[bytes]) -> list[str]:
    proc.kill()
    out, _ = proc.communicate(timeout=10)
    return [line for line in out.decode().splitlines() if line.startswith(("cmd", "config"))]


def base_config(**changes: Any) -> dict[str, Any]:
    cfg = chargeschema.validate(pointconfig.FIELDS, {"name": "cp"}, pointconfig.CHECKS)
    cfg.update(changes)
    return cfg


def test_discovery_config_events_offline_and_back(micropython, mpy_procs):
    async def scenario() -> None:
        bus = await start_bus(
            micropython, mpy_procs, [2, 5], Faults(), absent=(7,), timeout=0.05, offline_after=2
        )
        agent = bus.agent
        seen: list[tuple[str, int, Any]] = []
        agent.subscribe(lambda kind, pos, data: seen.append((kind, pos, data)))
        assert await agent.discover() == [2, 5]
        ident = agent.modules[5].identity
        assert ident["uid"] == "rec-5" and ident["position"] == 5 and ident["catalog"] == catalog.CATALOG_HASH
        assert not agent.modules[7].online  # nobody there

        cfg = base_config(max_current_a=32)
        version, checksum = await agent.configure(2, cfg)
        assert version == 1 and checksum == pointconfig.checksum(pointconfig.module_part(cfg))
        with pytest.raises(BusRefused, match="min_current_a"):
            await agent.configure(5, base_config(min_current_a=20, max_current_a=10))

        await agent.command(2, "setpoint_ma", 13000)
        with pytest.raises(BusRefused, match="bad command"):
            await agent.command(2, "setpoint_ma", -1)
        live = await agent.poll(2)
        assert live["set_current_ma"] == 13000 and live["config_checksum"] == checksum
        await agent.poll(2)  # acknowledges the event of the first poll: it must not come again
        events = [d for k, p, d in seen if k == "event" and p == 2]
        assert events == [(catalog.chargedefs.EV_STATUS, 13000)]

        await agent.broadcast("setpoint_ma", 9000)  # sent twice: the repeat is a duplicate
        assert (await agent.poll(2))["set_current_ma"] == 9000
        assert (await agent.poll(5))["set_current_ma"] == 9000

        bus.medium.unplug(5)
        for _ in range(2):
            with pytest.raises(BusError):
                await agent.poll(5)
        assert not agent.modules[5].online and ("offline", 5, None) in seen
        bus.medium.plug(5)
        await agent.cycle()
        await agent.cycle()
        assert agent.modules[5].online
        c = agent.counters(5)
        assert c["timeouts"] >= 6 and c["retries"] >= 4 and c["offline_transitions"] == 1
        diag = await agent.diagnostics(2)
        assert diag["rx"] >= 5 and diag["crc_errors"] == 0
        bus.thread.stop()
        for p, proc in bus.procs.items():
            log = applied(proc)
            if p == 2:
                assert log == ["config %d" % checksum, "cmd 13000", "cmd 9000"]
            else:
                assert log == ["cmd 9000"]

    asyncio.run(scenario())


@pytest.mark.slow
def test_lossy_bus_applies_every_command_exactly_once(micropython, mpy_procs):
    """10,000 exchanges, 1 % of frames corrupted, 1 % dropped (and 1 % each duplicated and delayed past
    the head's timeout): nothing wrong is applied, nothing twice."""
    positions = list(range(2, 13))
    exchanges = 10_000

    async def scenario() -> tuple[Bus, dict[int, list[int]], dict[int, set[int]]]:
        bus = await start_bus(
            micropython,
            mpy_procs,
            positions,
            Faults(drop=0.01, corrupt=0.01, duplicate=0.01, delay=0.01, delay_s=0.03),
            timeout=0.02,
            retries=3,
        )
        agent = bus.agent
        await agent.discover()  # one try each; on a lossy bus the poll cycle's discovery finds the rest
        for _ in range(100):
            if all(agent.modules[p].online for p in positions):
                break
            await agent.cycle()
        acked: dict[int, list[int]] = {p: [] for p in positions}
        unsure: dict[int, set[int]] = {p: set() for p in positions}
        value = 6000
        for i in range(exchanges // 2):
            p = positions[i % len(positions)]
            value += 1
            try:
                await agent.command(p, "setpoint_ma", value)
                acked[p].append(value)
            except BusError:
                unsure[p].add(value)  # maybe applied, answer lost every time
            try:
                await agent.poll(p)
            except BusError:
                pass
        for p in positions:  # settle: the last set-point must be what the point reports
            await agent.command(p, "setpoint_ma", 32000)
            acked[p].append(32000)
            assert (await agent.poll(p))["set_current_ma"] == 32000
        total = sum(agent.counters(p)["frames_tx"] for p in positions)
        assert total >= exchanges
        mc = bus.medium.counters
        assert min(mc.corrupted, mc.dropped, mc.duplicated, mc.delayed) > 50, mc
        assert sum(agent.counters(p)["stale"] for p in positions) > 50  # late and repeated answers
        assert sum(agent.counters(p)["crc_errors"] for p in positions) > 0
        bus.thread.stop()
        return bus, acked, unsure

    bus, acked, unsure = asyncio.run(scenario())
    for p, proc in bus.procs.items():
        got = [int(line.split()[1]) for line in applied(proc) if line.startswith("cmd")]
        assert len(got) == len(set(got)), "a command was applied twice at position %d" % p
        assert got == sorted(got), "out of order at position %d" % p
        assert set(acked[p]) <= set(got), "an acknowledged command was not applied at %d" % p
        assert set(got) <= set(acked[p]) | unsure[p], "a command nobody sent was applied at %d" % p


def test_concurrent_requests_each_get_their_own_answer(micropython, mpy_procs):
    """The background poll loop, commands and configuration share the bus without crossing answers."""

    async def scenario() -> None:
        bus = await start_bus(micropython, mpy_procs, [3, 4], Faults(), poll_interval=0.0)
        agent = bus.agent
        await agent.start()
        jobs = [agent.command(3 + i % 2, "setpoint_ma", 7000 + i) for i in range(40)]
        jobs += [agent.configure(4, base_config(max_current_a=20)), agent.diagnostics(3)]
        await asyncio.gather(*jobs)
        for _ in range(100):
            if agent.cycles >= 3:
                break
            await asyncio.sleep(0.01)
        await agent.stop()
        assert agent.cycles >= 3
        for p in (3, 4):
            c = agent.counters(p)
            assert c["failures"] == c["timeouts"] == c["stale"] == 0, c
        bus.thread.stop()
        assert applied(bus.procs[3]) == ["cmd %d" % (7000 + i) for i in range(0, 40, 2)]

    asyncio.run(scenario())
