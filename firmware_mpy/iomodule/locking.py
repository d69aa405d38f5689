"""When the socket outlet's lock moves: the locking mode, remote and Event Action requests, enforced unlock.

One rule for every path that can ask for an unlock (connected mode, remote `unlock`, Event Actions,
enforced unlock, and through them Modbus, OCPP and the WBM): the actuator is driven open only while the
contactor is commanded open and, where it is monitored, its auxiliary contact confirms it open
(`contactor_open`). An unlock asked for earlier waits (`unlock_waiting`): the point stops offering PWM, the
vehicle opens S2, the contactor opens, then the lock moves. A welded contactor is never confirmed open,
so its socket stays locked.
"""

import chargedefs as d

from iomodule.eventactions import LOCK_DO, UNLOCK_DO
from iomodule.lock import Lock


class Locking:
    def __init__(self):
        self.lock = None  # the actuator (socket outlet on a board with a lock), else None
        self.socket_type = None
        self.enforced = False  # enforced unlock: held until the plug is out
        self.unlock_waiting = False

    def fit(self, profile, socket_type, hal):
        """The configured actuator (None: no lock); the same socket type keeps its state and its error."""
        if profile is None:
            if self.lock is not None:
                hal.lock_drive(0)
            self.lock = None
        elif socket_type != self.socket_type or self.lock is None:
            old = self.lock
            self.lock = Lock(profile)
            if old is not None:
                hal.lock_drive(0)  # another actuator: stop the old drive, read the new one's position
                self.lock.error = old.error
        self.socket_type = socket_type if profile is not None else None
        self.unlock_waiting = False

    def contactor_open(self, p):
        return not p.contactor_cmd and not p.protections.ct.closed

    def tick(self, p, now_ms, ev, req):
        lock = self.lock
        if lock is None:
            self.enforced = self.enforced and p.plugged
            return
        hal = p.hal
        lock.tick(now_ms, hal, p.analog.adc_mv(hal.lock_feedback_raw()))
        if req == UNLOCK_DO:
            self.unlock_waiting = True
        elif req == LOCK_DO:
            self.unlock_waiting = False
        may_open = self.contactor_open(p)
        if self.enforced:
            if may_open:
                lock.unlock(now_ms, hal)
            if not p.plugged:
                self.enforced = False  # held until the plug was removed
        elif req == LOCK_DO:
            lock.lock(now_ms, hal)
        elif self.unlock_waiting:
            if may_open:
                self.unlock_waiting = False
                lock.unlock(now_ms, hal)
        elif p.cfg["locking_mode"] == "connected" and not lock.busy() and lock.state != d.LOCK_ERROR:
            # Disabled / unavailable: the session is aborted, the driver must be able to take the cable.
            want_locked = ev and p.plugged and not p.forced_f
            if want_locked and lock.state != d.LOCK_LOCKED:
                lock.lock(now_ms, hal)
            elif not want_locked and lock.state != d.LOCK_UNLOCKED and may_open:
                lock.unlock(now_ms, hal)
        if lock.state == d.LOCK_ERROR and not ev and not p.plugged and lock.error == d.ERR_LOCK:
            lock.error = 0  # a failed lock with nothing plugged in: retry on the next plug-in
            lock.state = d.LOCK_UNKNOWN

    def offer_allowed(self, p):
        """PWM may be offered: locked (or no lock, or connected mode locking by itself), no unlock asked."""
        if self.enforced or self.unlock_waiting:
            return False
        lock = self.lock
        return lock is None or lock.state == d.LOCK_LOCKED or p.cfg["locking_mode"] == "connected"

    def locked_ok(self):
        return self.lock is None or self.lock.state == d.LOCK_LOCKED
