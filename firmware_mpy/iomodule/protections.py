"""The point's protections: the core's monitors, the error bits they give, and the latches that hold them.

Latches (docs/point-api.md, "Latches"): a latched error holds until the vehicle leaves (PP, status D, diode,
overcurrent) or until an operator's reset (contactor, RCM trip and self-test). A configuration push never
clears one, identical or not: the core monitors are kept when their settings did not change, and a
changed monitor takes over only once its old latch is gone. A weld lock-out also outlives a restart
(NvState). When a push switches off the monitoring a latch came from, the point says so (event
`latch_kept`) and keeps the latch until the reset.
"""

import chargecore as core
import chargedefs as d

from iomodule import pointmaps

GEN_MIN_MV = 11400  # CP generator +12 V +-5 % (iec61851.md): its unloaded plateau in state A shows the
GEN_MAX_MV = 12600  # 12 V supply the generator runs from
NO_LIMIT = 1000000
NV_WELD = "weld"

# Errors that clear only when the vehicle leaves (state A) or on reset_error.
LATCH_UNTIL_A = d.ERR_PP | d.ERR_STATUS_D | d.ERR_DIODE | d.ERR_OVERCURRENT
# Errors that clear only on reset_error.
LATCH_UNTIL_RESET = d.ERR_CONTACTOR | d.ERR_RCM_TRIP | d.ERR_RCM_SENSOR

# rcm_step: the self-test of this session
RCM_DUE = 0
RCM_TESTING = 1
RCM_PASSED = 2


