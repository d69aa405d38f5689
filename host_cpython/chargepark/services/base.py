"""What every service process shares: dying with the supervisor, clean SIGTERM, logging, the MQTT link,
following the configuration areas it reads."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable

from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.mqtt import MqttLink
from chargepark.procs import die_with_parent
from chargepark.runtime import Runtime, load
from chargepark.services.spec import ServiceSpec


def log_to_stderr(name: str) -> None:
    """A service's log lines (the supervisor keeps them in `<data>/logs/<name>.log`), stamped in UTC as
    the manual wants whatever the time zone (chargepark.logwindow reads the stamps)."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s.%(msecs)03dZ " + name + " %(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    logging.Formatter.converter = time.gmtime


def run_service(spec: ServiceSpec, body: Callable[[Runtime], Awaitable[None]]) -> int:
    """Runs body(runtime) until it returns or SIGTERM/SIGINT arrives."""
    die_with_parent()
    log_to_stderr(spec.name)
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


async def connect(runtime: Runtime, spec: ServiceSpec) -> MqttLink:
    link = MqttLink(runtime.mqtt_host, runtime.mqtt_port, spec)
    await link.connect()
    return link


async def follow_config(
    link: MqttLink, store: ConfigStore, areas: tuple[str, ...], changed: Callable[[str], None]
) -> None:
    """Calls changed(area) when one of `areas` changes after now: the store's writer publishes the area's
    version (retained, so a change between reading the store and subscribing is seen too)."""
    seen = store.versions()
    for area in areas:
        if area not in link.spec.reads:
            raise ValueError("%s does not declare reading the %s area" % (link.spec.name, area))

    def on_version(topic: str, raw: bytes) -> None:
        area = (topics.parts_of(topic, topics.CONFIG_VERSION) or {}).get("area", "")
        try:
            version = int(raw)
        except ValueError:
            return
        if version != seen.get(area):
            seen[area] = version
            changed(area)

    for area in areas:
        await link.subscribe(topics.fill(topics.CONFIG_VERSION, area=area), on_version)
