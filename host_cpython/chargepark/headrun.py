"""`chargepark run`: the head module. Broker, services under the supervisor, optionally a simulated park."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chargepark import control, eventwait, topics
from chargepark.broker import port_open, start_broker
from chargepark.config import AREAS, ConfigStore, StoreError
from chargepark.config.checks import split_host_port
from chargepark.livetable import LiveTable
from chargepark.mqtt import MqttLink
from chargepark.network import host as network_host
from chargepark.park import startup
from chargepark.procs import stop_child
from chargepark.runtime import Runtime, free_port, of_data
from chargepark.services.registry import SERVICES
from chargepark.supervisor import SPEC, Supervisor

log = logging.getLogger("chargepark.run")
STATUS_PERIOD_S = 2.0


@dataclass
class RunOptions:
    data: Path
    sim: int = 0
    sim_prefix: str = "CPSIM"  # device UIDs of the simulated modules (another for each head of a park)
    # None = from the store's system area; 0 = any free port
    mqtt_port: int | None = None
    rest_port: int | None = None
    web_port: int | None = None
    loadmgmt_port: int | None = None
    broker: str | None = None  # "host:port" of a system broker; empty = start our own
    only: set[str] | None = None  # run only these services (development)
    table: bool = False
    traffic: bool = True  # EVs come and go at simulated points


class HeadError(Exception):
    """The head cannot start (the reason is for the user)."""


class OwnBroker:
    """The head's own mosquitto with the park's part of its configuration. It starts again when every
    service does (the WBM's reboot, the Module Switch), since the station's role or the park password may
    have changed; the services, stopped then, reconnect."""

    def __init__(self, runtime: Runtime, data: Path) -> None:
        self.runtime = runtime
        self.data = data
        self.proc: asyncio.subprocess.Process | None = None
        self.part = startup.BrokerPart("server")

    async def start(self) -> None:
        rt = self.runtime
        self.part = await startup.prepare(rt, _system(rt.config_path), network_host.for_data(self.data), True)
        self.proc = await start_broker(
            rt.run_dir, rt.mqtt_host, rt.mqtt_port, self.data / "logs" / "mosquitto.log",
            listeners=self.part.listeners, bridge=self.part.bridge, park_password=self.part.password,
        )  # fmt: skip

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_child(self.proc)
            self.proc = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        log.info("broker started again: park role %s", self.part.role)


def _port(p: int) -> int:
    return p if p else free_port()


def _system(config_path: Path) -> dict[str, Any]:
    """The store's system area; its defaults while no store exists yet (starting the head must not create
    one)."""
    try:
        if not config_path.exists():
            return AREAS["system"].defaults()
        store = ConfigStore.open(config_path)
        try:
            system: dict[str, Any] = store.get("system")
            return system
        finally:
            store.close()
    except StoreError as exc:
        raise HeadError(str(exc)) from exc


def _ports_and_broker(opts: RunOptions, config_path: Path) -> tuple[int, int, int, str]:
    """MQTT, REST and WBM ports and the system broker: the command line's, else the store's system area."""
    system = _system(config_path)
    return (
        system["mqtt_port"] if opts.mqtt_port is None else opts.mqtt_port,
        system["rest_port"] if opts.rest_port is None else opts.rest_port,
        system["web_port"] if opts.web_port is None else opts.web_port,
        system["mqtt_system_broker"] if opts.broker is None else opts.broker,
    )


def _loadmgmt_port(opts: RunOptions, config_path: Path) -> int:
    """The flag's port (0 = any free one), else the system area's; a configured port in use (a second head on
    this machine) gives way to a free one, so that development heads do not collide on 1603."""
    if opts.loadmgmt_port is not None:
        return _port(opts.loadmgmt_port)
    port = AREAS["system"].defaults()["loadmgmt_port"]
    if config_path.exists():
        store = ConfigStore.open(config_path)
        port = store.get("system")["loadmgmt_port"]
        store.close()
    if port_open("127.0.0.1", port):
        log.warning("load management port %d is in use: taking a free one", port)
        return free_port()
    return int(port)


def _announce_config(link: MqttLink, config_path: Path) -> None:
    """Every area's version, retained, so the broker holds them from the start (writers announce the
    changes after this, `chargepark.configpush`)."""
    if not config_path.exists():
        return
    store = ConfigStore.open(config_path)
    try:
        for area, version in store.versions().items():
            link.publish(topics.fill(topics.CONFIG_VERSION, area=area), str(version))
    finally:
        store.close()


async def run_head(opts: RunOptions, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    data = opts.data.resolve()
    runtime = Runtime(data_dir=str(data), mqtt_port=0, rest_port=0, web_port=0)  # resolved below
    mqtt_port, rest_port, web_port, broker = _ports_and_broker(opts, runtime.config_path)
    runtime.rest_port, runtime.web_port = _port(rest_port), _port(web_port)
    runtime.loadmgmt_port = _loadmgmt_port(opts, runtime.config_path)
    running = of_data(data)
    if running is not None and port_open("127.0.0.1", running.control_port):
        raise HeadError("a head already runs with %s (stop it first, or use another --data)" % data)
    own = None if broker else OwnBroker(runtime, data)
    if broker:
        try:
            runtime.mqtt_host, runtime.mqtt_port = split_host_port(broker)
        except ValueError as exc:
            raise HeadError("system broker: %s" % exc) from exc
    else:
        runtime.mqtt_port = _port(mqtt_port)
    taken = [
        "%s %d" % (what, port)
        for what, port, ours in (("MQTT", runtime.mqtt_port, not broker), ("REST", runtime.rest_port, True),
                                 ("WBM", runtime.web_port, True))
        if ours and port_open("127.0.0.1", port)
    ]  # fmt: skip
    if taken:
        raise HeadError(
            "port(s) in use: %s. A system mosquitto? Use it with --broker 127.0.0.1:1883, or pick other ports"
            " (--mqtt-port/--rest-port/--web-port, 0 = any free one; or the system area of the configuration)"
            % ", ".join(taken)
        )
    data.mkdir(parents=True, exist_ok=True)
    park = None
    supervisor: Supervisor | None = None
    server = None
    link = MqttLink(runtime.mqtt_host, runtime.mqtt_port, SPEC)
    table = LiveTable(sys.stdout) if opts.table else None
    try:
        if opts.sim:
            from chargepark.simpark import SimPark  # only a simulated head needs the firmware side

            try:
                park = SimPark(
                    data, opts.sim, runtime.config_path, traffic=opts.traffic, prefix=opts.sim_prefix
                )
            except ValueError as exc:  # the number of modules or the UID prefix
                raise HeadError(str(exc)) from exc
            runtime.bus = await park.start()
        # the station (its bus) decides the role, and the role the broker's park listener or bridge
        if own is not None:
            await own.start()
            part = own.part
        else:
            part = await startup.prepare(
                runtime, _system(runtime.config_path), network_host.for_data(data), False
            )
        supervisor = Supervisor(runtime, SERVICES, opts.only, on_restart_all=own.restart if own else None)
        server, runtime.control_port = await control.serve(supervisor)
        runtime.save()
        await link.connect()
        _announce_config(link, runtime.config_path)
        await supervisor.start()
        banner = [
            "chargepark: head running, data in %s" % data,
            "  WBM          http://%s:%d/" % (runtime.listen_host, runtime.web_port),
            "  JupiCore     http://%s:%d/api/v1.0/charging-controllers"
            % (runtime.listen_host, runtime.rest_port),
            "  MQTT broker  %s:%d" % (runtime.mqtt_host, runtime.mqtt_port),
            "  park         %s%s"
            % (part.role, "".join(" (also listening on %s:%d)" % hp for hp in part.listeners)),
        ]
        if park is not None:
            banner.append(
                "  simulated    %d IO modules, sim-control endpoints in %s" % (opts.sim, park.endpoints_path)
            )
            park.start_traffic()
        print("\n".join(banner), flush=True)
        if table is not None:
            table.banner = banner  # the table redraws the screen: keep the URLs on it
            await link.subscribe(topics.charx("+", "live"), table.on_live)
        while not stop.is_set():
            status = supervisor.status()
            link.publish(topics.SERVICES, json.dumps(status))
            if table is not None:
                table.render(status)
            with contextlib.suppress(TimeoutError):
                await eventwait.within(stop, STATUS_PERIOD_S)
    finally:
        print("chargepark: stopping", flush=True)
        if supervisor is not None:
            await supervisor.stop()
        if server is not None:
            server.close()
        if park is not None:
            await park.stop()
        await link.close()
        if own is not None:
            await own.stop()
        runtime.path.unlink(missing_ok=True)
        print("chargepark: stopped", flush=True)
    return 0
