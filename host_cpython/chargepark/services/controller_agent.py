"""Controller Agent service: the backplane bus master, bridged to the local broker.

It wraps the bus helper's `ControllerAgent`: discovered modules are recorded in the park model, each
point's configuration from the store is pushed (and again when it changes), live state and events go to
MQTT, and point commands come from MQTT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import chargedefs as cd

from chargepark import topics
from chargepark.bus.agent import BusError, ControllerAgent
from chargepark.bus.transport import SerialTransport, SimTransport, Transport
from chargepark.bus.update import load_image
from chargepark.bus.update import update as bus_update
from chargepark.config.store import ConfigStore
from chargepark.mqtt import MqttLink
from chargepark.park.model import record_discovery
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service

log = logging.getLogger("chargepark.agent")
PUBLISH_EVERY_S = 0.5  # unchanged live state is republished this often (freshness < 1 s)
CONFIG_POLL_S = 2.0
QUICK_FIELDS = ("iec_state", "status", "error_bits", "set_current_ma", "contactor", "lock_state")


class AgentBridge:
    def __init__(self, agent: ControllerAgent, link: MqttLink, store: ConfigStore, station: str) -> None:
        self.agent = agent
        self.link = link
        self.store = store
        self.station = station
        self.uids: dict[int, str] = {}
        self._last: dict[int, tuple[float, tuple[Any, ...]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def uid_position(self, uid: str) -> int | None:
        return next((p for p, u in self.uids.items() if u == uid), None)

    def on_bus(self, kind: str, position: int, data: Any) -> None:
        if kind == "identity":
            uid = str(data["uid"])
            self.uids[position] = uid
            station = self.station or self.uids.get(1, uid)
            record_discovery(self.store, station, position, uid, str(data.get("board", "")),
                             str(data.get("hw_version", "")), str(data.get("fw_version", "")))  # fmt: skip
            self._spawn(self.push_config(position))
            self.publish_modules()
        elif kind in ("online", "offline"):
            self.publish_modules()
            if kind == "offline" and position in self.uids:
                self.publish_live(position, self.agent.modules[position].live, force=True)
        elif kind == "live":
            self.publish_live(position, data)
        elif kind == "event":
            code, arg = data
            point = self.uids.get(position)
            if point is not None:
                name = cd.EVENTS[code] if 0 <= code < len(cd.EVENTS) else "event_%d" % code
                self.link.publish(
                    topics.fill(topics.AGENT_EVENT, uid=point), json.dumps({"event": name, "arg": arg})
                )

    def publish_live(self, position: int, live: dict[str, int], force: bool = False) -> None:
        uid = self.uids.get(position)
        if uid is None:
            return
        now = time.time()
        quick = tuple(live.get(k) for k in QUICK_FIELDS)
        last = self._last.get(position)
        if not force and last is not None and last[1] == quick and now - last[0] < PUBLISH_EVERY_S:
            return
        self._last[position] = (now, quick)
        cfg = self.store.get("chargepoint", uid)
        msg = dict(live, uid=uid, position=position, online=self.agent.modules[position].online, t=now,
                   name=cfg["name"] if cfg else "", configured=cfg is not None)  # fmt: skip
        self.link.publish(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(msg))

    def publish_modules(self) -> None:
        mods = [
            {"uid": uid, "position": p, "online": self.agent.modules[p].online,
             "firmware_version": self.agent.modules[p].identity.get("fw_version", ""),
             "hardware_version": self.agent.modules[p].identity.get("hw_version", ""),
             "parent_device_uid": self.station or self.uids.get(1, "")}
            for p, uid in sorted(self.uids.items())
        ]  # fmt: skip
        self.link.publish(topics.AGENT_MODULES, json.dumps(mods), retain=True)

    async def push_config(self, position: int) -> None:
        uid = self.uids[position]
        cfg = self.store.get("chargepoint", uid)
        if cfg is None:
            return  # unconfigured: the module stays Unavailable (factory default) until one is saved
        try:
            await self.agent.configure(position, cfg)
        except BusError as e:
            log.warning("configuration of %s (position %d) failed: %s", uid, position, e)

    async def watch_config(self) -> None:
        seen = self.store.versions().get("chargepoint", 0)
        while True:
            await asyncio.sleep(CONFIG_POLL_S)
            now = self.store.versions().get("chargepoint", 0)
            if now != seen:
                seen = now
                for position in list(self.uids):
                    await self.push_config(position)

    def on_command(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_COMMAND)
        self._spawn(self.command(uid or "", raw))

    async def command(self, uid: str, raw: bytes) -> None:
        reply: dict[str, Any] = {"ok": False}
        try:
            req = json.loads(raw)
            reply["id"] = req.get("id", "")
            position = self.uid_position(uid)
            if position is None:
                raise ValueError("no charging controller %s on this bus" % uid)
            value = req.get("value")
            await self.agent.command(
                position, str(req["name"]), tuple(value) if isinstance(value, list) else value
            )
            reply["ok"] = True
        except (ValueError, KeyError, TypeError, AttributeError, BusError) as e:
            reply["error"] = str(e)
        self.link.publish(topics.fill(topics.AGENT_COMMAND_RESULT, uid=uid), json.dumps(reply))

    def on_update(self, topic: str, raw: bytes) -> None:
        self._spawn(self.update(raw))

    async def update(self, raw: bytes) -> None:
        """Installs an image on the asked modules, one after another, reporting progress."""
        progress_topic = topics.AGENT_UPDATE_PROGRESS

        def report(**fields: Any) -> None:
            self.link.publish(progress_topic, json.dumps(fields))

        try:
            req = json.loads(raw)
            rid = str(req.get("id", ""))
            blob, manifest = load_image(Path(str(req["image_dir"])))
            board = str(manifest.get("board", ""))
            wanted = req.get("positions", "all")
            positions = sorted(self.uids) if wanted == "all" else [int(p) for p in wanted]
        except (ValueError, KeyError, TypeError, OSError) as e:
            report(id=locals().get("rid", ""), position=0, done=0, total=0, state="failed", error=str(e))
            return
        for position in positions:
            total = len(blob)

            def step(done: int, total: int, position: int = position) -> None:
                report(id=rid, position=position, done=done, total=total, state="sending", error="")

            try:
                if position not in self.uids:
                    raise ValueError("no module at position %d" % position)
                ident = await bus_update(self.agent, position, blob, board, step)
                report(id=rid, position=position, done=total, total=total, state="done", error="",
                       version=ident.get("fw_version", ""))  # fmt: skip
            except (BusError, ValueError) as e:
                report(id=rid, position=position, done=0, total=total, state="failed", error=str(e))
        report(id=rid, position=0, done=0, total=0, state="finished", error="")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def open_transport(bus: dict[str, Any]) -> Transport:
    if bus.get("kind") == "sim":
        return await SimTransport.connect(str(bus["endpoint"]))
    if bus.get("kind") == "serial":
        return SerialTransport(
            str(bus["port"]), int(bus.get("baudrate", 1_000_000)), bool(bus.get("rs485", True))
        )
    raise ValueError("no backplane bus configured (runtime bus = %r)" % bus)


async def serve(runtime: Runtime) -> None:
    transport = await open_transport(runtime.bus)
    store = ConfigStore.open(runtime.config_path)
    link = await connect(runtime, "charx-controller-agent")
    agent = ControllerAgent(transport)
    bridge = AgentBridge(agent, link, store, str(runtime.bus.get("station", "")))
    agent.subscribe(bridge.on_bus)
    link.subscribe(topics.subscription(topics.AGENT_COMMAND), bridge.on_command)
    link.subscribe(topics.AGENT_UPDATE, bridge.on_update)
    await agent.start()
    log.info("bus master running: %d module(s) found", len(bridge.uids))
    try:
        await bridge.watch_config()
    finally:
        await agent.stop()
        await transport.close()
        link.close()
        store.close()


def main() -> int:
    return run_service("controller-agent", serve)
