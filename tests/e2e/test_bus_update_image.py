"""The real board image (`scons images`: mpy-cross output) is provisioned, runs from its slot on the
real micropython, and is updated over the bus; after the restart the head pushes the configuration again."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import chargeschema
import pointconfig
import pytest
from backplane import image
from chargepark.bus.agent import ControllerAgent
from chargepark.bus.medium import MediumThread, SimMedium
from chargepark.bus.simmodule import SimModule, provision
from chargepark.bus.transport import SimTransport
from chargepark.bus.update import load_image, update

ROOT = Path(__file__).resolve().parents[2]
POSITION = 4


def repacked(blob: bytes, board: str, work: Path) -> bytes:
    """The same image plus one marker file: another firmware version built from the same files."""
    (work / "in.img").write_bytes(blob)
    image.unpack_file(str(work / "in.img"), str(work / "files"), board)
    files = sorted(
        (str(p.relative_to(work / "files")), p.read_bytes())
        for p in (work / "files").rglob("*")
        if p.is_file()
    )
    return bytes(image.pack(board, [*files, ("marker.txt", b"v2")]))


def new_sim_image(board_dir: Path, work: Path) -> str:
    """out/images' sim image (built first) repacked with a marker file, another firmware version, written
    with its manifest into board_dir as `scons images` writes a board; its SHA-256."""
    subprocess.run([sys.executable, "-m", "SCons", "-Q", "images"], cwd=ROOT, check=True, capture_output=True)
    blob, manifest = load_image(ROOT / "out" / "images" / "sim")
    v2 = repacked(blob, manifest["board"], work)
    board_dir.mkdir(parents=True)
    (board_dir / "firmware.img").write_bytes(v2)
    sha = hashlib.sha256(v2).hexdigest()
    (board_dir / "manifest.json").write_text(
        json.dumps({**manifest, "image": {**manifest["image"], "sha256": sha, "size": len(v2)}})
    )
    return sha


@pytest.mark.slow
def test_real_image_runs_from_slot_and_updates(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "SCons", "-Q", "images"], cwd=ROOT, check=True, capture_output=True)
    v1, manifest = load_image(ROOT / "out" / "images" / "sim")
    board = manifest["board"]
    v2 = repacked(v1, board, tmp_path)
    flash = tmp_path / "module4"
    provision(flash, v1, uid="img-4", position=POSITION)
    assert any(p.suffix == ".mpy" for p in (flash / "slots" / "a").rglob("*"))
    cfg = chargeschema.validate(pointconfig.FIELDS, {"name": "cp4", "max_current_a": 20}, pointconfig.CHECKS)
    checksum = pointconfig.checksum(pointconfig.module_part(cfg))

    async def scenario() -> None:
        thread = MediumThread(SimMedium())
        medium = thread.start()
        mod = SimModule(flash, medium.endpoint, args=["--sim-control", "0"])
        await mod.start()
        agent = ControllerAgent(await SimTransport.connect(medium.endpoint), [POSITION], timeout=0.2)
        try:
            await asyncio.to_thread(medium.wait_for, {POSITION}, 30)
            ident = await agent.identify(POSITION)
            assert ident["fw_version"] == manifest["image"]["sha256"][:12] and ident["board"] == board
            assert await agent.configure(POSITION, cfg) == (1, checksum)
            assert (await agent.poll(POSITION))["config_checksum"] == checksum

            progress: list[int] = []
            ident = await update(agent, POSITION, v2, board, lambda done, total: progress.append(done))
            assert ident["fw_version"] == hashlib.sha256(v2).hexdigest()[:12] and ident["slot"][0] == "b"
            assert progress[-1] == len(v2)
            # The module restarted with factory settings; identify pushed the configuration again.
            live = await agent.poll(POSITION)
            assert live["config_checksum"] == checksum and agent.counters(POSITION)["config_pushes"] == 2
            assert (flash / "slots" / "b" / "marker.txt").read_bytes() == b"v2"
        finally:
            await mod.stop()
            await agent.transport.close()
            thread.stop()

    asyncio.run(scenario())
