"""ModuleLink under garbage, in the common subset: run on CPython and on the real micropython.

Random bytes, damaged frames and well-formed frames with random content reach the link through an
in-memory transport; the link must never raise, must count what it drops, and must answer every
well-formed request (with an error when its content is nonsense).
"""

from backplane import catalog, frame, module
from bus_codec_case import Rng
from bus_point_case import RecordingPoint


class MemTransport:
    def __init__(self):
        self.inbox = []
        self.sent = []

    def read(self):
        return self.inbox.pop(0) if self.inbox else b""

    def write(self, data):
        self.sent.append(data)

    def wait(self, timeout_ms):
        return bool(self.inbox)


TYPES = (0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12, 0x81, 0x7E, 0xFF)


def run(rounds, seed=99):
    rng = Rng(seed)
    t = MemTransport()
    point = RecordingPoint()
    point.echo = False
    link = module.ModuleLink(point, t, {"uid": "fz", "position": 4}, {"name": "sim"})
    requests = 0
    for i in range(rounds):
        kind = i % 3
        if kind == 0:
            t.inbox.append(rng.bytes(rng.next() % 64))
        elif kind == 1:
            payload = rng.bytes(rng.next() % 40)
            t.inbox.append(frame.encode(4, frame.HEAD, i, TYPES[rng.next() % len(TYPES)], payload))
            requests += 1
        else:
            good = bytearray(
                frame.encode(4, frame.HEAD, i, catalog.COMMAND, catalog.pack(catalog.COMMAND, "x", 1))
            )
            good[2 + rng.next() % (len(good) - 4)] ^= 1 << (rng.next() % 8)
            t.inbox.append(bytes(good))
        link.service(i)
    answers = [frame.decode(frame.Deframer().feed(s)[0]) for s in t.sent]
    errors = len([a for a in answers if a[3] == catalog.ERROR])
    return [requests, len(answers), errors, link.crc_errors > rounds // 4, point.applied]


if __name__ == "__main__":
    import json

    print(json.dumps(run(1500)))
