"""MQTT Bridge service: follows the `mqtt_bridge` area and the discovered modules (`chargepark.bridge`)."""

from __future__ import annotations

from chargepark.bridge.service import Bridge
from chargepark.config.store import ConfigStore
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service
from chargepark.services.mqtt_bridge.spec import SPEC


async def serve(runtime: Runtime) -> None:
    store = ConfigStore.open(runtime.config_path)
    link = await connect(runtime, SPEC)
    bridge = Bridge(runtime, link, store)
    try:
        await bridge.follow()
        bridge.changed.set()
        await bridge.run()
    finally:
        await link.close()
        store.close()


def main() -> int:
    return run_service(SPEC, serve)
