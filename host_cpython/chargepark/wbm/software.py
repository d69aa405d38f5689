"""System Control/Software: a signed bundle uploaded, verified before anything is kept (the key in the
system area, the running version), installed by `chargepark bundle install` as a job of its own process
(the head into the inactive slot with its health check and rollback, the IO modules over the bus), its
output the progress the page shows. One job at a time; the bundle path is `docs/updates.md`."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from chargepark.asgi import ApiError
from chargepark.bundle import slots
from chargepark.bundle.install import running_version, verify_for
from chargepark.bundle.manifest import Refused
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/software", tags=["system"])
Ctx = Annotated[WbmContext, Depends(of)]
UPDATES = "updates"  # below the data directory: the uploaded bundle and the install's log
BUNDLE = "upload.cpb"
LOG = "install.log"
MAX_BUNDLE = 256 << 20
TAIL_LINES = 40


class Job:
    """The install running (or the last one): its process, when it started, how it ended."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0.0
        self.version = ""

    @property
    def state(self) -> str:
        if self.proc is None:
            return "idle"
        if self.proc.returncode is None:
            return "running"
        return "done" if self.proc.returncode == 0 else "failed"


JOBS: dict[Path, Job] = {}  # per data directory (one head per process; tests run several)


def _dir(ctx: WbmContext) -> Path:
    return ctx.data_dir / UPDATES


def _job(ctx: WbmContext) -> Job:
    return JOBS.setdefault(ctx.data_dir, Job())


def _slot_versions(data: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for slot in slots.SLOTS:
        infos = sorted(slots.site(data, slot).glob("chargepark-*.dist-info"))
        out[slot] = infos[-1].name.removesuffix(".dist-info").split("-")[1] if infos else None
    return out


def _tail(path: Path) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.rstrip() for line in text.splitlines() if line.strip()][-TAIL_LINES:]


@router.get("", operation_id="software_status", summary="Running version, A/B slots, the install job")
async def software_status(ctx: Ctx) -> dict[str, Any]:
    job = _job(ctx)
    data = ctx.data_dir
    return {
        "version": running_version(data),
        "active_slot": slots.active(data),
        "slots": _slot_versions(data),
        "uploaded": (_dir(ctx) / BUNDLE).exists(),
        "job": {
            "state": job.state,
            "version": job.version,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.started)) if job.proc else "",
            "returncode": job.proc.returncode if job.proc else None,
            "output": _tail(_dir(ctx) / LOG),
        },
    }


@router.put(
    "/bundle",
    operation_id="software_upload",
    summary="Upload a signed bundle: verified (signature, hashes, version) before it is kept",
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                         "format": "binary"}}}}},
)  # fmt: skip
async def software_upload(request: Request, ctx: Ctx) -> dict[str, Any]:
    if _job(ctx).state == "running":
        raise ApiError(409, "an update is being installed", "bundle")
    folder = _dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / (".incoming-%d.cpb" % os.getpid())
    size = 0
    try:
        with open(incoming, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BUNDLE:
                    raise ApiError(413, "a bundle is at most %d MB" % (MAX_BUNDLE >> 20), "bundle")
                f.write(chunk)
        try:
            verified = await asyncio.to_thread(verify_for, ctx.data_dir, incoming)
        except Refused as e:
            raise ApiError(422, "refused: %s" % e, "bundle") from None
        os.replace(incoming, folder / BUNDLE)
    finally:
        incoming.unlink(missing_ok=True)
    return {
        "version": verified.version,
        "running": running_version(ctx.data_dir),
        "parts": [{k: p[k] for k in ("name", "kind", "board", "version", "size") if k in p}
                  for p in verified.manifest["parts"]],
    }  # fmt: skip


@router.post("/install", operation_id="software_install",
             summary="Install the uploaded bundle (progress in software_status)")  # fmt: skip
async def software_install(ctx: Ctx) -> dict[str, Any]:
    job, bundle = _job(ctx), _dir(ctx) / BUNDLE
    if job.state == "running":
        raise ApiError(409, "an update is being installed", "bundle")
    if not bundle.exists():
        raise ApiError(409, "upload a bundle first", "bundle")
    try:  # again: the key or the running version may have changed since the upload
        verified = await asyncio.to_thread(verify_for, ctx.data_dir, bundle)
    except Refused as e:
        raise ApiError(422, "refused: %s" % e, "bundle") from None
    env = dict(os.environ, COLUMNS="100")  # rich's progress lines, readable in the log
    env.pop("CHARGEPARK_RUNTIME", None)  # the installer finds the running head by its data directory
    with open(_dir(ctx) / LOG, "wb") as log:
        job.proc = await asyncio.create_subprocess_exec(
            *slots.cli_argv("bundle", "install", str(bundle), "--data", str(ctx.data_dir)),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT, env=env,
        )  # fmt: skip
    job.started, job.version = time.time(), verified.version
    asyncio.get_running_loop().create_task(job.proc.wait())  # reaped as it ends: the state is right
    return {"installing": verified.version}
