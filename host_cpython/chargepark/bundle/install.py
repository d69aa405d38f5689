"""Installing a verified bundle: the points held (ForceUpdate, PreUnavailabilityForUpdate), the head into the
inactive slot with its health check and rollback, then the IO-module images over the bus.

Order matters for "nothing changed": the bundle is verified and the points judged before any file is
written; a head that fails its check leaves `active` where it was.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from chargepark import __version__, topics
from chargepark.bundle import slots
from chargepark.bundle.manifest import Refused, Verified, extract, verify
from chargepark.config import AREAS, ConfigStore
from chargepark.config.cli import STORE_FILE
from chargepark.mqtt import MqttLink
from chargepark.pointops import CommandError, PointOps
from chargepark.progressbar import label, transfer_progress
from chargepark.runtime import Runtime, of_data
from chargepark.services.spec import ServiceSpec

# The installer talks to the running head like a client: the points' state in, availability commands out.
INSTALLER = ServiceSpec(
    name="bundle-install",
    title="Software update",
    summary="`chargepark bundle install`",
    publishes=(topics.AGENT_COMMAND,),
    subscribes=(topics.CHARX_DATA, topics.AGENT_MODULES, topics.AGENT_COMMAND_RESULT),
    client_id="chargepark-bundle-install",
)
RETAINED_S = 1.0  # the broker hands out the retained point states within this
CLIENT_QUIET_S = 60.0  # a park client silent this long is counted failed (away; a module's boot wait is 20 s)


@dataclass
class Settings:
    public_key: str
    force: bool  # OCPP ForceUpdate
    unavailable_s: int  # OCPP PreUnavailabilityForUpdate


def settings(data: Path) -> Settings:
    path = data / STORE_FILE
    if not path.exists():
        system, ocpp = AREAS["system"].defaults(), AREAS["ocpp"].defaults()
    else:
        store = ConfigStore.open(path)
        try:
            system, ocpp = store.get("system"), store.get("ocpp")
        finally:
            store.close()
    return Settings(system["update_public_key"], ocpp["ForceUpdate"], ocpp["PreUnavailabilityForUpdate"])


def running_version(data: Path) -> str:
    """The active slot's head version, else this installation's."""
    slot = slots.active(data)
    if slot is not None:
        infos = sorted(slots.site(data, slot).glob("chargepark-*.dist-info"))
        if infos:
            return infos[-1].name.removesuffix(".dist-info").split("-")[1]
    return __version__


def verify_for(data: Path, bundle: Path) -> Verified:
    return verify(bundle, settings(data).public_key, running_version(data))


@asynccontextmanager
async def points_held(rt: Runtime | None, cfg: Settings, console: Console) -> AsyncIterator[None]:
    """Refuses while a point charges (unless ForceUpdate); sets every point Unavailable for
    PreUnavailabilityForUpdate seconds before the update and available again after it."""
    if rt is None:  # no running head: nothing charges, nobody to tell
        yield
        return
    link = MqttLink(rt.mqtt_host, rt.mqtt_port, INSTALLER)
    await link.connect()
    status: dict[str, str] = {}
    uids: list[str] = []

    def on_status(topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.CHARX_DATA)
        if uid:
            status[uid] = raw.decode(errors="replace")

    def on_modules(topic: str, raw: bytes) -> None:
        uids[:] = [str(m["uid"]) for m in json.loads(raw)]

    ops = PointOps(link)
    held: list[str] = []
    try:
        await ops.start()
        await link.subscribe(topics.charx("+", "status"), on_status)
        await link.subscribe(topics.AGENT_MODULES, on_modules)
        await asyncio.sleep(RETAINED_S)
        charging = sorted(u for u, s in status.items() if s == "Charging")
        if charging and not cfg.force:
            raise Refused("charging at %s and ForceUpdate is off: no update" % ", ".join(charging))
        if cfg.unavailable_s > 0 and uids:
            for uid in uids:
                await ops.command(uid, "available", False)
                held.append(uid)
            console.print("points Unavailable for %d s before the update" % cfg.unavailable_s)
            await asyncio.sleep(cfg.unavailable_s)
        yield
    except CommandError as e:
        raise Refused("could not set the points Unavailable: %s" % e) from None
    finally:
        for uid in held:
            try:
                await ops.command(uid, "available", True)
            except CommandError as e:
                console.print("point %s stays Unavailable: %s" % (uid, e))
        await link.close()


def install_head(data: Path, verified: Verified, console: Console, timeout: float) -> str:
    """Into the inactive slot; `active` moves there only while its health check holds."""
    slot, previous = slots.inactive(data), slots.active(data)
    (wheel_part,) = verified.parts("head")
    stage = slots.root(data) / slot / "bundle"
    shutil.rmtree(stage, ignore_errors=True)  # an earlier bundle's wheels must not serve this one
    with transfer_progress(console) as progress:
        task = progress.add_task(label("slot %s: %s" % (slot, wheel_part["name"])), total=wheel_part["size"])
        (wheel,) = extract(verified, "head", stage)
        deps = stage / "head" / "deps" if extract(verified, "dependency", stage) else None
        try:
            slots.install_head(data, slot, wheel, deps)
        except slots.HealthFailed as e:
            raise Refused(str(e)) from None
        progress.update(task, completed=wheel_part["size"])
    slots.set_active(data, slot)
    console.print("health check of slot %s (version %s) ..." % (slot, verified.version))
    try:
        slots.health_check(data, slot, verified.version, timeout)
    except (slots.HealthFailed, OSError) as e:
        slots.set_active(data, previous)
        raise Refused("the new head failed its health check, rolled back to %s: %s"
                      % (previous or "the system install", e)) from None  # fmt: skip
    return slot


def module_positions(data: Path, own: str) -> dict[str, dict[str, list[int]]]:
    """Station -> board -> bus positions of the park's modules (the park model's discovered modules): ""
    for this head's own bus, else a client station of this head's park (its station record: role client)."""
    store = ConfigStore.open(data / STORE_FILE)
    try:
        modules: dict[str, Any] = store.get("module")
        stations: dict[str, Any] = store.get("station")
    finally:
        store.close()
    clients = {uid for uid, st in stations.items() if st["role"] == "client" and uid != own}
    out: dict[str, dict[str, list[int]]] = {}
    for m in modules.values():
        station = str(m["station"]) if m["station"] in clients else ""
        out.setdefault(station, {}).setdefault(str(m["device_name"]), []).append(int(m["position"]))
    return out


def install_images(data: Path, slot: str, verified: Verified, console: Console) -> int:
    """Each board's image to the modules of that board, through the running head's controller agent: this
    head's own bus first, then each client station's (the image itself sent over the park link). Returns
    the number of updates that failed."""
    from chargepark.updatecli import run_update

    if not verified.parts("image"):
        return 0
    rt = of_data(data)
    if rt is None:
        console.print("no running head: the IO-module images stay in slot %s (chargepark update)" % slot)
        return 0
    extract(verified, "image", slots.root(data) / slot / "bundle")
    failed = 0
    targets = module_positions(data, str(rt.bus.get("station", "")))
    for station in sorted(targets):  # "" (this bus) first
        for board in sorted({p["board"] for p in verified.parts("image")}):
            if targets[station].get(board):
                image_dir = slots.root(data) / slot / "bundle" / "images" / board
                if station:
                    console.print("park client %s: %s image to its modules" % (station, board))
                code = run_update(data, image_dir, sorted(targets[station][board]), station=station,
                                  quiet=CLIENT_QUIET_S if station else None)  # fmt: skip
                failed += code != 0
    return failed


async def install(data: Path, bundle: Path, timeout: float = slots.CHECK_TIMEOUT_S) -> str:
    """Verifies, holds the points, installs; returns the slot now active. Refused: nothing changed (or,
    after a failed health check, rolled back)."""
    console = Console()
    cfg = settings(data)
    verified = verify(bundle, cfg.public_key, running_version(data))
    console.print("bundle %s verified: version %s, %d parts" % (bundle.name, verified.version,
                                                                 len(verified.manifest["parts"])))  # fmt: skip
    async with points_held(of_data(data), cfg, console):
        slot = await asyncio.to_thread(install_head, data, verified, console, timeout)
        if await asyncio.to_thread(install_images, data, slot, verified, console):
            console.print("some IO modules were not updated (see above); the head stays on slot %s" % slot)
    console.print("slot %s active (version %s): restart the head to run it" % (slot, verified.version))
    return slot
