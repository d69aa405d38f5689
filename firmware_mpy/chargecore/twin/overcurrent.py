"""Charge current monitoring: "Overcurrent shutdown" and the "EV/ZE Ready" stage derating."""

from chargecore.twin.arith import elapsed
from chargecore.twin.consts import (
    OC_110_MS,
    OC_120_MS,
    OC_ERROR,
    OC_EVZE_HOLD_MS,
    OC_EVZE_OVER_PCT,
    OC_EVZE_STAGES_PCT,
    OC_GRACE_MS,
    OC_MODE_EVZE,
    OC_MODE_OFF,
    OC_MODE_SHUTDOWN,
    OC_OK,
    OC_PAUSED,
    OC_RESTART_MS,
)


class _OverTimer:
    """How long a condition has held without a break; expired() once it has held for `ms`."""

    def __init__(self):
        self.running = 0
        self.since = 0

    def expired(self, over, now, ms):
        if not over:
            self.running = 0
            return False
        if not self.running:
            self.running = 1
            self.since = now
            return False
        return elapsed(now, self.since) >= ms


class Overcurrent:
    """update() returns the current the point may signal now (mA); 0 = stop."""

    def __init__(self, mode):
        if mode < OC_MODE_OFF or mode > OC_MODE_EVZE:
            raise ValueError("invalid overcurrent mode")
        self.mode = mode
        self._t110 = _OverTimer()  # also the EV/ZE stage timer
        self._t120 = _OverTimer()
        self.reset()

    def reset(self):
        self.state = OC_OK
        self.trips = 0
        self.stage = 0
        self._limit = -1  # last limit: a change starts the grace period
        self._grace = 0
        self._grace_at = 0
        self._paused_at = 0
        self._t110.running = 0
        self._t120.running = 0

    def _trip(self, now):
        self.trips += 1
        self._t110.running = 0
        self._t120.running = 0
        if self.trips >= 2:
            self.state = OC_ERROR
        else:
            self.state = OC_PAUSED
            self._paused_at = now
        return 0

    def _start_grace(self, now, limit):
        self._limit = limit
        self._grace = 1
        self._grace_at = now
        self._t110.running = 0
        self._t120.running = 0

    def update(self, now_ms, set_ma, imax_ma):
        """now_ms: tick; set_ma: the set current; imax_ma: the highest measured phase current."""
        if self.mode == OC_MODE_OFF:
            return set_ma
        if self.state == OC_ERROR:
            return 0
        if set_ma < 0:
            set_ma = 0
        if self.state == OC_PAUSED:
            if elapsed(now_ms, self._paused_at) < OC_RESTART_MS:
                return 0
            self.state = OC_OK
            self._limit = -1  # charging restarts: the vehicle gets its grace period again
        if self.mode == OC_MODE_SHUTDOWN:
            limit = set_ma
        else:
            limit = set_ma * OC_EVZE_STAGES_PCT[self.stage] // 100
        if limit != self._limit:
            self._start_grace(now_ms, limit)
        if self._grace:
            if elapsed(now_ms, self._grace_at) < OC_GRACE_MS:
                return limit
            self._grace = 0
        if limit == 0:
            return 0
        if self.mode == OC_MODE_SHUTDOWN:
            if self._t120.expired(imax_ma * 100 > limit * 120, now_ms, OC_120_MS) or self._t110.expired(
                imax_ma * 100 > limit * 110, now_ms, OC_110_MS
            ):
                return self._trip(now_ms)
            return limit
        if self._t110.expired(imax_ma * 100 > limit * OC_EVZE_OVER_PCT, now_ms, OC_EVZE_HOLD_MS):
            self._t110.running = 0
            self.trips += 1
            self.stage += 1
            if self.stage >= len(OC_EVZE_STAGES_PCT):
                self.stage = len(OC_EVZE_STAGES_PCT) - 1
                self.state = OC_ERROR
                return 0
            limit = set_ma * OC_EVZE_STAGES_PCT[self.stage] // 100
            self._start_grace(now_ms, limit)
        return limit
