"""A bus module whose point only records what it is told: the link's exactly-once check.

Run on the real micropython: `bus_module_case.py HOST:PORT POSITION`, or as the main.py of a test
image (`--bus HOST:PORT`, identity from the flash root). Every applied command and configuration is
printed as one line, so the test compares what the head had acknowledged with what the module applied.
"""

import sys
import time

from backplane import module, transport
from bus_point_case import RecordingPoint


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
