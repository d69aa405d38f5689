"""JupiCore (the data hub) service: collects every point's state, publishes CHARX topics, serves REST."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from chargepark import httpd, topics
from chargepark.datahub.hub import DataHub
from chargepark.datahub.rest import router
from chargepark.datahub.sessions import SessionStore
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service


async def serve(runtime: Runtime) -> None:
    store = SessionStore(Path(runtime.data_dir) / "sessions.db")
    link = await connect(runtime, "charx-jupicore")
    hub = DataHub(store, link.publish)
    link.subscribe(topics.subscription(topics.AGENT_LIVE), hub.on_live)
    link.subscribe(topics.subscription(topics.AGENT_EVENT), hub.on_event)
    link.subscribe(topics.AGENT_MODULES, hub.on_modules)
    server = await httpd.serve(router(hub), runtime.listen_host, runtime.rest_port)
    try:
        while True:
            await asyncio.sleep(1.0)
            hub.check_stale(time.time())
            hub.flush()
    finally:
        server.close()
        hub.flush()
        link.close()
        store.close()


def main() -> int:
    return run_service("jupicore", serve)
