"""The energy meter driver: polls one Modbus RTU meter from the control tick and keeps its last reading.

A poll cycle reads every register block of the meter's map (meters.MAPS), one request per tick at most,
and commits the values only when all blocks answered, so the point never sees half of one reading and
half of the next. `read` answers like hal.Hal.meter_read: True with the values of the last complete
cycle, None before the first one, False once `misses` cycles in a row failed (no answer, bad CRC,
exception, garbled value): the point reports "Energy meter communication error" (error bit 25) from then
until the next complete cycle. A miss in between keeps the last good values (one lost frame on a noisy
line is not a fault). Worst-case detection time: misses * period_ms + timeout.

The meter's identification (serial number, firmware version: the map's `ident` registers) is read once
before the first cycle, and again when the meter answers after it was lost (it may have been replaced):
`ident` is then (serial, firmware), "" for what the type has no register for or did not answer, and
`ident_new` is set until the point took it. A type without such registers reports ("", "") at once.

A signing meter (its map has `signing` registers) has a `signer` (iomodule/signing.py) whose requests go
out on this driver's line between its poll cycles, after the identification: its public key once, and the
transaction start and stop the point asks for (`transaction`).

Several drivers can share one RTU master (one line, one unit each: the point's meter at its address and a
load circuit's higher-level meter at "default + 1", as the manual wires them): a driver only collects the
answers to its own requests and starts one when the line is free.
"""

from iomodule import meters
from iomodule.modbus_rtu import DONE, PENDING
from iomodule.signing import MeterSigner

BAD_VALUE = -5  # an answer that decoded to NaN/infinity/absurd float
IDENT_TRIES = 2  # requests per identification field before it counts as not available


class MeterDriver:
    def __init__(self, master, meter_map, unit=1, period_ms=1000, misses=3):
        self.master = master
        master.abandon()  # an answer to a previous driver's request is not ours (a sharing one sends again)
        self.function = meter_map["function"]
        self.blocks = meter_map["blocks"]
        self.fields = meters.resolve(meter_map)
        self.unit = unit
        self.period_ms = period_ms
        self.max_misses = misses
        self.values = [0] * meters.SLOTS
        self.staging = [0] * meters.SLOTS
        self.block = 0  # next block of the current cycle
        self.cycle_at = None  # start of the current cycle
        self.misses = 0
        self.state = None  # None: no reading yet, True: values valid, False: communication lost
        self.cycles = 0  # complete cycles, and failed ones with the last reason (diagnostics)
        self.failures = 0
        self.last_error = 0
        self.ident_fields = meter_map.get("ident", ())
        self.ident = None
        self.ident_new = False
        self.ident_got = ["", ""]
        self.ident_at = -1  # the identification field being read; -1: none pending
        self.ident_tries = 0
        signing = meter_map.get("signing")
        self.signer = MeterSigner(signing) if signing else None
        self.signing = False  # the open request is the signer's
        if self.ident_fields:
            self.ident_at = 0
        else:
            self._ident_done()

    def poll(self, now_ms):
        """Advance by at most one step: finish or start one request. Call every control tick."""
        m = self.master
        if m.busy:
            if m.owner is not self:
                return  # another unit's request is on the line
            r = m.poll(now_ms)
            if r == PENDING:
                return
            if self.signing:
                self.signing = False
                self.signer.answer(r, m, now_ms)
                return
            if self.ident_at >= 0:
                self._ident_answer(r)
                return
            if r == DONE:
                r = self._decode()
            if r == DONE:
                self.block += 1
                if self.block == len(self.blocks):
                    self._commit()
            else:
                self._miss(r)
            return
        if self.block == 0:
            sg = self.signer
            if sg is not None and self.ident_at < 0 and self.state is not False and sg.due(now_ms):
                if m.ready(now_ms):
                    sg.send(now_ms, m, self.unit, self)
                    self.signing = True
                return
            if self.cycle_at is not None and now_ms - self.cycle_at < self.period_ms:
                return
            if not m.ready(now_ms):
                return
            if self.ident_at >= 0:
                _which, reg, count, _kind = self.ident_fields[self.ident_at]
                m.start(now_ms, self.unit, self.function, reg, count, self)
                return
            self.cycle_at = now_ms
        elif not m.ready(now_ms):
            return
        start, count = self.blocks[self.block]
        m.start(now_ms, self.unit, self.function, start, count, self)

    def read(self, buf):
        if self.state:
            v = self.values
            for i in range(meters.SLOTS):
                buf[i] = v[i]
        return self.state

    def _decode(self):
        m = self.master
        st = self.staging
        try:
            for slot, offset, typ, order, mul, div in self.fields[self.block]:
                st[slot] = meters.scaled(m, offset, typ, order, mul, div)
        except ValueError:
            return BAD_VALUE
        return DONE

    def _ident_answer(self, r):
        which, _reg, count, kind = self.ident_fields[self.ident_at]
        self.ident_tries += 1
        if r == DONE:
            self.ident_got[which] = meters.ident_value(self.master, count, kind)
        elif self.ident_tries < IDENT_TRIES:
            return  # asked again at the next free slot
        self.ident_tries = 0
        self.ident_at += 1
        if self.ident_at == len(self.ident_fields):
            self._ident_done()

    def _ident_done(self):
        self.ident = (self.ident_got[0], self.ident_got[1])
        self.ident_new = True
        self.ident_at = -1

    def _commit(self):
        v = self.values
        st = self.staging
        for i in range(meters.SLOTS):
            v[i] = st[i]
        self.block = 0
        self.misses = 0
        if self.state is False and self.ident_fields:
            self.ident_got[0] = self.ident_got[1] = ""
            self.ident_at = 0  # answering again after a loss: perhaps another meter, identify it anew
            if self.signer is not None:
                self.signer.rekey()
        self.state = True
        self.cycles += 1

    def _miss(self, reason):
        self.block = 0
        self.failures += 1
        self.last_error = reason
        self.misses += 1
        if self.misses >= self.max_misses:
            self.state = False


