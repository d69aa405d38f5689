"""Simulated IO modules: provision a module's flash directory from a board image, and run it.

A provisioned flash directory looks like a board's flash: boot.py, board.json and identity.json at the
root, the image unpacked into slots/a and slots.json naming it active. `SimModule` runs
`micropython boot.py --bus HOST:PORT ...` there and starts it again whenever it exits, the way a
watchdog or a power cycle would (a requested reset exits with backplane.slots.RESET_EXIT).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections import deque
from pathlib import Path

from backplane import image, slots

from chargepark.procs import micropython_binary

FIRMWARE = Path(__file__).resolve().parents[3] / "firmware_mpy"
OUTPUT_LINES = 200  # the tail of a module's console kept for error reports; a long run must not grow


def provision(flash_dir: Path, blob: bytes, *, uid: str, position: int) -> str:
    """Write a fresh module flash from image bytes; returns the image's board name."""
    flash_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=flash_dir, suffix=".img", delete=False) as tmp:
        tmp.write(blob)
    try:
        with open(tmp.name, "rb") as f:
            board = str(image.read_board(f))
        image.unpack_file(tmp.name, str(flash_dir / slots.slot_path("a")), board)
    finally:
        os.remove(tmp.name)
    slot = flash_dir / slots.slot_path("a")
    for name in ("boot.py", "board.json"):
        if (slot / name).exists():
            shutil.copyfile(slot / name, flash_dir / name)
    (flash_dir / "identity.json").write_text(json.dumps({"uid": uid, "position": position}))
    sha = {"a": hashlib.sha256(blob).hexdigest()}
    state = {"active": "a", "trial": None, "trying": None, "rollback": None, "sha": sha}
    (flash_dir / slots.STATE_FILE).write_text(json.dumps(state))
    return board


class SimModule:
    """One module process in its flash directory, restarted whenever it exits until `stop()`."""

    def __init__(
        self,
        flash_dir: Path,
        bus: str,
        args: list[str] | None = None,
        heap: str = "4M",
        pass_fds: tuple[int, ...] = (),  # descriptors the module inherits (its simulated meter's line)
    ) -> None:
        self.flash_dir = flash_dir
        self.pass_fds = pass_fds
        self.bus = bus
        self.args = args or []
        self.heap = heap
        self.exits: list[int] = []
        self.proc: asyncio.subprocess.Process | None = None
        self.output: deque[bytes] = deque(maxlen=OUTPUT_LINES)  # console lines, the newest last
        self._task: asyncio.Task[None] | None = None

    def command(self) -> list[str]:
        provisioned = (self.flash_dir / slots.STATE_FILE).exists()
        boot = self.flash_dir / "boot.py" if provisioned else FIRMWARE / "boot.py"
        cmd = [micropython_binary(), "-X", "heapsize=" + self.heap, str(boot), "--bus", self.bus]
        return cmd + self.args

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # A provisioned module imports only from its slot (boot.py puts it first); a bare one from the tree.
        env["MICROPYPATH"] = "" if (self.flash_dir / slots.STATE_FILE).exists() else str(FIRMWARE)
        return env

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(),
                cwd=self.flash_dir,
                env=self.env(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=self.pass_fds,
            )
            assert self.proc.stdout is not None
            while line := await self.proc.stdout.readline():
                self.output.append(line)
            self.exits.append(await self.proc.wait())
            await asyncio.sleep(0.05)

    def console_tail(self, chars: int) -> str:
        """The last `chars` characters of the kept console output."""
        return b"".join(self.output)[-chars:].decode("utf-8", "replace")

    def kill(self) -> None:
        """Power loss: the process dies at once (and is started again)."""
        if self.proc and self.proc.returncode is None:
            self.proc.kill()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
