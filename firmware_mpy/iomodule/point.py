"""The charging point controller: one fixed control tick that keeps the point safe on its own.

Per tick: sense (CP window, PP, temperature, meter, RCM, inputs) -> protections (the `chargecore`
monitors) -> Event Actions -> release and set current -> CP duty and contactor -> session -> lock ->
status. Safety decisions use the core; this module sequences them (docs/point-api.md, timing per
IEC 61851-1 Table A.6). Its parts: `protections` (errors and latches), `commands` (the command table),
`session` (the one session authority), `locking` (when the lock may move), `status` (status, IEC state,
edges), `live` (the exported state), `pointmaps` (configuration names -> core constants).

The tick allocates nothing in steady state: buffers are preallocated, values are small ints. The
attributes read by the Event Action conditions are listed in `_CtxDoc`.
"""

import chargecore as core
import chargedefs as d
import chargeschema
import pointconfig

from iomodule import live, pointmaps, status
from iomodule.analog import Analog
from iomodule.commands import COMMANDS
from iomodule.eventactions import SW_BUS, SW_ENABLE, EventActions
from iomodule.io import AnalogInputs, DigitalInputs, DigitalOutputs
from iomodule.lock import profile as lock_profile
from iomodule.locking import Locking
from iomodule.meters import I1, I2, I3, SLOTS
from iomodule.nvstate import NvState
from iomodule.phases import PhaseSwitch
from iomodule.protections import NO_LIMIT, Protections
from iomodule.rfid import station as rfid_station
from iomodule.session import Session

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
# "Authorization Request ongoing" lasts from a card read here until the head's decision, at most this long:
# a head that is gone or never answers must not leave it set (OCPP's Authorize waits 10 s for its backend).
AUTH_WAIT_MS = 15000
_PER_SESSION_RELEASE = ("dashboard", "whitelist", "ocpp")


class _CtxDoc:
    """Condition context (read by eventactions.condition): di_bits, ai_mv, plugged, ev_connected,
    error_bits, cable_ma, iec_letter (0..3 = A..D, -1 otherwise), status, flags, release_now,
    available_now."""


