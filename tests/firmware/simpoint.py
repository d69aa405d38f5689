"""Drive one simulated IO module (firmware main.py on the real micropython binary) over sim-control.

The module runs with `--time sim`: its clock moves only when the test steps it, so timings are exact.
"""

import json
import shutil
import socket
from pathlib import Path

import chargedefs as d

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "firmware_mpy" / "main.py"
TICK_MS = 10

# Every protection the simulated board can exercise (module fields; shared with bench/bench_tick.py).
FULL = json.loads((ROOT / "boards" / "sim" / "config-full.json").read_text())


class SimPoint:
    def __init__(self, micropython, procs, tmp_path, config=None):
        self.flash = tmp_path / "flash"
        self.flash.mkdir()
        shutil.copyfile(ROOT / "boards" / "sim" / "board.json", self.flash / "board.json")
        self.micropython = micropython
        self.procs = procs
        self._start(config)

    def restart(self, config=None):
        """A power cycle of the module: a new process on the same flash (what it persisted stays)."""
        self.sock.close()
        self.proc.kill()
        self.proc.wait()
        self._start(config)

    def _start(self, config):
        self.proc = self.micropython.spawn([str(MAIN), "--sim-control", "0", "--time", "sim"], cwd=self.flash)
        self.procs.append(self.proc)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("SIMCONTROL"):
            raise AssertionError("module did not start: %r %s" % (line, self.proc.stderr.read().decode()))
        host, port = line.split()[1].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.file = self.sock.makefile("rw")
        self.now = 0
        if config is not None:
            self.configure(config)
        self.step(TICK_MS)

    def request(self, cmd, **args):
        self.file.write(json.dumps(dict(args, cmd=cmd)) + "\n")
        self.file.flush()
        return json.loads(self.file.readline())

    def q(self, cmd, **args):
        reply = self.request(cmd, **args)
        assert reply["ok"], (cmd, args, reply)
        return reply

    def configure(self, config):
        return self.q("configure", config=config)

    def step(self, ms):
        self.q("step", ms=ms)
        self.now += ms

    def state(self):
        return self.q("state")["point"]

    def plant(self):
        return self.q("state")["plant"]

    def command(self, name, value=None):
        return self.q("point", name=name, value=value)

    def fault(self, name, on=True):
        return self.q("fault", name=name, on=on)

    def events(self):
        return self.q("events")["events"]

    def until(self, check, limit_ms, what="condition"):
        """Step one tick at a time until check(point state) holds; return the simulated ms it took."""
        waited = 0
        while True:
            st = self.state()
            if check(st):
                return waited
            if waited >= limit_ms:
                raise AssertionError("%s not reached within %d ms: %s" % (what, limit_ms, st))
            self.step(TICK_MS)
            waited += TICK_MS

    def holds(self, check, ms, what="condition"):
        """check(point state) stays true for `ms` of simulated time."""
        for _ in range(ms // TICK_MS):
            st = self.state()
            assert check(st), "%s broke after %d ms: %s" % (what, self.now, st)
            self.step(TICK_MS)

    def charging_session(self, cable_a=32):
        """Plug in, ask to charge, wait until the contactor is closed."""
        self.q("plug", cable_a=cable_a)
        self.q("charge")
        self.until(lambda s: s["contactor"] == 1, 3000, "contactor closed")


def status(s):
    return d.STATUSES[s["status"]]


def iec(s):
    return d.IEC_STATES[s["iec_state"]]


def has_error(s, bit):
    return s["error_bits"] & bit != 0
