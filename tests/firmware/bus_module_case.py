"""A bus module whose point only records what it is told: the link's exactly-once check.

Run on the real micropython: `bus_module_case.py HOST:PORT POSITION`, or as the main.py of a test
image (`--bus HOST:PORT`, identity from the flash root). Every applied command and configuration is
printed as one line, so the test compares what the head had acknowledged with what the module applied.
"""

import sys
import time

import chargedefs
import pointconfig
import schema
from backplane import catalog, module, transport


class RecordingPoint:
    def __init__(self):
        self.setpoint = 0
        self.config_version = 0
        self.config_checksum = 0
        self.events = []
        self.seen = 0

    def configure(self, cfg):
        clean = schema.validate(pointconfig.MODULE_FIELDS, cfg, pointconfig.CHECKS)
        self.config_version += 1
        self.config_checksum = pointconfig.checksum(clean)
        print("config %d" % self.config_checksum)

    def command(self, name, value):
        if name != "setpoint_ma" or not isinstance(value, int) or value < 0:
            raise ValueError("bad command %s" % name)
        self.setpoint = value
        self.events.append((chargedefs.EV_STATUS, value))
        print("cmd %d" % value)

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


def main():
    if "--bus" in sys.argv:
        link = module.open_link(RecordingPoint(), {"name": "sim"})
    else:
        endpoint, position = sys.argv[1], int(sys.argv[2])
        t = transport.open_transport({}, position, endpoint)
        identity = {"uid": "rec-%d" % position, "position": position}
        link = module.ModuleLink(RecordingPoint(), t, identity, {"name": "sim"})
    print("ready")
    while True:
        link.wait(50)
        link.service(time.ticks_ms())


main()
