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


class Overcurrent:
    """update() returns the current the point may signal now (mA); 0 = stop."""

    def __init__(self, mode):
        if mode < OC_MODE_OFF or mode > OC_MODE_EVZE:
            raise ValueError("invalid overcurrent mode")
        self.mode = mode
        self.reset()

    def reset(self):
        self.state = OC_OK
        self.trips = 0
        self.stage = 0
        self._limit = -1  # last limit: a change starts the grace period
        self._grace = 0
        self._grace_at = 0
        self._paused_at = 0
        self._t110 = 0
        self._t110_at = 0
        self._t120 = 0
        self._t120_at = 0

    def _trip(self, now):
        self.trips += 1
        self._t110 = 0
        self._t120 = 0
        if self.trips >= 2:
            self.state = OC_ERROR
        else:
            self.state = OC_PAUSED
            self._paused_at = now
        return 0

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
            self._limit = limit
            self._grace = 1
            self._grace_at = now_ms
            self._t110 = 0
            self._t120 = 0
        if self._grace:
            if elapsed(now_ms, self._grace_at) < OC_GRACE_MS:
                return limit
            self._grace = 0
        if limit == 0:
            return 0
        if self.mode == OC_MODE_SHUTDOWN:
            if imax_ma * 100 > limit * 120:
                if not self._t120:
                    self._t120 = 1
                    self._t120_at = now_ms
                elif elapsed(now_ms, self._t120_at) >= OC_120_MS:
                    return self._trip(now_ms)
            else:
                self._t120 = 0
            if imax_ma * 100 > limit * 110:
                if not self._t110:
                    self._t110 = 1
                    self._t110_at = now_ms
                elif elapsed(now_ms, self._t110_at) >= OC_110_MS:
                    return self._trip(now_ms)
            else:
                self._t110 = 0
            return limit
        if imax_ma * 100 > limit * OC_EVZE_OVER_PCT:
            if not self._t110:
                self._t110 = 1
                self._t110_at = now_ms
            elif elapsed(now_ms, self._t110_at) >= OC_EVZE_HOLD_MS:
                self._t110 = 0
                self.trips += 1
                self.stage += 1
                if self.stage >= len(OC_EVZE_STAGES_PCT):
                    self.stage = len(OC_EVZE_STAGES_PCT) - 1
                    self.state = OC_ERROR
                    return 0
                limit = set_ma * OC_EVZE_STAGES_PCT[self.stage] // 100
                self._limit = limit
                self._grace = 1
                self._grace_at = now_ms
        else:
            self._t110 = 0
        return limit
