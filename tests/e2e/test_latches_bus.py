"""Latches hold against the head: a real IO module (micropython) on the simulated bus under a real
ControllerAgent. A weld lock-out survives identical and changed configuration pushes, a restart of the
head's agent (re-identify, re-push) and a bus drop-out; deleting the configuration (unconfigure) returns
the module to its factory face and ends the session with that reason."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import chargedefs as d
import chargeschema
import pointconfig
from chargepark.bus.agent import ControllerAgent
from chargepark.bus.medium import MediumThread, SimMedium
from chargepark.bus.simmodule import SimModule
from chargepark.bus.transport import SimTransport

ROOT = Path(__file__).resolve().parents[2]
POSITION = 2
FULL = json.loads((ROOT / "boards" / "sim" / "config-full.json").read_text())


def sim_control(flash: Path, cmd: str, **args: Any) -> dict[str, Any]:
    port = int((flash / "simcontrol.port").read_text())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        answer: dict[str, Any] = json.loads(s.makefile().readline())
    assert answer["ok"], answer
    return answer


def config(**changes: Any) -> dict[str, Any]:
    clean: dict[str, Any] = chargeschema.validate(
        pointconfig.FIELDS, dict(FULL, name="cp2", **changes), pointconfig.CHECKS
    )
    return clean


async def until(check: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("timed out: %s" % what)
        await asyncio.sleep(0.05)


async def new_agent(medium: SimMedium) -> ControllerAgent:
    agent = ControllerAgent(
        await SimTransport.connect(medium.endpoint), [POSITION], timeout=0.05, poll_interval=0.05
    )
    await agent.start()
    await until(lambda: agent.modules[POSITION].online, 20, "module online")
    return agent


def test_weld_lock_out_holds_against_the_head_and_delete_unconfigures(tmp_path: Path) -> None:
    flash = tmp_path / "module"
    flash.mkdir()
    shutil.copyfile(ROOT / "boards" / "sim" / "board.json", flash / "board.json")
    (flash / "identity.json").write_text(json.dumps({"uid": "sim-2", "position": POSITION}))

    def point() -> dict[str, Any]:
        state: dict[str, Any] = sim_control(flash, "state")
        return dict(state["point"], plant=state["plant"])

    def locked_out() -> bool:
        p = point()
        return (
            bool(p["error_bits"] & d.ERR_CONTACTOR)
            and p["contactor"] == 0
            and not p["plant"]["contactor_cmd"]
        )

    async def scenario() -> None:
        thread = MediumThread(SimMedium(seed=5))
        medium = thread.start()
        module = SimModule(flash, medium.endpoint, args=["--sim-control", "0"])
        await module.start()
        agent = None
        try:
            await asyncio.to_thread(medium.wait_for, {POSITION})
            await until(lambda: (flash / "simcontrol.port").exists(), 20, "sim-control")
            agent = await new_agent(medium)
            await agent.configure(POSITION, config())
            sim_control(flash, "plug", cable_a=32)
            sim_control(flash, "charge")
            await until(lambda: point()["contactor"] == 1, 10, "charging")
            sim_control(flash, "fault", name="weld", on=True)
            sim_control(flash, "pause")
            await until(lambda: point()["error_bits"] & d.ERR_CONTACTOR, 5, "weld detected")
            sim_control(flash, "fault", name="weld", on=False)
            sim_control(flash, "resume")
            await agent.configure(POSITION, config())  # the same configuration again
            await agent.configure(POSITION, config(max_current_a=25))  # a changed one
            await asyncio.sleep(0.5)
            assert locked_out()
            await agent.stop()  # the head's agent restarts: identify and push again
            await agent.transport.close()
            agent = await new_agent(medium)
            await agent.configure(POSITION, config(max_current_a=25))
            await asyncio.sleep(0.5)
            assert locked_out()
            medium.unplug(POSITION)  # the module's bus link drops out and comes back
            await asyncio.sleep(1.0)
            medium.plug(POSITION)
            await until(lambda: agent is not None and agent.modules[POSITION].online, 10, "back online")
            await agent.configure(POSITION, config())
            await asyncio.sleep(0.5)
            assert locked_out()
            assert agent.modules[POSITION].live["error_bits"] & d.ERR_CONTACTOR

            await agent.command(POSITION, "reset_error")
            await until(lambda: point()["contactor"] == 1, 10, "charging after the reset")
            stops: list[Any] = []
            agent.subscribe(
                lambda kind, pos, data: (
                    stops.append(data) if kind == "event" and data[0] == d.EV_SESSION_STOP else None
                )
            )
            await agent.unconfigure(POSITION)  # the head deleted the point's configuration
            await until(lambda: point()["contactor"] == 0, 2, "contactor open")
            await until(lambda: bool(stops), 5, "session_stop reached the head")
            p = point()
            assert d.STATUSES[p["status"]] == "Unavailable" and not p["flags"] & d.FLAG_CONFIGURED
            assert d.STOP_REASONS[stops[-1][1][5]] == "unconfigured"
            await asyncio.sleep(1.0)
            assert not point()["flags"] & d.FLAG_CONFIGURED  # the agent does not push the old one again
        finally:
            if agent is not None:
                await agent.stop()
                await agent.transport.close()
            await module.stop()
            thread.stop()

    asyncio.run(scenario())
