"""The RFID reader driver: polls one reader from the control tick and reports each card once.

Non-blocking like the meter's RTU master: `poll` reads what arrived, cuts it into frames (framing.py)
and, for a polled reader, sends the next request when the last one was answered or timed out, so a tick
never waits on the line. `poll` returns the UID's length when a card arrived (its bytes in `uid`), else 0;
a card that stays in the field is reported once (a push reader's repeat of the same card within
`hold_ms` too). Garbage, truncated frames and silence raise nothing: each is a miss, and SPEC["misses"]
misses in a row make `state` False (the point reports "RFID reader error") until the next good answer.
`state` is None until the reader first answered. Buffers are allocated once; a poll allocates nothing.
"""

from iomodule.rfid.framing import BAD, NONE, Framer, encode

MAX_UID = 16
MIN_UID = 4  # no card has a shorter UID (ISO 14443: 4, 7 or 10 bytes; EM4100: 5): shorter is line noise


class RfidReader:
    def __init__(self, port, spec, hold_ms=2000):
        self.port = port
        self.spec = spec
        self.framer = Framer(spec)
        self.chunk = bytearray(32)
        self.request = spec["request"]
        self.period_ms = spec["period_ms"]
        self.timeout_ms = spec["timeout_ms"]
        self.max_misses = spec["misses"]
        self.hold_ms = hold_ms
        self.uid = bytearray(MAX_UID)
        self.held = bytearray(MAX_UID)  # the card in the field at the last answer
        self.held_n = 0
        self.held_at = 0
        self.tx = bytearray(24)  # one queued command frame (the CHARX board's display)
        self.tx_n = 0
        self.waiting = False
        self.sent_at = 0
        self.next_at = 0
        self.misses = 0
        self.state = None
        self.firmware = -1  # major * 256 + minor where the reader tells
        self.answers = 0  # diagnostics
        self.bad = 0
        self.timeouts = 0

    def send(self, payload, n):
        """Queue one command (payload[0:n]) for the next free moment of the line."""
        self.tx_n = encode(self.spec, payload, n, self.tx)

    def poll(self, now_ms):
        port = self.port
        framer = self.framer
        chunk = self.chunk
        while True:
            got = port.readinto(chunk)
            if not got:
                break
            framer.feed(chunk, got)
        card = 0
        while not card:  # one card per poll; a later frame waits in the framer for the next one
            size = framer.next()
            if size == NONE:
                break
            if size == BAD:
                self._miss()
            else:
                card = self._answer(now_ms, size)
        if self.request is None:
            if self.tx_n:
                port.write(memoryview(self.tx)[: self.tx_n])
                self.tx_n = 0
            return card
        if self.waiting and now_ms - self.sent_at >= self.timeout_ms:
            self.waiting = False
            self.timeouts += 1
            framer.clear()  # a truncated answer must not prefix the next one
            self._miss()
        if not self.waiting:
            if self.tx_n:
                port.write(memoryview(self.tx)[: self.tx_n])
                self.tx_n = 0
                self._sent(now_ms)
            elif now_ms - self.next_at >= 0:
                port.write(self.request)
                self._sent(now_ms)
                self.next_at = now_ms + self.period_ms
        return card

    def _sent(self, now_ms):
        self.waiting = True
        self.sent_at = now_ms

    def _miss(self):
        self.waiting = False
        self.bad += 1
        self.misses += 1
        if self.misses >= self.max_misses:
            self.state = False

    def _answer(self, now_ms, size):
        spec = self.spec
        p = self.framer.payload
        at = spec["status"]
        if at >= 0 and size <= at:
            self._miss()
            return 0
        self.waiting = False
        self.misses = 0
        self.state = True
        self.answers += 1
        if spec["ack"] >= 0 and p[0] == spec["ack"]:
            return 0
        if at >= 0 and p[at] != spec["status_ok"]:
            self.held_n = 0  # a well-formed "no card"
            return 0
        fw = spec["firmware"]
        if fw >= 0 and size > fw + 1:
            self.firmware = p[fw] << 8 | p[fw + 1]
        at = spec["found"]
        if at >= 0 and (size <= at or p[at] == 0):
            self.held_n = 0
            return 0
        start = spec["uid"]
        at = spec["length"]
        n = p[at] if 0 <= at < size else size - start
        if n > MAX_UID or 0 < n < MIN_UID or start + n > size or (at >= 0 and at >= size):
            self._miss()
            return 0
        return self._card(now_ms, p, start, n)

    def _card(self, now_ms, p, start, n):
        held = self.held
        same = n == self.held_n
        for i in range(n):
            if held[i] != p[start + i]:
                same = False
            held[i] = p[start + i]
        self.held_n = n
        if n == 0:
            return 0
        if same and self.request is not None:
            return 0  # polled: still the same card in the field
        if same and now_ms - self.held_at < self.hold_ms:
            self.held_at = now_ms  # pushed again while held: one presentation
            return 0
        self.held_at = now_ms
        uid = self.uid
        for i in range(n):
            uid[i] = held[i]
        return n
