"""The two framings the readers use: parsers driven by each reader's SPEC (data, no parser per reader).

"hex": a frame is a line of ASCII hex digits ended by CR or LF (empty lines between frames are skipped);
two digits are one byte of payload.
"binary": a frame is SPEC["start"], the payload's length in SPEC["len_size"] bytes (big-endian), the
payload and a check: "xor" (one byte: XOR of the length bytes and the payload) or "crc16" (CRC-16/Modbus
of the length bytes and the payload, low byte first).

A `Framer` collects what the line delivered and cuts it into frames; `next()` returns the length of the
next frame's payload (in `payload`), NONE while no complete frame is there, or BAD for bytes that are
no frame (consumed, so the next call resynchronises). No input raises; nothing allocates.
"""

from iomodule.modbus_rtu import crc16

NONE = -1
BAD = -2

_HEX = b"0123456789ABCDEF"


def nibble(c):
    """Value of one ASCII hex digit, -1 if it is none."""
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return -1


def check(spec, buf, start, end):
    """The check value of buf[start:end] (the length bytes and the payload) for the spec's check."""
    if spec["check"] == "xor":
        x = 0
        for i in range(start, end):
            x ^= buf[i]
        return x
    return crc16(buf, end, start)


def encode(spec, payload, n, out):
    """Write one frame of payload[0:n] into `out` in the spec's framing; return its length."""
    if spec["framing"] == "hex":
        for i in range(n):
            out[2 * i] = _HEX[payload[i] >> 4]
            out[2 * i + 1] = _HEX[payload[i] & 15]
        k = 2 * n
        for c in spec["end"]:
            out[k] = c
            k += 1
        return k
    ls = spec["len_size"]
    out[0] = spec["start"]
    if ls == 2:
        out[1] = n >> 8
    out[ls] = n & 0xFF
    for i in range(n):
        out[1 + ls + i] = payload[i]
    k = 1 + ls + n
    c = check(spec, out, 1, k)
    out[k] = c & 0xFF
    if spec["check"] == "xor":
        return k + 1
    out[k + 1] = c >> 8
    return k + 2


class Framer:
    def __init__(self, spec, size=96):
        self.spec = spec
        self.hex = spec["framing"] == "hex"
        self.rx = bytearray(size)
        self.n = 0
        self.payload = bytearray(size // 2)
        self.overflow = False

    def feed(self, chunk, got):
        """Append chunk[0:got]; on overflow the oldest bytes go (and count as one bad frame)."""
        rx = self.rx
        for i in range(got):
            if self.n == len(rx):
                self._drop(self.n // 2)
                self.overflow = True
            rx[self.n] = chunk[i]
            self.n += 1

    def clear(self):
        self.n = 0

    def next(self):
        if self.overflow:
            self.overflow = False
            return BAD
        return self._line() if self.hex else self._binary()

    def _drop(self, k):
        rx = self.rx
        n = self.n
        for i in range(k, n):
            rx[i - k] = rx[i]
        self.n = n - k

    def _line(self):
        rx = self.rx
        while self.n and (rx[0] == 13 or rx[0] == 10):
            self._drop(1)  # the rest of a CR LF, or empty lines
        end = -1
        noise = -1
        for i in range(self.n):
            c = rx[i]
            if c == 13 or c == 10:
                end = i
                break
            if nibble(c) < 0:
                noise = i
        if noise >= 0:
            self._drop(noise + 1)  # what follows line noise may still be a whole frame
            return BAD
        if end < 0:
            return NONE
        size = end // 2
        p = self.payload
        ok = end % 2 == 0 and size <= len(p)
        for i in range(size if ok else 0):
            p[i] = nibble(rx[2 * i]) << 4 | nibble(rx[2 * i + 1])
        self._drop(end + 1)
        return size if ok else BAD

    def _binary(self):
        rx = self.rx
        spec = self.spec
        skipped = 0
        while skipped < self.n and rx[skipped] != spec["start"]:
            skipped += 1
        if skipped:
            self._drop(skipped)
            return BAD  # bytes before a start byte: line noise
        ls = spec["len_size"]
        if self.n < 1 + ls:
            return NONE
        size = rx[1] << 8 | rx[2] if ls == 2 else rx[1]
        tail = 1 if spec["check"] == "xor" else 2
        if size > len(self.payload) or 1 + ls + size + tail > len(rx):
            self._drop(1)
            return BAD
        total = 1 + ls + size + tail
        if self.n < total:
            return NONE
        k = 1 + ls + size
        c = check(spec, rx, 1, k)
        good = rx[k] == c & 0xFF and (tail == 1 or rx[k + 1] == c >> 8)
        if not good:
            self._drop(1)  # resynchronise on the next start byte
            return BAD
        p = self.payload
        for i in range(size):
            p[i] = rx[1 + ls + i]
        self._drop(total)
        return size
