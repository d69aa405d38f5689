"""The controller agent's part of an RS-485 higher-level meter and of the meter identification: it tells
the module of the circuit's `rs485_point` to read the meter (module field `higher_meter`), asks that
module for the reading and publishes it in the Modbus Client's shape (online, offline when the module
does not answer or has no reading), and keeps a module's meter serial number and firmware version
(event meter_ident) in the module area for the status page."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import chargedefs as cd
from backplane import catalog
from chargepark import topics
from chargepark.bus.agent import BusTimeout
from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore
from chargepark.datahub import pushed
from chargepark.park.model import park_view, record_discovery
from chargepark.services.controller_agent.main import AgentBridge
from chargepark.web import status

READING = [230000, 231000, 229000, 41000, 40000, 39000, 27000000, 123456, 990, 50000]


class FakeModule:
    online = True


class FakeAgent:
    def __init__(self) -> None:
        self.modules = {2: FakeModule(), 3: FakeModule()}
        self.answer: Any = [cd.HIGHER_OK, READING]
        self.asked: list[tuple[int, int]] = []

    async def request(self, position: int, mtype: int, *fields: Any) -> Any:
        self.asked.append((position, mtype))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FakeLink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def publish(self, topic: str, payload: str) -> None:
        self.sent.append((topic, json.loads(payload)))


def bridge_with_circuit(tmp_path: Path) -> tuple[AgentBridge, FakeAgent, FakeLink, ConfigStore]:
    store = ConfigStore.open(tmp_path / "config.db")
    store.put("chargepoint", dict(AREAS["chargepoint"].defaults(), name="P2", meter_type="em24"), key="CP2")
    circuit = dict(AREAS["loadcircuit"].defaults(), meter_connection="rs485", rs485_point="CP2",
                   points=[{"uid": "CP3"}])  # fmt: skip
    store.put("loadcircuit", circuit, key="lc1")
    agent, link = FakeAgent(), FakeLink()
    bridge = AgentBridge(agent, link, store, "ST")  # type: ignore[arg-type]
    bridge.uids.update({2: "CP2", 3: "CP3"})
    return bridge, agent, link, store


def one_round(bridge: AgentBridge, link: FakeLink) -> dict[str, Any]:
    link.sent.clear()
    with contextlib.suppress(TimeoutError):
        asyncio.run(asyncio.wait_for(bridge.read_higher_meters(), 0.2))
    ((topic, msg),) = link.sent
    assert topic == topics.fill(topics.MODBUS_CLIENT_METER, circuit="lc1")
    return msg


def test_the_rs485_point_reads_the_meter_and_its_reading_is_published(tmp_path: Path) -> None:
    bridge, agent, link, store = bridge_with_circuit(tmp_path)
    assert pushed.load_fields(store, "CP2") == {"load_managed": False, "higher_meter": True}
    cp3 = pushed.load_fields(store, "CP3")
    assert cp3["higher_meter"] is False and cp3["load_managed"] is True

    msg = one_round(bridge, link)
    assert agent.asked == [(2, catalog.HIGHER_METER)]
    assert msg["online"] and msg["type"] == "em24" and msg["circuit"] == "lc1" and msg["i1_ma"] == 41000

    agent.answer = [cd.HIGHER_LOST, []]
    assert one_round(bridge, link)["online"] is False and "i1_ma" not in link.sent[-1][1]
    agent.answer = BusTimeout(2, "no answer")
    assert one_round(bridge, link)["online"] is False
    agent.answer = [cd.HIGHER_OK, READING]
    agent.modules[2].online = False
    asked = len(agent.asked)
    assert one_round(bridge, link)["online"] is False and len(agent.asked) == asked  # not asked offline


def test_the_meter_identification_reaches_the_status_page(tmp_path: Path) -> None:
    bridge, _agent, _link, store = bridge_with_circuit(tmp_path)
    record_discovery(store, "ST", 2, "CP2", "CHARX", "1", "abc")
    bridge.on_bus("event", 2, (cd.EV_METER_IDENT, ["CG1234567", "1.2.3"]))
    assert store.get("module", "CP2")["meter_serial"] == "CG1234567"
    record_discovery(store, "ST", 2, "CP2", "CHARX", "1", "abd")  # a rediscovery keeps what was reported
    point = next(p for p in park_view(store).points() if p.uid == "CP2")
    rows = dict(
        dict(status.groups(vars(point), {}, store.get("chargepoint", "CP2")))["Energy Measuring Device"]
    )
    assert rows["Serial number"] == "CG1234567" and rows["Meter firmware version"] == "1.2.3"
    bridge.on_bus("event", 2, (cd.EV_METER_IDENT, ["", ""]))  # a type without such registers
    point = next(p for p in park_view(store).points() if p.uid == "CP2")
    rows = dict(
        dict(status.groups(vars(point), {}, store.get("chargepoint", "CP2")))["Energy Measuring Device"]
    )
    assert rows["Serial number"] == status.NA and rows["Meter firmware version"] == status.NA
