"""What every service process shares: dying with the supervisor, clean SIGTERM, logging, the MQTT link."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from chargepark.mqtt import MqttLink
from chargepark.procs import die_with_parent
from chargepark.runtime import Runtime, load


def run_service(name: str, body: Callable[[Runtime], Awaitable[None]]) -> int:
    """Runs body(runtime) until it returns or SIGTERM/SIGINT arrives."""
    die_with_parent()
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s " + name + " %(levelname)s %(message)s"
    )
    runtime = load()

    async def guarded() -> None:
        task = asyncio.ensure_future(body(runtime))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            logging.info("stopped")

    asyncio.run(guarded())
    return 0


async def connect(runtime: Runtime, client_id: str) -> MqttLink:
    link = MqttLink(runtime.mqtt_host, runtime.mqtt_port, client_id)
    await link.connect()
    return link
