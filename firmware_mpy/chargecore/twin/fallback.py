"""Head-module supervision: the fallback current once the head has been silent for the fallback time."""

from chargecore.twin.arith import elapsed


class Fallback:
    """kick() on every message from the head; update() returns the current to use (mA)."""

    def __init__(self, time_ms, fallback_ma):
        if time_ms < 0 or fallback_ma < 0:
            raise ValueError("invalid fallback configuration")
        self.time_ms = time_ms  # 0 disables the fallback: the last set current stays
        self.fallback_ma = fallback_ma
        self.reset()

    def reset(self):
        self.active = 0
        self._armed = 0
        self._kick_at = 0

    def kick(self, now_ms):
        self._armed = 1
        self._kick_at = now_ms
        self.active = 0

    def update(self, now_ms, set_ma):
        if self.time_ms == 0:
            return set_ma
        if not self._armed:
            self.kick(now_ms)  # supervision starts with the first tick
        if not self.active and elapsed(now_ms, self._kick_at) >= self.time_ms:
            self.active = 1  # latched: a wrapped tick never undoes it, only kick() does
        return self.fallback_ma if self.active else set_ma
