"""Configuration changes are pushed: a store commit publishes the area's version, retained, on the broker
of the head that runs on that store, and on no other."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.runtime import of_store
from headkit import Collector, broker_runtime, stop


def test_a_commit_announces_the_area_version_retained(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        try:
            rt.save()
            assert of_store(rt.config_path) == rt
            other = tmp_path / "elsewhere" / "config.db"
            other.parent.mkdir()
            assert of_store(other) is None  # a store no head runs on: nobody to tell

            store = ConfigStore.open(rt.config_path)
            store.put("park", {"name": "Yard"})
            store.put("park", {"name": "Yard 2"})
            store.put("system", {"name": "head"})
            store.close()
            seen = Collector(rt.mqtt_port, topics.subscription(topics.CONFIG_VERSION))  # after: retained
            got = await asyncio.to_thread(
                seen.wait_for,
                lambda m: m.get(topics.fill(topics.CONFIG_VERSION, area="system")) == b"1",
            )
            assert got[topics.fill(topics.CONFIG_VERSION, area="park")] == b"2"
            assert len(got) == 2
            seen.close()
        finally:
            await stop(proc)

    asyncio.run(scenario())


def test_a_commit_without_a_running_broker_still_commits(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        rt.save()
        await stop(proc)  # a head killed with -9 leaves its runtime.json behind
        store = ConfigStore.open(rt.config_path)
        store.put("park", {"name": "Yard"})
        assert store.versions()["park"] == 1 and store.get("park")["name"] == "Yard"
        store.close()

    asyncio.run(scenario())
