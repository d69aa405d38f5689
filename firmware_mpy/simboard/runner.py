"""The simulated board: plant + sim HAL + the real ChargePoint, and the sim-control commands.

`SimBoard.tick(now_ms)` is one control tick of the whole board (plant moves, then the firmware ticks).
With `--time sim` the clock only moves by the `step` command, so tests can assert 100 s and 60 s timings
exactly in a fraction of the time; with real time main.py ticks it from the wall clock.

The sim-control commands are one table (`SIM`), each with its arguments declared as fields: a request is
validated whole before it touches the plant (a non-finite or absurd number is refused, never raised), and
docs/point-api.md and `chargepark sim` take the commands from it.
"""

import chargedefs as d
import chargeschema
from chargehandlers import Table
from chargeschema import ANY, BOOL, ENUM, INT, INTS, STR, Field
from iomodule import meters
from iomodule.point import ChargePoint

from simboard.hal import SimHal
from simboard.meterline import FdPort
from simboard.plant import CABLE_OHM, FAULTS, Plant
from simboard.rfidsim import Loop, SimReader

MAX_STEP_MS = 86400000  # one simulated day per request at most
SIM = Table()
_on = SIM.on


def _ms(name, doc, default=1000):
    return Field(name, INT, default, 0, 600000, unit="ms", doc=doc)


