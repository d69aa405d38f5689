"""Modbus RTU codec and meter decoding checks in the common subset: run by pytest on CPython and by the
real micropython binary. `run_all` returns the list of check names that passed (a failure raises)."""

import struct

from iomodule import meters
from iomodule.meter import MeterDriver, MeterLine
from iomodule.modbus_rtu import BAD_CRC, DONE, EXCEPTION, PENDING, TIMEOUT, RtuMaster, crc16


class ScriptedMeter:
    """An RTU slave in the same process: answers read requests from `regs` {address: word} and writes
    (06, 16) into them (calling `written(address, count)`), handing out at most `chunk` bytes per readinto
    so answers arrive over several ticks. `mode`: "ok", "silent", "bad_crc", "exception"."""

    def __init__(self, unit, regs, chunk=7):
        self.unit = unit
        self.regs = regs
        self.chunk = chunk
        self.mode = "ok"
        self.out = bytearray()
        self.requests = []

    def write(self, buf):
        req = bytes(buf)
        self.requests.append(req)
        if self.mode == "silent" or req[0] != self.unit:
            return
        fn = req[1]
        addr = (req[2] << 8) | req[3]
        count = (req[4] << 8) | req[5]
        if self.mode == "exception":
            ans = bytearray([self.unit, fn | 0x80, 2])
        elif fn == 6 or fn == 16:
            if fn == 6:
                self.regs[addr] = count
                n = 1
            else:
                n = count
                for i in range(n):
                    self.regs[addr + i] = (req[7 + 2 * i] << 8) | req[8 + 2 * i]
            ans = bytearray(req[:6])
            self.written(addr, n)
        else:
            ans = bytearray([self.unit, fn, 2 * count])
            for a in range(addr, addr + count):
                w = self.regs.get(a, 0)
                ans.append(w >> 8)
                ans.append(w & 0xFF)
        crc = crc16(ans, len(ans))
        ans.append(crc & 0xFF)
        ans.append(crc >> 8)
        if self.mode == "bad_crc":
            ans[-1] ^= 0x40
        self.out.extend(ans)

    def written(self, address, count):
        pass

    def readinto(self, buf):
        n = min(len(buf), self.chunk, len(self.out))
        for i in range(n):
            buf[i] = self.out[i]
        self.out = self.out[n:]
        return n


class Registers:
    """Registers as an answer: `word(i)`, like RtuMaster after DONE."""

    def __init__(self, regs):
        self.regs = regs

    def word(self, i):
        return self.regs.get(i, 0)


class ReplayPort:
    """Answers each request with a fixed frame built in advance (one per unit and block or identification
    field of a map, found by the request's unit and address) and allocates nothing: for the allocation
    checks and bench/bench_meter.py. `regs` is one dict, or one per unit of `units`."""

    def __init__(self, meter_map, regs, units=(1,)):
        self.answers = {}
        fn = meter_map["function"]
        spans = [(fn, r, n) for r, n in meter_map["blocks"]]
        spans += [(fn, reg, n) for _which, reg, n, _kind in meter_map.get("ident", ())]
        if "signing" in meter_map:  # a signing meter's public key, read once
            spans.append((3, meter_map["signing"]["key"], meter_map["signing"]["key_regs"]))
        for k, unit in enumerate(units):
            for function, start, n in spans:
                m = ScriptedMeter(unit, regs if isinstance(regs, dict) else regs[k])
                m.write(bytes([unit, function, start >> 8, start & 0xFF, 0, n]))
                self.answers[(unit << 16) | start] = bytearray(m.out)
        self.answer = self.answers[(units[0] << 16) | spans[0][1]]
        self.pos = len(self.answer)

    def write(self, buf):
        self.answer = self.answers[(buf[0] << 16) | (buf[2] << 8) | buf[3]]
        self.pos = 0

    def readinto(self, buf):
        n = len(self.answer) - self.pos
        if n > len(buf):
            n = len(buf)
        for i in range(n):
            buf[i] = self.answer[self.pos + i]
        self.pos += n
        return n


def allocated(step, t, ticks):
    """Bytes allocated by `ticks` calls of step(t), t advancing 10 ms a call (MicroPython's gc)."""
    import gc

    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(ticks):
        t += 10
        step(t)
    used = gc.mem_alloc() - before
    gc.enable()
    return used


