"""The controller agent's MQTT command bridge refuses a bad point command before it reaches the bus."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import chargedefs as cd
from chargepark.bus.agent import BusTimeout
from chargepark.config.store import ConfigStore
from chargepark.park.model import record_discovery
from chargepark.services.controller_agent.main import AgentBridge


class FakeModule:
    online = True


class FakeAgent:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, Any]] = []
        self.modules = {2: FakeModule(), 3: FakeModule()}

    async def command(self, position: int, name: str, value: Any = None) -> None:
        if position == 3:
            raise BusTimeout(3, "no answer to COMMAND")
        self.sent.append((position, name, value))


class FakeLink:
    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []

    def publish(self, topic: str, payload: str) -> None:
        self.replies.append(json.loads(payload))


def test_commands_are_validated_by_the_module_table_before_the_bus(tmp_path: Path) -> None:
    agent, link = FakeAgent(), FakeLink()
    store = ConfigStore.open(tmp_path / "config.db")
    bridge = AgentBridge(agent, link, store, "")  # type: ignore[arg-type]
    bridge.uids[2] = "CP2"

    def send(uid: str, **req: Any) -> dict[str, Any]:
        asyncio.run(bridge.command(uid, json.dumps(req).encode()))
        return link.replies[-1]

    assert send("CP2", id="a", name="setpoint_ma", value=90000) == {
        "id": "a",
        "ok": False,
        "error": "setpoint_ma: ma: must be <= 80000 mA",
        "kind": "invalid",
    }
    assert "unknown command" in send("CP2", id="b", name="no_such_command", value=1)["error"]
    assert "must be true or false" in send("CP2", id="c", name="release", value="yes")["error"]
    assert agent.sent == []  # nothing bad went out

    assert send("CP2", id="d", name="output", value=[1, "high", 0]) == {"id": "d", "ok": True}
    assert send("CP2", id="e", name="available", value=False) == {"id": "e", "ok": True}
    assert agent.sent == [(2, "output", (1, "high", 0)), (2, "available", False)]
    assert "no charging controller" in send("CP9", id="f", name="available", value=True)["error"]
    assert send("CP9", id="g", name="available", value=True)["kind"] == "unknown"
    assert send("CP2", id="h", name="reset") == {"id": "h", "ok": True}  # the bus RESET passes
    assert agent.sent[-1] == (2, "reset", None)


def test_a_failed_command_names_its_kind(tmp_path: Path) -> None:
    agent, link = FakeAgent(), FakeLink()
    store = ConfigStore.open(tmp_path / "config.db")
    bridge = AgentBridge(agent, link, store, "")  # type: ignore[arg-type]
    bridge.uids.update({2: "CP2", 3: "CP3"})

    def send(uid: str, **req: Any) -> dict[str, Any]:
        asyncio.run(bridge.command(uid, json.dumps(req).encode()))
        return link.replies[-1]

    assert send("CP3", id="a", name="enable", value=True)["kind"] == "offline"  # the bus timed out
    agent.modules[2].online = False
    reply = send("CP2", id="b", name="enable", value=True)
    assert reply["kind"] == "offline" and "offline" in reply["error"]
    assert agent.sent == []  # an offline module is not even tried
    store.close()


def test_bus_events_are_published_and_the_ones_the_pages_show_are_kept(tmp_path: Path) -> None:
    agent, link = FakeAgent(), FakeLink()
    store = ConfigStore.open(tmp_path / "config.db")
    bridge = AgentBridge(agent, link, store, "")  # type: ignore[arg-type]
    bridge.uids[2] = "CP2"
    record_discovery(store, "ST", 2, "CP2", "sim", "1", "1.0")  # as the identity event does first
    bridge.on_bus("event", 2, (cd.EV_METER_IDENT, ["SN123", "1.04"]))
    bridge.on_bus("event", 2, (cd.EV_RFID_BOARD, 12345))  # not a version string: published, not kept
    bridge.on_bus("event", 4, (cd.EV_RFID_BOARD, "2.1"))  # no point known at 4: dropped
    bridge.on_bus("config", 2, {"version": 1, "checksum": 0})  # a kind the bridge has no use for
    module = store.get("module", "CP2")
    assert module["meter_serial"] == "SN123" and module["meter_firmware"] == "1.04"
    assert module["rfid_board_firmware"] == ""  # unchanged
    assert link.replies == [
        {"event": cd.EVENTS[cd.EV_METER_IDENT], "arg": ["SN123", "1.04"]},
        {"event": cd.EVENTS[cd.EV_RFID_BOARD], "arg": 12345},
    ]


def test_a_signing_meters_public_key_is_kept_in_the_module_area(tmp_path: Path) -> None:
    """Event meter_key (the IO module read its signing meter's key) is kept for the OCPP service and the
    pages; a key that is not hex text is published but not kept."""
    agent, link = FakeAgent(), FakeLink()
    store = ConfigStore.open(tmp_path / "config.db")
    bridge = AgentBridge(agent, link, store, "")  # type: ignore[arg-type]
    bridge.uids[2] = "CP2"
    record_discovery(store, "ST", 2, "CP2", "sim", "1", "1.0")
    key = "3059301306072A8648CE3D020106082A8648CE3D03010703420004" + "ab" * 64
    bridge.on_bus("event", 2, (cd.EV_METER_KEY, key))
    assert store.get("module", "CP2")["meter_public_key"] == key.upper()
    bridge.on_bus("event", 2, (cd.EV_METER_KEY, "not hex"))
    assert store.get("module", "CP2")["meter_public_key"] == key.upper()
    assert [r["event"] for r in link.replies] == ["meter_key", "meter_key"]
    store.close()
