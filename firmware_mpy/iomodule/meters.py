"""Energy meter register maps as data, and their decoding into the point's integer units.

One map per "Energy measuring device type" of pointconfig.METER_TYPES that has one. A map names the
Modbus function, the register blocks read in one poll cycle (each one request; `max_read` = the most
registers the meter answers in one read, where its document limits it), and its fields:
(slot, register, type, word order, mul, div). The slot is the index in the HAL's meter buffer
(hal.Hal.meter_read: u1-u3 mV, i1-i3 mA, power mW, energy Wh, power factor permille, frequency mHz);
value = raw * mul // div for integer registers, int(raw * mul) // div for float32. Floats end here: the
driver hands the point integers only. Whether each map was checked against the maker's document is
said in its `source` (docs/porting.md, "Energy meter").
"""

import struct

from iomodule.modbus_rtu import MAX_REGS, READ_HOLDING, READ_INPUT

U1, U2, U3, I1, I2, I3, POWER, ENERGY, PF, FREQ = range(10)
SLOTS = 10

# register types and their size in registers
S16 = 0
U16 = 1
S32 = 2
U32 = 3
F32 = 4
U64 = 5
_WORDS = (1, 1, 2, 2, 2, 4)

MSW = 0  # high word first (Modbus convention, IEEE floats of most meters)
LSW = 1  # low word first (Carlo Gavazzi INT32/UINT32/UINT64); bytes in a word are always high first

LIMIT = 1000000000  # a float beyond this (or NaN) is a garbled reading, not a measurement

# Carlo Gavazzi "EM21 communication protocol V1 rev 0" (pages headed "EM24-DIN Communication Protocol"),
# section 2.1 (INT32 word order LSW->MSW) and table 2.3-1 "Instantaneous variables and meters" (functions
# 03 and 04): V*10, A*1000, W*10, PF*1000, Hz*10, kWh*10. The EM24-DIN's own (v3) document was not at hand.
_GAVAZZI_3PH_FIELDS = (
    (U1, 0x0000, S32, LSW, 100, 1),
    (U2, 0x0002, S32, LSW, 100, 1),
    (U3, 0x0004, S32, LSW, 100, 1),
    (I1, 0x000C, S32, LSW, 1, 1),
    (I2, 0x000E, S32, LSW, 1, 1),
    (I3, 0x0010, S32, LSW, 1, 1),
    (POWER, 0x0028, S32, LSW, 100, 1),
    (PF, 0x0031, S16, MSW, 1, 1),
    (FREQ, 0x0033, S16, MSW, 100, 1),
    (ENERGY, 0x0034, S32, LSW, 100, 1),
)