def em24_driver_without_allocation(cycles):
    """Bytes allocated by `cycles` EM24 poll cycles after a warm-up one (0 expected on MicroPython)."""
    mp = meters.MAPS["em24"]
    port = ReplayPort(mp, em24_regs((2301, 2302, 2303), (16000, 15000, 100), 73600, 990, 500, 123456))
    drv = MeterDriver(RtuMaster(port, 9600, 100), mp, period_ms=100)
    buf = [0] * meters.SLOTS

    def step(t):
        drv.poll(t)
        drv.read(buf)

    used = allocated(step, run_driver(drv, 0, 200), cycles * 10)
    assert drv.cycles >= cycles and drv.failures == 0 and buf[meters.I1] == 16000
    return used


def put32(regs, addr, value, order):
    v = value & 0xFFFFFFFF
    hi, lo = v >> 16, v & 0xFFFF
    regs[addr], regs[addr + 1] = (lo, hi) if order == meters.LSW else (hi, lo)


def putf(regs, addr, value):
    b = struct.pack(">f", value)
    regs[addr] = (b[0] << 8) | b[1]
    regs[addr + 1] = (b[2] << 8) | b[3]


def em24_regs(u_dv, i_ma, w_dw, pf, hz_d, kwh_d):
    """EM24 registers: voltages in V*10, currents in mA, power in W*10, PF*1000, Hz*10, kWh*10."""
    r = {}
    for k in range(3):
        put32(r, 0x0000 + 2 * k, u_dv[k], meters.LSW)
        put32(r, 0x000C + 2 * k, i_ma[k], meters.LSW)
    put32(r, 0x0028, w_dw, meters.LSW)
    r[0x0035] = pf & 0xFFFF
    r[0x0037] = hz_d
    put32(r, 0x003E, kwh_d, meters.LSW)
    return r


def check_crc():
    assert crc16(b"123456789", 9) == 0x4B37  # the CRC-16/MODBUS check value
    req = bytes([0x01, 0x03, 0x00, 0x00, 0x00, 0x0A])
    assert crc16(req, 6) == 0xCDC5  # sent as C5 CD


def check_decode():
    regs = {}
    put32(regs, 0, -123456, meters.LSW)
    put32(regs, 2, 0xFFFFFFFE, meters.MSW)
    putf(regs, 4, 230.5)
    regs[6] = 0xFFFF
    for k, w in enumerate((0x0001, 0x0000, 0x0000, 0x0000)):  # u64 LSW first: 1
        regs[8 + k] = w
    regs[12], regs[13] = 0x7FC0, 0x0000  # a NaN

    word = Registers(regs)

    assert meters.decode(word, 0, meters.S32, meters.LSW) == -123456
    assert meters.decode(word, 2, meters.U32, meters.MSW) == 0xFFFFFFFE
    assert meters.decode(word, 6, meters.S16, meters.MSW) == -1
    assert meters.decode(word, 6, meters.U16, meters.MSW) == 0xFFFF
    assert meters.decode(word, 8, meters.U64, meters.LSW) == 1
    assert meters.scaled(word, 4, meters.F32, meters.MSW, 1000, 1) == 230500
    assert isinstance(meters.scaled(word, 4, meters.F32, meters.MSW, 1000, 1), int)
    try:
        meters.decode(word, 12, meters.F32, meters.MSW)
    except ValueError:
        pass
    else:
        raise AssertionError("NaN accepted")


