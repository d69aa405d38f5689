"""One full charging session of a compiled board image with the heap sampled; runs on micropython only.

test_memory_budget.py compiles this file and meter_case.py with mpy-cross and runs
`micropython -X heapsize=N memory_session.mpy CONFIG.json MODE` in a directory holding the sim image's
`firmware.romfs` and `board.json` (MICROPYPATH = that directory, no loose firmware module). This harness
mounts the ROMFS at /rom as a board with a ROMFS partition does: bytecode and constants are used in place
(on a board from flash; here from one bytes object, `rom`, which `base` therefore includes). meter_case
comes from `harness.romfs` at /harness the same way. The board
plays what main.py builds on a real board: the ChargePoint, its bus link (a ModuleLink answering a head
played here, frame by frame), and a Modbus RTU meter driver polling an in-process meter. MODE is `sample`
(collect the heap after every step and print figures) or `run` (only run: the test finds the smallest
heap it passes in). Figures are bytes of live heap relative to `base` (the interpreter, this harness and
the mounted ROMFS before any import):

  rom       the buffers of both ROMFS images: the heap delta of reading them (flash on a board, not heap)
  core      after importing chargecore (the twin here; a board with the C core does not load it)
  firmware  after importing every firmware module a real board imports
  sim       after importing the simulated board (plant model, sim HAL; not on a real board)
  harness   plus the harness's meter, the board data and the configuration it sends
  start     the board built and its link open, before the head configured it
  steady    after 30 s of charging with every protection on
  top       the largest live heap between two steps
  burst     the most a single step allocates, garbage included (the configuration frame)
  base      (absolute) the interpreter, this harness and the ROMFS; pool: (absolute) the whole GC heap
"""

import gc
import json
import sys

import vfs


def _read(path):
    with open(path, "rb") as f:
        return f.read()


gc.collect()
_before = gc.mem_alloc()
_rom = _read("firmware.romfs")
_harness = _read("harness.romfs")
gc.collect()
figures = {"rom": gc.mem_alloc() - _before}
vfs.mount(vfs.VfsRom(_rom), "/rom")
vfs.mount(vfs.VfsRom(_harness), "/harness")
sys.path[:0] = ["/rom", "/harness"]
gc.collect()
BASE = gc.mem_alloc()


def mark(name):
    gc.collect()
    figures[name] = gc.mem_alloc() - BASE


import chargecore  # noqa: E402, F401

mark("core")
import chargedefs as d  # noqa: E402
import chargeschema  # noqa: E402
import pointconfig  # noqa: E402
from backplane import catalog, frame  # noqa: E402
from backplane.module import ModuleLink  # noqa: E402
from iomodule import meters  # noqa: E402
from iomodule.meter import MeterDriver  # noqa: E402
from iomodule.modbus_rtu import RtuMaster  # noqa: E402
from iomodule.point import ChargePoint  # noqa: E402, F401

mark("firmware")
assert pointconfig.__file__.startswith("/rom/"), pointconfig.__file__  # not a loose copy
from simboard.runner import SimBoard  # noqa: E402

mark("sim")
from meter_case import ScriptedMeter  # noqa: E402 - harness: the meter on the other end of the line

POSITION = 2
TICK_MS = 10
POLL_MS = 100  # the head polls each module every 100 ms


class NoLog:
    """Stands for ScriptedMeter's request log, which keeps every request of the session: harness memory
    that grows (a 2 KB list by the end) and no part of the firmware's."""

    def append(self, request):
        pass


class LoopLine:
    """The module's transport: bytes the head queued, and the module's answers collected for the head."""

    def __init__(self):
        self.rx = b""
        self.answers = 0

    def read(self):
        data = self.rx
        self.rx = b""
        return data

    def write(self, data):
        self.answers += 1

    def wait(self, timeout_ms):
        return False


