"""The charging point controller: one fixed control tick that keeps the point safe on its own.

Per tick: sense (CP window, PP, temperature, meter, RCM, inputs) -> protections (the `chargecore` objects:
classification, diode check, overcurrent, balance, contactor monitoring, RCM, derating, fallback) ->
Event Actions -> set current and CP duty -> contactor and lock -> status and events. Safety decisions
use the core; this module sequences them (docs/point-api.md, timing per IEC 61851-1 Table A.6).

The tick allocates nothing in steady state: buffers are preallocated, values are small ints. The
attributes read by the Event Action conditions are listed in `_CtxDoc`.
"""

import chargecore as core
import chargedefs as d
import pointconfig
import schema

from iomodule.analog import Analog
from iomodule.eventactions import LOCK_DO, SW_BUS, SW_ENABLE, UNLOCK_DO, EventActions
from iomodule.io import AnalogInputs, DigitalInputs, DigitalOutputs
from iomodule.lock import Lock

try:
    from array import array
except ImportError:  # pragma: no cover
    array = None

F_HOLD_MS = 300  # state F after a fault, at least
PWM_STOP_OPEN_MS = 6000  # EVSE stopped the PWM in C: open the contactor after this at the latest
DUTY_CHANGE_MS = 5000  # at most one raise of the duty per 5 s (lowering is immediate)
EVENT_QUEUE = 16
# A conflict of one cycle stays visible this long (a head polls about once a second).
EA_CONFLICT_HOLD_MS = 1000
GEN_MIN_MV = 11400  # CP generator +12 V +-5 % (iec61851.md): its unloaded plateau in state A shows the
GEN_MAX_MV = 12600  # 12 V supply the generator runs from
NO_LIMIT = 1000000

_LETTER = {core.STATE_A: 0, core.STATE_B: 1, core.STATE_C: 2, core.STATE_D: 3}
_E = d.EA_EVENTS.index
EVB_NEW_ERROR = 1 << _E("new_error")
EVB_ERROR_RESOLVED = 1 << _E("error_resolved")
EVB_PLUG_CONNECTED = 1 << _E("plug_connected")
EVB_PLUG_DISCONNECTED = 1 << _E("plug_disconnected")
EVB_EV_CONNECTED = 1 << _E("ev_connected")
EVB_EV_DISCONNECTED = 1 << _E("ev_disconnected")
EVB_RFID_RELEASE = 1 << _E("rfid_release")
EVB_RFID_DENIED = 1 << _E("rfid_denied")
EVB_DERATING_STARTED = 1 << _E("derating_started")
EVB_DERATING_ENDED = 1 << _E("derating_ended")
EVB_CONTACTOR_FAILURE = 1 << _E("contactor_failure")
_TEACH = {
    "in_ok": 1 << _E("teach_in_ok"),
    "out_ok": 1 << _E("teach_out_ok"),
    "in_failed": 1 << _E("teach_in_failed"),
}

# Errors that clear only when the vehicle leaves (state A) or on reset_error.
_LATCH_UNTIL_A = d.ERR_PP | d.ERR_STATUS_D | d.ERR_DIODE | d.ERR_OVERCURRENT
# Errors that stop charging with state F. The configuration error blocks through `configured` instead: an
# unconfigured point stays Unavailable (+12 V, no PWM), its factory-default face.
_STOPS = d.ERRORS_FAULT & ~d.ERR_CONFIG


class _CtxDoc:
    """Condition context (read by eventactions.condition): di_bits, ai_mv, plugged, ev_connected,
    error_bits, cable_ma, iec_letter (0..3 = A..D, -1 otherwise), status, flags, release_now,
    available_now."""


