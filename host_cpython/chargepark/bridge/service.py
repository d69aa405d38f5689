"""The MQTT bridge service: keeps a bridge mosquitto (its own child) configured as the `mqtt_bridge` area and
the discovered modules say, and reports its connection on `applications/mqtt-bridge/state`.

mosquitto 2.0 does not reload bridges on SIGHUP (mosquitto.conf(5): "Bridges cannot currently be reloaded"),
so a change restarts the bridge mosquitto; the head's broker, which every service uses, is never restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import socket
import struct
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiomqtt

from chargepark import eventwait, topics
from chargepark.bridge import conf, rules
from chargepark.bridge.status import BridgeState
from chargepark.broker import DROPPED, mosquitto_binary, wait_port
from chargepark.config.store import ConfigStore
from chargepark.mqtt import MqttLink
from chargepark.network import host as network_host
from chargepark.network import openvpn
from chargepark.network.runner import CommandFailed
from chargepark.procs import die_with_parent, stop_child
from chargepark.runtime import Runtime, free_port
from chargepark.services.base import follow_config

log = logging.getLogger("chargepark.bridge")
SETTLE_S = 0.3  # changes arriving together (modules appearing one by one) make one restart
RESPAWN_S = 2.0  # a bridge mosquitto that died is started again after this
VPN_PERIOD_S = 10.0
SIOCGIFADDR = 0x8915
# The remote broker's OpenVPN command (topics.BRIDGE_COMMAND) -> the client's switch.
VPN_COMMANDS = {"connect": "up", "disconnect": "down"}


def _own_group() -> None:
    os.setpgid(0, 0)
    die_with_parent()


def tunnel_state() -> dict[str, str]:
    """VPN_Connection_State: the first OpenVPN tun interface with an IPv4 address."""
    for _, name in socket.if_nameindex():
        if not name.startswith("tun"):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue  # up without an address yet
        return {"vpn_status": "connected", "vpn_ip": socket.inet_ntoa(packed[20:24])}
    return {"vpn_status": "not connected", "vpn_ip": ""}


def vpn_command(raw: bytes) -> str | None:
    """`{"openvpn": "connect"|"disconnect"}` -> "up"/"down"; None for anything else."""
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    action = message.get("openvpn") if isinstance(message, dict) else None
    return VPN_COMMANDS.get(action) if isinstance(action, str) else None


def config_problem(cfg: dict[str, Any]) -> str | None:
    if any(c in cfg["user"] + cfg["password"] for c in "\r\n") or cfg["password"] != cfg["password"].strip():
        return "user and password must be one line without leading or trailing blanks"
    return None


class Bridge:
    def __init__(self, runtime: Runtime, link: MqttLink, store: ConfigStore) -> None:
        self.runtime = runtime
        self.link = link
        self.store = store
        self.state = BridgeState()
        self.station_id = ""
        self.devices: list[str] = []
        self.changed = asyncio.Event()
        self.dir = runtime.run_dir / "bridge"
        self.log_path = Path(runtime.data_dir) / "logs" / "mqtt-bridge-mosquitto.log"
        self.port = free_port()  # the bridge mosquitto's listener, kept across its restarts
        self._proc: asyncio.subprocess.Process | None = None
        self._applied = ""
        self._tasks: list[asyncio.Task[None]] = []
        self.network = network_host.for_data(Path(runtime.data_dir))  # the web server's root, same rule
        self._switches: set[asyncio.Task[None]] = set()  # VPN switches under way (kept from the GC)

    async def follow(self) -> None:
        """Subscribes the inputs: the modules, the remote OpenVPN command, changes of the area (the network
        area is read per command)."""
        await self.link.subscribe(topics.AGENT_MODULES, self.on_modules)
        await self.link.subscribe(topics.BRIDGE_COMMAND, self.on_command)
        await follow_config(self.link, self.store, ("mqtt_bridge",), self.on_area)

    # inputs
    def on_modules(self, topic: str, raw: bytes) -> None:
        try:
            mods = [m for m in json.loads(raw) if isinstance(m, dict)]
        except (ValueError, TypeError):
            return
        station = next((str(m.get("parent_device_uid", "")) for m in mods if m.get("parent_device_uid")), "")
        devices = sorted(str(m["uid"]) for m in mods if m.get("uid"))
        if (station, devices) != (self.station_id, self.devices):
            self.station_id, self.devices = station, devices
            self.changed.set()

    def on_area(self, area: str) -> None:
        self.changed.set()

    def on_command(self, topic: str, raw: bytes) -> None:
        """OpenVPN "On Request": the remote broker starts or stops the client (off the event loop)."""
        action = vpn_command(raw)
        if action is None:
            log.warning('command ignored (not {"openvpn": "connect"|"disconnect"}): %r', raw[:200])
            return
        task = asyncio.create_task(self._switch_vpn(action))
        self._switches.add(task)
        task.add_done_callback(self._switches.discard)

    async def _switch_vpn(self, action: str) -> None:
        runner = self.network.runner()
        try:
            await asyncio.to_thread(openvpn.switch, runner, self.store.get("network"), action)
        except (openvpn.NotOnRequest, CommandFailed, OSError) as e:
            log.warning("OpenVPN %s refused: %s", action, e)
            return
        log.info("OpenVPN %s: %s", action, "; ".join(" ".join(argv) for argv in runner.record))

    # outputs
    def publish_state(self) -> None:
        self.link.publish(topics.BRIDGE_STATE, json.dumps(self.state.report()))

    def _publish_station(self, cfg: dict[str, Any]) -> None:
        station = {"device-type": rules.DEVICE_TYPE, "id": self.station_id, "name": cfg["station_name"],
                   "location": cfg["location"]}  # fmt: skip
        self.link.publish(topics.BRIDGE_CONFIG, json.dumps(station))

    async def apply(self) -> None:
        """Brings the bridge mosquitto in line with the area and the modules."""
        cfg = self.store.get("mqtt_bridge")
        why = "" if cfg["broker"] else "no remote broker configured"
        why = (
            why or config_problem(cfg) or ("" if self.station_id else "waiting for the station id (modules)")
        )
        if why:
            await self._stop_child()
            self._applied = ""
            if self.state.off(why):
                self.publish_state()
            return
        self._publish_station(cfg)
        routes, skipped = rules.expand(cfg, self.station_id, self.devices)
        for line in skipped:
            log.warning("not forwarded: %s", line)
        self.dir.mkdir(parents=True, exist_ok=True)
        cafile = self.dir / "ca.pem" if cfg["certificate"] else None
        ends = conf.Endpoints(self.port, self.runtime.mqtt_host, self.runtime.mqtt_port,
                              "chargepark-" + self.station_id, cafile)  # fmt: skip
        text = conf.render(cfg, routes, ends)
        applied = text + cfg["certificate"]  # the CA file's path stays, its content may change
        if self._proc is not None and self._proc.returncode is None and applied == self._applied:
            return
        await self._stop_child()
        if cafile is not None:
            cafile.write_text(cfg["certificate"])
        path = self.dir / "mosquitto.conf"
        path.touch(mode=0o600)  # it holds the remote password
        path.write_text(text)
        self._applied = applied
        if self.state.starting("%s:%d" % (cfg["broker"], cfg["port"])):
            self.publish_state()
        await self._start_child(path, ends)

    async def _start_child(self, path: Path, ends: conf.Endpoints) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        proc = await asyncio.create_subprocess_exec(
            mosquitto_binary(), "-c", str(path),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, preexec_fn=_own_group,
        )  # fmt: skip
        self._proc = proc
        self.state.fresh_counter("bridge")
        self._tasks = [
            asyncio.create_task(self._read_log(proc)),
            asyncio.create_task(self._watch_bridge(ends)),
        ]
        await wait_port("127.0.0.1", ends.listen_port, 10.0, proc)

    async def _stop_child(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._proc is not None:
            await stop_child(self._proc)
            self._proc = None

    async def _read_log(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        with open(self.log_path, "ab") as out:
            async for raw in proc.stdout:
                out.write(raw)
                out.flush()
                if self.state.on_log(raw.decode("utf-8", "replace")):
                    self.publish_state()
        code = await proc.wait()
        if self.state.died("bridge mosquitto exited with %s" % code):
            self.publish_state()
        self._applied = ""
        await asyncio.sleep(RESPAWN_S)
        self.changed.set()  # the main loop starts it again

    async def _watch(
        self, host: str, port: int, ident: str, handlers: dict[str, Callable[[bytes], bool]]
    ) -> None:
        """Follows topics of a broker (reconnecting); a handler saying the state changed has it published."""
        while True:
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client(host, port, identifier=ident) as c:
                    for topic in handlers:
                        await c.subscribe(topic)
                    async for message in c.messages:
                        payload = message.payload if isinstance(message.payload, bytes) else b""
                        if handlers[message.topic.value](payload):
                            self.publish_state()
            await asyncio.sleep(0.5)

    def _watch_bridge(self, ends: conf.Endpoints) -> Coroutine[Any, Any, None]:
        return self._watch("127.0.0.1", ends.listen_port, "chargepark-bridge-state", {
            conf.state_topic(ends.client_id): self.state.on_notification,
            DROPPED: lambda payload: self.state.on_dropped("bridge", payload),
        })  # fmt: skip

    def _watch_head(self) -> Coroutine[Any, Any, None]:
        # The head's $SYS is read apart from the service's link: it is no topic of the park's table.
        handlers = {DROPPED: lambda payload: self.state.on_dropped("head", payload)}
        return self._watch(
            self.runtime.mqtt_host, self.runtime.mqtt_port, "chargepark-bridge-drops", handlers
        )

    async def run(self) -> None:
        vpn: dict[str, str] = {}
        head = asyncio.create_task(self._watch_head())
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await eventwait.within(self.changed, VPN_PERIOD_S)
                if self.changed.is_set():
                    await asyncio.sleep(SETTLE_S)
                    self.changed.clear()
                    await self.apply()
                now = tunnel_state()
                if now != vpn:
                    vpn = now
                    self.link.publish(topics.BRIDGE_VPN_STATE, json.dumps(now))
        finally:
            head.cancel()
            await asyncio.gather(head, return_exceptions=True)
            await self._stop_child()
