"""Modbus RTU master for the IO module's energy meter: framing, CRC-16/Modbus, functions 03/04 (reads) and
06/16 (writes: a signing meter's transaction commands, iomodule/signing.py).

Non-blocking: `start` writes one request, `poll` collects the answer over the following control ticks and
reports PENDING until the frame is complete, failed or timed out, so a 10 ms tick never waits on the
line. Buffers are allocated once; a poll allocates nothing. The port is anything with `write(buf)` and a
non-blocking `readinto(buf) -> count or None` (machine.UART with timeout=0, pyserial with timeout=0;
`UartPort` below adds the RS-485 direction pin). Common subset of MicroPython and CPython.
"""

READ_HOLDING = 3
READ_INPUT = 4
WRITE_SINGLE = 6
WRITE_MULTIPLE = 16
MAX_REGS = 125  # the protocol's limit for one read
MAX_WRITE = 123  # and for one write multiple

PENDING = 0
DONE = 1
TIMEOUT = -1  # no complete answer in time (nothing or a truncated frame)
BAD_CRC = -2
BAD_FRAME = -3  # wrong unit, function or byte count
EXCEPTION = -4  # the meter answered with an exception; `exception_code` says which


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        t.append(c)
    return tuple(t)


_TABLE = _crc_table()


def crc16(buf, n, start=0):
    """CRC-16/Modbus (poly 0xA001 reflected, init 0xFFFF) of buf[start:n]; sent low byte first."""
    crc = 0xFFFF
    t = _TABLE
    for i in range(start, n):
        crc = (crc >> 8) ^ t[(crc ^ buf[i]) & 0xFF]
    return crc


def silence_ms(baud):
    """The 3.5-character gap that ends a frame (11 bits a character); fixed 1.75 ms above 19200 baud."""
    if baud > 19200:
        return 2
    return (35 * 11 * 1000 + 10 * baud - 1) // (10 * baud)


