"""JupiCore (the data hub) service: collects every point's state, publishes CHARX topics, serves REST."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from chargepark import asgi, topics
from chargepark.config.store import ConfigStore
from chargepark.datahub import pointviews, rest
from chargepark.datahub.hub import DataHub
from chargepark.datahub.plotstore import FILE as PLOT_DB
from chargepark.datahub.plotstore import PlotStore
from chargepark.datahub.sessions import SessionStore
from chargepark.release.gate import GatedOps, mode_in
from chargepark.release.rfid import Decider
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service
from chargepark.services.jupicore.spec import SPEC


async def serve(runtime: Runtime) -> None:
    store = SessionStore(Path(runtime.data_dir) / "sessions.db")
    config = ConfigStore.open(runtime.config_path)
    link = await connect(runtime, SPEC)
    plot = PlotStore(Path(runtime.data_dir) / PLOT_DB)
    hub = DataHub(store, link.publish, plot)
    ops = GatedOps(link, "remote", mode_in(config))  # the REST control is the remote release path
    await ops.start()
    await link.subscribe(topics.subscription(topics.AGENT_LIVE), hub.on_live)
    await link.subscribe(topics.subscription(topics.AGENT_EVENT), hub.on_event)
    await link.subscribe(topics.AGENT_MODULES, hub.on_modules)
    cards = GatedOps(link, "whitelist", mode_in(config))  # a card on the whitelist is its release path
    await cards.start()
    decider = Decider(config, cards, lambda uid: hub.points[uid].snap if uid in hub.points else {}, link.publish)  # fmt: skip
    await link.subscribe(topics.subscription(topics.AGENT_EVENT), decider.on_event)
    await link.subscribe(topics.RFID_TEACH, decider.on_teach)
    deciding = asyncio.ensure_future(decider.run())
    server = await asgi.serve(rest.build(hub, config, ops), runtime.listen_host, runtime.rest_port)
    meters = pointviews.MeterInfoFeed(config, hub)
    try:
        while True:
            await asyncio.sleep(1.0)
            hub.check_stale(time.time())
            meters.refresh()
            hub.flush()
            plot.flush(time.time())
    finally:
        deciding.cancel()
        await server.stop()
        hub.flush()
        plot.close()
        await link.close()
        config.close()
        store.close()


def main() -> int:
    return run_service(SPEC, serve)