class ChargePoint:
    def __init__(self, board, hal):
        self.board = board
        self.hal = hal
        io = board["io"]
        self.n_in = io["digital_inputs"]
        self.n_out = io["digital_outputs"]
        self.n_ai = io["analog_inputs"]
        self.features = board.get("features", {})
        self.supply_min_mv = board.get("supply", {}).get("min_mv", 0)  # 0: the board does not measure it
        self.analog = Analog(board)
        cp = board["cp"]
        self.cp = core.Cp(cp["adc_zero"], cp["mv_num"], cp["mv_den"], cp["sample_rate_hz"])
        self.cp_buf = array("H", bytes(2 * cp["window"])) if array else [0] * cp["window"]
        self.meter = [0] * 10
        self.inputs = DigitalInputs(self.n_in)
        self.outputs = DigitalOutputs(self.n_out)
        self.ai = AnalogInputs(self.n_ai, self.analog)
        self.ea = EventActions(self.n_out)
        self.rcm = core.Rcm()
        # MicroPython has no starred tuple display: concatenate.
        self.checks = pointconfig.checks_for((self.n_in, self.n_out, self.n_ai)) + (self._actuator_fitted,)  # noqa: RUF005
        self.cfg = None
        self.configured = False
        self.config_version = 0
        self.config_checksum = 0
        self._events = []
        # commands
        self.release_cmd = False
        self.setpoint_ma = NO_LIMIT
        self.enabled = True
        self.available_cmd = True
        self.enforced_unlock = False
        self.reserved = False
        self.backend_online = False
        self._rfid_at = -1  # time of an RFID release waiting for a vehicle
        self._lock_req = 0
        # derived state (also the Event Action condition context)
        self.di_bits = 0
        self.ai_mv = self.ai.mv
        self.plugged = False
        self.ev_connected = False
        self.error_bits = 0
        self.cable_ma = 0
        self.iec_letter = -1
        self.iec_state = d.STATE_A1
        self.status = d.ST_UNAVAILABLE
        self.flags = 0
        self.release_now = False
        self.available_now = True
        # control
        self.duty = core.DUTY_OFF
        self.signalled_ma = 0
        self.contactor_cmd = False
        self._duty_changed_at = -DUTY_CHANGE_MS
        self._f_until = 0
        self._pwm_stop_at = -1
        self._fault_seen = False
        self._latched = 0
        self._rfid_event = 0
        self._session = 0
        self._session_open = False
        self._charged = False
        self._session_start_wh = 0
        self._connected_at = -1
        self._rcm_step = 0  # 0: self-test due, 1: testing, 2: passed for this session
        self._prev_ev_release = False
        self._forced_f = False
        self._charging_ms = 0
        self._last_tick = 0
        self._prev_plugged = False
        self._prev_ev = False
        self._prev_derating = False
        self._prev_ct_fault = 0
        self._prev_status = -1
        self._temp_dc = 0
        self._pp_ohm = 0
        self._meter_ok = False
        self._meter_lost = False
        self._vehicle_f = False
        self._gen_bad = False
        self._ea_conflict_at = -1
        self.lock = None
        self._apply(schema.validate(pointconfig.MODULE_FIELDS, {}, self.checks))
        self.configured = False
        self.config_version = 0
        hal.cp_set(self.duty)
        hal.contactor_set(False)

    # --- configuration -----------------------------------------------------------------------------
    def configure(self, cfg):
        """Validate and apply the module fields; on refusal raise schema.Invalid and keep the old config."""
        try:
            clean = schema.validate(pointconfig.MODULE_FIELDS, cfg, self.checks)
        except schema.Invalid as e:
            self._push(d.EV_CONFIG_REFUSED, str(e))
            raise
        self._apply(clean)
        self.configured = True
        self.config_version += 1

    def _actuator_fitted(self, c):
        """A board check: the socket type names an actuator this board has a drive profile for."""
        if c["connection_type"] == "socket" and self.features.get("lock", False):
            if c["socket_type"] not in self.board.get("lock_profiles", {}):
                return ("socket_type", "this board has no drive profile for %s" % c["socket_type"])
        return None

    def _apply(self, c):
        # Build every new object first: a constructor that refuses leaves the old configuration intact.
        oc_mode = {"off": core.OC_MODE_OFF, "shutdown": core.OC_MODE_SHUTDOWN, "evze": core.OC_MODE_EVZE}
        metered = c["meter_type"] != "none" and self.features.get("meter", False)
        oc = core.Overcurrent(oc_mode[c["overcurrent"]] if metered else core.OC_MODE_OFF)
        aux = {"off": core.AUX_NONE, "no": core.AUX_NO, "nc": core.AUX_NC}[c["contactor_monitoring"]]
        ct = core.Contactor(aux)
        derating = None
        if c["temp_sensor"] == "pt1000":
            derating = core.Derating(
                core.DERATE_LINEAR,
                c["derating_start_temp_c"] * 10,
                c["derating_stop_temp_c"] * 10,
                c["derating_start_current_a"] * 1000,
                c["derating_stop_current_a"] * 1000,
            )
        fb = core.Fallback(c["fallback_time_s"] * 1000, c["fallback_current_a"] * 1000)
        lock = None
        if c["connection_type"] == "socket" and self.features.get("lock", False):
            lock = Lock(self.board["lock_profiles"][c["socket_type"]])
        self.ea.load(c["event_actions"], c["outputs"])
        self.cfg = c
        self.config_checksum = pointconfig.checksum(c)
        self.metered = metered
        self.hal.meter_setup(c["meter_type"] if metered else "none")
        self.oc = oc
        self.ct = ct
        self.derating = derating
        self.fallback = fb
        if lock is not None and self.lock is not None:
            lock.state = self.lock.state
        if self.lock is not None and lock is None:
            self.hal.lock_drive(0)
        self.lock = lock
        self.max_ma = c["max_current_a"] * 1000
        self.min_ma = c["min_current_a"] * 1000
        self.reject = {
            "none": core.REJECT_NONE,
            "reject_13a": core.REJECT_13A,
            "reject_20a_13a": core.REJECT_20A_13A,
        }[c["plug_rejection"]]
        self.socket = c["connection_type"] == "socket"
        self.rcm_on = c["rcm_enabled"] and self.features.get("rcm", False)
        self.permanent = c["release_mode"] == "permanent"
        self.contactor_input = c["contactor_input"]
        self._ea_conflict_at = -1  # new rules: a conflict of the old ones no longer applies

    # --- commands from the head ----------------------------------------------------------------------
    def command(self, name, value=None):
        if name == "release":
            self.release_cmd = _bool(name, value)
        elif name == "setpoint_ma":
            self.setpoint_ma = _int(name, value, 0, 80000)
        elif name == "enable":
            self.enabled = _bool(name, value)
        elif name == "available":
            self.available_cmd = _bool(name, value)
        elif name == "lock":
            self._lock_req = LOCK_DO
        elif name == "unlock":
            self._lock_req = UNLOCK_DO
        elif name == "enforce_unlock":
            self.enforced_unlock = True if value is None else _bool(name, value)
        elif name == "output":
            self._output(value)
        elif name == "reset_error":
            self._latched = 0
            self.ct.reset()
            self.rcm.reset()
            self._rcm_step = 0  # test again before charging
            self.oc.reset()
            self.cp.reset()
            if self.lock is not None:
                self.lock.error = 0
        elif name == "rfid":
            self._rfid(value)
        elif name == "fallback":
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise ValueError("fallback needs (current_ma, time_ms)")
            ma = _int(name, value[0], 0, 80000)
            ms = _int(name, value[1], 0, 65535000)
            self.fallback = core.Fallback(ms, ma)
        elif name == "backend":
            self.backend_online = _bool(name, value)
        elif name == "reserved":
            self.reserved = _bool(name, value)
        elif name == "teach":
            if value not in _TEACH:
                raise ValueError("teach needs one of in_ok, out_ok, in_failed")
            self._rfid_event |= _TEACH[
                value
            ]  # RFID teach-in/out happens on the head; the point's rules react
        else:
            raise ValueError("unknown command %s" % name)

    def _output(self, value):
        if not isinstance(value, (tuple, list)) or len(value) != 3:
            raise ValueError("output needs (index, mode, duty)")
        index, mode, duty = value
        index = _int("output index", index, 1, self.n_out)
        if isinstance(mode, str):
            if mode not in d.OUTPUT_MODES or mode == "bus":
                raise ValueError("unknown output mode %s" % mode)
            mode = d.OUTPUT_MODES.index(mode)
        mode = _int("output mode", mode, 0, d.OUT_PULSE_LOW)
        self.outputs.bus_mode[index - 1] = mode
        self.outputs.bus_duty[index - 1] = _int("output duty", duty, 0, 100)

    def _rfid(self, value):
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValueError("rfid needs (tag, ok)")
        tag, ok = value
        if not isinstance(tag, str):
            raise ValueError("rfid tag must be a string")
        if _bool("rfid ok", ok):
            self.release_cmd = True
            self._rfid_at = self._last_tick
            self._rfid_event |= EVB_RFID_RELEASE
            self.flags &= ~d.FLAG_LAST_RFID_INVALID
        else:
            self._rfid_event |= EVB_RFID_DENIED
            self.flags |= d.FLAG_LAST_RFID_INVALID

    def rfid_read(self, tag):
        """A card at this point's reader: the head checks it and answers with the `rfid` command."""
        self._push(d.EV_RFID_READ, tag)

    def head_seen(self, now_ms):
        self.fallback.kick(now_ms)

    def pop_event(self):
        if self._events:
            return self._events.pop(0)
        return None

    def _push(self, code, arg):
        if len(self._events) >= EVENT_QUEUE:
            self._events.pop(0)
        self._events.append((code, arg))

    # --- the control tick ----------------------------------------------------------------------------
    def tick(self, now_ms):
        hal = self.hal
        dt = now_ms - self._last_tick
        self._last_tick = now_ms
        # sense
        self.inputs.update(hal.di_bits())
        self.di_bits = self.inputs.bits
        self.ai.update(hal)
        n = hal.cp_samples(self.cp_buf)
        pwm_on = 0 < self.duty < 1000
        st = self.cp.update(self.cp_buf, pwm_on) if n else self.cp.state
        letter = _LETTER.get(st, -1)
        if letter >= 0 and self.duty != 0:
            ev = letter > 0
        else:
            ev = self._prev_ev  # F on our side, E or no window yet hide the vehicle: keep what we knew
        self._pp_ohm = self.analog.pp_ohm(hal.pp_raw())
        cap = core.pp_capacity(self._pp_ohm)
        if self.socket and cap == core.PP_NONE and self._forced_f:
            ev = False  # disabled/unavailable hides the CP for long: no cable in the socket = no vehicle
        self.ev_connected = ev
        self.plugged = cap != core.PP_NONE if self.socket else ev
        self.cable_ma = cap if (self.socket and cap > 0) else 0
        got = hal.meter_read(self.meter) if self.metered else True
        self._meter_ok = self.metered and got is True
        self._meter_lost = got is False
        imax = 0
        if self._meter_ok:
            m = self.meter
            imax = m[3] if m[3] > m[4] else m[4]
            imax = imax if imax > m[5] else m[5]
        f = self.flags & ~(d.FLAG_BACKEND_ONLINE | d.FLAG_ENFORCED_UNLOCK | d.FLAG_CONFIGURED)
        if self.backend_online:
            f |= d.FLAG_BACKEND_ONLINE
        if self.enforced_unlock:
            f |= d.FLAG_ENFORCED_UNLOCK
        if self.configured:
            f |= d.FLAG_CONFIGURED
        self.flags = f
        errors = self._protections(now_ms, st, ev, cap, imax)
        events = self._edges(errors, ev)
        # Event Actions (conditions see the previous tick's status: one decision per tick, in order)
        eff = self.ea.run(now_ms, self, events, self.inputs.rising, self.inputs.falling)
        if self.ea.conflict:
            self._ea_conflict_at = now_ms  # reported from the next tick on (errors are sensed first)
        if eff.message_rule >= 0:
            self._push(d.EV_EA_MESSAGE, self.ea.descriptions[eff.message_rule])
        for i in range(self.n_out):
            self.outputs.mode[i] = eff.out_mode[i]
            self.outputs.duty[i] = eff.out_duty[i]
        self.outputs.drive(hal, now_ms)
        lock_req = eff.lock or self._lock_req
        self._lock_req = 0
        # release and availability
        self._release(now_ms, eff, ev)
        avail = self.available_cmd if eff.available == SW_BUS else eff.available == SW_ENABLE
        self.available_now = avail
        target = self._target(now_ms, eff, imax)
        fault = errors & _STOPS != 0
        blocked = fault or not self.enabled or not avail or not self.configured
        self._control(now_ms, st, letter, target, fault, blocked, dt)
        self._lock_tick(now_ms, ev, lock_req)
        self._status(now_ms, letter, st)

    def _protections(self, now_ms, st, ev, cap, imax):
        hal = self.hal
        c = self.cfg
        errors = self._latched
        if not self.configured:
            errors |= d.ERR_CONFIG
        if self._ea_conflict_at >= 0 and now_ms - self._ea_conflict_at < EA_CONFLICT_HOLD_MS:
            errors |= d.ERR_EVENT_ACTIONS
        # 12 V supply: the board's monitor, and the generator's plateau where nothing loads it (+12 V in
        # state A). Elsewhere the plateau is hidden: keep what we knew, as for the vehicle error below.
        if st == core.STATE_A and self.duty == core.DUTY_OFF and self.cp.status == core.WIN_OK:
            self._gen_bad = not GEN_MIN_MV <= self.cp.high_mv <= GEN_MAX_MV
        mv = hal.supply_mv()
        if self._gen_bad or 0 <= mv < self.supply_min_mv:
            errors |= d.ERR_POWER_SUPPLY
        # CP: short to PE (E), pilot fault, diode
        if st == core.STATE_E or st == core.STATE_PILOT_FAULT:
            errors |= d.ERR_CP
        if self.duty != core.DUTY_F:
            # -12 V that we do not drive: the vehicle holds the pilot in F. While we drive F ourselves the
            # vehicle side is hidden: keep what we knew (so disable/unavailable never sets it).
            self._vehicle_f = st == core.STATE_F
        if self._vehicle_f:
            errors |= d.ERR_VEHICLE
        if self.cp.faults & core.CP_FAULT_DIODE:
            self._latched |= d.ERR_DIODE
            errors |= d.ERR_DIODE
        if st == core.STATE_D and c["status_d"] == "reject":
            self._latched |= d.ERR_STATUS_D
            errors |= d.ERR_STATUS_D
        # PP: invalid coding or plug rejection (the cable alone), lost while a vehicle is on
        if self.socket:
            if cap == core.PP_FAULT or (cap == core.PP_NONE and ev and self.duty != core.DUTY_F):
                self._latched |= d.ERR_PP  # (under F the vehicle side is unknown)
                errors |= d.ERR_PP
            elif cap > 0 and not core.pp_accept(cap, self.reject):
                errors |= (
                    d.ERR_REJECT_13A
                    if cap <= 13000 and self.reject == core.REJECT_13A
                    else d.ERR_REJECT_20A_13A
                )
        # contactor monitoring (the aux contact on the configured digital input)
        aux = (self.di_bits >> (self.contactor_input - 1)) & 1
        # The core keeps the coil open for ever once it latched a fault (weld lock-out until reset).
        self.ct.update(now_ms, 1 if self.contactor_cmd else 0, aux)
        if self.ct.fault != core.CT_OK:
            errors |= d.ERR_CONTACTOR
        # DC residual current
        if self.rcm_on:
            ua = hal.rcm_ua()
            if ua < 0:
                ua = self.rcm.trip_ua if hal.rcm_tripped() else 0
            rs = self.rcm.update(now_ms, ua)
            hal.rcm_test(self.rcm.test_pin)
            if rs == core.RCM_TRIPPED or self.rcm.tripped:
                errors |= d.ERR_RCM_TRIP
            if rs == core.RCM_TEST_FAILED or hal.rcm_error():
                errors |= d.ERR_RCM_SENSOR
        # temperature
        self._derate_ma = NO_LIMIT
        self.flags &= ~d.FLAG_DERATING
        if c["temp_sensor"] == "pt1000":
            self._temp_dc = core.pt1000_ddegc(self.analog.temp_mohm(hal.temp_raw()))
            self._derate_ma = self.derating.update(self._temp_dc)
            if self.derating.active:
                self.flags |= d.FLAG_DERATING
                errors |= d.ERR_TEMP_DERATING
            if self._derate_ma == 0:
                errors |= d.ERR_TEMP_HIGH
        elif c["temp_sensor"] == "ptc":
            ohm = self.analog.temp_mohm(hal.temp_raw()) // 1000
            if core.ptc_status(ohm, c["ptc_trip_ohm"]) != core.PTC_OK:
                errors |= d.ERR_TEMP_HIGH
                self._derate_ma = 0
        # meter, lock
        if self._meter_lost:
            errors |= d.ERR_METER_COMM
        if self.lock is not None:
            errors |= self.lock.error
        if self.oc.state == core.OC_ERROR:
            self._latched |= d.ERR_OVERCURRENT
            errors |= d.ERR_OVERCURRENT
        return errors

    def _edges(self, errors, ev):
        """Event bits for the Event Actions, and events for the head."""
        events = self._rfid_event
        self._rfid_event = 0
        new = errors & ~self.error_bits
        gone = self.error_bits & ~errors
        if new & d.ERRORS_FAULT:
            events |= EVB_NEW_ERROR
        if gone & d.ERRORS_FAULT and not errors & d.ERRORS_FAULT:
            events |= EVB_ERROR_RESOLVED
        if new:
            self._push(d.EV_ERROR_NEW, new)
        if gone:
            self._push(d.EV_ERROR_RESOLVED, gone)
        if new & d.ERR_CONTACTOR:
            events |= EVB_CONTACTOR_FAILURE
        self.error_bits = errors
        if self.plugged != self._prev_plugged:
            events |= EVB_PLUG_CONNECTED if self.plugged else EVB_PLUG_DISCONNECTED
            self._prev_plugged = self.plugged
        if ev != self._prev_ev:
            events |= EVB_EV_CONNECTED if ev else EVB_EV_DISCONNECTED
            self._prev_ev = ev
        der = self.flags & d.FLAG_DERATING != 0
        if der != self._prev_derating:
            events |= EVB_DERATING_STARTED if der else EVB_DERATING_ENDED
            self._prev_derating = der
        return events

    def _release(self, now_ms, eff, ev):
        if ev and not self._prev_ev_release:
            self._rfid_at = -1  # the vehicle arrived: an RFID release is no longer waiting
        self._prev_ev_release = ev
        if self._rfid_at >= 0 and not ev and now_ms - self._rfid_at >= self.cfg["rfid_timeout_s"] * 1000:
            self._rfid_at = -1
            self.release_cmd = False
        bus = self.permanent or self.release_cmd
        self.release_now = self.configured and (bus if eff.release == SW_BUS else eff.release == SW_ENABLE)
        self.flags = (
            (self.flags | d.FLAG_AUTH_ONGOING) if self._rfid_at >= 0 else (self.flags & ~d.FLAG_AUTH_ONGOING)
        )

    def _target(self, now_ms, eff, imax):
        """The set current: min of every limit; the overcurrent core may stop it."""
        sp = self.fallback.update(now_ms, self.setpoint_ma)
        t = self.max_ma
        ext = False
        if sp < t:
            t = sp
            ext = True
        if eff.reduce_ma and eff.reduce_ma < t:
            t = eff.reduce_ma
            ext = True
        if self.cable_ma and self.cable_ma < t:
            t = self.cable_ma
        if self._derate_ma < t:
            t = self._derate_ma
        if self.cfg["out_of_balance"] and self._meter_ok and self.contactor_cmd:
            m = self.meter
            b = core.balance_limit(t, m[3], m[4], m[5])
            if b < t:
                t = b
        t = self.oc.update(now_ms, t, imax if self.contactor_cmd else 0)
        f = self.flags & ~(
            d.FLAG_REDUCED_EXT | d.FLAG_FALLBACK | d.FLAG_OVERCURRENT_WAIT | d.FLAG_HEAD_ONLINE
        )
        if ext:
            f |= d.FLAG_REDUCED_EXT
        if self.fallback.active:
            f |= d.FLAG_FALLBACK
        else:
            f |= d.FLAG_HEAD_ONLINE
        if self.oc.state == core.OC_PAUSED:
            f |= d.FLAG_OVERCURRENT_WAIT
        self.flags = f
        return t

    def _control(self, now_ms, st, letter, target, fault, blocked, dt):
        hal = self.hal
        if fault and not self._fault_seen:
            self._f_until = now_ms + F_HOLD_MS
        self._fault_seen = fault
        occupied = letter > 0
        locked_ok = self.lock is None or self.lock.state == d.LOCK_LOCKED
        if self.rcm_on:
            if letter == 0:
                self._rcm_step = 0  # the next session tests again
            elif occupied and self._rcm_step == 0 and not fault:
                self.rcm.start_test(now_ms)  # self-test before each session
                self._rcm_step = 1
            elif self._rcm_step == 1 and self.rcm.status != core.RCM_TESTING and self.rcm.test_ok:
                self._rcm_step = 2
        rcm_ready = not self.rcm_on or self._rcm_step == 2
        offer = (
            not blocked
            and occupied
            and self.release_now
            and not self.enforced_unlock
            and rcm_ready
            and target >= self.min_ma
            and (
                self.lock is None
                or self.lock.state == d.LOCK_LOCKED
                or self.cfg["locking_mode"] == "connected"
            )
        )
        # duty: lowering at once, raising at most once per DUTY_CHANGE_MS
        want_ma = target if offer else 0
        if want_ma != self.signalled_ma:
            if (
                want_ma < self.signalled_ma
                or self.signalled_ma == 0
                or now_ms - self._duty_changed_at >= DUTY_CHANGE_MS
            ):
                self.signalled_ma = want_ma
                self._duty_changed_at = now_ms
        self._forced_f = not self.enabled or (not self.available_now and self.configured)
        if (fault and now_ms - self._f_until < 0) or self._forced_f:
            duty = core.DUTY_F
        elif self.signalled_ma:
            duty = core.duty_from_current(self.signalled_ma)
        else:
            duty = core.DUTY_OFF
        if duty != self.duty:
            self.duty = duty
            hal.cp_set(duty)
        # contactor: close in C/D once the diode check passed and the socket is locked
        charging_state = st == core.STATE_C or (st == core.STATE_D and self.cfg["status_d"] == "accept")
        close = (
            charging_state
            and 0 < duty < 1000
            and self.cp.diode_ok
            and locked_ok
            and not fault
            and not blocked
        )
        if (
            not close
            and self.contactor_cmd
            and charging_state
            and not fault
            and not blocked
            and duty == core.DUTY_OFF
        ):
            # PWM stopped while the vehicle is still in C: give it time to open S2, 6 s at the most
            if self._pwm_stop_at < 0:
                self._pwm_stop_at = now_ms
            if now_ms - self._pwm_stop_at < PWM_STOP_OPEN_MS:
                close = True
        else:
            self._pwm_stop_at = -1
        if close != self.contactor_cmd:
            self.contactor_cmd = close
        drive = close and self.ct.fault == core.CT_OK
        hal.contactor_set(drive)
        if drive and not self._charged:
            self._charged = True
            if not self._session_open:
                self._session_open = True
                self._session += 1
                self._session_start_wh = self.meter[7] if self._meter_ok else 0
                self._push(d.EV_SESSION_START, self._session)
        if drive:
            self._charging_ms += dt
        self.flags = (self.flags | d.FLAG_PWM_ON) if 0 < duty < 1000 else (self.flags & ~d.FLAG_PWM_ON)
        if st == core.STATE_D:
            self.flags |= d.FLAG_VENTILATION
        else:
            self.flags &= ~d.FLAG_VENTILATION
        if not self.ev_connected:
            self._end_session(now_ms)
        elif self._connected_at < 0:
            self._connected_at = now_ms

    def _end_session(self, now_ms):
        """Called every tick without a vehicle; the session work happens once, when it leaves."""
        if self._connected_at >= 0 or self._session_open:
            self.oc.reset()  # a first overcurrent trip does not count against the next vehicle
            if self._session_open:
                wh = (self.meter[7] - self._session_start_wh) if self._meter_ok else 0
                self._push(d.EV_SESSION_STOP, wh)
                self._session_open = False
            mode = self.cfg["release_mode"]
            if (mode == "dashboard" or mode == "whitelist" or mode == "ocpp") and self._rfid_at < 0:
                self.release_cmd = False  # these releases are per session
        self._charged = False
        self._charging_ms = 0
        self._connected_at = -1
        if self._latched & _LATCH_UNTIL_A:
            self._latched &= ~_LATCH_UNTIL_A
            self.oc.reset()

    def _lock_tick(self, now_ms, ev, req):
        lock = self.lock
        if lock is None:
            return
        hal = self.hal
        lock.tick(now_ms, hal, self.analog.adc_mv(hal.lock_feedback_raw()))
        if self.enforced_unlock:
            lock.unlock(now_ms, hal)
            if not self.plugged:
                self.enforced_unlock = False  # held until the plug was removed
        elif req == LOCK_DO:
            lock.lock(now_ms, hal)
        elif req == UNLOCK_DO:
            if not self.contactor_cmd:
                lock.unlock(now_ms, hal)
        elif self.cfg["locking_mode"] == "connected" and not lock.busy() and lock.state != d.LOCK_ERROR:
            # Disabled / unavailable: the session is aborted, the driver must be able to take the cable.
            want_locked = ev and self.plugged and not self._forced_f
            if want_locked and lock.state != d.LOCK_LOCKED:
                lock.lock(now_ms, hal)
            elif not want_locked and lock.state != d.LOCK_UNLOCKED:
                lock.unlock(now_ms, hal)
        if lock.state == d.LOCK_ERROR and not ev and not self.plugged and lock.error == d.ERR_LOCK:
            lock.error = 0  # a failed lock with nothing plugged in: retry on the next plug-in
            lock.state = d.LOCK_UNKNOWN

    def _status(self, now_ms, letter, st):
        if not self.enabled or self.error_bits & _STOPS:
            s = d.ST_FAULTED
        elif not self.configured or not self.available_now:
            s = d.ST_UNAVAILABLE
        elif letter <= 0 and not (self.socket and self.plugged):
            s = d.ST_RESERVED if self.reserved else d.ST_AVAILABLE
        elif self.contactor_cmd and (st == core.STATE_C or st == core.STATE_D):
            s = d.ST_CHARGING
        elif self.enforced_unlock or (self._charged and not self.release_now):
            s = d.ST_FINISHING
        elif 0 < self.duty < 1000:
            s = d.ST_SUSPENDED_EV if self._charged else d.ST_PREPARING
        else:
            s = d.ST_SUSPENDED_EVSE
        self.status = s
        if s != self._prev_status:
            self._prev_status = s
            self._push(d.EV_STATUS, s)
        self.iec_letter = letter
        if self.duty == 0:
            self.iec_state = d.STATE_F
        elif st == core.STATE_E or st == core.STATE_PILOT_FAULT:
            self.iec_state = d.STATE_E
        elif st == core.STATE_F:
            self.iec_state = d.STATE_F  # the vehicle holds the pilot at -12 V
        elif letter < 0:
            self.iec_state = d.STATE_A1
        else:
            self.iec_state = letter * 2 + (1 if 0 < self.duty < 1000 else 0)

    # --- live state ----------------------------------------------------------------------------------
    def state_into(self, buf):
        m = self.meter
        ok = self._meter_ok
        buf[0] = self.iec_state
        buf[1] = self.status
        buf[2] = self.error_bits
        buf[3] = self.signalled_ma if 0 < self.duty < 1000 else 0
        buf[4] = self.duty
        buf[5] = self.cable_ma
        buf[6] = 1 if self.release_now else 0
        buf[7] = 1 if self.available_now else 0
        buf[8] = 1 if self.enabled else 0
        buf[9] = self.lock.state if self.lock is not None else d.LOCK_UNLOCKED
        buf[10] = 1 if self.contactor_cmd else 0
        for i in range(7):
            buf[11 + i] = m[i] if ok else 0
        buf[18] = m[7] if ok else 0
        buf[19] = (m[7] - self._session_start_wh) if (ok and self._session_open) else 0
        buf[20] = m[8] if ok else 0
        buf[21] = m[9] if ok else 0
        buf[22] = self._temp_dc if self.cfg["temp_sensor"] == "pt1000" else 0
        ua = self.hal.rcm_ua() if self.rcm_on else 0
        buf[23] = ua if ua > 0 else 0
        buf[24] = (self._last_tick - self._connected_at) // 1000 if self._connected_at >= 0 else 0
        buf[25] = self._charging_ms // 1000
        buf[26] = self.di_bits
        buf[27] = self.outputs.packed_modes()
        buf[28] = self.ai_mv[0] if self.n_ai > 0 else 0
        buf[29] = self.ai_mv[1] if self.n_ai > 1 else 0
        buf[30] = self.flags
        buf[31] = self.config_version
        buf[32] = self.config_checksum

    def snapshot(self):
        buf = [0] * len(d.LIVE_FIELDS)
        self.state_into(buf)
        out = {}
        for i in range(len(d.LIVE_FIELDS)):
            out[d.LIVE_FIELDS[i][0]] = buf[i]
        return out


def _bool(name, value):
    if value is True or value is False:
        return value
    if value == 0 or value == 1:
        return value == 1
    raise ValueError("%s needs true or false" % name)


def _int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("%s needs an integer" % name)
    if value < lo or value > hi:
        raise ValueError("%s must be within %d..%d" % (name, lo, hi))
    return value
