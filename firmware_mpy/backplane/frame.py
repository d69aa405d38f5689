"""Frames on the wire: SLIP delimiting, a fixed header and a CRC-32 trailer.

Raw frame (before SLIP escaping), little-endian:
    ver u8 | dst u8 | src u8 | seq u8 | type u8 | payload ... | crc32 u32 (over everything before it)
SLIP (RFC 1055) escapes END/ESC with C-level bytes.replace, so framing stays fast on MicroPython too.
"""

import struct
from binascii import crc32

VERSION = 1
HEAD = 0  # the bus master's address; charging points sit at positions 1..12
BROADCAST = 255
MAX_POSITION = 12
HEADER = 5
TRAILER = 4
MAX_FRAME = 1024  # raw bytes; anything longer is line noise or a runaway sender

END = b"\xc0"
ESC = b"\xdb"
_ESC_END = b"\xdb\xdc"
_ESC_ESC = b"\xdb\xdd"


class FrameError(ValueError):
    """A frame that cannot be trusted: bad length, CRC or version. Counted, never applied."""


def encode(dst, src, seq, mtype, payload=b""):
    """Header + payload + CRC, SLIP-escaped and wrapped in END bytes (leading END flushes line noise)."""
    raw = bytearray(struct.pack("<BBBBB", VERSION, dst, src, seq & 0xFF, mtype))
    raw += payload
    raw += struct.pack("<I", crc32(raw) & 0xFFFFFFFF)
    return END + bytes(raw).replace(ESC, _ESC_ESC).replace(END, _ESC_END) + END


def unescape(body):
    """The raw frame inside one SLIP-delimited chunk (no END bytes)."""
    return body.replace(_ESC_END, END).replace(_ESC_ESC, ESC)


def decode(raw):
    """(dst, src, seq, type, payload) of a raw frame; FrameError if it cannot be trusted."""
    n = len(raw)
    if n < HEADER + TRAILER or n > MAX_FRAME:
        raise FrameError("length %d" % n)
    body = raw[: n - TRAILER]
    if crc32(body) & 0xFFFFFFFF != struct.unpack("<I", raw[n - TRAILER :])[0]:
        raise FrameError("crc")
    if raw[0] != VERSION:
        raise FrameError("version %d" % raw[0])
    return raw[1], raw[2], raw[3], raw[4], bytes(body[HEADER:])


def peek_dst(raw):
    """Destination byte of a raw frame, read before the CRC check so others' frames are skipped cheaply."""
    return raw[1] if len(raw) > 1 else -1


class Deframer:
    """Collects a byte stream into raw frames; bounded buffer, so garbage cannot exhaust memory."""

    def __init__(self, limit=2 * MAX_FRAME + 8):
        self.buf = bytearray()
        self.limit = limit
        self.overruns = 0

    def feed(self, data):
        """Append received bytes; return the list of complete raw frames (still unchecked)."""
        buf = self.buf
        buf.extend(data)
        frames = []
        start = 0
        while True:
            i = buf.find(END, start)
            if i < 0:
                break
            if i > start:
                frames.append(unescape(bytes(buf[start:i])))
            start = i + 1
        if start:
            self.buf = buf = buf[start:]
        if len(buf) > self.limit:
            # No END for too long: drop the garbage and wait for the next frame start.
            self.overruns += 1
            self.buf = bytearray()
        return frames