def check_maps():
    for name in meters.MAPS:
        fields = meters.resolve(meters.MAPS[name])  # every field inside a block
        assert len(fields) == len(meters.MAPS[name]["blocks"])
    for bad in (
        {"blocks": ((0, 2),), "fields": ((meters.U1, 1, meters.S32, meters.MSW, 1, 1),)},
        {"blocks": ((0, 12),), "max_read": 11, "fields": ()},
    ):
        try:
            meters.resolve(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("map accepted: %r" % bad)


def run_driver(drv, t0, t1, step=10):
    t = t0
    while t < t1:
        drv.poll(t)
        t += step
    return t


def check_master_errors():
    meter = ScriptedMeter(1, {0: 0x1234})
    m = RtuMaster(meter, 9600, timeout_ms=100)
    assert m.silence_ms == 5  # 3.5 characters of 11 bits at 9600 baud
    for mode, want in (("ok", DONE), ("bad_crc", BAD_CRC), ("exception", EXCEPTION), ("silent", TIMEOUT)):
        meter.mode = mode
        t = 1000 * (1 + len(meter.requests))
        m.start(t, 1, 4, 0, 1)
        r = PENDING
        while r == PENDING:
            t += 10
            r = m.poll(t)
        assert r == want, (mode, r)
    assert m.exception_code == 2
    assert meter.requests[0] == bytes([1, 4, 0, 0, 0, 1, 0x31, 0xCA])


def check_driver_cycle_and_loss():
    regs = em24_regs((2301, 2302, 2303), (16000, 15000, -100), 110400, -990, 500, 123456)
    meter = ScriptedMeter(7, regs)
    drv = MeterDriver(RtuMaster(meter, 9600, 100), meters.MAPS["em24"], unit=7, period_ms=500, misses=3)
    buf = [0] * meters.SLOTS
    assert drv.read(buf) is None  # nothing yet: no values, no error
    t = run_driver(drv, 0, 400)
    assert drv.read(buf) is True
    assert buf == [230100, 230200, 230300, 16000, 15000, -100, 11040000, 12345600, -990, 50000]
    # the meter falls silent: the last values hold for two missed cycles, the third reports the loss
    meter.mode = "silent"
    t = run_driver(drv, t, t + 1000)
    assert drv.misses == 2 and drv.read(buf) is True
    t = run_driver(drv, t, t + 500)
    assert drv.misses == 3 and drv.read(buf) is False and drv.last_error == TIMEOUT
    meter.mode = "ok"
    regs[0x003E] = 0  # energy moved on: 123456 -> 65536 * 2 kWh*10 (LSW first)
    regs[0x003F] = 2
    t = run_driver(drv, t, t + 600)
    assert drv.read(buf) is True and buf[meters.ENERGY] == 131072 * 100 and drv.misses == 0


def pro380_regs():
    """PRO380 registers (float32): 230.1/229.9/231.0 V, 49.98 Hz, 16/15.5/0.25 A, 11.04 kW, PF 0.99,
    1234.5 kWh."""
    regs = {}
    for k, v in enumerate((230.1, 229.9, 231.0)):
        putf(regs, 0x5002 + 2 * k, v)
    putf(regs, 0x5008, 49.98)
    for k, v in enumerate((16.0, 15.5, 0.25)):
        putf(regs, 0x500C + 2 * k, v)
    putf(regs, 0x5012, 11.04)
    putf(regs, 0x502A, 0.99)
    putf(regs, 0x600C, 1234.5)
    return regs


def check_pro380_values(buf):
    assert buf[meters.I1] == 16000 and buf[meters.I2] == 15500 and buf[meters.I3] == 250
    assert abs(buf[meters.U1] - 230100) <= 1 and abs(buf[meters.POWER] - 11040000) <= 2
    assert buf[meters.ENERGY] == 1234500 and abs(buf[meters.FREQ] - 49980) <= 1
    assert abs(buf[meters.PF] - 990) <= 1


# one reading in the point's units, used for every map: 230.1/230.2/229.9 V, 16/15.5/0.25 A, 11.04 kW,
# 1234.567 kWh, PF 0.99, 49.98 Hz
READING = [230100, 230200, 229900, 16000, 15500, 250, 11040000, 1234567, 990, 49980]


def expected_reading(name):
    """READING as the map carries it: slots it has no register for read 0; each value to the resolution
    of its register (one unit of it, or 1 % of the register's float precision)."""
    mp = all_maps()[name]
    out = [0] * meters.SLOTS
    for slot, _reg, _typ, _order, _mul, _div in mp["fields"]:
        out[slot] = READING[slot]
    return out


def close_enough(name, got):
    """got matches expected_reading(name) within the resolution of each field's register."""
    mp = all_maps()[name]
    want = expected_reading(name)
    tolerance = [0] * meters.SLOTS
    for slot, _reg, typ, _order, mul, div in mp["fields"]:
        if typ == meters.F32:
            tolerance[slot] = 1 + abs(want[slot]) // 1000000  # float32: 24 bits of mantissa
        else:
            tolerance[slot] = max(mul // div, 1)
    for k in range(meters.SLOTS):
        if abs(got[k] - want[k]) > tolerance[k]:
            return False
    return True


def all_maps():
    out = dict(meters.MAPS)
    out.update(meters.HIGHER_LEVEL)
    return out


def check_every_map_through_the_driver():
    """Every map, RS-485 and higher level: its encoded registers decode to the same reading through the
    RTU master and the driver (one poll cycle, every block)."""
    for name in all_maps():
        mp = all_maps()[name]
        meter = ScriptedMeter(3, meters.encode(mp, READING))
        drv = MeterDriver(RtuMaster(meter, 19200, 100), mp, unit=3, period_ms=1000)
        run_driver(drv, 0, 400)
        buf = [0] * meters.SLOTS
        assert drv.read(buf) is True, (name, drv.last_error)
        # one request per block, and per identification field (and a signing meter's key) once
        signing = 1 if "signing" in mp else 0
        assert len(meter.requests) == len(mp["blocks"]) + len(mp.get("ident", ())) + signing
        assert meter.requests[0][1] == mp["function"]
        assert close_enough(name, buf), (name, buf)


class Line:
    """An RS-485 line with several meters on it: each sees every request, the addressed one answers."""

    def __init__(self, *meters_on_it):
        self.meters = meters_on_it

    def write(self, buf):
        for m in self.meters:
            m.write(buf)

    def readinto(self, buf):
        for m in self.meters:
            n = m.readinto(buf)
            if n:
                return n
        return 0


def check_two_meters_on_one_line():
    """The point's meter (unit 1) and a higher-level meter at "default + 1" (unit 2, same type) on one
    line and one master: each driver gets its own meter's reading, every cycle, and loses only its own."""
    mp = meters.MAPS["em24"]
    upstream = [v * 3 for v in READING]
    point_meter = ScriptedMeter(1, meters.encode(mp, READING))
    upstream_meter = ScriptedMeter(2, meters.encode(mp, upstream))
    master = RtuMaster(Line(point_meter, upstream_meter), 9600, 100)
    own = MeterDriver(master, mp, unit=1, period_ms=1000)
    high = MeterDriver(master, mp, unit=2, period_ms=1000)
    buf = [0] * meters.SLOTS
    t = 0
    while t < 3000:
        own.poll(t)
        high.poll(t)
        t += 10
    assert own.read(buf) is True and buf[meters.I1] == READING[meters.I1] and own.failures == 0
    assert high.read(buf) is True and buf[meters.I1] == upstream[meters.I1] and high.failures == 0
    assert own.cycles >= 3 and high.cycles >= 3
    upstream_meter.mode = "silent"
    while t < 8000:
        own.poll(t)
        high.poll(t)
        t += 10
    assert high.read(buf) is False and own.read(buf) is True and own.failures == 0


def run_line(line, t, until):
    """Poll a MeterLine every 10 ms from t to `until`; returns the time reached."""
    while t < until:
        line.poll(t)
        t += 10
    return t


def check_meter_line_higher_meter_and_ident():
    """MeterLine: the point's meter (unit 1) and the load circuit's higher-level meter of the same type at
    unit 2 on one line; each identified once at its start; the higher-level meter lost is reported lost
    (False) while the point's meter keeps reading; re-fitting the same types keeps both drivers."""
    mp = meters.MAPS["em24"]
    upstream = [v * 3 for v in READING]
    own_regs = meters.encode(mp, READING)
    own_regs.update(meters.encode_ident(mp, "CG1234567", "1.2.3"))
    up_regs = meters.encode(mp, upstream)
    up_regs.update(meters.encode_ident(mp, "CG7654321", "2.0.11"))
    point_meter = ScriptedMeter(1, own_regs)
    upstream_meter = ScriptedMeter(2, up_regs)
    line = MeterLine(RtuMaster(Line(point_meter, upstream_meter), 9600, 100), 1, 1000, 3)
    line.fit("em24", "em24")
    buf = [0] * meters.SLOTS
    assert line.higher_read(buf) is None and line.ident() is None  # nothing read yet
    t = 0
    t = run_line(line, t, 3000)
    assert line.read(buf) is True and buf[meters.I1] == READING[meters.I1]
    assert line.higher_read(buf) is True and buf[meters.I1] == upstream[meters.I1]
    assert line.ident() == ("CG1234567", "1.2.3") and line.ident() is None  # reported once
    assert line.higher.ident == ("CG7654321", "2.0.11")
    ident_hi = {reg >> 8 for _which, reg, _n, _kind in mp["ident"]}
    idents = [r for r in point_meter.requests if r[0] == 1 and r[2] in ident_hi]
    assert len(idents) == 2  # serial and firmware, once each: not in every cycle
    own, high = line.meter, line.higher
    line.fit("em24", "em24")
    assert line.meter is own and line.higher is high
    upstream_meter.mode = "silent"
    t = run_line(line, t, 8000)
    assert line.higher_read(buf) is False and line.read(buf) is True and own.failures == 0
    upstream_meter.mode = "ok"
    t = run_line(line, t, 11000)
    assert line.higher_read(buf) is True and buf[meters.I1] == upstream[meters.I1]
    line.fit("em24", "none")
    assert line.higher is None and line.higher_read(buf) is None and line.meter is own


def check_ident_not_available():
    """A type without identification registers reports ("", "") at once; a meter refusing them is not
    available either and still read; answering again after a loss it is identified anew; garbled text
    registers give what is printable, never an exception."""
    plain = MeterLine(RtuMaster(ScriptedMeter(1, {}), 9600, 100), 1, 1000, 3)
    plain.fit("em340", "none")
    assert plain.ident() == ("", "") and plain.ident() is None
    mp = meters.MAPS["pro380"]  # numbers: a U32 serial number and firmware version
    regs = pro380_regs()
    regs.update(meters.encode_ident(mp, "12345678", "1.2.7"))
    pro = MeterLine(RtuMaster(ScriptedMeter(1, regs), 9600, 100), 1, 1000, 3)
    pro.fit("pro380", "none")
    run_line(pro, 0, 2000)
    assert pro.ident() == ("12345678", "127")
    mp = meters.MAPS["wm3m4"]
    regs = meters.encode(mp, READING)
    regs.update(meters.encode_ident(mp, "79123456", ""))
    meter = ScriptedMeter(1, regs)
    meter.mode = "exception"
    line = MeterLine(RtuMaster(meter, 9600, 100), 1, 1000, 3)
    line.fit("wm3m4", "none")
    buf = [0] * meters.SLOTS
    t = 0
    t = run_line(line, t, 6000)
    assert line.ident() == ("", "") and line.read(buf) is False
    meter.mode = "ok"
    t = run_line(line, t, 9000)
    assert line.read(buf) is True and line.ident() == ("79123456", "")
    regs[9], regs[10], regs[11], regs[12] = 0xFF41, 0x0742, 0x2020, 0x8000  # garbage and padding
    meter.mode = "silent"
    t = run_line(line, t, 14000)
    meter.mode = "ok"
    t = run_line(line, t, 17000)
    assert line.read(buf) is True and line.ident() == ("AB", "")


class NoiseLine:
    """A line that answers every request with 40 bytes of noise (deterministic pseudo-random)."""

    def __init__(self):
        self.x = 12345
        self.left = 0

    def write(self, buf):
        self.left = 40

    def readinto(self, buf):
        n = min(5, self.left)
        for i in range(n):
            self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
            buf[i] = self.x >> 16 & 0xFF
        self.left -= n
        return n


def check_noise_on_the_line():
    """Noise instead of answers: both meters end up lost, nothing raises, nothing is identified but ""."""
    line = MeterLine(RtuMaster(NoiseLine(), 9600, 100), 1, 1000, 3)
    line.fit("em24", "em24")
    buf = [0] * meters.SLOTS
    t = 0
    t = run_line(line, t, 10000)
    assert line.read(buf) is False and line.higher_read(buf) is False
    assert line.ident() == ("", "")


def line_without_allocation(cycles):
    """Bytes allocated by `cycles` poll cycles of an EM24 and its higher-level meter on one line after the
    warm-up (identification, first cycle): 0 expected on MicroPython."""
    mp = meters.MAPS["em24"]
    own = em24_regs((2301, 2302, 2303), (16000, 15000, 100), 73600, 990, 500, 123456)
    high = em24_regs((2301, 2302, 2303), (46000, 45000, 30100), 173600, 990, 500, 923456)
    own.update(meters.encode_ident(mp, "A1", "1.0.0"))
    line = MeterLine(RtuMaster(ReplayPort(mp, [own, high], (1, 2)), 9600, 100), 1, 100, 3)
    line.fit("em24", "em24")
    buf = [0] * meters.SLOTS
    t = 0
    t = run_line(line, t, 2000)
    line.ident()

    def step(t):
        line.poll(t)
        line.read(buf)
        line.higher_read(buf)
        line.ident()

    used = allocated(step, t, cycles * 10)
    assert line.read(buf) is True and buf[meters.I1] == 16000, (line.meter.last_error, buf)
    assert line.higher_read(buf) is True and buf[meters.I1] == 46000, (line.higher.last_error, buf)
    assert line.meter.failures == 0 and line.higher.failures == 0
    return used


def f32_words(value, order):
    """The two registers of `value` as a float32 in `order` (a Registers at 0)."""
    regs = {}
    putf(regs, 0, value)
    if order == meters.LSW:
        regs[0], regs[1] = regs[1], regs[0]
    return Registers(regs)


F32_CASES = (
    0.0,
    -0.0,
    1e-40,
    0.0004,
    0.9995,
    -0.73,
    1.0,
    49.98,
    230.1,
    -230.1,
    399.99,
    511.9,
    512.0,
    16.0,
    32.5,
    11040.0,
    -11040.0,
    22000.7,
    1234567.0,
    8388607.0,
    8388608.0,
    16777215.0,
    123456789.0,
    999999936.0,
    -999999936.0,
)


def check_f32_in_integers():
    """The float32 registers scale in integers to exactly int(f * mul) // div, for the maps' scales and
    both word orders; NaN, infinity and absurd values raise ValueError as `decode` does."""
    for value in F32_CASES:
        for order in (meters.MSW, meters.LSW):
            word = f32_words(value, order)
            f = meters.decode(word, 0, meters.F32, order)
            for mul, div in ((1, 1), (1000, 1), (1000000, 1), (1000, 7), (1, 1000)):
                got = meters.scaled(word, 0, meters.F32, order, mul, div)
                assert got == int(f * mul) // div, (value, order, mul, div, got)
    for hi, lo in ((0x7FC0, 0), (0x7F80, 0), (0xFF80, 0), (0x4F80, 0), (0xCF80, 0)):  # NaN, +-inf, +-4.3e9
        try:
            meters.scaled(Registers({0: hi, 1: lo}), 0, meters.F32, meters.MSW, 1000, 1)
        except ValueError:
            continue
        raise AssertionError("no ValueError for 0x%04x%04x" % (hi, lo))


def driver_without_allocation(name, cycles):
    """Bytes allocated by `cycles` poll cycles of the map `name` (decoding included) after a warm-up
    (identification, first cycle): 0 expected on MicroPython for every map, float32 ones included."""
    mp = meters.MAPS[name]
    regs = meters.encode(mp, READING)
    regs.update(meters.encode_ident(mp, "A1", "1.0.0"))
    drv = MeterDriver(RtuMaster(ReplayPort(mp, regs), 9600, 100), mp, period_ms=100)
    buf = [0] * meters.SLOTS

    def step(t):
        drv.poll(t)
        drv.read(buf)

    start = drv.cycles
    used = allocated(step, run_driver(drv, 0, 400), cycles * 10)
    assert drv.cycles - start >= cycles and drv.failures == 0, (name, drv.cycles, drv.last_error)
    assert close_enough(name, buf), (name, buf)
    return used


def check_iskra_formats():
    """T5/T6 (exponent in the high byte, 24-bit value) and the S32 counter with its exponent register."""
    regs = {0: 0xFD03, 1: 0x8270, 2: 0xFEFF, 3: 0xFF9C, 10: 0xFFFF, 12: 0x0001, 13: 0x0000}
    word = Registers(regs)
    assert meters.decode(word, 0, meters.T5, meters.MSW) == 230000  # 0x038270
    assert meters.exponent(word, 0, meters.T5, meters.MSW) == -3
    assert meters.scaled(word, 0, meters.T5, meters.MSW, 1000, 1) == 230000  # 230.000 V in mV
    assert meters.scaled(word, 2, meters.T6, meters.MSW, 1000, 1) == -1000  # -100 * 10**-2 A in mA
    assert meters.scaled(word, 12, meters.S32E, 10, 1, 1) == 6553  # 65536 * 10**-1 Wh


def check_multi_block():
    meter = ScriptedMeter(1, pro380_regs())
    drv = MeterDriver(RtuMaster(meter, 9600, 100), meters.MAPS["pro380"], period_ms=1000)
    run_driver(drv, 0, 300)
    buf = [0] * meters.SLOTS
    assert drv.read(buf) is True
    # the identification once (serial number, firmware version), then one request per block
    assert [r[2:4] for r in meter.requests] == [b"\x40\x00", b"\x40\x07", b"\x50\x02", b"\x60\x0c"]
    check_pro380_values(buf)


SIGNING = meters.MAPS["wm3m4"]["signing"]
# a payload longer than one answer (124 registers here) and a signature, as a signing meter shows them
PAYLOAD = (
    '{"FV":"1.0","GI":"CHARGEPARK","PG":"T1","MV":"Iskra","MS":"79123456","IS":false,"RD":['
    + ",".join('{"TM":"2026-12-02T12:00:0%d,000+0000 U","TX":"%s","RV":%d.5,"RI":"1-b:1.8.0","RU":"kWh"}'
               % (i, "BTTTE"[i], i) for i in range(5))
    + "]}"
)  # fmt: skip
SIG = bytes([0x30, 0x44, 0x02, 0x20]) + bytes(range(1, 33)) + bytes([0x02, 0x20]) + bytes(range(33, 65))


def _text(data):
    return [(data[i] << 8) | (data[i + 1] if i + 1 < len(data) else 0) for i in range(0, len(data), 2)]


class SigningScript(ScriptedMeter):
    """A signing meter's transaction registers (meters.py `_ISKRA_SIGNING`) with a canned record: the
    start command makes it active, the stop command shows PAYLOAD and SIG; a command in the wrong state
    answers status 131 (invalid state)."""

    def __init__(self, unit, regs):
        ScriptedMeter.__init__(self, unit, regs)
        r = SIGNING
        self.key = [0x0100 + i for i in range(r["key_regs"])]
        for i, w in enumerate(self.key):
            regs[r["key"] + i] = w
        regs[r["state"]] = 0
        self.commands = []

    def written(self, address, count):
        r = SIGNING
        if address != r["command"]:
            return
        cmd = self.regs[address]
        self.commands.append(cmd)
        active = self.regs[r["state"]] != 0
        if (cmd == r["start"]) == active:
            self.regs[r["status"]] = 131
            return
        self.regs[r["status"]] = meters.SIGNED_OK
        self.regs[r["state"]] = 1 if cmd == r["start"] else 0
        if cmd == r["stop"]:
            data = PAYLOAD.encode()
            for base, blob, length in ((r["data"], data, "data_len"), (r["sig"], SIG, "sig_len")):
                for i, w in enumerate(_text(blob)):
                    self.regs[base + i] = w
                self.regs[r[length]] = len(blob)


def _meta_text(regs):
    from iomodule.signing import META

    return bytes(b for i in range((len(META) + 1) // 2) for b in (regs[SIGNING["meta"] + i] >> 8,
                                                                   regs[SIGNING["meta"] + i] & 0xFF))[:len(META)]  # fmt: skip


def check_signing_transaction():
    """A signing meter on the line: its public key read once after the identification; the session's
    start writes the metadata, selects the algorithm and starts the meter's transaction, its end stops it
    and reads the payload (over several answers) and the signature into the OCMF record, reported once;
    the readings go on beside it."""
    from binascii import hexlify

    from iomodule.signing import META

    mp = meters.MAPS["wm3m4"]
    regs = meters.encode(mp, READING)
    regs.update(meters.encode_ident(mp, "79123456", ""))
    meter = SigningScript(1, regs)
    line = MeterLine(RtuMaster(meter, 19200, 100), 1, 1000, 3)
    line.fit("wm3m4", "none")
    t = run_line(line, 0, 2000)
    key = line.key()
    assert key == meters.KEY_PREFIX + "".join("%04X" % w for w in meter.key), key
    assert line.key() is None and line.signed() is None
    line.transaction(True, 7)
    t = run_line(line, t, 3000)
    assert regs[SIGNING["state"]] == 1 and meter.commands == [SIGNING["start"]]
    assert regs[SIGNING["meta_len"]] == len(META) and _meta_text(regs) == META
    assert regs[SIGNING["algorithm"]] == 0
    cycles = line.meter.cycles
    line.transaction(False, 7)
    t = run_line(line, t, 5000)
    sd = hexlify(SIG).decode().upper()
    want = "OCMF|" + PAYLOAD + '|{"SA":"ECDSA-secp256r1-SHA256","SD":"' + sd + '"}'
    got = line.signed()
    assert got == [7, want, 0], got
    assert line.signed() is None and line.meter.cycles > cycles and line.meter.failures == 0
    assert len(PAYLOAD) > 248  # read in more than one answer
    assert SIGNING["time"] not in regs and SIGNING["time_sync"] not in regs  # no wall clock: left alone


def check_signing_sets_the_meter_clock():
    """With the head's wall clock (`clock`) the meter's clock is set before its transaction starts, in the
    clock's time at that moment: UTC offset (two's complement), UTC seconds high and low, then marked
    synchronized; a transaction left running is stopped first, then the clock is set the same way."""
    mp = meters.MAPS["wm3m4"]
    regs = meters.encode(mp, READING)
    meter = SigningScript(1, regs)
    line = MeterLine(RtuMaster(meter, 19200, 100), 1, 1000, 3)
    line.fit("wm3m4", "none")
    t = run_line(line, 0, 1000)
    utc = 1796228750  # beyond a 31-bit small int: the clock's large integers, once a session
    line.clock(utc, -300, 500)
    line.transaction(True, 1)
    t = run_line(line, t, 2000)
    at = SIGNING["time"]
    assert meter.commands == [SIGNING["start"]]
    assert regs[at] == (-300) & 0xFFFF and regs[SIGNING["time_sync"]] == SIGNING["synced"]
    written = (regs[at + 1] << 16) | regs[at + 2]
    assert utc + 500 // 1000 <= written <= utc + (2000 - 500) // 1000, written
    line.transaction(False, 1)
    t = run_line(line, t, 4000)
    regs[SIGNING["state"]] = 2  # left running after a power failure
    regs[SIGNING["time_sync"]] = 0
    line.clock(utc + 10, 60, t)
    line.transaction(True, 2)
    t = run_line(line, t, t + 2000)
    assert meter.commands[-2:] == [SIGNING["stop"], SIGNING["start"]]
    assert regs[at] == 60 and regs[SIGNING["time_sync"]] == SIGNING["synced"]
    assert utc + 10 <= (regs[at + 1] << 16) | regs[at + 2] <= utc + 12


def check_signing_refused_and_stale():
    """A transaction the meter still runs when a session starts is stopped first (its record dropped);
    a stop the meter refuses (status 131) is reported with that status and no record; a meter that
    stops answering ends the transaction as not answered (NO_ANSWER), and after it answers again its key
    is read anew."""
    from iomodule import signing

    mp = meters.MAPS["wm3m4"]
    regs = meters.encode(mp, READING)
    meter = SigningScript(1, regs)
    regs[SIGNING["state"]] = 2  # active after a power failure
    line = MeterLine(RtuMaster(meter, 19200, 100), 1, 1000, 3)
    line.fit("wm3m4", "none")
    t = run_line(line, 0, 1000)
    line.key()
    line.transaction(True, 1)
    t = run_line(line, t, 2000)
    assert meter.commands == [SIGNING["stop"], SIGNING["start"]] and line.signed() is None
    regs[SIGNING["state"]] = 0  # the meter lost the transaction
    line.transaction(False, 1)
    t = run_line(line, t, 3000)
    assert line.signed() == [1, "", 131]
    line.transaction(True, 2)
    t = run_line(line, t, 4000)
    meter.mode = "silent"
    line.transaction(False, 2)
    t = run_line(line, t, 9000)
    assert line.signed() == [2, "", signing.NO_ANSWER]
    assert line.key() is None
    meter.mode = "ok"
    t = run_line(line, t, 12000)
    assert line.key() is not None  # identified anew


CHECKS = (
    check_crc,
    check_decode,
    check_maps,
    check_master_errors,
    check_driver_cycle_and_loss,
    check_multi_block,
    check_every_map_through_the_driver,
    check_iskra_formats,
    check_f32_in_integers,
    check_two_meters_on_one_line,
    check_meter_line_higher_meter_and_ident,
    check_ident_not_available,
    check_noise_on_the_line,
    check_signing_transaction,
    check_signing_sets_the_meter_clock,
    check_signing_refused_and_stale,
)


def run_all():
    done = []
    for c in CHECKS:
        c()
        done.append(c.__name__)
    return done
