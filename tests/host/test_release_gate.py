"""The release gate (release/gate.py): each release mode takes its release from exactly one path; every
other path is refused with a reason naming the mode, and nothing reaches the command topic."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import chargedefs as cd
import chargeschema
import pointconfig
import pytest
from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.datahub import control
from chargepark.modbus import registers
from chargepark.release import gate
from hypothesis import given
from hypothesis import strategies as st

# manual "Release Mode", read as (mode, its one path); permanent has none: nothing issues or withdraws it
MANUAL = dict.fromkeys(cd.RELEASE_MODES, None) | {
    m: m for m in ("dashboard", "whitelist", "remote", "ocpp", "modbus")
}


class Link:
    """Answers every command as applied; records what was published."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.handler: Any = None

    async def subscribe(self, subscription: str, handler: Any) -> None:
        self.handler = handler

    def publish(self, topic: str, payload: str | bytes) -> None:
        req = json.loads(payload)
        uid = topics.uid_of(topic, topics.AGENT_COMMAND) or ""
        self.sent.append((uid, req["name"], req["value"]))
        reply = json.dumps({"id": req["id"], "ok": True}).encode()
        asyncio.get_running_loop().call_soon(
            self.handler, topics.fill(topics.AGENT_COMMAND_RESULT, uid=uid), reply
        )


@given(st.sampled_from(cd.RELEASE_MODES), st.sampled_from(gate.SOURCES))
def test_each_mode_allows_exactly_the_manuals_path(mode: str, source: str) -> None:
    assert gate.allows(mode, source) == (MANUAL[mode] == source)
    why = gate.refusal(mode, source)
    assert (why == "") == (MANUAL[mode] == source)
    if why:
        assert gate.NAMES[mode] in why


def test_permanent_cannot_be_withdrawn_and_says_what_to_do_instead() -> None:
    for source in gate.SOURCES:
        assert "cannot be withdrawn" in gate.refusal("permanent", source)
        assert "lock or unlock" in gate.refusal("permanent", source)


def test_the_tables_that_name_a_path_are_derived_from_the_gate() -> None:
    reg = next(r for r in registers.POINT if r.name == "release")
    assert reg.modes == ("modbus",)
    for mode in cd.RELEASE_MODES:
        cfg = {"release_mode": mode}
        carries = ("release", True) in control.EFFECTS["charge_enable"].commands(True, cfg)
        assert carries == (mode == "remote")


@pytest.mark.parametrize("mode", cd.RELEASE_MODES)
@pytest.mark.parametrize("source", gate.SOURCES)
def test_gated_ops_refuses_before_the_bus(mode: str, source: str) -> None:
    async def run() -> None:
        link = Link()
        ops = gate.GatedOps(link, source, lambda uid: mode)
        await ops.start()
        await ops.command("CP1", "enable", True)  # not a release: any path
        for name, value in (
            ("release", True),
            ("release", False),
            ("rfid", ["04A1", True]),
            ("rfid", {"tag": "04A1", "ok": True}),
        ):
            if MANUAL[mode] == source:
                await ops.command("CP1", name, value)
                assert link.sent[-1] == ("CP1", name, value)
            else:
                n = len(link.sent)
                with pytest.raises(gate.ReleaseRefused) as e:
                    await ops.command("CP1", name, value)
                assert e.value.http_status == 409 and gate.NAMES[mode] in e.value.reason
                assert len(link.sent) == n
        await ops.command("CP1", "rfid", ["04A1", False])  # a denial releases nothing: any path

    asyncio.run(run())


def test_a_point_without_configuration_is_released_by_nothing() -> None:
    assert "not configured" in gate.refusal("", "dashboard")


@pytest.mark.parametrize("mode", cd.RELEASE_MODES)
def test_an_event_action_release_is_a_remote_path_the_store_refuses_elsewhere(
    tmp_path: Path, mode: str
) -> None:
    """The module's rule (pointconfig.EA_RELEASE_MODES) is the gate's remote path; the head's store
    refuses the same configuration with the same reason, naming the rule's field."""
    assert pointconfig.EA_RELEASE_MODES == gate.modes_for("remote")
    store = ConfigStore.open(tmp_path / "config.db")
    try:
        rule = {"event": "di_rising", "action": "enable_charging", "switch": "enable", "timer_ms": 0}
        record = {"name": "CP1", "release_mode": mode, "event_actions": [rule]}
        if gate.allows(mode, "remote"):
            store.put("chargepoint", record, "CP1")
            assert store.get("chargepoint", "CP1")["event_actions"][0]["switch"] == "enable"
            return
        with pytest.raises(chargeschema.Invalid) as e:
            store.put("chargepoint", record, "CP1")
        assert "release mode remote" in e.value.errors["event_actions[0].switch"]
        assert store.get("chargepoint", "CP1") is None  # nothing stored
    finally:
        store.close()