class MeterLine:
    """The point's meter line: its meter at `unit` and, where a load circuit wants it, the circuit's
    higher-level meter of the same type at `unit` + 1 (the manual: "default setting + 1"), one RTU master
    shared by both drivers. A type re-sent unchanged keeps its driver (its reading and miss count)."""

    def __init__(self, master, unit=1, period_ms=1000, misses=3):
        self.master = master
        self.unit = unit
        self.period_ms = period_ms
        self.misses = misses
        self.meter_type = "none"
        self.meter = None
        self.higher_type = "none"
        self.higher = None

    def fit(self, meter_type, higher_type):
        if meter_type != self.meter_type:
            self.meter_type = meter_type
            self.meter = self._driver(meter_type, self.unit)
        if higher_type != self.higher_type:
            self.higher_type = higher_type
            self.higher = self._driver(higher_type, self.unit + 1)

    def _driver(self, meter_type, unit):
        mp = meters.MAPS.get(meter_type)
        return MeterDriver(self.master, mp, unit, self.period_ms, self.misses) if mp else None

    def poll(self, now_ms):
        first = self.meter
        second = self.higher
        if self.master.owner is first:  # the other one asks first: they take the line in turns
            first, second = second, first
        if first is not None:
            first.poll(now_ms)
        if second is not None:
            second.poll(now_ms)

    def read(self, buf):
        return self.meter.read(buf) if self.meter is not None else False

    def higher_read(self, buf):
        return self.higher.read(buf) if self.higher is not None else None

    def ident(self):
        d = self.meter
        if d is None or not d.ident_new:
            return None
        d.ident_new = False
        return d.ident

    def transaction(self, start, session):
        """The point's session `session` starts (True) or ends: a signing meter's transaction follows it."""
        sg = self.meter.signer if self.meter is not None else None
        if sg is not None:
            if start:
                sg.begin(session)
            else:
                sg.end(session)

    def clock(self, utc_s, tz_min, at_ms):
        """The wall clock a signing meter's clock is set from before each transaction."""
        sg = self.meter.signer if self.meter is not None else None
        if sg is not None:
            sg.set_clock(utc_s, tz_min, at_ms)

    def key(self):
        """A signing meter's public key (hex) once it was read, then None until it is read anew."""
        sg = self.meter.signer if self.meter is not None else None
        if sg is None or not sg.key_new:
            return None
        sg.key_new = False
        return sg.key

    def signed(self):
        """[session, OCMF record or "", 0 or why not] once a transaction ended, then None."""
        sg = self.meter.signer if self.meter is not None else None
        if sg is None or not sg.signed_new:
            return None
        sg.signed_new = False
        return sg.signed
