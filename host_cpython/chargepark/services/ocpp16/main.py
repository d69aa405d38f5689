"""OCPP 1.6J service: the park's OCPP points as the connectors of one charge box at the backend of the ocpp
area (chargepark.ocpp, docs/ocpp.md). Transaction messages wait in `<data>/ocpp_queue.db` while the backend
is away."""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from pathlib import Path

from chargepark import control as supervisor_control
from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.network import host as network_host
from chargepark.network import modem
from chargepark.ocpp.authlist import open_state
from chargepark.ocpp.backend import Backend
from chargepark.ocpp.feed import Feed
from chargepark.ocpp.firmware import BusInstaller, FirmwareManagement, log_archive
from chargepark.ocpp.journal import FILE as JOURNAL_FILE
from chargepark.ocpp.journal import Journal
from chargepark.ocpp.limits import Limits
from chargepark.ocpp.modemwatch import ModemWatch
from chargepark.ocpp.station import Station
from chargepark.ocpp.timesync import TimeSync
from chargepark.ocpp.txqueue import TxQueue
from chargepark.release.gate import GatedOps, mode_in
from chargepark.runtime import Runtime
from chargepark.services.base import connect, follow_config, run_service
from chargepark.services.ocpp16.spec import SPEC
from chargepark.wbm import systemhost

log = logging.getLogger("chargepark.ocpp")
QUEUE_FILE = "ocpp_queue.db"
STATE_FILE = "ocpp_state.db"  # local list, cache, reservations, charging profiles
RESET_RETRY_S = 5.0  # between the tries of a Reset that did not happen (ResetRetries)
FIRMWARE_DIR = "ocpp_firmware"  # downloads of UpdateFirmware while they are installed


async def restart_by_supervisor(data_dir: Path, kind: str, tries: int, wait_s: float = RESET_RETRY_S) -> None:
    """A Reset's restart: the supervisor restarts this service (Soft) or every service (Hard). It answers
    only once it stopped this service, so an answer, like no answer at all, is a reset that did not happen:
    it is tried `tries` times (1 + ResetRetries)."""
    name = SPEC.name if kind == "Soft" else "all"
    for attempt in range(1, tries + 1):
        log.warning("Reset %s: restarting %s (try %d of %d)", kind, name, attempt, tries)
        try:
            reply = await asyncio.to_thread(
                supervisor_control.request, data_dir, {"cmd": "restart", "name": name}
            )
            why = str(reply.get("error", "this service was not stopped"))
        except ConnectionError as e:
            why = str(e)
        log.error("Reset %s failed: %s", kind, why)
        if attempt < tries:
            await asyncio.sleep(wait_s)


async def serve(runtime: Runtime) -> None:
    store = ConfigStore.open(runtime.config_path)
    queue = TxQueue(Path(runtime.data_dir) / QUEUE_FILE)
    state = open_state(str(Path(runtime.data_dir) / STATE_FILE))
    link = await connect(runtime, SPEC)
    ops = GatedOps(link, "ocpp", mode_in(store))
    await ops.start()
    journal = Journal(Path(runtime.data_dir) / JOURNAL_FILE)
    station = Station(store, queue, state, journal)

    async def reset(kind: str) -> None:
        """Reset: running transactions end (SoftReset/HardReset), then the supervisor restarts this service
        (Soft) or every service (Hard)."""
        for uid in list(station.connectors.values()):
            tx = queue.running(uid)
            if tx is not None:
                await feed.command(uid, "release", False)
                station.stop(tx, station.meter_now(tx), kind + "Reset")
        await restart_by_supervisor(Path(runtime.data_dir), kind, 1 + int(station.settings()["ResetRetries"]))

    installer = BusInstaller(lambda request: link.publish(topics.AGENT_UPDATE, json.dumps(request)))
    data = Path(runtime.data_dir)
    firmware = FirmwareManagement(station, data / FIRMWARE_DIR, installer, partial(log_archive, data))
    timesync = TimeSync(station, systemhost.for_data(data).set)
    network = network_host.for_data(data)

    async def restart_modem() -> None:
        await asyncio.to_thread(modem.restart, network.runner())

    watch = ModemWatch(lambda: int(station.settings()["ModemRestartTimeout"]),
                       lambda: bool(store.get("network")["modem_enabled"]), restart_modem)  # fmt: skip
    backend = Backend(station, ops, reset, firmware, timesync, ca_dir=data, modem=watch)
    feed = Feed(backend)

    def changed(area: str) -> None:
        station.reload()
        station.apply_log_level()
        backend.wake.set()
        station.changed.set()  # MaxCurrent, GlobalMaxCurrent, the OCPP points

    await follow_config(link, store, ("ocpp", "chargepoint"), changed)
    await link.subscribe(topics.subscription(topics.AGENT_LIVE), feed.on_live)
    await link.subscribe(topics.subscription(topics.AGENT_EVENT), feed.on_event)
    await link.subscribe(topics.AGENT_UPDATE_PROGRESS, installer.on_progress)

    async def publish_limit(uid: str, limit: dict[str, object]) -> None:
        link.publish(topics.OCPP_LIMIT.format(uid=uid), json.dumps(limit))

    worker = asyncio.ensure_future(feed.run())
    restarted = asyncio.ensure_future(feed.after_restart())
    limiter = asyncio.ensure_future(Limits(station, publish_limit).run())
    try:
        await backend.run()
    finally:
        worker.cancel()
        restarted.cancel()
        limiter.cancel()
        await link.close()
        queue.close()
        state.close()
        journal.close()
        store.close()


def main() -> int:
    return run_service(SPEC, serve)
