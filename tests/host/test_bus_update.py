"""Firmware update over the bus to a real micropython module running from its flash slots."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from backplane import image
from chargepark.bus.agent import BusRefused, ControllerAgent
from chargepark.bus.medium import MediumThread, SimMedium
from chargepark.bus.simmodule import SimModule, provision
from chargepark.bus.transport import SimTransport
from chargepark.bus.update import UpdateFailed, send_image, update

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware_mpy"
MODULE_MAIN = ROOT / "tests" / "firmware" / "bus_module_case.py"
POSITION = 3


def build_image(board: str = "sim", main: bytes | None = None, marker: str = "v1") -> bytes:
    """An image of the bus firmware (the sim board's modules as sources) whose main is the recording program."""
    files = []
    for name in json.loads((ROOT / "boards" / "sim" / "board.json").read_text())["modules"]:
        path = FIRMWARE / name
        if name in ("main.py", "simboard"):
            continue  # the recording program plays the point
        for py in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            files.append((py.relative_to(FIRMWARE).as_posix(), py.read_bytes()))
    files.append(("main.py", main if main is not None else MODULE_MAIN.read_bytes()))
    files.append(("bus_point_case.py", (MODULE_MAIN.parent / "bus_point_case.py").read_bytes()))
    files.append(("board.json", json.dumps({"name": board}).encode()))
    files.append(("marker.txt", marker.encode()))
    return bytes(image.pack(board, files))


async def identity_soon(agent: ControllerAgent, timeout: float = 15) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        try:
            return await agent.identify(POSITION, retries=0)
        except Exception:
            if loop.time() > end:
                raise
            await asyncio.sleep(0.1)


@pytest.mark.slow
def test_update_refusals_rollback(tmp_path: Path) -> None:
    v1, v2 = build_image(marker="v1"), build_image(marker="v2")
    flash = tmp_path / "module3"
    assert provision(flash, v1, uid="u-3", position=POSITION) == "sim"

    async def scenario() -> None:
        thread = MediumThread(SimMedium())
        medium = thread.start()
        mod = SimModule(flash, medium.endpoint)
        await mod.start()
        agent = ControllerAgent(await SimTransport.connect(medium.endpoint), [POSITION], timeout=0.2)
        try:
            ident = await identity_soon(agent)
            assert ident["fw_version"] == hashlib.sha256(v1).hexdigest()[:12]
            assert ident["slot"] == ["a", False, ""]

            # A good image: transferred with progress, booted on trial, confirmed by the link.
            seen: list[tuple[int, int]] = []
            ident = await update(agent, POSITION, v2, "sim", lambda d, t: seen.append((d, t)))
            assert ident["fw_version"] == hashlib.sha256(v2).hexdigest()[:12]
            assert seen[-1] == (len(v2), len(v2)) and len(seen) == -(-len(v2) // 512)
            assert (flash / "slots" / "b" / "marker.txt").read_text() == "v2"
            await asyncio.sleep(0.3)
            assert json.loads((flash / "slots.json").read_text())["active"] == "b"

            # Foreign and corrupted images are refused with a reason; the module keeps running v2.
            with pytest.raises(BusRefused, match="image is for board rp2040"):
                await send_image(agent, POSITION, build_image(board="rp2040"), "rp2040")
            with pytest.raises(BusRefused, match="image is for board rp2040, this is sim"):
                await send_image(agent, POSITION, build_image(board="rp2040"), "sim")  # lying header
            damaged = bytearray(v1)
            damaged[len(damaged) // 2] ^= 0x40
            with pytest.raises(BusRefused, match="sha256 mismatch"):
                await send_image(agent, POSITION, bytes(damaged), "sim", sha256=hashlib.sha256(v1).digest())
            ident = await agent.identify(POSITION)
            assert ident["fw_version"] == hashlib.sha256(v2).hexdigest()[:12] and ident["slot"][0] == "b"

            # An image whose main crashes: boot.py rolls back, the module comes up on v2 again.
            broken = build_image(main=b"raise RuntimeError('broken build')\n", marker="v3")
            with pytest.raises(UpdateFailed, match="crashed: RuntimeError: broken build"):
                await update(agent, POSITION, broken, "sim")
            ident = await agent.identify(POSITION)
            assert ident["fw_version"] == hashlib.sha256(v2).hexdigest()[:12] and ident["slot"][0] == "b"

            # An image that hangs and never talks: after a power cycle it is rolled back unconfirmed.
            hung = build_image(main=b"import time\nwhile True:\n    time.sleep(1)\n", marker="v4")
            with pytest.raises(UpdateFailed, match="did not come back"):
                await update(agent, POSITION, hung, "sim", boot_timeout=2)
            mod.kill()
            ident = await identity_soon(agent)
            assert ident["fw_version"] == hashlib.sha256(v2).hexdigest()[:12]
            assert ident["slot"] == ["b", False, "a: never confirmed by the bus"]

            # The stand-alone CLI (no agent polling meanwhile): back to v1 with a progress bar.
            images = tmp_path / "images"
            images.mkdir()
            (images / "firmware.img").write_bytes(v1)
            sha = hashlib.sha256(v1).hexdigest()
            manifest = {"board": "sim", "image": {"path": "firmware.img", "size": len(v1), "sha256": sha}}
            (images / "manifest.json").write_text(json.dumps(manifest))
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "chargepark.bus.update", str(images), "--position", "3",
                "--bus", medium.endpoint, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(cli.communicate(), 60)
            assert cli.returncode == 0, err
            assert b"100%" in err and ("runs firmware %s in slot a" % sha[:12]).encode() in out
        finally:
            await mod.stop()
            await agent.transport.close()
            thread.stop()

    asyncio.run(scenario())
