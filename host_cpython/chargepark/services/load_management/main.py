"""Load Management service, the one set-point path: every `ROUND_S` (and at once when an external limit
changes) it allocates each load circuit and sets every point in none (chargepark.loadmgmt), sends the
set-points through the one command path (`pointops`, point command `setpoint_ma`, lowerings first), publishes
each circuit's status and each point's binding limit, and serves the CHARX REST on `loadmgmt_port`. Its
inputs beside the live samples: the higher-level meters, register 167, each point's OCPP limit and the charge
current a Modbus client wrote."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chargepark import asgi, eventwait, pointops, topics
from chargepark.config.store import ConfigStore
from chargepark.loadmgmt import rest
from chargepark.loadmgmt.manager import NO_DYNAMIC, Manager
from chargepark.mqtt import MqttLink
from chargepark.runtime import Runtime
from chargepark.services.base import connect, follow_config, run_service
from chargepark.services.load_management.spec import SPEC

log = logging.getLogger("chargepark.loadmgmt")
ROUND_S = float(os.environ.get("CHARGEPARK_LM_ROUND_S", "5"))  # "every few seconds"; tests shorten it


def follow_limit(link: MqttLink, pattern: str, take: Callable[[str, dict[str, Any]], bool],
                 wake: asyncio.Event) -> Awaitable[None]:  # fmt: skip
    """Subscribes to one point's external limit (JSON object per uid); a change wakes the round."""

    def on_message(topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, pattern)
        try:
            message = json.loads(raw)
            if uid is not None and isinstance(message, dict) and take(uid, message):
                wake.set()
        except (ValueError, TypeError):
            log.warning("bad limit on %s", topic)

    return link.subscribe(topics.subscription(pattern), on_message)


def reload(manager: Manager, store: ConfigStore) -> None:
    manager.volts = store.get("park")["nominal_voltage_v"]
    manager.circuits = {cid: store.get("loadcircuit", cid) for cid in store.keys("loadcircuit")}
    manager.points = {uid: store.get("chargepoint", uid) for uid in store.keys("chargepoint")}


async def send(ops: pointops.PointOps, manager: Manager, setpoints: dict[str, int]) -> None:
    """Lowerings first (the manager orders them), each acknowledged before the raises go out."""
    for uid, ma in setpoints.items():
        try:
            await ops.command(uid, "setpoint_ma", ma)
        except pointops.CommandError as e:
            log.warning("set-point %d mA for %s: %s", ma, uid, e.reason)
            manager.failed(uid)
    for uid, count in manager.phase_requests().items():  # surplus charging: one phase or three
        try:
            await ops.command(uid, "phases", count)
        except pointops.CommandError as e:
            log.debug("%s phase(s) for %s not now: %s", count, uid, e.reason)
            manager.phase_refused(uid)


async def serve(runtime: Runtime) -> None:
    store = ConfigStore.open(runtime.config_path)
    link = await connect(runtime, SPEC)
    ops = pointops.PointOps(link)
    await ops.start()
    manager = Manager()
    reload(manager, store)
    await follow_config(
        link, store, ("loadcircuit", "chargepoint", "park"), lambda _area: reload(manager, store)
    )

    def on_live(topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_LIVE)
        try:
            if uid is not None:
                manager.on_live(uid, json.loads(raw), time.monotonic())
        except (ValueError, TypeError):
            log.warning("bad live sample on %s", topic)

    def on_meter(topic: str, raw: bytes) -> None:
        circuit = (topics.parts_of(topic, topics.MODBUS_CLIENT_METER) or {}).get("circuit")
        try:
            if circuit is not None:
                manager.on_meter(circuit, json.loads(raw), time.monotonic())
        except ValueError:
            log.warning("bad meter reading on %s", topic)

    def on_dynamic(topic: str, raw: bytes) -> None:
        try:
            a = json.loads(raw).get("a")
        except (ValueError, AttributeError):
            return
        manager.dynamic_a = NO_DYNAMIC if a is None else int(a)

    await link.subscribe(topics.subscription(topics.AGENT_LIVE), on_live)
    await link.subscribe(topics.subscription(topics.MODBUS_CLIENT_METER), on_meter)
    await link.subscribe(topics.MODBUS_DYNAMIC_CURRENT, on_dynamic)
    wake = asyncio.Event()
    await follow_limit(link, topics.OCPP_LIMIT, manager.on_ocpp, wake)
    await follow_limit(link, topics.MODBUS_POINT_CURRENT, manager.on_modbus, wake)
    server = await asgi.serve(rest.build(manager, store), runtime.listen_host, runtime.loadmgmt_port)
    log.info("load management REST on %s:%d, a round every %.1f s", runtime.listen_host, server.port, ROUND_S)
    published: set[str] = set()
    try:
        while True:
            started = time.monotonic()
            wake.clear()  # a limit that changes during this round wakes the next one at once
            await send(ops, manager, manager.round(started))
            wall = time.time()
            for cid in published - manager.circuits.keys():  # deleted: its retained status goes too
                link.publish(topics.fill(topics.LM_CIRCUIT, circuit=cid), "")
            published = set(manager.circuits)
            for cid in manager.circuits:
                status = manager.status(cid, wall)
                link.publish(topics.fill(topics.LM_CIRCUIT, circuit=cid), json.dumps(status))
                for uid, why in status["points"].items():
                    link.publish(topics.fill(topics.LM_POINT_LIMIT, uid=uid), json.dumps(why))
            for uid in manager.unmanaged:
                link.publish(topics.fill(topics.LM_POINT_LIMIT, uid=uid), json.dumps(manager.why(uid)))
            with contextlib.suppress(TimeoutError):
                await eventwait.within(wake, max(0.0, ROUND_S - (time.monotonic() - started)))
    finally:
        await server.stop()
        await link.close()
        store.close()


def main() -> int:
    return run_service(SPEC, serve)
