"""The energy meter driver: polls one Modbus RTU meter from the control tick and keeps its last reading.

A poll cycle reads every register block of the meter's map (meters.MAPS), one request per tick at most,
and commits the values only when all blocks answered, so the point never sees half of one reading and
half of the next. `read` answers like hal.Hal.meter_read: True with the values of the last complete
cycle, None before the first one, False once `misses` cycles in a row failed (no answer, bad CRC,
exception, garbled value): the point reports "Energy meter communication error" (error bit 25) from then
until the next complete cycle. A miss in between keeps the last good values (one lost frame on a noisy
line is not a fault). Worst-case detection time: misses * period_ms + timeout.
"""

from iomodule import meters
from iomodule.modbus_rtu import DONE, PENDING

BAD_VALUE = -5  # an answer that decoded to NaN/infinity/absurd float


class MeterDriver:
    def __init__(self, master, meter_map, unit=1, period_ms=1000, misses=3):
        self.master = master
        master.abandon()  # an answer to a previous driver's request is not ours
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

    def poll(self, now_ms):
        """Advance by at most one step: finish or start one request. Call every control tick."""
        m = self.master
        if m.busy:
            r = m.poll(now_ms)
            if r == PENDING:
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
            if self.cycle_at is not None and now_ms - self.cycle_at < self.period_ms:
                return
            if not m.ready(now_ms):
                return
            self.cycle_at = now_ms
        elif not m.ready(now_ms):
            return
        start, count = self.blocks[self.block]
        m.start(now_ms, self.unit, self.function, start, count)

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

    def _commit(self):
        v = self.values
        st = self.staging
        for i in range(meters.SLOTS):
            v[i] = st[i]
        self.block = 0
        self.misses = 0
        self.state = True
        self.cycles += 1

    def _miss(self, reason):
        self.block = 0
        self.failures += 1
        self.last_error = reason
        self.misses += 1
        if self.misses >= self.max_misses:
            self.state = False
