"""A ChargePoint stand-in for link tests: it validates configurations with the real schema and records
every command and configuration it applies (printed too, so a test can read a module process's log)."""

import chargedefs
import chargeschema
import pointconfig
from backplane import catalog


class RecordingPoint:
    def __init__(self):
        self.setpoint = 0
        self.config_version = 0
        self.config_checksum = 0
        self.events = []
        self.seen = 0
        self.applied = []
        self.echo = True

    def configure(self, cfg, expected=None):
        clean = chargeschema.validate(pointconfig.MODULE_FIELDS, cfg, pointconfig.CHECKS)
        checksum = pointconfig.checksum(clean)
        if expected is not None and checksum != expected:
            raise ValueError("config checksum mismatch")  # as ChargePoint.configure: before applying
        self.config_version += 1
        self.config_checksum = checksum
        self.applied.append("config %d" % self.config_checksum)
        if self.echo:
            print(self.applied[-1])

    def command(self, name, value):
        if name != "setpoint_ma" or not isinstance(value, int) or value < 0:
            raise ValueError("bad command %s" % name)
        self.setpoint = value
        self.events.append((chargedefs.EV_STATUS, value))
        self.applied.append("cmd %d" % value)
        if self.echo:
            print(self.applied[-1])

    def head_seen(self, now_ms):
        self.seen = now_ms

    def state_into(self, buf):
        for i in range(len(buf)):
            buf[i] = 0
        buf[catalog.LIVE_NAMES.index("set_current_ma")] = self.setpoint
        buf[catalog.LIVE_NAMES.index("config_version")] = self.config_version
        buf[catalog.LIVE_NAMES.index("config_checksum")] = self.config_checksum

    def pop_event(self):
        return self.events.pop(0) if self.events else None
