"""Installing into the inactive slot: a head that does not come up rolls back (the pointer stays); the
tree's own wheel passes the health check (its `chargepark version`, a supervisor on a simulated module with
every service running) and becomes active; ForceUpdate gates an update while a point charges."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from bundlekit import keys, signed, small_wheel, trusting
from chargepark import __version__, topics
from chargepark.bundle import install as installer
from chargepark.bundle import manifest, slots
from chargepark.bundle.cli import build_wheel
from chargepark.runtime import Runtime
from headkit import broker_runtime, stop
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console


def test_a_head_that_does_not_come_up_rolls_back(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    data = trusting(tmp_path / "data", public)
    broken = small_wheel(tmp_path / "w", "9.9.9", "raise ImportError('this head is broken')\n")
    with pytest.raises(manifest.Refused, match=r"rolled back to the system install.*this head is broken"):
        asyncio.run(installer.install(data, signed(tmp_path, broken, private), timeout=30))
    assert slots.active(data) is None
    assert installer.running_version(data) == __version__


@pytest.mark.timeout(600)
def test_the_trees_wheel_passes_its_health_check_and_a_broken_one_after_it_rolls_back(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    data = trusting(tmp_path / "data", public)
    wheel = build_wheel(tmp_path / "wheel")
    assert asyncio.run(installer.install(data, signed(tmp_path, wheel, private), timeout=120)) == "a"
    assert slots.active(data) == "a" and installer.running_version(data) == __version__
    assert (slots.site(data, "a") / "chargepark" / "bundle" / "slots.py").exists()
    broken = small_wheel(tmp_path / "w", "9.9.9", "raise ImportError('broken')\n")
    with pytest.raises(manifest.Refused, match="rolled back to a"):
        asyncio.run(installer.install(data, signed(tmp_path, broken, private, "broken.cpb"), timeout=30))
    assert slots.active(data) == "a"


def _status(rt: Runtime, uid: str, status: str) -> None:
    c = paho.Client(CallbackAPIVersion.VERSION2)
    c.connect(rt.mqtt_host, rt.mqtt_port)
    c.loop_start()
    c.publish(topics.charx(uid, "status"), status, qos=1, retain=True).wait_for_publish(5)
    c.publish(
        topics.AGENT_MODULES, json.dumps([{"uid": uid, "position": 1}]), qos=1, retain=True
    ).wait_for_publish(5)
    c.loop_stop()
    c.disconnect()


def test_no_update_while_a_point_charges_unless_forced(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path / "head")
        try:
            _status(rt, "pt-1", "Charging")
            console = Console()
            held = installer.points_held(rt, installer.Settings("", force=False, unavailable_s=0), console)
            with pytest.raises(manifest.Refused, match="charging at pt-1 and ForceUpdate is off"):
                async with held:
                    raise AssertionError("installed while charging")
            entered = False
            async with installer.points_held(
                rt, installer.Settings("", force=True, unavailable_s=0), console
            ):
                entered = True
            assert entered
        finally:
            await stop(broker)

    asyncio.run(scenario())
