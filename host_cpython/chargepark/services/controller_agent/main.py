"""Controller Agent service: the backplane bus master, bridged to the local broker.

It wraps the bus helper's `ControllerAgent`: discovered modules are recorded in the park model, each
point's configuration from the store is pushed, with whether a load circuit manages it (and again as soon
as the store's writer announces a change), live state and events go to MQTT, and point commands come from MQTT, validated against the
module's own command table before they reach the bus. A module that (re)appears gets its configuration
and then the control values the store holds for it (JupiCore's REST `control`, datahub/control.py), and
the head's wall clock (command `clock`, again every CLOCK_EVERY_S: a signing meter's clock is set from it).
A load circuit's higher-level meter on a point's RS-485 line is read by that point's module (module field
`higher_meter`); the agent asks the module for its reading every second and publishes it like the Modbus
Client's Modbus/TCP meters (topics.MODBUS_CLIENT_METER).
In a client/server park (manual "System Control/Module Switch") a client's agent reports its station and
modules to the server and takes each point's configuration (park/client.py) and its modules' images
(park/update.py) from it; the server's agent takes the clients' modules over (park/server.py). The topics
travel over ETH1 by the client broker's bridge (park/link.py); each agent answers the commands of its own
bus's points only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import chargedefs as cd
from backplane import catalog
from iomodule.commands import COMMANDS

from chargepark import topics
from chargepark.bus.agent import BusError, BusTimeout, ControllerAgent
from chargepark.bus.transport import SerialTransport, SimTransport, Transport
from chargepark.bus.update import load_image
from chargepark.bus.update import update as bus_update
from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore
from chargepark.datahub import control, pushed
from chargepark.mqtt import MqttLink
from chargepark.park import client as park_client
from chargepark.park import role
from chargepark.park import update as park_update
from chargepark.park.client import ParkClient
from chargepark.park.model import record_discovery
from chargepark.park.server import ParkServer
from chargepark.runtime import Runtime
from chargepark.services.base import connect, follow_config, run_service
from chargepark.services.controller_agent.spec import SPEC
from chargepark.services.modbus_client.reading import message

log = logging.getLogger("chargepark.agent")
PUBLISH_EVERY_S = 0.5  # unchanged live state is republished this often (freshness < 1 s)
HIGHER_METER_EVERY_S = 1.0  # a higher-level meter on a module's line is read this often (as Modbus Client's)
CLOCK_EVERY_S = 3600.0  # the modules' wall clock is refreshed this often (their ticks drift)
QUICK_FIELDS = ("iec_state", "status", "error_bits", "set_current_ma", "contactor", "lock_state")


def _rfid_board(arg: Any) -> dict[str, Any] | None:
    return {"rfid_board_firmware": arg[:16]} if isinstance(arg, str) else None


def _meter_ident(arg: Any) -> dict[str, Any] | None:
    if isinstance(arg, list) and len(arg) == 2:
        return {"meter_serial": str(arg[0])[:32], "meter_firmware": str(arg[1])[:16]}
    return None


def _meter_key(arg: Any) -> dict[str, Any] | None:
    if isinstance(arg, str) and len(arg) <= 256 and all(c in "0123456789ABCDEFabcdef" for c in arg):
        return {"meter_public_key": arg.upper()}
    return None


# Events whose argument the module area keeps (the WBM's board and status pages show them).
EVENT_RECORDS: dict[int, Callable[[Any], dict[str, Any] | None]] = {
    cd.EV_RFID_BOARD: _rfid_board,
    cd.EV_METER_IDENT: _meter_ident,
    cd.EV_METER_KEY: _meter_key,
}


class AgentBridge:
    def __init__(self, agent: ControllerAgent, link: MqttLink, store: ConfigStore, station: str) -> None:
        self.agent = agent
        self.link = link
        self.store = store
        self.station = station
        self.uids: dict[int, str] = {}
        self._last: dict[int, tuple[float, tuple[Any, ...]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # One push per point at a time: the last one reads and sends the newest record.
        self._configuring: dict[int, asyncio.Lock] = {}
        self.client: ParkClient | None = None  # this head is a park client
        self.server: ParkServer | None = None  # this head is the park's server
        self.images: Path | None = None  # a client's data directory: the server's images go below it

    def uid_position(self, uid: str) -> int | None:
        return next((p for p, u in self.uids.items() if u == uid), None)

    def on_bus(self, kind: str, position: int, data: Any) -> None:
        handler = self.ON_BUS.get(kind)  # "config" (a module's acknowledged push) needs nothing here
        if handler is not None:
            handler(self, position, data)

    def _on_identity(self, position: int, data: Any) -> None:
        uid = str(data["uid"])
        self.uids[position] = uid
        station = self.station or self.uids.get(1, uid)
        record_discovery(self.store, station, position, uid, str(data.get("board", "")),
                         str(data.get("hw_version", "")), str(data.get("fw_version", "")))  # fmt: skip
        self._spawn(self.restore(position))
        if self.client is not None:
            self.client.found(uid)
        self.publish_modules()

    def _on_online(self, position: int, data: Any) -> None:
        self.publish_modules()

    def _on_offline(self, position: int, data: Any) -> None:
        self.publish_modules()
        if position in self.uids:
            self.publish_live(position, self.agent.modules[position].live, force=True)

    def _on_live(self, position: int, data: Any) -> None:
        self.publish_live(position, data)

    def _on_event(self, position: int, data: Any) -> None:
        code, arg = data
        point = self.uids.get(position)
        if point is None:
            return
        record = EVENT_RECORDS.get(code)
        if record is not None:
            fields = record(arg)
            if fields:
                self.store.put("module", fields, key=point)
        name = cd.EVENTS[code] if 0 <= code < len(cd.EVENTS) else "event_%d" % code
        self.link.publish(topics.fill(topics.AGENT_EVENT, uid=point), json.dumps({"event": name, "arg": arg}))

    ON_BUS: ClassVar[dict[str, Callable[[AgentBridge, int, Any], None]]] = {
        "identity": _on_identity,
        "online": _on_online,
        "offline": _on_offline,
        "live": _on_live,
        "event": _on_event,
    }

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
        m = self.agent.modules[position]
        msg = dict(live, uid=uid, position=position, online=m.online, t=now, bus=m.counters.summary(),
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
        if self.client is not None:
            self.client.publish_station([
                dict(m, device_name=str(self.agent.modules[m["position"]].identity.get("board", "")))
                for m in mods
            ])  # fmt: skip
        if self.server is not None:
            mods += self.server.modules()
        self.link.publish(topics.AGENT_MODULES, json.dumps(mods))

    async def push_config(self, position: int) -> None:
        async with self._configuring.setdefault(position, asyncio.Lock()):
            uid = self.uids[position]
            if self.client is not None:
                cfg = park_client.module_config(self.store, uid)
            else:
                cfg = pushed.module_config(self.store, uid)
            try:
                if cfg is not None:
                    await self.agent.configure(position, cfg)
                elif self.agent.modules[position].live.get("flags", 0) & cd.FLAG_CONFIGURED:
                    await self.agent.unconfigure(position)  # deleted: back to the factory face (Unavailable)
            except BusError as e:
                log.warning("configuration of %s (position %d) failed: %s", uid, position, e)

    async def read_higher_meters(self) -> None:
        """Every second: each RS-485 higher-level meter's reading from its module, published in the Modbus
        Client's shape; a module offline, refusing or not reading it yet publishes the meter offline."""
        while True:
            for cid, uid in pushed.higher_meters(self.store).items():
                cfg = self.store.get("chargepoint", uid)
                meter_type = str(cfg["meter_type"]) if cfg else "none"
                values: list[int] | None = None
                position = self.uid_position(uid)
                if position is not None and self.agent.modules[position].online:
                    try:
                        state, reading = await self.agent.request(position, catalog.HIGHER_METER)
                        if state == cd.HIGHER_OK:
                            values = [int(v) for v in reading]
                    except BusError as e:
                        log.debug("higher-level meter of %s at %s: %s", cid, uid, e)
                self.link.publish(topics.fill(topics.MODBUS_CLIENT_METER, circuit=cid),
                                  json.dumps(message(cid, meter_type, values)))  # fmt: skip
            await asyncio.sleep(HIGHER_METER_EVERY_S)

    async def restore(self, position: int) -> None:
        """A module (re)appeared: its configuration, then the control values stored for it (a module
        forgets its commands when it restarts; datahub/control.py)."""
        await self.push_config(position)
        await self.set_clock(position)
        uid = self.uids[position]
        record = self.store.get("control", uid)
        if record is None:
            return
        cfg = self.store.get("chargepoint", uid) or AREAS["chargepoint"].defaults()
        for name, value in control.reapply(record, cfg):
            try:
                await self.agent.command(position, name, tuple(value) if isinstance(value, list) else value)
            except BusError as e:
                log.warning("control value %s of %s (position %d) not applied: %s", name, uid, position, e)

    async def set_clock(self, position: int) -> None:
        """The module's wall clock: UTC seconds and the local offset in minutes (the OCMF times' zone)."""
        now = time.time()
        try:
            await self.agent.command(position, "clock", (int(now), time.localtime(now).tm_gmtoff // 60))
        except BusError as e:
            log.warning("clock of position %d not set: %s", position, e)

    async def keep_clocks(self) -> None:
        while True:
            await asyncio.sleep(CLOCK_EVERY_S)
            for position in list(self.uids):
                if self.agent.modules[position].online:
                    await self.set_clock(position)

    def on_config(self, area: str) -> None:
        """An area the module fields come from changed: push every known point's configuration again (and
        a server's clients theirs)."""
        for position in list(self.uids):
            self._spawn(self.push_config(position))
        if self.server is not None:
            self.server.publish_configs()

    def on_park_station(self, topic: str, raw: bytes) -> None:
        if self.server is not None and self.server.on_station(topic, raw):
            self.publish_modules()

    def on_park_config(self, topic: str, raw: bytes) -> None:
        if self.client is not None:
            self.client.on_config(topic, raw, lambda uid: self.uid_position(uid) is not None)

    def answered_elsewhere(self, uid: str) -> bool:
        """A command for a point of another station of the park: that station's agent answers it (a client
        answers its own points only, the server all but its clients')."""
        if self.uid_position(uid) is not None:
            return False
        return self.client is not None or (self.server is not None and uid in self.server.uids())

    def on_command(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_COMMAND) or ""
        if not self.answered_elsewhere(uid):
            self._spawn(self.command(uid, raw))

    async def command(self, uid: str, raw: bytes) -> None:
        """Runs one command and publishes its result; a failure names its `kind` (pointops.KINDS)."""
        reply: dict[str, Any] = {"ok": False}
        try:
            req = json.loads(raw)
            reply["id"] = req.get("id", "")
            name, value = str(req["name"]), req.get("value")
            if name != catalog.RESET:
                COMMANDS.args(name, value)  # the module's own table: a bad command never reaches the bus
            position = self.uid_position(uid)
            if position is None:
                reply["kind"] = "unknown"
                raise ValueError("no charging controller %s on this bus" % uid)
            if not self.agent.modules[position].online:
                reply["kind"] = "offline"
                raise ValueError("charging controller %s (position %d) is offline" % (uid, position))
            await self.agent.command(position, name, tuple(value) if isinstance(value, list) else value)
            reply["ok"] = True
        except BusTimeout as e:
            reply.update(kind="offline", error=str(e))
        except BusError as e:
            reply.update(kind="refused", error=str(e))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            reply.setdefault("kind", "invalid")
            reply["error"] = str(e)
        self.link.publish(topics.fill(topics.AGENT_COMMAND_RESULT, uid=uid), json.dumps(reply))

    def on_update(self, topic: str, raw: bytes) -> None:
        self._spawn(self.update(raw))

    def report(self, **fields: Any) -> None:
        self.link.publish(topics.AGENT_UPDATE_PROGRESS, json.dumps(fields))

    def refused(self, rid: str, error: str) -> None:
        """A request not run at all: its one failure, then `finished` (the asker stops waiting)."""
        self.report(id=rid, position=0, done=0, total=0, state="failed", error=error)
        self.report(id=rid, position=0, done=0, total=0, state="finished", error="")

    async def update(self, raw: bytes) -> None:
        """Installs an image on the asked modules, one after another, reporting progress."""
        report = self.report
        try:
            req = json.loads(raw)
            rid = str(req.get("id", ""))
            blob, manifest = load_image(Path(str(req["image_dir"])))
            board = str(manifest.get("board", ""))
            wanted = req.get("positions", "all")
            positions = sorted(self.uids) if wanted == "all" else [int(p) for p in wanted]
        except (ValueError, KeyError, TypeError, OSError) as e:
            self.refused(str(locals().get("rid", "")), str(e))
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

    def on_park_update(self, topic: str, raw: bytes) -> None:
        self._spawn(self.park_update(raw))

    async def park_update(self, raw: bytes) -> None:
        """The park server's image for this client's modules: checked and stored here (park/update.py),
        then the bus update as a local request's."""
        assert self.client is not None and self.images is not None
        try:
            rid, image_dir, positions = await asyncio.to_thread(
                park_update.accept, raw, self.station, self.images
            )
        except park_update.Refused as e:
            log.warning("update from the park server refused: %s", e)
            self.refused(e.rid, "refused by station %s: %s" % (self.station, e))
            return
        log.info("update %s from the park server: image stored in %s", rid, image_dir)
        await self.update(
            json.dumps({"id": rid, "image_dir": str(image_dir), "positions": positions}).encode()
        )

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
    link = await connect(runtime, SPEC)
    agent = ControllerAgent(transport)
    station = str(runtime.bus.get("station", ""))
    bridge = AgentBridge(agent, link, store, station)
    if role.station_role(runtime) == role.CLIENT:
        bridge.client = ParkClient(store, link.publish, station)
        bridge.images = Path(runtime.data_dir)
        await link.subscribe(topics.subscription(topics.AGENT_PARK_CONFIG), bridge.on_park_config)
        await link.subscribe(topics.fill(topics.AGENT_PARK_UPDATE, uid=station), bridge.on_park_update)
    else:
        bridge.server = ParkServer(store, link.publish, station)
        bridge.server.publish_configs()  # retained: a client that connects later gets them too
        await link.subscribe(topics.subscription(topics.AGENT_PARK_STATION), bridge.on_park_station)
    agent.subscribe(bridge.on_bus)
    await link.subscribe(topics.subscription(topics.AGENT_COMMAND), bridge.on_command)
    await link.subscribe(topics.AGENT_UPDATE, bridge.on_update)
    areas = ("chargepoint", "loadcircuit", "ocpp", "rfidboard", "parkpoint")
    await follow_config(link, store, areas, bridge.on_config)
    await agent.start()
    bridge._spawn(bridge.read_higher_meters())
    bridge._spawn(bridge.keep_clocks())
    log.info("bus master running: %d module(s) found", len(bridge.uids))
    try:
        await asyncio.Event().wait()
    finally:
        await agent.stop()
        await transport.close()
        await link.close()
        store.close()


def main() -> int:
    return run_service(SPEC, serve)