class Protections:
    def __init__(self, nv):
        self.nv = nv
        self.latched = 0
        if nv.get(NV_WELD) or nv.damaged:
            self.latched = d.ERR_CONTACTOR  # welded before the restart (or unknown): still locked out
        self.rcm = core.Rcm()
        self.rcm_step = RCM_DUE
        self.oc = None
        self.ct = None
        self._oc_next = -1  # an overcurrent mode waiting for the end of the session (a trip is pending)
        self.derating = None
        self.derate_ma = NO_LIMIT
        self.temp_dc = 0
        self.gen_bad = False
        self.vehicle_f = False

    # --- configuration ------------------------------------------------------------------------------
    def build(self, c, metered):
        """The new configuration's monitors, built before anything changes (a constructor may refuse)."""
        oc_mode = pointmaps.OVERCURRENT[c["overcurrent"]] if metered else core.OC_MODE_OFF
        aux = pointmaps.CONTACTOR_MONITORING[c["contactor_monitoring"]]
        oc = None if self.oc is not None and self.oc.mode == oc_mode else core.Overcurrent(oc_mode)
        ct = None if self.ct is not None and self.ct.aux == aux else core.Contactor(aux)
        derating = None
        if c["temp_sensor"] == "pt1000":
            derating = core.Derating(
                core.DERATE_LINEAR,
                c["derating_start_temp_c"] * 10,
                c["derating_stop_temp_c"] * 10,
                c["derating_start_current_a"] * 1000,
                c["derating_stop_current_a"] * 1000,
            )
        return oc, ct, derating

    def apply(self, built, rcm_was_on, rcm_on, push):
        """Take over the monitors of `build`; latches stay. `push(code, arg)` reports to the head."""
        oc, ct, derating = built
        if oc is not None:
            if self.oc is None or (self.oc.state == core.OC_OK and self.oc.trips == 0):
                self.oc = oc
                self._oc_next = -1
            else:
                self._oc_next = oc.mode  # a trip of this session still counts: change at its end
        if ct is not None:
            self.ct = ct  # the latch is the point's (self.latched), not the monitor's
        self.derating = derating
        kept = 0
        if ct is not None and self.latched & d.ERR_CONTACTOR and ct.aux == core.AUX_NONE:
            kept |= d.ERR_CONTACTOR
        if rcm_was_on and not rcm_on:
            kept |= self.latched & (d.ERR_RCM_TRIP | d.ERR_RCM_SENSOR)
        if kept:
            push(d.EV_LATCH_KEPT, kept)

    def reset(self):
        """The operator's reset: every latch; a cause that persists is detected again at once."""
        self.latched = 0
        if self.nv.get(NV_WELD) or self.nv.damaged:
            self.nv.put(NV_WELD, False)
        self.ct.reset()
        self.rcm.reset()
        self.rcm_step = RCM_DUE  # test again before charging
        self.oc.reset()

    def vehicle_left(self):
        """No vehicle (every such tick): the latches of a session end, and so does a first overcurrent trip."""
        self.latched &= ~LATCH_UNTIL_A
        if self.oc.state == core.OC_OK and self.oc.trips == 0 and self._oc_next < 0:
            return
        if self._oc_next >= 0:
            self.oc = core.Overcurrent(self._oc_next)
            self._oc_next = -1
        else:
            self.oc.reset()

    # --- every tick ---------------------------------------------------------------------------------
    def errors(self, p, now_ms, st, ev, cap):
        """The error bits of this tick (sensing and the core monitors; p = the ChargePoint)."""
        hal = p.hal
        c = p.cfg
        errors = self.latched
        # 12 V supply: the board's monitor, and the generator's plateau where nothing loads it (+12 V in
        # state A). Elsewhere the plateau is hidden: keep what we knew, as for the vehicle error below.
        if st == core.STATE_A and p.duty == core.DUTY_OFF and p.cp.status == core.WIN_OK:
            self.gen_bad = not GEN_MIN_MV <= p.cp.high_mv <= GEN_MAX_MV
        mv = hal.supply_mv()
        if self.gen_bad or 0 <= mv < p.supply_min_mv:
            errors |= d.ERR_POWER_SUPPLY
        # CP: short to PE (E), pilot fault, diode
        if st == core.STATE_E or st == core.STATE_PILOT_FAULT:
            errors |= d.ERR_CP
        if p.duty != core.DUTY_F:
            # -12 V that we do not drive: the vehicle holds the pilot in F. While we drive F ourselves the
            # vehicle side is hidden: keep what we knew (so disable/unavailable never sets it).
            self.vehicle_f = st == core.STATE_F
        if self.vehicle_f:
            errors |= d.ERR_VEHICLE
        latch = 0
        if p.cp.faults & core.CP_FAULT_DIODE:
            latch |= d.ERR_DIODE
        if st == core.STATE_D and c["status_d"] == "reject":
            latch |= d.ERR_STATUS_D
        # PP: invalid coding or plug rejection (the cable alone), lost while a vehicle is on
        if p.socket:
            if cap == core.PP_FAULT or (cap == core.PP_NONE and ev and p.duty != core.DUTY_F):
                latch |= d.ERR_PP  # (under F the vehicle side is unknown)
            elif cap > 0 and not core.pp_accept(cap, p.reject):
                errors |= (
                    d.ERR_REJECT_13A if cap <= 13000 and p.reject == core.REJECT_13A else d.ERR_REJECT_20A_13A
                )
        # contactor monitoring (the aux contact on the configured digital input)
        aux = (p.di_bits >> (p.contactor_input - 1)) & 1
        ct = self.ct
        ct.update(now_ms, 1 if p.contactor_cmd else 0, aux)
        if ct.fault != core.CT_OK:
            latch |= d.ERR_CONTACTOR
            if ct.fault == core.CT_WELDED:
                self.nv.put(NV_WELD, True)  # once: put() writes only a change
        # DC residual current
        if p.rcm_on:
            ua = hal.rcm_ua()
            if ua < 0:
                ua = self.rcm.trip_ua if hal.rcm_tripped() else 0
            rs = self.rcm.update(now_ms, ua)
            hal.rcm_test(self.rcm.test_pin)
            if rs == core.RCM_TRIPPED or self.rcm.tripped:
                latch |= d.ERR_RCM_TRIP
            if rs == core.RCM_TEST_FAILED or hal.rcm_error():
                latch |= d.ERR_RCM_SENSOR
        # temperature
        self.derate_ma = NO_LIMIT
        p.flags &= ~d.FLAG_DERATING
        if c["temp_sensor"] == "pt1000":
            self.temp_dc = core.pt1000_ddegc(p.analog.temp_mohm(hal.temp_raw()))
            self.derate_ma = self.derating.update(self.temp_dc)
            if self.derating.active:
                p.flags |= d.FLAG_DERATING
                errors |= d.ERR_TEMP_DERATING
            if self.derate_ma == 0:
                errors |= d.ERR_TEMP_HIGH
        elif c["temp_sensor"] == "ptc":
            ohm = p.analog.temp_mohm(hal.temp_raw()) // 1000
            if core.ptc_status(ohm, c["ptc_trip_ohm"]) != core.PTC_OK:
                errors |= d.ERR_TEMP_HIGH
                self.derate_ma = 0
        # meter, lock
        if p.meter_lost:
            errors |= d.ERR_METER_COMM
        if p.locking.lock is not None:
            errors |= p.locking.lock.error
        if self.oc.state == core.OC_ERROR:
            latch |= d.ERR_OVERCURRENT
        self.latched |= latch
        return errors | latch

    def rcm_ready(self, p, now_ms, letter, fault):
        """The RCM self-test before each session: True once it passed (or without RCM)."""
        if not p.rcm_on:
            return True
        if letter == 0:
            self.rcm_step = RCM_DUE  # the next session tests again
        elif letter > 0 and self.rcm_step == RCM_DUE and not fault:
            self.rcm.start_test(now_ms)
            self.rcm_step = RCM_TESTING
        elif self.rcm_step == RCM_TESTING and self.rcm.status != core.RCM_TESTING and self.rcm.test_ok:
            self.rcm_step = RCM_PASSED
        return self.rcm_step == RCM_PASSED
