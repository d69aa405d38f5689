"""A simulated park for `chargepark run --sim N`: the sim bus medium, N real micropython IO modules, EVs.

The medium runs on its own precise loop in a thread (`MediumThread`): on the head's epoll loop every
frame would arrive up to 1 ms late, so the park would not have the bus timing `bench_bus` measures.

Each module gets a flash directory under `<data>/sim/module<N>` (provisioned from the sim board image
`out/images/sim/firmware.img` when it exists, else run from the source tree), a fixed sim-control port,
and a configuration record unless one was saved before: the sim board's station configuration
(`boards/sim/config-full.json`: release mode "permanent", a mapped meter type, RCM with its self-test, a
Pt1000, contactor monitoring on the input the plant wires the auxiliary contact to), as a real station.
Each module's meter is a pymodbus RTU server on a pty (simmeter.py); its RFID reader is simulated inside
the module on one end of another pty pair, its driver on the other (`--rfid-line`). The endpoints go to
`<data>/run/sim.json` for `chargepark sim`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from chargepark.bus.medium import MediumThread, SimMedium
from chargepark.bus.simmodule import SimModule, provision
from chargepark.config.store import ConfigStore
from chargepark.runtime import free_port
from chargepark.simctl import endpoints_path, request
from chargepark.simmeter import PointMeter, rtu_line
from chargepark.simtraffic import Traffic

ROOT = Path(__file__).resolve().parents[2]
SIM_IMAGE = ROOT / "out" / "images" / "sim" / "firmware.img"
SIM_BOARD = ROOT / "boards" / "sim" / "board.json"
SIM_POINT_CONFIG: dict[str, Any] = json.loads((ROOT / "boards" / "sim" / "config-full.json").read_text())


UID_PREFIX = "CPSIM"
_PREFIX = re.compile(r"^[A-Z0-9]{1,16}$")


def sim_uid(position: int, prefix: str = UID_PREFIX) -> str:
    """A simulated module's device UID; heads simulated side by side (a park's server and its clients)
    take different prefixes, as real modules' UIDs differ."""
    return "%s%04d" % (prefix, position)


def prepare_flash(flash: Path, position: int, prefix: str = UID_PREFIX) -> None:
    """A module's flash: provisioned once from the sim image, or board + identity beside the source tree."""
    if (flash / "identity.json").exists():
        return  # the module keeps its flash (slots, identity) across runs, like a real one
    if SIM_IMAGE.exists():
        provision(flash, SIM_IMAGE.read_bytes(), uid=sim_uid(position, prefix), position=position)
    else:
        flash.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SIM_BOARD, flash / "board.json")
        (flash / "identity.json").write_text(
            json.dumps({"uid": sim_uid(position, prefix), "position": position})
        )


def configure_points(config_path: Path, n: int, prefix: str = UID_PREFIX) -> None:
    store = ConfigStore.open(config_path)
    try:
        for pos in range(1, n + 1):
            uid = sim_uid(pos, prefix)
            if store.get("chargepoint", uid) is None:
                store.put("chargepoint", dict(SIM_POINT_CONFIG, name="Sim Point %d" % pos), key=uid)
    finally:
        store.close()


class SimPark:
    def __init__(
        self,
        data: Path,
        n: int,
        config_path: Path,
        traffic: bool = True,
        seed: int | None = None,
        prefix: str = UID_PREFIX,
    ) -> None:
        if not 1 <= n <= 12:
            raise ValueError("a simulated station has 1..12 IO modules (bus positions), not %d" % n)
        if not _PREFIX.match(prefix):
            raise ValueError("a simulated UID prefix is 1..16 capital letters or digits, not %r" % prefix)
        self.prefix = prefix
        self.data = data
        self.n = n
        self.config_path = config_path
        self.medium = SimMedium()
        self.medium_thread = MediumThread(self.medium)
        self.modules: dict[int, SimModule] = {}
        self.endpoints: dict[int, str] = {}
        self.meters: dict[int, PointMeter] = {}  # each point's RTU meter (pymodbus on a pty)
        self.draws: dict[int, list[int]] = {}  # each point's last meter reading (for a higher-level meter)
        self.reader_lines: dict[int, tuple[int, int]] = {}  # each point's RFID reader line (a pty pair)
        self.traffic = Traffic({}, seed) if traffic else None
        self.seed = seed

    @property
    def endpoints_path(self) -> Path:
        return endpoints_path(self.data)

    async def start(self) -> dict[str, Any]:
        """Starts medium and modules; returns the runtime's `bus` entry for the controller agent."""
        configure_points(self.config_path, self.n, self.prefix)
        await asyncio.to_thread(self.medium_thread.start)  # blocks until the medium listens
        for pos in range(1, self.n + 1):
            flash = self.data / "sim" / ("module%d" % pos)
            prepare_flash(flash, pos, self.prefix)
            port = free_port()
            self.endpoints[pos] = "127.0.0.1:%d" % port
            meter = self.meters[pos] = PointMeter(position=pos, park=self.draws)
            # The module's simulated reader and its driver talk over both ends (simboard/rfidsim.py).
            reader, driver, _ = rtu_line()
            os.set_blocking(driver, False)
            self.reader_lines[pos] = (reader, driver)
            args = ["--sim-control", str(port), "--time", "real", "--meter-line", str(meter.fd),
                    "--rfid-line", "%d:%d" % (reader, driver)]  # fmt: skip
            module = SimModule(flash, self.medium.endpoint, args, pass_fds=(meter.fd, reader, driver))
            self.modules[pos] = module
            await module.start()
        await self._wait_ready(30.0)
        for pos, meter in self.meters.items():
            await meter.start(self.endpoints[pos])
        points = {
            str(p): {"uid": sim_uid(p, self.prefix), "sim_control": ep} for p, ep in self.endpoints.items()
        }
        self.endpoints_path.parent.mkdir(parents=True, exist_ok=True)
        self.endpoints_path.write_text(json.dumps({"points": points}, indent=1))
        return {"kind": "sim", "endpoint": self.medium.endpoint, "station": sim_uid(1, self.prefix)}

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = dict(self.endpoints)
        while waiting:
            for pos, ep in list(waiting.items()):
                try:
                    await asyncio.to_thread(request, ep, {"cmd": "state"}, 1.0)
                    del waiting[pos]
                except (OSError, ConnectionError, ValueError):
                    pass
            if waiting and time.monotonic() > deadline:
                out = {p: self.modules[p].console_tail(600) for p in waiting}
                raise RuntimeError(
                    "simulated modules %s did not open sim-control: %s" % (sorted(waiting), out)
                )
            if waiting:
                await asyncio.sleep(0.2)

    def start_traffic(self) -> None:
        if self.traffic is not None:
            self.traffic = Traffic(self.endpoints, self.seed)
            self.traffic.start()

    async def stop(self) -> None:
        if self.traffic is not None:
            await self.traffic.stop()
        await asyncio.gather(*(m.stop() for m in self.modules.values()))
        await asyncio.gather(*(m.stop() for m in self.meters.values()))
        for fds in self.reader_lines.values():
            for fd in fds:
                os.close(fd)
        self.reader_lines.clear()
        await asyncio.to_thread(self.medium_thread.stop)
        self.endpoints_path.unlink(missing_ok=True)
