"""Locking actuator of a socket outlet: drive pulse, feedback check, retries, errors.

The socket type names its actuator, and the actuator fixes the drive (`ACTUATORS`): the pulse length,
how long to wait before reading the feedback, how many retries, and whether the feedback is a switch or
analog. The feedback voltage windows of the locked and unlocked positions depend on the board's circuit
and are board data (board.json "lock_feedback"; a switch reads as two windows at the rails).
"""

import chargedefs as d

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# (socket type, drive): 4-pos. Marquardt, 4-pos. Kuester, 3-pos. Hella actuator (pointconfig.SOCKET_TYPES)
ACTUATORS = (
    ("marquardt4", {"pulse_ms": 600, "settle_ms": 50, "retries": 2, "feedback": "switch"}),
    ("kuester4", {"pulse_ms": 250, "settle_ms": 50, "retries": 2, "feedback": "analog"}),
    ("hella3", {"pulse_ms": 150, "settle_ms": 30, "retries": 3, "feedback": "switch"}),
)
SOCKET_TYPES = tuple(name for name, _ in ACTUATORS)


def profile(board, socket_type):
    """The actuator's drive with this board's feedback windows; None if the board has no windows for it."""
    windows = board.get("lock_feedback", {}).get(socket_type)
    if windows is None:
        return None
    for name, drive in ACTUATORS:
        if name == socket_type:
            out = dict(drive)
            out["locked_mv"] = windows["locked_mv"]
            out["unlocked_mv"] = windows["unlocked_mv"]
            return out
    return None


_IDLE = const(0)
_DRIVE = const(1)
_SETTLE = const(2)


class Lock:
    def __init__(self, profile):
        """`profile`: see profile() (drive and feedback windows)."""
        self.pulse_ms = profile["pulse_ms"]
        self.settle_ms = profile["settle_ms"]
        self.retries = profile["retries"]
        self.locked_lo, self.locked_hi = profile["locked_mv"]
        self.unlocked_lo, self.unlocked_hi = profile["unlocked_mv"]
        self.state = d.LOCK_UNKNOWN
        self.error = 0  # ERR_LOCK / ERR_UNLOCK / ERR_LOCK_UNKNOWN, latched until the next good move
        self._phase = _IDLE
        self._dir = 0
        self._since = 0
        self._tries = 0
        self.feedback_mv = 0

    def position(self, mv):
        """LOCK_LOCKED / LOCK_UNLOCKED / LOCK_UNKNOWN from a feedback voltage."""
        if self.locked_lo <= mv <= self.locked_hi:
            return d.LOCK_LOCKED
        if self.unlocked_lo <= mv <= self.unlocked_hi:
            return d.LOCK_UNLOCKED
        return d.LOCK_UNKNOWN

    def lock(self, now_ms, hal):
        if self.state != d.LOCK_LOCKED and not (self._phase != _IDLE and self._dir > 0):
            self._start(1, now_ms, hal)

    def unlock(self, now_ms, hal):
        if self.state != d.LOCK_UNLOCKED and not (self._phase != _IDLE and self._dir < 0):
            self._start(-1, now_ms, hal)

    def _start(self, direction, now_ms, hal):
        self._dir = direction
        self._tries = 0
        self._pulse(now_ms, hal)

    def _pulse(self, now_ms, hal):
        self._phase = _DRIVE
        self._since = now_ms
        self.state = d.LOCK_LOCKING if self._dir > 0 else d.LOCK_UNLOCKING
        hal.lock_drive(self._dir)

    def tick(self, now_ms, hal, feedback_mv):
        self.feedback_mv = feedback_mv
        pos = self.position(feedback_mv)
        if self._phase == _IDLE:
            if self.state == d.LOCK_UNKNOWN and pos != d.LOCK_UNKNOWN:
                self.state = pos  # power-on: take the position the feedback reports
            elif (self.state == d.LOCK_LOCKED or self.state == d.LOCK_UNLOCKED) and pos != self.state:
                self.state = d.LOCK_UNKNOWN  # moved without being driven
                self.error = d.ERR_LOCK_UNKNOWN
            return
        if self._phase == _DRIVE:
            if now_ms - self._since >= self.pulse_ms:
                hal.lock_drive(0)
                self._phase = _SETTLE
                self._since = now_ms
            return
        if now_ms - self._since < self.settle_ms:
            return
        want = d.LOCK_LOCKED if self._dir > 0 else d.LOCK_UNLOCKED
        if pos == want:
            self.state = want
            self.error = 0
            self._phase = _IDLE
        elif self._tries < self.retries:
            self._tries += 1
            self._pulse(now_ms, hal)
        else:
            self.state = d.LOCK_ERROR
            self.error = d.ERR_LOCK if self._dir > 0 else d.ERR_UNLOCK
            self._phase = _IDLE

    def busy(self):
        return self._phase != _IDLE
