"""Firmware Management (OCPP 1.6 sections 5.9, 5.19): UpdateFirmware downloads a firmware package (a tar,
gzip or not, holding the `images` build output: manifest.json and firmware.img) from an http(s):// or
ftp:// location at its retrieveDate, waits for the running transactions to end (unless ForceUpdate), sets
the OCPP points unavailable PreUnavailabilityForUpdate seconds before, and installs the image on the IO
modules over the bus through the controller agent (`topics.AGENT_UPDATE`, the one update path);
GetDiagnostics uploads the log archive (every service's log, the full OCPP message log among them) by FTP
STOR or HTTP PUT. Each step is reported in FirmwareStatusNotification / DiagnosticsStatusNotification."""

from __future__ import annotations

import asyncio
import datetime
import ftplib
import io
import json
import logging
import secrets
import shutil
import tarfile
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ocpp.v16 import call

from chargepark.bus.update import load_image
from chargepark.ocpp.station import Station

log = logging.getLogger("chargepark.ocpp")

TIMEOUT_S = 60.0  # one download or upload attempt
INSTALL_TIMEOUT_S = 1800.0
TX_POLL_S = 5.0  # how often an update waiting for the transactions looks again
Notify = Callable[[Any], Awaitable[None]]
Install = Callable[[Path], Awaitable[list[str]]]  # image dir -> the modules' errors (none: installed)
Archive = Callable[[datetime.datetime | None, datetime.datetime | None], bytes]  # the log zip of a window


def download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as r, dest.open("wb") as f:  # http, https, ftp
        shutil.copyfileobj(r, f)


def unpack(package: Path, into: Path) -> Path:
    """The directory of the package's manifest.json (ValueError when it is no firmware package)."""
    try:
        with tarfile.open(package) as tar:
            tar.extractall(into, filter="data")  # no paths outside `into`, no devices
    except tarfile.TarError as e:
        raise ValueError("not a firmware package: %s" % e) from e
    found = sorted(into.rglob("manifest.json"))
    if not found:
        raise ValueError("no manifest.json in the package")
    load_image(found[0].parent)  # the image matches its manifest
    return found[0].parent


def upload(url: str, name: str, data: bytes) -> None:
    """FTP: STOR into the URL's directory (user and password from the URL, else anonymous); HTTP: PUT to
    the URL (a URL ending in / gets the file name)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "ftp":
        with ftplib.FTP() as ftp:
            ftp.connect(u.hostname or "", u.port or 21, timeout=TIMEOUT_S)
            ftp.login(urllib.parse.unquote(u.username or "anonymous"), urllib.parse.unquote(u.password or ""))
            if u.path.strip("/"):
                ftp.cwd(urllib.parse.unquote(u.path))
            ftp.storbinary("STOR " + name, io.BytesIO(data))
        return
    if u.scheme not in ("http", "https"):
        raise ValueError("cannot upload to %s://" % u.scheme)
    target = url + name if url.endswith("/") else url
    req = urllib.request.Request(target, data=data, method="PUT", headers={"Content-Type": "application/zip"})
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
        if r.status >= 300:
            raise OSError("HTTP %d" % r.status)


def log_archive(
    data_dir: Path, since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> bytes:
    """The WBM's log zip (every service's log and the update log), loaded only when asked for; with
    GetDiagnostics' startTime/stopTime each log holds the lines of that time only."""
    from chargepark.wbm.software import LOG, UPDATES
    from chargepark.wbm.system import _zip_logs

    with _zip_logs(data_dir / "logs", (data_dir / UPDATES / LOG,), (since, until)) as f:
        return f.read()


async def attempts(what: str, retries: int | None, interval: int | None, work: Callable[[], None]) -> bool:
    """`work` in a thread, tried 1 + retries times `interval` seconds apart; True once it succeeded."""
    for n in range(1 + max(0, retries or 0)):
        if n:
            await asyncio.sleep(interval or 0)
        try:
            await asyncio.to_thread(work)
            return True
        except (OSError, ValueError, ftplib.Error) as e:
            log.warning("%s, attempt %d: %s", what, n + 1, e)
    return False


