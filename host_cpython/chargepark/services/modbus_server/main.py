"""Modbus Server service: the CHARX register map over Modbus/TCP (docs/modbus-registers.md).

It follows the controller agent's live samples and the data hub's `rfid` parameter into the map's image,
re-reads the modbus, chargepoint and control areas when they change, and carries out writes through
`chargepark.pointops`. Off when the modbus area says `server_enabled: false`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from chargepark import control as supervisor_control
from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.modbus import server as modbus_server
from chargepark.modbus.control import Control
from chargepark.modbus.datastore import MapStore
from chargepark.modbus.registers import OFF
from chargepark.modbus.view import ParkView, park_ranks
from chargepark.park.model import park_view
from chargepark.release.gate import GatedOps, mode_in
from chargepark.runtime import Runtime
from chargepark.services.base import connect, follow_config, run_service
from chargepark.services.modbus_server.spec import SPEC

log = logging.getLogger("chargepark.modbus")


class Feed:
    """MQTT and store in, the view's image out."""

    def __init__(self, view: ParkView, store: ConfigStore) -> None:
        self.view = view
        self.store = store

    def on_live(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_LIVE)
        try:
            snap = json.loads(raw)
        except ValueError:
            return
        if uid is not None and isinstance(snap, dict):
            self.view.take_live(uid, snap)

    def on_rfid(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.CHARX_DATA)
        try:
            rfid = json.loads(raw)
        except ValueError:
            return
        if uid is not None:
            self.view.take_rfid(uid, str(rfid.get("tag", "")) if isinstance(rfid, dict) else "")

    def on_modules(self, topic: str, raw: bytes) -> None:
        try:
            mods = json.loads(raw)
            station = str(mods[0].get("parent_device_uid", "")) if mods else ""
            positions = {str(m["uid"]): int(m["position"]) for m in mods}
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return
        self.view.take_modules(station, positions)

    def reload(self, area: str = "") -> None:
        ranks = park_ranks([[p.uid for p in st.points] for st in park_view(self.store).stations])
        self.view.take_config(
            self.store.get("chargepoint"), self.store.get("modbus"), self.store.get("control"), ranks
        )

    def save_control(self, uid: str, fields: dict[str, Any]) -> None:
        """X306/X307: the watchdog pair, stored once (JupiCore's /load-management-config writes it too)."""
        self.store.put("control", fields, key=uid)
        self.reload()


async def serve(runtime: Runtime) -> None:
    store = ConfigStore.open(runtime.config_path)
    settings = store.get("modbus")
    if not settings["server_enabled"]:
        log.info("Modbus/TCP server disabled (modbus.server_enabled)")
        await asyncio.Event().wait()
    link = await connect(runtime, SPEC)
    ops = GatedOps(link, "modbus", mode_in(store))
    await ops.start()
    view = ParkView()
    feed = Feed(view, store)
    feed.reload()

    async def restart_head() -> None:
        reply = await asyncio.to_thread(
            supervisor_control.request, Path(runtime.data_dir), {"cmd": "restart", "name": "all"}
        )
        log.warning("head restart: %s", reply)

    def announce_dynamic(a: int) -> None:
        link.publish(topics.MODBUS_DYNAMIC_CURRENT, json.dumps({"a": None if a == OFF else a}))

    def announce_current(uid: str, ma: int | None) -> None:
        link.publish(topics.fill(topics.MODBUS_POINT_CURRENT, uid=uid), json.dumps({"ma": ma}))

    announce_dynamic(view.dynamic_a)  # a restarted server holds no cap: clear the retained one
    for uid in view.configs:  # nor a point's charge current (X301 reads the configured maximum again)
        announce_current(uid, None)
    control = Control(view, ops, restart_head, save_control=feed.save_control,
                      announce_dynamic=announce_dynamic, announce_current=announce_current)  # fmt: skip
    await follow_config(link, store, ("modbus", "chargepoint", "control", "module", "station"), feed.reload)
    await link.subscribe(topics.subscription(topics.AGENT_LIVE), feed.on_live)
    await link.subscribe(topics.fill(topics.CHARX_DATA, uid="+", param="rfid"), feed.on_rfid)
    await link.subscribe(topics.AGENT_MODULES, feed.on_modules)
    server = await modbus_server.start(MapStore(view, control), runtime.listen_host, settings["server_port"])
    log.info("Modbus/TCP server on %s:%d (units 1 and 255)", runtime.listen_host, server.port)
    try:
        await control.run_watchdogs()
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]
        await link.close()
        store.close()


def main() -> int:
    return run_service(SPEC, serve)
