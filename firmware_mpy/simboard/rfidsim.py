"""Simulated RFID readers: the device end of the point's reader line, speaking each reader type's framing.

The kind follows the configured "Type of RFID reader" (the simulated installer fitted that reader). A
card is presented with `present(uid, hold_ms)`: it stays in the field that long. Each kind answers its
requests (or pushes its line) in the framing of docs/rfid-readers.md, built here from those documents and
not with the driver's framing code, so the firmware's driver is tested against independent bytes. The
plant's faults `rfid_silent` (the reader answers nothing) and `rfid_garbage` (it answers line noise)
break the reader. The CHARX board keeps what the module told it to show (`display`).

The line is an inherited pty pair from the simulated park (`--rfid-line MASTER:SLAVE`, both ends in this
process) or, without one, an in-process byte pipe (`Loop`): bytes either way.
"""

from iomodule.modbus_rtu import crc16
from iomodule.rfid import board

_NOISE = b"\x55\xaa\x02\x7f\xff\r\x01\x02\x03"


class Loop:
    """One end of an in-process byte pipe (write, non-blocking readinto), like machine.UART: a receive
    FIFO of fixed size that drops what overflows it, so neither end allocates."""

    FIFO = 512

    def __init__(self):
        self.fifo = bytearray(self.FIFO)
        self.head = 0  # index of the oldest byte
        self.count = 0
        self.peer = None

    @staticmethod
    def pair():
        a = Loop()
        b = Loop()
        a.peer = b
        b.peer = a
        return a, b

    def write(self, buf):
        peer = self.peer
        size = peer.FIFO
        for i in range(len(buf)):
            if peer.count == size:
                break  # receiver overrun: the rest is lost, as on a UART
            peer.fifo[(peer.head + peer.count) % size] = buf[i]
            peer.count += 1
        return len(buf)

    def readinto(self, buf):
        n = min(len(buf), self.count)
        size = self.FIFO
        for i in range(n):
            buf[i] = self.fifo[(self.head + i) % size]
        self.head = (self.head + n) % size
        self.count -= n
        return n


def _hex(data):
    return "".join("%02X" % b for b in data).encode()


def _lrc(data):
    x = 0
    for b in data:
        x ^= b
    return x


class SimReader:
    def __init__(self, port, plant):
        self.port = port
        self.plant = plant
        self.kind = None
        self.rx = bytearray()
        self.card = b""
        self.card_until = 0
        self.pushed = False
        self.requests = 0
        self.display = {}
        self.shows = 0
        self.firmware = (1, 4)

    def present(self, uid, now_ms, hold_ms=1000):
        self.card = uid
        self.card_until = now_ms + hold_ms
        self.pushed = False

    def service(self, kind, now_ms):
        """Answer what the driver sent (called every tick before the firmware's)."""
        if kind != self.kind:
            self.kind = kind
            self.rx = bytearray()
        if self.card and now_ms >= self.card_until:
            self.card = b""
        buf = bytearray(64)
        while True:
            n = self.port.readinto(buf)
            if not n:
                break
            self.rx.extend(buf[:n])
        if self.plant.has("rfid_silent"):
            self.rx = bytearray()
            return
        getattr(self, "_" + kind)()

    def _answer(self, data):
        self.port.write(_NOISE if self.plant.has("rfid_garbage") else data)

    # ELATEC TWN4, Simple Protocol: hex lines ended by CR; SearchTag = API 05 00, argument MaxIDBytes
    def _twn4(self):
        while b"\r" in self.rx:
            i = self.rx.index(b"\r")
            line = bytes(self.rx[:i])
            self.rx = self.rx[i + 1 :]
            self.requests += 1
            if line[:4] != b"0500":
                self._answer(b"01\r")  # the protocol's error code: unknown call
            elif self.card:
                uid = self.card
                self._answer(b"0001" + _hex(bytes((0x80, 8 * len(uid), len(uid))) + uid) + b"\r")
            else:
                self._answer(b"0000\r")

    # DUALI: STX, LENH, LENL, command + data, LRC (XOR of LENH .. data)
    def _mde950(self):
        while len(self.rx) >= 4:
            if self.rx[0] != 0x02:
                self.rx = self.rx[1:]
                continue
            n = self.rx[1] << 8 | self.rx[2]
            if len(self.rx) < 4 + n:
                return
            frame = bytes(self.rx[: 4 + n])
            self.rx = self.rx[4 + n :]
            if _lrc(frame[1 : 3 + n]) != frame[3 + n]:
                continue  # a real reader ignores a frame with a wrong LRC
            self.requests += 1
            body = (b"\x00" + self.card) if self.card else b"\x01"
            head = bytes((len(body) >> 8, len(body) & 0xFF)) + body
            self._answer(b"\x02" + head + bytes((_lrc(head),)))

    # Netronix UW-XEU1: pushes the card's serial number once, hex, ended by CR LF
    def _uw_xeu1(self):
        self.rx = bytearray()  # it takes no commands
        if self.card and not self.pushed:
            self.pushed = True
            self._answer(_hex(self.card) + b"\r\n")

    # CHARX RFID/NFC board: STX, length, payload, CRC-16/Modbus low byte first
    def _charx(self):
        while len(self.rx) >= 2:
            if self.rx[0] != 0x02:
                self.rx = self.rx[1:]
                continue
            n = self.rx[1]
            if len(self.rx) < 4 + n:
                return
            frame = bytes(self.rx[: 4 + n])
            self.rx = self.rx[4 + n :]
            crc = crc16(frame, 2 + n, 1)
            if frame[2 + n] != crc & 0xFF or frame[3 + n] != crc >> 8:
                continue
            self.requests += 1
            cmd = frame[2]
            if cmd == 0x10:
                body = bytes((0x90, self.firmware[0], self.firmware[1], len(self.card))) + self.card
            elif cmd == 0x11 and n == 11:
                self._show(frame[3 : 2 + n])
                body = b"\x91"
            else:
                continue
            head = bytes((len(body),)) + body
            crc = crc16(head, len(head))
            self._answer(b"\x02" + head + bytes((crc & 0xFF, crc >> 8)))

    def _show(self, f):
        self.shows += 1
        self.display = {
            "profile": board.PROFILES[f[0]] if f[0] < len(board.PROFILES) else "#%d" % f[0],
            "mode": board.MODES[f[1] % 4],
            "colour": board.COLOURS[f[2] % 4],
            "brightness": f[3],
            "period_ms": f[4] << 8 | f[5],
            "min_brightness": f[6],
            "max_brightness": f[7],
            "tone": ("none", "read", "accepted", "denied")[f[8] % 4],
            "volume": f[9],
        }

    def snapshot(self):
        snap = {"type": self.kind, "card": _hex(self.card).decode(), "requests": self.requests}
        if self.kind == "charx":
            snap["firmware"] = "%d.%d" % self.firmware
            snap["display"] = self.display
            snap["shows"] = self.shows
        return snap