class FirmwareManagement:
    def __init__(self, station: Station, work_dir: Path, install: Install, archive: Archive) -> None:
        self.station = station
        self.work_dir = work_dir
        self.install = install
        self.archive = archive
        self.notify: Notify | None = None  # set by the backend: sends when connected
        self.command: Callable[[str, str, Any], Awaitable[None]] | None = None
        self.firmware = "Idle"  # the status a TriggerMessage reports
        self.diagnostics = "Idle"
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _firmware(self, status: str, busy: bool = True) -> None:
        self.firmware = status if busy else "Idle"
        log.info("firmware: %s", status)
        if self.notify is not None:
            await self.notify(call.FirmwareStatusNotification(status=status))

    async def _diagnostics(self, status: str, busy: bool = True) -> None:
        self.diagnostics = status if busy else "Idle"
        log.info("diagnostics: %s", status)
        if self.notify is not None:
            await self.notify(call.DiagnosticsStatusNotification(status=status))

    # ---- UpdateFirmware -----------------------------------------------------------------------------

    async def update(
        self, location: str, retrieve_at: float, retries: int | None, interval: int | None
    ) -> None:
        await asyncio.sleep(max(0.0, retrieve_at - time.time()))
        job = self.work_dir / ("update-%d-%s" % (time.time(), secrets.token_hex(3)))
        job.mkdir(parents=True)
        try:
            await self._firmware("Downloading")
            package = job / "package"
            if not await attempts(
                "download " + location, retries, interval, lambda: download(location, package)
            ):
                await self._firmware("DownloadFailed", busy=False)
                return
            await self._firmware("Downloaded")
            try:
                image_dir = await asyncio.to_thread(unpack, package, job / "image")
            except (ValueError, OSError, KeyError) as e:
                log.warning("firmware package %s: %s", location, e)
                await self._firmware("InstallationFailed", busy=False)
                return
            await self._wait_for_transactions()
            await self._firmware("Installing")
            errors = await self._install(image_dir, retries)
            await self._firmware("InstallationFailed" if errors else "Installed", busy=False)
        finally:
            shutil.rmtree(job, ignore_errors=True)

    async def _wait_for_transactions(self) -> None:
        while not self.station.settings()["ForceUpdate"] and any(
            self.station.queue.running(uid) for uid in self.station.connectors.values()
        ):
            await asyncio.sleep(TX_POLL_S)

    async def _install(self, image_dir: Path, retries: int | None) -> list[str]:
        """PreUnavailabilityForUpdate: the OCPP points are unavailable that long before the install, and
        available again after it. An install a module did not finish is tried again (`retries` times, as
        the download; the bus refuses nothing it has not checked whole)."""
        uids = list(self.station.connectors.values())
        before = self.station.settings()["PreUnavailabilityForUpdate"]
        if before and self.command is not None:
            for uid in uids:
                await self.command(uid, "available", False)
            await asyncio.sleep(before)
        try:
            for n in range(1 + max(0, retries or 0)):
                async with asyncio.timeout(INSTALL_TIMEOUT_S):
                    errors = await self.install(image_dir)
                if not errors:
                    break
                log.warning("firmware install, attempt %d: %s", n + 1, "; ".join(errors))
            return errors
        except TimeoutError:
            return ["no answer from the controller agent"]
        finally:
            if before and self.command is not None:
                for uid in uids:
                    await self.command(uid, "available", True)

    # ---- GetDiagnostics -----------------------------------------------------------------------------

    def diagnostics_name(self) -> str:
        return "diagnostics-%s.zip" % time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())

    async def upload(self, location: str, name: str, retries: int | None, interval: int | None,
                     since: datetime.datetime | None = None, until: datetime.datetime | None = None) -> None:  # fmt: skip
        await self._diagnostics("Uploading")
        data = await asyncio.to_thread(self.archive, since, until)
        ok = await attempts("upload to " + location, retries, interval, lambda: upload(location, name, data))
        await self._diagnostics("Uploaded" if ok else "UploadFailed", busy=False)


class BusInstaller:
    """The install step over the controller agent: one AGENT_UPDATE request for every module, its
    progress followed until `finished`."""

    def __init__(self, publish: Callable[[dict[str, Any]], None]) -> None:
        self.publish = publish
        self.waiting: dict[str, tuple[asyncio.Future[list[str]], list[str]]] = {}

    def on_progress(self, topic: str, raw: bytes) -> None:
        try:
            event = json.loads(raw)
            waiting = self.waiting.get(str(event.get("id")))
        except (ValueError, AttributeError):
            return
        if waiting is None:
            return
        done, errors = waiting
        if event.get("state") == "failed":
            errors.append("position %s: %s" % (event.get("position"), event.get("error")))
        elif event.get("state") == "finished" and not done.done():
            done.set_result(errors)

    async def __call__(self, image_dir: Path) -> list[str]:
        rid = "ocpp-" + secrets.token_hex(6)
        done: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self.waiting[rid] = (done, [])
        try:
            self.publish({"id": rid, "image_dir": str(image_dir), "positions": "all"})
            return await done
        finally:
            del self.waiting[rid]
