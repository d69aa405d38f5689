"""The charging session, decided here and nowhere else (docs/services.md, "One session authority").

The IO module sees the vehicle, the contactor and the meter at the instant, so it is the authority: the
data hub persists these events, OCPP transactions and Modbus registers read them. A session runs from
plug-in (a vehicle in B/C/D at a point that can serve it) to unplug, or until it is aborted: disabled,
made unavailable, unconfigured, or an enforced unlock. After an abort the vehicle that stays plugged in
starts a new session once the point can serve again, and that session needs a new release (except in
"Permanent Charging Release" mode).

Events (chargedefs.EVENTS), meter readings in Wh (-1 = no meter reading):
  session_start   [id, meter_wh]                                            at plug-in
  session_release [id, meter_wh]             the session's charging release (a transaction starts); again
                                             when the head took it back (`release` False) and releases anew
  session_stop    [id, meter_wh, energy_wh, connected_s, charging_s, reason]   reason: chargedefs.STOP_REASONS
Durations as the manual defines them: plug-in duration from plug-in, charging duration while the
contactor is closed.
"""

import chargedefs as d

from iomodule.meters import ENERGY


class Session:
    def __init__(self):
        self.count = 0  # the id of the last session since the module started
        self.open = False
        self.released = False  # session_release was sent
        self.charged = False  # the contactor closed in this session
        self.started_at = 0
        self.start_wh = -1  # -1: no meter reading yet
        self.charging_ms = 0

    def connected_s(self, now_ms):
        return (now_ms - self.started_at) // 1000 if self.open else 0

    def energy_wh(self, p):
        if not self.open or self.start_wh < 0 or not p.meter_ok:
            return 0
        return p.meter[ENERGY] - self.start_wh

    def tick(self, p, now_ms, ev, dt):
        """After the contactor decision of this tick: open, count, and end the session."""
        reason = -1
        if not ev:
            reason = d.STOP_EV_DISCONNECTED
        elif not p.configured:
            reason = d.STOP_UNCONFIGURED
        elif not p.enabled:
            reason = d.STOP_DISABLED
        elif not p.available_now:
            reason = d.STOP_UNAVAILABLE
        elif p.locking.enforced:
            reason = d.STOP_ENFORCED_UNLOCK
        if reason >= 0:
            if self.open and ev and p.contactor_cmd:
                self.charging_ms += dt  # aborting: PWM is off, the session ends once the contactor opened
                return
            if self.open:
                self._stop(p, now_ms, reason)
            if not ev:
                p.vehicle_left()
            return
        meter_wh = p.meter[ENERGY] if p.meter_ok else -1
        if not self.open:
            self.count += 1
            self.open = True
            self.released = False
            self.charged = False
            self.started_at = now_ms
            self.start_wh = meter_wh
            self.charging_ms = 0
            p.push(d.EV_SESSION_START, [self.count, meter_wh])
            p.session_began()  # a signing meter starts its transaction
        elif self.start_wh < 0:
            self.start_wh = meter_wh  # the meter answered only now: energy counts from its first reading
        if p.release_now and not self.released:
            self.released = True
            if not p.meter_tx:
                p.session_began()  # released anew: a signing meter starts its next transaction
            p.push(d.EV_SESSION_RELEASE, [self.count, meter_wh])
        if p.contactor_cmd:
            self.charged = True
            self.charging_ms += dt

    def _stop(self, p, now_ms, reason):
        meter_wh = p.meter[ENERGY] if p.meter_ok else -1
        energy = self.energy_wh(p)
        p.push(
            d.EV_SESSION_STOP,
            [self.count, meter_wh, energy, self.connected_s(now_ms), self.charging_ms // 1000, reason],
        )
        self.open = False
        self.charged = False
        self.charging_ms = 0
        p.session_ended(reason)