MAPS = {
    "em24": {
        "source": "verified: Carlo Gavazzi EM21/EM24-DIN communication protocol, 2.1 and table 2.3-1",
        "function": READ_INPUT,
        # The EM24-DIN PFA/PFB/X answer at most 11 registers a read (as transcribed from their protocol
        # document v4r0 by third parties): four short reads instead of one.
        "max_read": 11,
        "blocks": ((0x0000, 6), (0x000C, 6), (0x0028, 2), (0x0031, 5)),
        "fields": _GAVAZZI_3PH_FIELDS,
    },
    "em340": {
        # The EM300-series protocol document was not at hand: the addresses are the EM24 ones, which
        # third-party EM340 register lists repeat (V L1-N at 0x0000 INT32 *0.1); at most 50 registers a
        # read, as those lists say.
        "source": "NOT verified against the maker's EM300 document (EM24 layout assumed)",
        "function": READ_INPUT,
        "max_read": 50,
        "blocks": ((0x0000, 0x12), (0x0028, 0x0E)),
        "fields": _GAVAZZI_3PH_FIELDS,
    },
    "em111": {
        "source": "NOT verified against the maker's EM100 document (single phase, from memory)",
        "function": READ_INPUT,
        "blocks": ((0x0000, 0x12),),
        "fields": (
            (U1, 0x0000, S32, LSW, 100, 1),
            (I1, 0x0002, S32, LSW, 1, 1),
            (POWER, 0x0004, S32, LSW, 100, 1),
            (PF, 0x000E, S16, MSW, 1, 1),
            (FREQ, 0x000F, S16, MSW, 100, 1),
            (ENERGY, 0x0010, S32, LSW, 100, 1),
        ),
    },
    "pro380": {
        # Inepro PRO380-Mod: IEEE754 float32, high word first, function 03 (as integrator pages state);
        # the addresses are not checked against Inepro's register file.
        "source": "NOT verified against Inepro's register file (float32 big-endian, FC03)",
        "function": READ_HOLDING,
        "blocks": ((0x5002, 0x2A), (0x6000, 0x02)),
        "fields": (
            (U1, 0x5002, F32, MSW, 1000, 1),
            (U2, 0x5004, F32, MSW, 1000, 1),
            (U3, 0x5006, F32, MSW, 1000, 1),
            (FREQ, 0x5008, F32, MSW, 1000, 1),
            (I1, 0x500C, F32, MSW, 1000, 1),
            (I2, 0x500E, F32, MSW, 1000, 1),
            (I3, 0x5010, F32, MSW, 1000, 1),
            (POWER, 0x5012, F32, MSW, 1000000, 1),  # kW
            (PF, 0x502A, F32, MSW, 1000, 1),
            (ENERGY, 0x6000, F32, MSW, 1000, 1),  # kWh
        ),
    },
}

_F32 = bytearray(4)


def resolve(meter_map):
    """Fields grouped by block with their offset in it: a tuple per block of
    (slot, offset, type, order, mul, div). Raises ValueError if a field lies outside every block or a
    block is longer than the meter answers in one read (`max_read`, else the protocol's 125)."""
    blocks = meter_map["blocks"]
    limit = meter_map.get("max_read", MAX_REGS)
    for _start, count in blocks:
        if count > limit:
            raise ValueError("a block of %d registers exceeds the meter's %d a read" % (count, limit))
    out = [[] for _ in blocks]
    for slot, reg, typ, order, mul, div in meter_map["fields"]:
        for b in range(len(blocks)):
            start, count = blocks[b]
            if start <= reg and reg + _WORDS[typ] <= start + count:
                out[b].append((slot, reg - start, typ, order, mul, div))
                break
        else:
            raise ValueError("register 0x%04x is in no block" % reg)
    return tuple(tuple(f) for f in out)


def decode(src, offset, typ, order):
    """The raw value at register `offset` of an answer; `src.word(i)` gives register i (0..65535).
    Integers stay integers, float32 comes back as a float. Raises ValueError on NaN or infinity."""
    if typ == U16:
        return src.word(offset)
    if typ == S16:
        v = src.word(offset)
        return v - 0x10000 if v & 0x8000 else v
    n = _WORDS[typ]
    hi = src.word(offset + (n - 1 if order == LSW else 0))
    if typ == F32:
        lo = src.word(offset + (0 if order == LSW else 1))
        b = _F32
        b[0] = hi >> 8
        b[1] = hi & 0xFF
        b[2] = lo >> 8
        b[3] = lo & 0xFF
        f = struct.unpack(">f", b)[0]
        if f != f or f > LIMIT or f < -LIMIT:
            raise ValueError("float register out of range")
        return f
    if typ == S32 and hi & 0x8000:
        hi -= 0x10000  # stays a small int on 32-bit ports: no sign fix-up of a 32-bit value
    v = hi
    for k in range(1, n):
        v = (v << 16) | src.word(offset + (n - 1 - k if order == LSW else k))
    return v


def scaled(src, offset, typ, order, mul, div):
    """The value in the point's unit (an int). Integer registers allocate nothing (32-bit ports: values
    within the small-int range); float32 allocates its float."""
    v = decode(src, offset, typ, order)
    if typ == F32:
        return int(v * mul) // div
    return v * mul // div
