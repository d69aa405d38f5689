"""Firmware update over the bus: send a board image in CRC-checked chunks, restart, check what came up.

The module writes the chunks into its inactive slot, checks the whole image's SHA-256 and board, and
boots it on trial; a refused image leaves the module on its old firmware and raises BusRefused.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from binascii import crc32
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backplane import catalog
from rich.console import Console

from chargepark.bus.agent import BusError, ControllerAgent
from chargepark.bus.transport import SerialTransport, SimTransport, Transport
from chargepark.progressbar import label, transfer_progress

CHUNK = 512
# A module answers an update request only once it wrote the chunk (or, at the end, unpacked the whole image):
# slower than a poll's answer on a loaded machine, so the head repeats the frame for up to this long (a
# repeat gets the cached answer, never a second write).
UPDATE_WAIT_S = 5.0
Progress = Callable[[int, int], None]


class UpdateFailed(BusError):
    """The image went over but the module did not come up on it (rolled back or silent)."""


def load_image(image_dir: Path) -> tuple[bytes, dict[str, Any]]:
    """firmware.img and its manifest.json (the `images` build output); checks the manifest's SHA-256."""
    manifest: dict[str, Any] = json.loads((image_dir / "manifest.json").read_text())
    blob = (image_dir / "firmware.img").read_bytes()
    image = manifest["image"]
    if hashlib.sha256(blob).hexdigest() != image["sha256"]:
        raise ValueError("%s: firmware.img does not match manifest.json" % image_dir)
    return blob, manifest


async def send_image(
    agent: ControllerAgent,
    position: int,
    blob: bytes,
    board: str,
    progress: Progress | None = None,
    sha256: bytes | None = None,
) -> str:
    """Transfer and verify the image into the module's inactive slot; returns that slot's name.

    `sha256` is the digest the module checks the received image against (the manifest's); by default
    the digest of `blob`.
    """
    digest = sha256 or hashlib.sha256(blob).digest()
    retries = max(agent.retries, int(UPDATE_WAIT_S / agent.timeout))
    await agent.request(position, catalog.UPDATE_BEGIN, len(blob), digest, board, CHUNK, retries=retries)
    offset = 0
    while offset < len(blob):
        data = blob[offset : offset + CHUNK]
        answer = await agent.request(
            position, catalog.UPDATE_CHUNK, offset, data, crc32(data), retries=retries
        )
        offset = answer[0]
        if progress:
            progress(offset, len(blob))
    (slot,) = await agent.request(position, catalog.UPDATE_END, retries=retries)
    return str(slot)


async def update(
    agent: ControllerAgent,
    position: int,
    blob: bytes,
    board: str,
    progress: Progress | None = None,
    boot_timeout: float = 20.0,
) -> dict[str, Any]:
    """Send the image, restart the module into it and wait until it runs it; returns its identity.

    UpdateFailed when the module comes back on its old firmware (the new one failed and was rolled back)
    or does not come back within `boot_timeout` seconds.
    """
    slot = await send_image(agent, position, blob, board, progress)
    version = hashlib.sha256(blob).hexdigest()[:12]
    old_boot = agent.modules[position].boot_id
    await agent.command(position, catalog.RESET)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + boot_timeout
    while loop.time() < deadline:
        await asyncio.sleep(0.2)
        try:
            ident = await agent.identify(position, retries=0)
        except BusError:
            continue
        if ident["boot_id"] == old_boot:
            continue  # still the old run (the reset is on its way)
        running, _trial, rollback = ident["slot"]
        if running == slot and ident["fw_version"] == version:
            return ident
        raise UpdateFailed(position, "module runs slot %s, rolled back: %s" % (running, rollback or "?"))
    raise UpdateFailed(position, "module did not come back within %.0f s" % boot_timeout)


async def _cli(args: argparse.Namespace) -> int:
    blob, manifest = load_image(Path(args.image))
    if args.serial:
        transport: Transport = SerialTransport(args.serial, args.baud, rs485=args.rs485)
    else:
        transport = await SimTransport.connect(args.bus)
    agent = ControllerAgent(transport, [args.position], timeout=args.timeout)
    try:
        before = await agent.identify(args.position)
        print("position %d: %s, firmware %s" % (args.position, before["board"], before["fw_version"]))
        with transfer_progress(Console(stderr=True)) as bar:
            task = bar.add_task(label("position %d" % args.position), total=len(blob))
            ident = await update(
                agent,
                args.position,
                blob,
                str(manifest["board"]),
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        print(
            "position %d runs firmware %s in slot %s" % (args.position, ident["fw_version"], ident["slot"][0])
        )
        return 0
    except BusError as e:
        print("update failed: %s" % e, file=sys.stderr)
        return 1
    finally:
        await transport.close()


def main() -> int:
    """Update one module directly (only while no controller agent owns the bus)."""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("image", help="image directory with firmware.img and manifest.json (out/images/<BOARD>)")
    p.add_argument("--position", type=int, required=True)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bus", help="simulated medium HOST:PORT")
    where.add_argument("--serial", help="serial port of the RS-485 adapter")
    p.add_argument("--baud", type=int, default=1_000_000)
    p.add_argument("--rs485", action="store_true", help="kernel RS-485 direction control")
    p.add_argument("--timeout", type=float, default=0.2)
    return asyncio.run(_cli(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