class ChargePoint:
    def __init__(self, board, hal, nv=None):
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
        self.meter = [0] * SLOTS
        self.inputs = DigitalInputs(self.n_in)
        self.outputs = DigitalOutputs(self.n_out)
        self.ai = AnalogInputs(self.n_ai, self.analog)
        self.ea = EventActions(self.n_out)
        self.protections = Protections(nv if nv is not None else NvState())
        self.session = Session()
        self.meter_tx = False  # the meter's transaction of this session runs
        self.clock_utc = -1  # the head's wall clock (command clock): UTC seconds at module time clock_at
        self.clock_at = 0
        self.clock_tz = 0  # local time is this many minutes ahead of UTC
        self.locking = Locking()
        self.phase_switch = PhaseSwitch()
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
        self.reserved = False
        self.teach_waiting = (
            False  # the head's teach-in/out waits for a card at this reader (the board shows it)
        )
        self.backend_online = False
        self.fallback_override = None  # (time_ms, current_ma) from the `fallback` command
        self._fallback_pair = None
        self.rfid_at = -1  # time of an RFID release waiting for a vehicle
        self.asking_at = -1  # time a card read here went to the head, until its decision (-1: none pending)
        self.rfid_event = 0
        self.lock_req = 0
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
        self.forced_f = False
        self.meter_ok = False
        self.meter_lost = False
        # control
        self.duty = core.DUTY_OFF
        self.signalled_ma = 0
        self.limit = d.LIMIT_MAX  # chargedefs.LIMITS: what binds the signalled current
        self.contactor_cmd = False
        self._duty_changed_at = -DUTY_CHANGE_MS
        self._f_until = 0
        self._pwm_stop_at = -1
        self._fault_seen = False
        self._prev_ev_release = False
        self.last_tick = 0
        self.prev_plugged = False
        self.prev_ev = False
        self.prev_derating = False
        self.prev_status = -1
        self._ea_conflict_at = -1
        self.rcm_on = False
        self.card_reader = None  # iomodule.rfid.station.CardReader where the board has a reader line
        clean = chargeschema.validate(pointconfig.MODULE_FIELDS, {}, self.checks)
        self._apply(clean, pointconfig.checksum(clean))
        self.configured = False
        self.config_version = 0
        hal.cp_set(self.duty)
        hal.contactor_set(False)

    # --- configuration -----------------------------------------------------------------------------
    def configure(self, cfg, expected=None):
        """Validate and apply the module fields; on refusal raise Invalid and keep the old config.

        `expected`: the checksum the head sent (the bus link); a record that does not match it raises
        ValueError before anything applies. The checksum is computed once, on the validated record."""
        try:
            clean = chargeschema.validate(pointconfig.MODULE_FIELDS, cfg, self.checks)
        except chargeschema.Invalid as e:
            self.push(d.EV_CONFIG_REFUSED, str(e))
            raise
        checksum = pointconfig.checksum(clean)
        if expected is not None and checksum != expected:
            raise ValueError("config checksum mismatch")
        self._apply(clean, checksum)
        self.configured = True
        self.config_version += 1

    def unconfigure(self):
        """The configuration was deleted: the factory face (Unavailable, no PWM); latches stay."""
        clean = chargeschema.validate(pointconfig.MODULE_FIELDS, {}, self.checks)
        self._apply(clean, pointconfig.checksum(clean))
        self.configured = False
        self.config_version += 1

    def _actuator_fitted(self, c):
        """A board check: the socket type names an actuator this board has a drive profile for."""
        if c["connection_type"] == "socket" and self.features.get("lock", False):
            if c["socket_type"] not in self.board.get("lock_feedback", {}):
                return ("socket_type", "this board has no lock feedback windows for %s" % c["socket_type"])
        return None

    def _apply(self, c, checksum):
        # Build every new object first: a constructor that refuses leaves the old configuration intact.
        metered = c["meter_type"] != "none" and self.features.get("meter", False)
        built = self.protections.build(c, metered)
        profile = None
        if c["connection_type"] == "socket" and self.features.get("lock", False):
            profile = lock_profile(self.board, c["socket_type"])
        self.ea.load(c["event_actions"], c["outputs"])
        rcm_was_on = self.rcm_on
        if self.cfg is not None and self.cfg["load_managed"] and not c["load_managed"]:
            # out of its load circuit: the manager's last set-point no longer binds
            self.setpoint_ma = NO_LIMIT
        self.cfg = c
        self.config_checksum = checksum
        self.metered = metered
        self.hal.meter_setup(c["meter_type"] if metered else "none")
        self.hal.higher_setup(c["meter_type"] if metered and c["higher_meter"] else "none")
        self.card_reader = rfid_station.fit(self.card_reader, self.hal, c)
        self.rcm_on = c["rcm_enabled"] and self.features.get("rcm", False)
        self.protections.apply(built, rcm_was_on, self.rcm_on, self.push)
        self.fit_fallback()
        self.locking.fit(profile, c["socket_type"], self.hal)
        self.max_ma = c["max_current_a"] * 1000
        self.min_ma = c["min_current_a"] * 1000
        self.reject = pointmaps.PLUG_REJECTION[c["plug_rejection"]]
        self.socket = c["connection_type"] == "socket"
        self.permanent = c["release_mode"] == "permanent"
        self.contactor_input = c["contactor_input"]
        self.phase_switch.fit(c, self.n_out)
        self._ea_conflict_at = -1  # new rules: a conflict of the old ones no longer applies

    def fit_fallback(self):
        """The fallback monitor for the configured pair or the `fallback` command's; kept while unchanged."""
        pair = self.fallback_override or (
            self.cfg["fallback_time_s"] * 1000,
            self.cfg["fallback_current_a"] * 1000,
        )
        if pair != self._fallback_pair:
            self._fallback_pair = pair
            self.fallback = core.Fallback(pair[0], pair[1])

    # --- commands from the head ----------------------------------------------------------------------
    def command(self, name, value=None):
        """Run a command of iomodule.commands.COMMANDS; ValueError names what is wrong."""
        COMMANDS.call(self, name, value)

    def rfid_verdict(self, ok):
        self.asking_at = -1
        if ok:
            self.release_cmd = True
            # the RFID timeout waits for a vehicle: one already connected takes the release up at once
            self.rfid_at = -1 if self.ev_connected else self.last_tick
            self.rfid_event |= status.EVB_RFID_RELEASE
            self.flags &= ~d.FLAG_LAST_RFID_INVALID
        else:
            self.rfid_event |= status.EVB_RFID_DENIED
            self.flags |= d.FLAG_LAST_RFID_INVALID
        if self.card_reader is not None:
            self.card_reader.verdict(ok, self.last_tick)  # the board shows accepted / not accepted

    def rfid_decided(self, shown):
        """The head decided on the card read here without an `rfid` verdict for this point (it released
        another point of this reader, or only recorded the card); `shown`: accepted, denied or none."""
        self.asking_at = -1
        if self.card_reader is not None and shown != "none":
            self.card_reader.verdict(shown == "accepted", self.last_tick)

    def teach(self, result):
        self.asking_at = -1  # the card went to the teach-in/out
        self.rfid_event |= status.EVB_TEACH[result]  # teach-in/out happens on the head; the rules react

    def rfid_read(self, tag):
        """A card at this point's reader: the head decides and answers (`rfid`, `rfid_decided`, `teach`, or
        for OCPP `release`); until then, at most AUTH_WAIT_MS, Authorization Request ongoing."""
        self.push(d.EV_RFID_READ, tag)
        self.asking_at = self.last_tick

    def head_seen(self, now_ms):
        self.fallback.kick(now_ms)

    def pop_event(self):
        if self._events:
            return self._events.pop(0)
        return None

    def push(self, code, arg):
        if len(self._events) >= EVENT_QUEUE:
            self._events.pop(0)
        self._events.append((code, arg))

    # --- session edges (iomodule.session calls these) ------------------------------------------------
    def set_clock(self, utc_s, tz_min):
        self.clock_utc = utc_s
        self.clock_at = self.last_tick
        self.clock_tz = tz_min

    def session_began(self):
        if self.metered:
            if self.clock_utc >= 0:  # a signing meter's clock is set from it before its transaction
                self.hal.meter_clock(self.clock_utc, self.clock_tz, self.clock_at)
            self.hal.meter_transaction(True, self.session.count)
            self.meter_tx = True

    def end_meter_transaction(self):
        """A signing meter's transaction ends with the session, or before it when the release is taken back
        (a remote or local stop): the record then covers what the transaction charged, and comes now."""
        if self.meter_tx:
            self.meter_tx = False
            self.hal.meter_transaction(False, self.session.count)

    def session_ended(self, reason):
        self.end_meter_transaction()
        if reason != d.STOP_EV_DISCONNECTED:
            self.release_cmd = False  # aborted: the next session needs a new release
            self.rfid_at = -1
        elif self.cfg["release_mode"] in _PER_SESSION_RELEASE and self.rfid_at < 0:
            self.release_cmd = False  # these releases are per session

    def vehicle_left(self):
        self.protections.vehicle_left()

    # --- the control tick ----------------------------------------------------------------------------
    def tick(self, now_ms):
        hal = self.hal
        dt = now_ms - self.last_tick
        self.last_tick = now_ms
        # sense
        self.inputs.update(hal.di_bits())
        self.di_bits = self.inputs.bits
        self.ai.update(hal)
        n = hal.cp_samples(self.cp_buf)
        pwm_on = 0 < self.duty < 1000
        st = self.cp.update(self.cp_buf, pwm_on) if n else self.cp.state
        letter = pointmaps.LETTER.get(st, -1)
        if letter >= 0 and self.duty != 0:
            ev = letter > 0
        else:
            ev = self.prev_ev  # F on our side, E or no window yet hide the vehicle: keep what we knew
        cap = core.pp_capacity(self.analog.pp_ohm(hal.pp_raw()))
        if self.socket and cap == core.PP_NONE and self.forced_f:
            ev = False  # disabled/unavailable hides the CP for long: no cable in the socket = no vehicle
        self.ev_connected = ev
        self.plugged = cap != core.PP_NONE if self.socket else ev
        self.cable_ma = cap if (self.socket and cap > 0) else 0
        got = hal.meter_read(self.meter) if self.metered else True
        self.meter_ok = self.metered and got is True
        self.meter_lost = got is False
        if self.metered:
            ident = hal.meter_ident()
            if ident is not None:  # once the meter was identified: allocates then only
                self.push(d.EV_METER_IDENT, [ident[0], ident[1]])
            key = hal.meter_key()
            if key is not None:  # a signing meter's, once read
                self.push(d.EV_METER_KEY, key)
            signed = hal.meter_signed()
            if signed is not None:  # a signing meter's record, once a session
                self.push(d.EV_METER_SIGNED, signed)
        imax = 0
        if self.meter_ok:
            m = self.meter
            imax = m[I1] if m[I1] > m[I2] else m[I2]
            imax = imax if imax > m[I3] else m[I3]
        reader = self.card_reader
        if reader is not None:
            reader.tick(self, now_ms)
        f = self.flags & ~(d.FLAG_BACKEND_ONLINE | d.FLAG_ENFORCED_UNLOCK | d.FLAG_CONFIGURED)
        if self.backend_online:
            f |= d.FLAG_BACKEND_ONLINE
        if self.locking.enforced:
            f |= d.FLAG_ENFORCED_UNLOCK
        if self.configured:
            f |= d.FLAG_CONFIGURED
        self.flags = f
        errors = self.protections.errors(self, now_ms, st, ev, cap)
        if not self.configured:
            errors |= d.ERR_CONFIG
        if reader is not None and reader.error:
            errors |= d.ERR_RFID_READER
        if self._ea_conflict_at >= 0 and now_ms - self._ea_conflict_at < EA_CONFLICT_HOLD_MS:
            errors |= d.ERR_EVENT_ACTIONS
        events = status.edges(self, errors, ev)
        # Event Actions (conditions see the previous tick's status: one decision per tick, in order)
        eff = self.ea.run(now_ms, self, events, self.inputs.rising, self.inputs.falling)
        if self.ea.conflict:
            self._ea_conflict_at = now_ms  # reported from the next tick on (errors are sensed first)
        if eff.message_rule >= 0:
            self.push(d.EV_EA_MESSAGE, self.ea.descriptions[eff.message_rule])
        for i in range(self.n_out):
            self.outputs.mode[i] = eff.out_mode[i]
            self.outputs.duty[i] = eff.out_duty[i]
        ph = self.phase_switch
        ph.tick(self, now_ms, ev)  # holds its output over the Event Actions' and the bus's
        self.flags = (self.flags & ~(d.FLAG_ONE_PHASE | d.FLAG_PHASE_SWITCHING)) | ph.flags()
        self.outputs.drive(hal, now_ms)
        lock_req = eff.lock or self.lock_req
        self.lock_req = 0
        # release and availability
        self._release(now_ms, eff, ev)
        avail = self.available_cmd if eff.available == SW_BUS else eff.available == SW_ENABLE
        self.available_now = avail
        target = self._target(now_ms, eff, imax)
        fault = errors & status.STOPS != 0
        blocked = fault or not self.enabled or not avail or not self.configured
        self._control(now_ms, st, letter, target, fault, blocked)
        self.session.tick(self, now_ms, ev, dt)
        self.locking.tick(self, now_ms, ev, lock_req)
        status.update(self, letter, st)

    def _release(self, now_ms, eff, ev):
        if ev and not self._prev_ev_release:
            self.rfid_at = -1  # the vehicle arrived: an RFID release is no longer waiting
        self._prev_ev_release = ev
        if self.rfid_at >= 0 and not ev and now_ms - self.rfid_at >= self.cfg["rfid_timeout_s"] * 1000:
            self.rfid_at = -1
            self.release_cmd = False
        bus = self.permanent or self.release_cmd
        self.release_now = self.configured and (bus if eff.release == SW_BUS else eff.release == SW_ENABLE)
        if self.asking_at >= 0 and now_ms - self.asking_at >= AUTH_WAIT_MS:
            self.asking_at = -1  # no decision came: the head is gone or ignored the card
        self.flags = (
            (self.flags | d.FLAG_AUTH_ONGOING) if self.asking_at >= 0 else (self.flags & ~d.FLAG_AUTH_ONGOING)
        )

    def _target(self, now_ms, eff, imax):
        """The set current: min of every limit; the overcurrent core may stop it."""
        sp = self.setpoint_ma
        waiting = sp == NO_LIMIT and self.cfg["load_managed"]
        if waiting:  # the load manager keeps room for the fallback current of a point it has not set yet
            sp = self._fallback_pair[1]
        sp = self.fallback.update(now_ms, sp)
        t = self.max_ma
        why = d.LIMIT_MAX
        ext = False
        if sp < t:
            t = sp
            ext = True
            if self.fallback.active:
                why = d.LIMIT_FALLBACK
            else:
                why = d.LIMIT_AWAITING if waiting else d.LIMIT_SETPOINT
        if eff.reduce_ma and eff.reduce_ma < t:
            t = eff.reduce_ma
            ext = True
            why = d.LIMIT_EVENT_ACTION
        if self.cable_ma and self.cable_ma < t:
            t = self.cable_ma
            why = d.LIMIT_CABLE
        prot = self.protections
        if prot.derate_ma < t:
            t = prot.derate_ma
            why = d.LIMIT_DERATING
        if self.cfg["out_of_balance"] and self.meter_ok and self.contactor_cmd:
            m = self.meter
            b = core.balance_limit(t, m[I1], m[I2], m[I3])
            if b < t:
                t = b
                why = d.LIMIT_BALANCE
        oc = prot.oc
        t = oc.update(now_ms, t, imax if self.contactor_cmd else 0)
        self.limit = d.LIMIT_OVERCURRENT if oc.state == core.OC_PAUSED else why
        f = self.flags & ~(
            d.FLAG_REDUCED_EXT
            | d.FLAG_FALLBACK
            | d.FLAG_OVERCURRENT_WAIT
            | d.FLAG_HEAD_ONLINE
            | d.FLAG_AWAITING_SETPOINT
        )
        if waiting:
            f |= d.FLAG_AWAITING_SETPOINT
        if ext:
            f |= d.FLAG_REDUCED_EXT
        if self.fallback.active:
            f |= d.FLAG_FALLBACK
        else:
            f |= d.FLAG_HEAD_ONLINE
        if oc.state == core.OC_PAUSED:
            f |= d.FLAG_OVERCURRENT_WAIT
        self.flags = f
        return t

    def _control(self, now_ms, st, letter, target, fault, blocked):
        hal = self.hal
        if fault and not self._fault_seen:
            self._f_until = now_ms + F_HOLD_MS
        self._fault_seen = fault
        occupied = letter > 0
        rcm_ready = self.protections.rcm_ready(self, now_ms, letter, fault)
        offer = (
            not blocked
            and occupied
            and self.release_now
            and rcm_ready
            and target >= self.min_ma
            and self.locking.offer_allowed(self)
            and self.phase_switch.idle
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
        self.forced_f = not self.enabled or (not self.available_now and self.configured)
        if (fault and now_ms - self._f_until < 0) or self.forced_f:
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
            and self.locking.locked_ok()
            and not fault
            and not blocked
            and (self.contactor_cmd or self.phase_switch.idle)  # never closes during a phase switch
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
        self.contactor_cmd = close
        hal.contactor_set(close and self.protections.ct.fault == core.CT_OK)
        self.flags = (self.flags | d.FLAG_PWM_ON) if 0 < duty < 1000 else (self.flags & ~d.FLAG_PWM_ON)
        if st == core.STATE_D:
            self.flags |= d.FLAG_VENTILATION
        else:
            self.flags &= ~d.FLAG_VENTILATION

    def higher_meter(self, buf):
        """The load circuit's higher-level meter on this point's line: a chargedefs.HIGHER_STATES code,
        with its last reading in buf (meter slots) when HIGHER_OK."""
        if not (self.metered and self.cfg["higher_meter"]):
            return d.HIGHER_NONE
        got = self.hal.higher_read(buf)
        return d.HIGHER_OK if got is True else (d.HIGHER_LOST if got is False else d.HIGHER_WAITING)

    # --- live state ----------------------------------------------------------------------------------
    def state_into(self, buf):
        live.state_into(self, buf)

    def snapshot(self):
        return live.snapshot(self)
