"""Modbus RTU codec and meter decoding checks in the common subset: run by pytest on CPython and by the
real micropython binary. `run_all` returns the list of check names that passed (a failure raises)."""

import struct

from iomodule import meters
from iomodule.meter import MeterDriver
from iomodule.modbus_rtu import BAD_CRC, DONE, EXCEPTION, PENDING, TIMEOUT, RtuMaster, crc16


class ScriptedMeter:
    """An RTU slave in the same process: answers read requests from `regs` {address: word}, handing out at
    most `chunk` bytes per readinto so answers arrive over several ticks. `mode`: "ok", "silent",
    "bad_crc", "exception"."""

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
    """Answers each request with the next of fixed frames (one per block of a map, in the order the driver
    asks) and allocates nothing: for the allocation check and bench/bench_meter.py."""

    def __init__(self, meter_map, regs):
        self.answers = []
        for start, n in meter_map["blocks"]:
            m = ScriptedMeter(1, regs)
            m.write(bytes([1, meter_map["function"], start >> 8, start & 0xFF, 0, n]))
            self.answers.append(bytearray(m.out))
        self.answer = self.answers[0]
        self.next = 0
        self.pos = len(self.answer)

    def write(self, buf):
        self.answer = self.answers[self.next]
        self.next = (self.next + 1) % len(self.answers)
        self.pos = 0

    def readinto(self, buf):
        n = len(self.answer) - self.pos
        if n > len(buf):
            n = len(buf)
        for i in range(n):
            buf[i] = self.answer[self.pos + i]
        self.pos += n
        return n


def em24_driver_without_allocation(cycles):
    """Bytes allocated by `cycles` EM24 poll cycles after a warm-up one (0 expected on MicroPython)."""
    import gc

    mp = meters.MAPS["em24"]
    port = ReplayPort(mp, em24_regs((2301, 2302, 2303), (16000, 15000, 100), 73600, 990, 500, 123456))
    drv = MeterDriver(RtuMaster(port, 9600, 100), mp, period_ms=100)
    buf = [0] * meters.SLOTS
    t = run_driver(drv, 0, 200)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(cycles * 10):
        t += 10
        drv.poll(t)
        drv.read(buf)
    used = gc.mem_alloc() - before
    gc.enable()
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
    r[0x0031] = pf & 0xFFFF
    r[0x0033] = hz_d
    put32(r, 0x0034, kwh_d, meters.LSW)
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
    regs[0x0034] = 0  # energy moved on: 123456 -> 65536 * 2 kWh*10 (LSW first)
    regs[0x0035] = 2
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
    putf(regs, 0x6000, 1234.5)
    return regs


def check_pro380_values(buf):
    assert buf[meters.I1] == 16000 and buf[meters.I2] == 15500 and buf[meters.I3] == 250
    assert abs(buf[meters.U1] - 230100) <= 1 and abs(buf[meters.POWER] - 11040000) <= 2
    assert buf[meters.ENERGY] == 1234500 and abs(buf[meters.FREQ] - 49980) <= 1
    assert abs(buf[meters.PF] - 990) <= 1


def check_multi_block():
    meter = ScriptedMeter(1, pro380_regs())
    drv = MeterDriver(RtuMaster(meter, 9600, 100), meters.MAPS["pro380"], period_ms=1000)
    run_driver(drv, 0, 300)
    buf = [0] * meters.SLOTS
    assert drv.read(buf) is True
    assert [r[2:4] for r in meter.requests] == [b"\x50\x02", b"\x60\x00"]
    check_pro380_values(buf)


CHECKS = (
    check_crc,
    check_decode,
    check_maps,
    check_master_errors,
    check_driver_cycle_and_loss,
    check_multi_block,
)


def run_all():
    done = []
    for c in CHECKS:
        c()
        done.append(c.__name__)
    return done
