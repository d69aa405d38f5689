"""DC residual current monitoring (6 mA), its self-test and the latched trip."""

from chargecore.twin.arith import elapsed
from chargecore.twin.consts import (
    RCM_DEFAULT_FILTER_MS,
    RCM_OK,
    RCM_TEST_FAILED,
    RCM_TEST_RELEASE_MAX_MS,
    RCM_TEST_TRIP_MAX_MS,
    RCM_TESTING,
    RCM_TRIP_UA,
    RCM_TRIPPED,
)

_IDLE = 0
_PULSE = 1  # test pin asserted, waiting for the sensor to report
_RELEASE = 2  # test pin released, waiting for the sensor to recover


class Rcm:
    """update() returns RCM_OK, RCM_TRIPPED (latched), RCM_TESTING or RCM_TEST_FAILED (latched)."""

    def __init__(self, trip_ua=RCM_TRIP_UA, filter_ms=RCM_DEFAULT_FILTER_MS):
        if trip_ua <= 0 or filter_ms < 0:
            raise ValueError("invalid RCM configuration")
        self.trip_ua = trip_ua
        self.filter_ms = filter_ms
        self.reset()

    def reset(self):
        self.status = RCM_OK
        self.tripped = 0
        self.test_ok = 0
        self.test_pin = 0
        self._phase = _IDLE
        self._phase_at = 0
        self._over = 0
        self._over_at = 0

    def _fail(self):
        self._phase = _IDLE
        self.test_pin = 0
        self.status = RCM_TEST_FAILED
        return RCM_TEST_FAILED

    def start_test(self, now_ms):
        """Assert the test pin (drive it from rcm.test_pin); a sensor that already reports fails at once."""
        if self.status == RCM_TEST_FAILED:
            return RCM_TEST_FAILED
        self.test_ok = 0
        if self._over:
            return self._fail()
        self._phase = _PULSE
        self._phase_at = now_ms
        self.test_pin = 1
        self.status = RCM_TESTING
        return RCM_TESTING

    def update(self, now_ms, residual_ua):
        over = residual_ua >= self.trip_ua
        if self.status == RCM_TEST_FAILED:
            self._over = 1 if over else 0
            return RCM_TEST_FAILED
        if self._phase == _PULSE:
            self._over = 0  # the test current is not a residual current
            if over:
                self._phase = _RELEASE
                self._phase_at = now_ms
                self.test_pin = 0
            elif elapsed(now_ms, self._phase_at) > RCM_TEST_TRIP_MAX_MS:
                return self._fail()
            return RCM_TESTING
        if self._phase == _RELEASE:
            if not over:
                self._phase = _IDLE
                self.test_ok = 1
                self.status = RCM_TRIPPED if self.tripped else RCM_OK
                return self.status
            if elapsed(now_ms, self._phase_at) > RCM_TEST_RELEASE_MAX_MS:
                return self._fail()
            return RCM_TESTING
        if over:
            if not self._over:
                self._over = 1
                self._over_at = now_ms
            if not self.tripped and elapsed(now_ms, self._over_at) >= self.filter_ms:
                self.tripped = 1
                self.status = RCM_TRIPPED
        else:
            self._over = 0
        return self.status