class SimBoard:
    def __init__(self, board, sim_time=False, nv=None, rfid_line=None):
        sim = board.get("sim", {})
        self.plant = Plant(sim)
        self.hal = SimHal(board, self.plant)
        if rfid_line:  # "MASTER:SLAVE": the pty pair the simulated park opened for this point's reader
            device, driver = rfid_line.split(":")
            device, driver = FdPort(int(device)), FdPort(int(driver))
        else:
            device, driver = Loop.pair()
        self.hal.rfid_driver = driver
        self.reader = SimReader(device, self.plant)
        self.point = ChargePoint(board, self.hal, nv)
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
        self.reader.service(point.cfg["rfid_reader_type"], now_ms)
        if self.head_online and not self.has_bus:
            point.head_seen(now_ms)
        point.tick(now_ms)

    def handle(self, req):
        """One sim-control request (a dict with "cmd") -> its reply; ValueError for a refused one."""
        args = {}
        for key in req:
            if key != "cmd":
                args[key] = req[key]
        cmd = req.get("cmd")
        if not isinstance(cmd, str):
            raise ValueError("a request names its cmd")
        reply = SIM.call(self, cmd, args)
        return reply if reply is not None else {"ok": True}

    # --- sim-control commands ------------------------------------------------------------------------
    @_on(
        "plug",
        Field("cable_a", ENUM, 32, choices=tuple(sorted(CABLE_OHM)), unit="A", doc="socket outlet only"),
        Field("ev", BOOL, True, doc="with the vehicle (diode + R2: state B)"),
        doc="cable into the socket (PP resistor) and, with ev, the vehicle",
    )
    def _plug(self, cable_a, ev):
        self.plant.plug(cable_a, ev)

    @_on("unplug", doc="vehicle and cable out")
    def _unplug(self):
        self.plant.unplug()

    @_on("ev_connect", doc="vehicle side only (the cable stays in the socket)")
    def _ev_connect(self):
        self.plant.ev_connected = True

    @_on("ev_disconnect", doc="vehicle side only (the cable stays in the socket)")
    def _ev_disconnect(self):
        self.plant.ev_connected = False
        self.plant.wants_charge = False

    @_on("charge", doc="the vehicle asks to charge (S2 closed: C, or D if it wants ventilation)")
    def _charge(self):
        self.plant.wants_charge = True
        self.plant.paused = False

    @_on("pause", doc="the vehicle opens S2 (SuspendedEV)")
    def _pause(self):
        self.plant.paused = True

    @_on("resume", doc="the vehicle closes S2 again")
    def _resume(self):
        self.plant.paused = False

    @_on(
        "ev",
        Field("phases", ENUM, 3, choices=(1, 3)),
        Field("max_a", INT, 32, 0, 80, unit="A"),
        Field("battery_wh", INT, 50000, 0, 1000000, unit="Wh"),
        Field("soc_wh", INT, 20000, 0, 1000000, unit="Wh"),
        Field("ventilation", BOOL, False, doc="the vehicle asks for ventilation (D)"),
        _ms("reaction_ms", "follows a new duty after this", 2000),
        Field("full_pause", BOOL, False, doc="a full battery opens S2"),
        Field("stubborn", BOOL, False, doc="keeps S2 closed when the PWM stops"),
        _ms("s2_open_ms", "opens S2 this long after the PWM stops"),
        doc="vehicle model parameters (any of them)",
        partial=True,
    )
    def _ev(self, values):
        for key in values:
            if key == "soc_wh":
                self.plant.soc_mwh = values[key] * 1000
            else:
                setattr(self.plant, key, values[key])

    @_on(
        "set",
        Field("temp_c", INT, 25, -50, 200, unit="degC"),
        Field("temp_dc", INT, 250, -500, 2000, unit="0.1 degC"),
        Field("rcm_ma", INT, 0, 0, 1000, unit="mA"),
        Field("rcm_ua", INT, 0, 0, 1000000, unit="uA"),
        Field("di", INTS, [], 0, 1, doc="inputs 1..4"),
        Field("ai_mv", INTS, [], 0, 12000, unit="mV"),
        Field("overdraw_pct", INT, 125, 0, 1000, unit="%"),
        Field("imbalance_a", INT, 0, 0, 80, unit="A"),
        Field("supply_mv", INT, 12000, 0, 20000, unit="mV", doc="the 12 V rail the supply monitor reads"),
        Field("gen_mv", INT, 12000, 0, 20000, unit="mV", doc="the CP generator's plateaus +-gen_mv"),
        Field(
            "building_a",
            INT,
            0,
            0,
            2000,
            unit="A",
            doc="the building's load on each phase, which a higher-level meter on this point's line adds",
        ),
        Field(
            "energy_wh",
            INT,
            12345,
            0,
            2000000000,
            unit="Wh",
            doc="the meter's total (a meter that kept counting while its module restarted)",
        ),
        doc="sensor and plant values (any of them)",
        partial=True,
    )
    def _set(self, values):
        p = self.plant
        for key in values:
            v = values[key]
            if key == "temp_c":
                p.temp_dc = v * 10
            elif key == "rcm_ma":
                p.rcm_ua = v * 1000
            elif key == "di":
                _copy_into(p.di, v)
            elif key == "ai_mv":
                _copy_into(p.ai_mv, v)
            elif key == "energy_wh":
                p.energy_mwh = v * 1000
            else:
                setattr(p, key, v)

    @_on(
        "fault",
        Field("name", ENUM, "", choices=FAULTS),
        Field("on", BOOL, True),
        doc="inject or clear a fault",
    )
    def _fault(self, name, on):
        self.plant.fault(name, on)

    @_on(
        "rfid",
        Field("tag", STR, "", 2, 32, doc="the card's UID, hex, as the reader reads it"),
        _ms("hold_ms", "the card stays in the field this long"),
        doc="a card at the simulated reader: the driver reads it from the reader's bytes (rfid_read)",
    )
    def _rfid(self, tag, hold_ms):
        self.reader.present(_uid(tag), self.now_ms, hold_ms)

    @_on("link", Field("online", BOOL, None), doc="without a bus: whether the simulated head is present")
    def _link(self, online):
        self.head_online = online

    @_on(
        "point",
        Field("name", STR, "", 1, 32, doc="a command of docs/point-api.md"),
        Field("value", ANY, None, doc="the command's value (docs/point-api.md, Commands)"),
        doc="ChargePoint.command(name, value) as if the head sent it",
    )
    def _point(self, name, value):
        self.point.command(name, value)

    @_on(
        "configure",
        Field("config", ANY, {}, doc="module fields"),
        doc="ChargePoint.configure; a refusal answers ok false with errors",
    )
    def _configure(self, config):
        try:
            self.point.configure(config)
        except chargeschema.Invalid as e:
            return {"ok": False, "error": str(e), "errors": e.errors}
        return {"ok": True, "version": self.point.config_version, "checksum": self.point.config_checksum}

    @_on(
        "step",
        Field("ms", INT, -1, 0, MAX_STEP_MS, unit="ms"),
        doc="--time sim only: advance the clock in whole ticks, reply when done",
    )
    def _step(self, ms):
        if not self.sim_time:
            raise ValueError("step needs --time sim")
        end = self.now_ms + ms
        while self.now_ms + self.tick_ms <= end:
            self.tick(self.now_ms + self.tick_ms)

    @_on(
        "state",
        doc="the point's live state with names, the plant's, what its meter should read, and its reader's (rfid)",
    )
    def _state(self):
        reading = [0] * meters.SLOTS
        answers = self.hal.plant_reading(reading)
        return {
            "ok": True,
            "now_ms": self.now_ms,
            "point": self.point_state(),
            "plant": self.plant.snapshot(),
            "meter": {
                "type": self.hal.meter_type,
                "answers": answers,
                "reading": reading,
                "higher": self.hal.higher_type,
                "higher_answers": not self.plant.has("higher_meter_comm"),
                "building_a": self.plant.building_a,
            },
            "rfid": self.reader.snapshot(),
        }

    @_on(
        "events", doc="the point's events (without a bus only: with a bus the link drains them for the head)"
    )
    def _events(self):
        out = []
        while True:
            ev = self.point.pop_event()
            if ev is None:
                break
            out.append([d.EVENTS[ev[0]], ev[1]])
        return {"ok": True, "events": out}

    def point_state(self):
        snap = self.point.snapshot()
        snap["iec_state_name"] = d.IEC_STATES[snap["iec_state"]]
        snap["status_name"] = d.STATUSES[snap["status"]]
        snap["error_names"] = d.error_names(snap["error_bits"])
        snap["lock_state_name"] = d.LOCK_STATES[snap["lock_state"]]
        return snap


def _uid(tag):
    if len(tag) % 2:
        raise ValueError("tag: a UID is whole bytes of hex digits")
    try:
        return bytes(int(tag[i : i + 2], 16) for i in range(0, len(tag), 2))
    except ValueError:
        raise ValueError("tag: a UID is hex digits") from None


def _copy_into(dst, src):
    if len(src) > len(dst):
        raise ValueError("expected a list of at most %d values" % len(dst))
    for i in range(len(src)):
        dst[i] = src[i]