class RtuMaster:
    def __init__(self, port, baud, timeout_ms=250):
        self.port = port
        self.timeout_ms = timeout_ms
        self.silence_ms = silence_ms(baud)
        # a request takes this long on the wire before the meter can start answering
        self.tx_ms = (8 * 11 * 1000 + baud - 1) // baud
        self.tx = bytearray(8)
        self.sent = self.tx  # the open request's frame
        self.frame_ms = self.tx_ms  # the open request's time on the wire
        self.rx = bytearray(5 + 2 * MAX_REGS)
        self.chunk = bytearray(32)
        self.busy = False
        self.owner = None  # who sent the open request (several drivers can share one line, one unit each)
        self.n = 0  # bytes received of the current answer
        self.expect = 0
        self.unit = 0
        self.function = 0
        self.sent_at = 0
        self.quiet_since = -1000000  # last time the line carried anything we sent or heard
        self.exception_code = 0

    def ready(self, now_ms):
        """True when no request is open and the line has been quiet for the inter-frame gap."""
        return not self.busy and now_ms - self.quiet_since >= self.silence_ms

    def start(self, now_ms, unit, function, address, count, owner=None):
        """Send a read request (function 3 or 4) for `count` registers from `address`; `owner` is told
        apart from other users of the line by `owner` until the request ends."""
        if count < 1 or count > MAX_REGS:
            raise ValueError("register count must be within 1..125")
        self._send(now_ms, unit, function, address, count, self.tx, owner)
        self.expect = 5 + 2 * count

    def write(self, now_ms, unit, address, words, count=1, owner=None):
        """Write registers from `address`: one (function 06, `words` the value) or `count` of them from the
        sequence `words` (function 16; its frame is built anew: a signing meter's metadata, once a
        session). The answer (an echo) is DONE once `poll` has it."""
        if count == 1 and isinstance(words, int):
            self._send(now_ms, unit, WRITE_SINGLE, address, words, self.tx, owner)
            return
        if count < 1 or count > MAX_WRITE:
            raise ValueError("register count must be within 1..123")
        tx = bytearray(9 + 2 * count)
        tx[6] = 2 * count
        for i in range(count):
            tx[7 + 2 * i] = words[i] >> 8
            tx[8 + 2 * i] = words[i] & 0xFF
        self._send(now_ms, unit, WRITE_MULTIPLE, address, count, tx, owner)

    def _send(self, now_ms, unit, function, address, value, tx, owner):
        self._drain()  # late bytes of an answer we gave up on must not start this one
        tx[0] = unit
        tx[1] = function
        tx[2] = address >> 8
        tx[3] = address & 0xFF
        tx[4] = value >> 8
        tx[5] = value & 0xFF
        n = len(tx) - 2
        crc = crc16(tx, n)
        tx[n] = crc & 0xFF
        tx[n + 1] = crc >> 8
        self.port.write(tx)
        self.sent = tx
        self.unit = unit
        self.function = function
        self.owner = owner
        self.n = 0
        self.busy = True
        self.sent_at = now_ms
        self.frame_ms = self.tx_ms * len(tx) // 8
        self.quiet_since = now_ms + self.frame_ms
        self.expect = 8  # a write's echo; a read sets its own

    def poll(self, now_ms):
        """Collect what arrived; return PENDING, DONE (registers in `word(i)`) or an error code."""
        if not self.busy:
            return PENDING
        rx = self.rx
        chunk = self.chunk
        while True:
            got = self.port.readinto(chunk)
            if not got:
                break
            self.quiet_since = now_ms
            room = len(rx) - self.n
            if got > room:
                got = room
            for i in range(got):
                rx[self.n + i] = chunk[i]
            self.n += got
        n = self.n
        if n >= 2 and rx[1] == self.function | 0x80:
            if n >= 5:
                return self._finish(self._check(5, EXCEPTION))
        elif n >= self.expect:
            return self._finish(self._check(self.expect, DONE))
        if now_ms - self.sent_at >= self.timeout_ms + self.frame_ms:
            return self._finish(TIMEOUT)
        return PENDING

    def abandon(self):
        """Forget an open request (its late bytes are drained by the next `start`)."""
        self.busy = False

    def word(self, i):
        """Register i (0-based) of the last DONE answer, 0..65535."""
        rx = self.rx
        return (rx[3 + 2 * i] << 8) | rx[4 + 2 * i]

    def _check(self, length, ok):
        rx = self.rx
        crc = crc16(rx, length - 2)
        if rx[length - 2] != crc & 0xFF or rx[length - 1] != crc >> 8:
            return BAD_CRC
        if rx[0] != self.unit:
            return BAD_FRAME
        if ok == EXCEPTION:
            self.exception_code = rx[2]
            return EXCEPTION
        if rx[1] != self.function:
            return BAD_FRAME
        if self.function == WRITE_SINGLE or self.function == WRITE_MULTIPLE:
            tx = self.sent  # the echo of address and value (06) or count (16)
            if rx[2] != tx[2] or rx[3] != tx[3] or rx[4] != tx[4] or rx[5] != tx[5]:
                return BAD_FRAME
        elif rx[2] != length - 5:
            return BAD_FRAME
        return DONE

    def _finish(self, result):
        self.busy = False
        return result

    def _drain(self):
        while self.port.readinto(self.chunk):
            pass


class UartPort:
    """machine.UART as an RTU port; `de` (RS-485 driver enable) is high from a write until the UART's
    transmitter is empty, checked on the next read, so no call waits for the bytes to leave."""

    def __init__(self, machine, uart_id, baud, parity=None, stop=1, tx=None, rx=None, de=None):
        kw = {"baudrate": baud, "bits": 8, "parity": parity, "stop": stop, "timeout": 0}
        if tx is not None:
            kw["tx"] = machine.Pin(tx)
        if rx is not None:
            kw["rx"] = machine.Pin(rx)
        self.uart = machine.UART(uart_id, **kw)
        self.de = machine.Pin(de, machine.Pin.OUT, value=0) if de is not None else None
        self.sending = False

    def write(self, buf):
        if self.de is not None:
            self.de.value(1)
            self.sending = True
        self.uart.write(buf)

    def readinto(self, buf):
        if self.sending and self.uart.txdone():
            self.de.value(0)
            self.sending = False
        if not self.uart.any():
            return 0
        return self.uart.readinto(buf) or 0
