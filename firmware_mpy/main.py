"""The IO-module program: board data -> HAL -> ChargePoint, then the fixed control tick forever.

Options (docs/point-api.md): --board FILE, --sim-control PORT, --time real|sim, --tick-ms N, --meter-line FD
(the simulated board reads its meter over Modbus RTU on that inherited pty end), --rfid-line M:S (both
ends of the pty pair its simulated RFID reader and the driver talk over), and the bus options of
backplane.module (--bus HOST:PORT). Environment: CHARGEPARK_BOARD, CHARGEPARK_SIM_CONTROL,
CHARGEPARK_TIME, CHARGEPARK_TICK_MS. Runs on the unix micropython binary (simulated board), on the MCU
boards, and on CPython.
"""

import json
import os
import sys
import time

try:
    from time import ticks_diff, ticks_ms
except ImportError:  # CPython

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


NV_FILE = "nvstate.json"  # in the flash root: what must outlive a restart (iomodule/nvstate.py)
_OPTIONS = ("--board", "--sim-control", "--time", "--tick-ms", "--bus", "--meter-line", "--rfid-line")


def options(argv):
    opts = {}
    getenv = getattr(os, "getenv", None)  # MCU ports have no environment
    for name in _OPTIONS:
        env = getenv("CHARGEPARK_" + name[2:].upper().replace("-", "_")) if getenv else None
        if env:
            opts[name] = env
    i = 0
    while i < len(argv):
        if argv[i] in _OPTIONS and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 1
        i += 1
    return opts


class Clock:
    """Milliseconds since start, monotonic across ticks_ms wrap-around."""

    def __init__(self):
        self.last = ticks_ms()
        self.now = 0

    def read(self):
        t = ticks_ms()
        self.now += ticks_diff(t, self.last)
        self.last = t
        return self.now


def _link(point, board, opts):
    if not (opts.get("--bus") or board.get("bus")):
        return None
    from backplane.module import open_link

    argv = ["--bus", opts["--bus"]] if opts.get("--bus") else []
    return open_link(point, board, argv=argv)


def main(argv):
    opts = options(argv)
    with open(opts.get("--board", "board.json")) as f:
        board = json.load(f)
    tick = int(opts.get("--tick-ms", board.get("tick_ms", 10)))
    sim_time = opts.get("--time", "real") == "sim"
    control = None
    from iomodule.nvstate import NvState

    nv = NvState(NV_FILE)
    if board.get("hal") == "sim":
        from simboard.control import ControlServer
        from simboard.runner import SimBoard

        sim = SimBoard(board, sim_time, nv, opts.get("--rfid-line"))  # MASTER:SLAVE fds, simboard/rfidsim.py
        sim.tick_ms = tick
        if "--meter-line" in opts:  # the simulated park's RTU meter (simboard/meterline.py)
            from simboard.meterline import FdPort

            sim.hal.meter_line(FdPort(int(opts["--meter-line"])))
        point = sim.point
        step = sim.tick
        if "--sim-control" in opts:
            control = ControlServer(int(opts["--sim-control"]), sim.handle)
            with open("simcontrol.port", "w") as f:
                f.write(str(control.port))
            print("SIMCONTROL 127.0.0.1:%d" % control.port)
    else:
        from iomodule.machine_hal import MachineHal
        from iomodule.point import ChargePoint

        sim = None
        point = ChargePoint(board, MachineHal(board), nv)
        step = point.tick
    if sim_time and control is None:
        raise SystemExit("--time sim needs the simulated board and --sim-control (the clock moves by `step`)")
    link = _link(point, board, opts)
    if sim is not None:
        sim.has_bus = link is not None
    clock = Clock()
    due = 0
    while True:
        if sim_time:
            # Simulated time: only `step` moves the clock; serve the channel and the bus meanwhile.
            if link is not None:
                link.service(sim.now_ms)
            control.service(0 if link is not None else 20)
            if link is not None:
                link.wait(5)
            continue
        now = clock.read()
        if link is not None:
            link.service(now)
        if control is not None:
            control.service(0)
        if now - due >= 0:
            step(now)
            due += tick
            if now - due >= 0:  # overrun: skip the missed ticks instead of bursting
                due = now + tick
        rest = due - clock.read()
        if rest > 0:
            if link is not None:
                link.wait(rest)
            else:
                _sleep_ms(rest)


if __name__ == "__main__":
    main(sys.argv)
