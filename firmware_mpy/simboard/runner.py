"""The simulated board: plant + sim HAL + the real ChargePoint, and the sim-control commands.

`SimBoard.tick(now_ms)` is one control tick of the whole board (plant moves, then the firmware ticks).
With `--time sim` the clock only moves by the `step` command, so tests can assert 100 s and 60 s timings
exactly in a fraction of the time; with real time main.py ticks it from the wall clock.
"""

import chargedefs as d
import schema
from iomodule.point import ChargePoint

from simboard.hal import SimHal
from simboard.plant import Plant

_EV_KEYS = (
    "phases",
    "max_a",
    "battery_wh",
    "ventilation",
    "reaction_ms",
    "full_pause",
    "stubborn",
    "s2_open_ms",
)
_SET_KEYS = ("temp_dc", "rcm_ua", "overdraw_pct", "imbalance_a", "supply_mv", "gen_mv")


class SimBoard:
    def __init__(self, board, sim_time=False):
        sim = board.get("sim", {})
        self.plant = Plant(sim)
        self.hal = SimHal(board, self.plant)
        self.point = ChargePoint(board, self.hal)
        self.tick_ms = board.get("tick_ms", 10)
        self.travel = sim.get("lock_travel_ms", {})
        self.sim_time = sim_time
        self.now_ms = 0
        self.head_online = True  # without a bus the sim-control channel plays the head
        self.has_bus = False

    def tick(self, now_ms):
        self.now_ms = now_ms
        point = self.point
        socket_type = point.cfg["socket_type"]
        if socket_type != self.hal.lock_type:  # the simulated installer fitted the configured actuator
            self.hal.lock_type = socket_type
            self.plant.lock_travel_ms = self.travel.get(socket_type, self.plant.lock_travel_ms)
        self.plant.advance(now_ms)
        if self.head_online and not self.has_bus:
            point.head_seen(now_ms)
        point.tick(now_ms)

    # --- sim-control ------------------------------------------------------------------------------
    def handle(self, req):
        cmd = req.get("cmd")
        p = self.plant
        if cmd == "plug":
            p.plug(req.get("cable_a", 32), req.get("ev", True))
        elif cmd == "unplug":
            p.unplug()
        elif cmd == "ev_connect":
            p.ev_connected = True
        elif cmd == "ev_disconnect":
            p.ev_connected = False
            p.wants_charge = False
        elif cmd == "charge":
            p.wants_charge = True
            p.paused = False
        elif cmd == "pause":
            p.paused = True
        elif cmd == "resume":
            p.paused = False
        elif cmd == "ev":
            self._set(req, _EV_KEYS)
            if "soc_wh" in req:
                p.soc_mwh = int(req["soc_wh"]) * 1000
        elif cmd == "set":
            self._set(req, _SET_KEYS)
            if "temp_c" in req:
                p.temp_dc = int(req["temp_c"]) * 10
            if "rcm_ma" in req:
                p.rcm_ua = int(req["rcm_ma"]) * 1000
            if "di" in req:
                _copy_into(p.di, req["di"])
            if "ai_mv" in req:
                _copy_into(p.ai_mv, req["ai_mv"])
        elif cmd == "fault":
            p.fault(req["name"], bool(req.get("on", True)))
        elif cmd == "rfid":
            self.point.rfid_read(str(req["tag"]))
        elif cmd == "link":
            self.head_online = bool(req["online"])
        elif cmd == "point":
            value = req.get("value")
            self.point.command(req["name"], tuple(value) if isinstance(value, list) else value)
        elif cmd == "configure":
            try:
                self.point.configure(req["config"])
            except schema.Invalid as e:
                return {"ok": False, "error": str(e), "errors": e.errors}
            return {"ok": True, "version": self.point.config_version, "checksum": self.point.config_checksum}
        elif cmd == "step":
            if not self.sim_time:
                raise ValueError("step needs --time sim")
            ms = int(req["ms"])
            if ms < 0:
                raise ValueError("ms must be >= 0")
            end = self.now_ms + ms
            while self.now_ms + self.tick_ms <= end:
                self.tick(self.now_ms + self.tick_ms)
        elif cmd == "state":
            return {"ok": True, "now_ms": self.now_ms, "point": self.point_state(), "plant": p.snapshot()}
        elif cmd == "events":
            out = []
            while True:
                ev = self.point.pop_event()
                if ev is None:
                    break
                out.append([d.EVENTS[ev[0]], ev[1]])
            return {"ok": True, "events": out}
        else:
            raise ValueError("unknown cmd %s" % cmd)
        return {"ok": True}

    def _set(self, req, keys):
        for k in keys:
            if k in req:
                v = req[k]
                setattr(self.plant, k, v if isinstance(v, bool) else int(v))

    def point_state(self):
        snap = self.point.snapshot()
        snap["iec_state_name"] = d.IEC_STATES[snap["iec_state"]]
        snap["status_name"] = d.STATUSES[snap["status"]]
        snap["error_names"] = d.error_names(snap["error_bits"])
        snap["lock_state_name"] = d.LOCK_STATES[snap["lock_state"]]
        return snap


def _copy_into(dst, src):
    if not isinstance(src, list) or len(src) > len(dst):
        raise ValueError("expected a list of at most %d values" % len(dst))
    for i in range(len(src)):
        dst[i] = int(src[i])