class Session:
    def __init__(self, board, config, sample):
        self.sim = SimBoard(board, True)
        self.sim.has_bus = True
        self.line = LoopLine()
        self.link = ModuleLink(self.sim.point, self.line, {"uid": "mem-1", "position": POSITION}, board)
        port = ScriptedMeter(1, {})
        port.requests = NoLog()
        self.meter = MeterDriver(RtuMaster(port, 9600, 250), meters.MAPS["em24"], 1, 1000, 3)
        self.now = 0
        self.seq = 0
        self.head_online = True
        cfg = chargeschema.validate(pointconfig.MODULE_FIELDS, config)
        self.config_payload = catalog.pack(
            catalog.CONFIG, pointconfig.checksum(cfg), catalog.config_to_wire(cfg)
        )
        self.sample = sample
        self.top = 0
        self.burst = 0

    def request(self, mtype, *fields):
        self.send(mtype, catalog.pack(mtype, *fields))

    def send(self, mtype, payload):
        self.seq += 1
        self.line.rx = frame.encode(POSITION, frame.HEAD, self.seq, mtype, payload)

    def step(self, action=None, *args):
        """One tick, with an optional head request or sim-control command before it."""
        if self.sample:
            gc.collect()
            live = gc.mem_alloc()
            self.top = max(self.top, live - BASE)
            gc.disable()  # the heap at the end of the step less `live`: everything the step allocated
        if action is not None:
            action(*args)
        self.now += TICK_MS
        if self.head_online and self.now % POLL_MS == 0 and not self.line.rx:
            self.request(catalog.POLL, self.link.boot_id, self.link.event_seq)
        self.link.service(self.now)
        self.meter.poll(self.now)
        self.sim.tick(self.now)
        if self.sample:
            self.burst = max(self.burst, gc.mem_alloc() - live)
            gc.enable()

    def run(self, ms):
        for _ in range(ms // TICK_MS):
            self.step()

    def command(self, name, value=None):
        self.step(self.request, catalog.COMMAND, name, value)

    def sim_control(self, **req):
        self.step(self.sim.handle, req)


def session(s):
    s.step(s.request, catalog.IDENTIFY)
    s.step(s.request, catalog.DIAG)
    s.step(s.send, catalog.CONFIG, s.config_payload)
    s.run(1000)
    assert s.sim.point.configured, s.sim.point.snapshot()
    s.command("setpoint_ma", 32000)
    s.sim_control(cmd="plug", cable_a=32)
    s.sim_control(cmd="charge")
    s.run(3000)
    assert s.sim.point.snapshot()["status"] == d.ST_CHARGING, s.sim.point.snapshot()
    s.sim_control(cmd="set", temp_c=50)  # pt1000: derating (40..60 degC)
    s.run(30000)
    mark("steady")
    assert 0 < s.sim.point.snapshot()["set_current_ma"] < 32000, s.sim.point.snapshot()
    s.command("setpoint_ma", 16000)
    s.sim_control(cmd="rfid", tag="04A1B2C3")
    s.sim_control(cmd="set", temp_c=25, di=[1, 0, 0, 1])  # input 1 rising: an Event Action
    s.run(2000)
    s.sim_control(cmd="fault", name="rcm_trip", on=True)  # RCM: stop with state F
    s.run(2000)
    assert s.sim.point.snapshot()["error_bits"] & d.ERR_RCM_TRIP, s.sim.point.snapshot()
    s.sim_control(cmd="fault", name="rcm_trip", on=False)
    s.command("reset_error")
    s.run(5000)
    s.head_online = False  # head silent: fallback current after fallback_time_s
    s.run(3000)
    assert s.sim.point.snapshot()["set_current_ma"] == 6000, s.sim.point.snapshot()
    s.head_online = True
    s.sim_control(cmd="fault", name="weld", on=True)  # contactor monitoring: welded contact
    s.sim_control(cmd="unplug")
    s.run(3000)
    s.sim_control(cmd="fault", name="weld", on=False)
    s.command("reset_error")
    s.command("unlock")
    s.run(3000)
    events = s.sim.handle({"cmd": "events"})
    assert s.line.answers > 300, s.line.answers
    return events


def main():
    with open("board.json") as f:
        board = json.load(f)
    with open(sys.argv[-2]) as f:
        config = json.load(f)
    mark("harness")
    s = Session(board, config, sys.argv[-1] == "sample")
    mark("start")
    session(s)
    figures["top"] = s.top
    figures["burst"] = s.burst
    figures["base"] = BASE
    figures["pool"] = gc.mem_alloc() + gc.mem_free()
    print(json.dumps(figures))


main()
