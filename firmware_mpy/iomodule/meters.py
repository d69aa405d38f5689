"""Energy meter register maps as data, and their decoding into the point's integer units.

The keys of `MAPS` are the configurable "Energy measuring device type"s (pointconfig.METER_TYPES is
derived from them: a type without a map is refused by validation). A map names the
Modbus function, the register blocks read in one poll cycle (each one request; `max_read` = the most
registers the meter answers in one read, where its document limits it), and its fields:
(slot, register, type, word order, mul, div); `ident`, where a source gives them, the identification registers
read once when the meter starts answering: (SERIAL or FIRMWARE, register, count, TEXT, VERSION or NUMBER);
`signing`, for a meter that signs its transactions (calibration law), its transaction registers
(`_ISKRA_SIGNING` says their roles). The slot is the index in the HAL's meter buffer
(hal.Hal.meter_read: u1-u3 mV, i1-i3 mA, power mW, energy Wh, power factor permille, frequency mHz);
value = raw * mul // div for integer registers, int(raw * mul) // div for float32 (computed in integers:
no float is made in the tick). The driver hands the point integers only. Which document each map comes from and how it was checked is said in
docs/meters.md (generated from this table and chargepark/meterdoc.py).
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
T5 = 6  # Iskra: high byte of the first word a signed decade exponent, then an unsigned 24-bit value
T6 = 7  # Iskra: the same with a signed 24-bit value
S32E = 8  # S32 times 10 ** (the S16 register named in the field's `order` column): Iskra's energy counters
_WORDS = (1, 1, 2, 2, 2, 4, 2, 2, 2)

MSW = 0  # high word first (Modbus convention, IEEE floats of most meters)
LSW = 1  # low word first (Carlo Gavazzi INT32/UINT32/UINT64, Phoenix Contact EMpro floats); bytes high first

# identification fields (a map's `ident`) and their encodings
SERIAL = 0
FIRMWARE = 1
TEXT = 0  # ASCII, 2 characters a register, high byte first; NUL and space padding dropped
VERSION = 1  # one register: major in bits 15..12, minor in 11..8, patch in 7..0 (Carlo Gavazzi)
NUMBER = 2  # an unsigned integer of `count` registers, high word first, as decimal digits

LIMIT = 1000000000  # a float beyond this (or NaN) is a garbled reading, not a measurement

# Carlo Gavazzi EM24-DIN, INT32 low word first, checked against the maker's "EM24-DIN PFA, PFB & X models
# Communication Protocol" (2.1 word order, table 2.3-1): V*10, A*1000, W sys*10 at 0x0000/0x000C/0x0028,
# PF sys*1000 at 0x0035, Hz*10 at 0x0037, kWh(+) TOT*10 at 0x003E. The Phoenix Contact EEM-350-D-MCB uses
# the same layout (SmartEVSE; no Phoenix Contact document found). The voltages, currents and power sit
# where the EM24's do on the EM340 too. docs/meters.md says what each source confirms. (MicroPython has
# no starred tuple display: concatenate.)
_GAVAZZI_UIP = (
    (U1, 0x0000, S32, LSW, 100, 1),
    (U2, 0x0002, S32, LSW, 100, 1),
    (U3, 0x0004, S32, LSW, 100, 1),
    (I1, 0x000C, S32, LSW, 1, 1),
    (I2, 0x000E, S32, LSW, 1, 1),
    (I3, 0x0010, S32, LSW, 1, 1),
    (POWER, 0x0028, S32, LSW, 100, 1),
)
_EM24_FIELDS = _GAVAZZI_UIP + (  # noqa: RUF005
    (PF, 0x0035, S16, MSW, 1, 1),
    (FREQ, 0x0037, S16, MSW, 100, 1),
    (ENERGY, 0x003E, S32, LSW, 100, 1),
)
# at most 11 registers a read (the EM24-DIN document, function 04; SmartEVSE says the same of the EEM-350-D-MCB)
_EM24_BLOCKS = ((0x0000, 6), (0x000C, 6), (0x0028, 2), (0x0035, 3), (0x003E, 2))

# Phoenix Contact EMpro family (EEM-xM357/-157/-377, EEM-MA370): IEEE float32 low word first, function 04,
# V, Hz, A, W, PF, Wh. The addresses and word order follow OpenEMS io.openems.edge.meter.phoenixcontact
# (which reads the same map from an EEM-MA370 and 1P2W EEM-xM157s); the maker's EMpro user manual
# (109357_en_00) confirms only the function codes and the float type: the addresses are unverified.
_EMPRO_3PH_FIELDS = (
    (U1, 0x8006, F32, LSW, 1000, 1),
    (U2, 0x8008, F32, LSW, 1000, 1),
    (U3, 0x800A, F32, LSW, 1000, 1),
    (FREQ, 0x800C, F32, LSW, 1000, 1),
    (I1, 0x800E, F32, LSW, 1000, 1),
    (I2, 0x8010, F32, LSW, 1000, 1),
    (I3, 0x8012, F32, LSW, 1000, 1),
    (POWER, 0x8016, F32, LSW, 1000, 1),
    (PF, 0x801C, F32, LSW, 1000, 1),
    (ENERGY, 0x9306, F32, LSW, 1, 1),  # active energy delivered (import), Wh
)
_EMPRO_1PH_FIELDS = tuple(f for f in _EMPRO_3PH_FIELDS if f[0] not in (U2, U3, I2, I3))
_EMPRO_BLOCKS = ((0x8006, 0x18), (0x9306, 2))


# A signing meter's transaction registers (a map's `signing`; the WM3M4C): holding registers, read with 03,
# written with 06 (16 for the metadata text), as implemented by EVerest RsIskraMeter after Iskra's "WM3M4
# user manual 1.14", NOT checked against a maker document. The meter keeps an ECDSA P-256 key pair; its
# public key is `key_regs` registers (the raw point X|Y) from `key`, shown as `KEY_PREFIX` (the DER
# SubjectPublicKeyInfo header) + its hex. A transaction: optional metadata (OCMF fields as JSON text, its
# length in bytes at `meta_len`), `algorithm` = 0 (ECDSA-secp256r1-SHA256), then `start` written to
# `command`; `state` turns 1 (active; 0 idle, 2/3 active after a power failure or reset) and `status`
# 15 (signed; 0-2 busy, >= 128 an error). `stop` ends it: state 0, status 15, and the OCMF payload
# (`data_len` bytes from `data`, 2 a register, high byte first) with its DER signature (`sig_len` bytes
# from `sig`) over exactly those payload bytes. Before a transaction the meter's clock is set when the
# head gave the module the wall clock: `time` = the UTC offset in minutes (two's complement), then the UTC
# seconds, high word first; `synced` written to `time_sync` marks it synchronized, so the record's times
# carry "S" rather than "U" (the registers as EVerest's RsIskraMeter drives them; not checked against the
# maker's manual here, docs/meters.md).
_ISKRA_SIGNING = {
    "state": 7000,
    "command": 7051,
    "status": 7052,
    "meta_len": 7056,
    "data_len": 7057,
    "sig_len": 7058,
    "algorithm": 7059,
    "time": 7053,  # 3 registers: UTC offset (min), UTC seconds high, low
    "time_sync": 7071,
    "synced": 2,
    "meta": 7100,
    "data": 7612,
    "key": 8124,
    "key_regs": 32,
    "sig": 8188,
    "start": 0x4200,  # 'B'
    "stop": 0x7200,  # 'r'
}
SIGNED_OK = 15
SIGNING_BUSY = 2  # statuses 0..2: not done yet
KEY_PREFIX = "3059301306072A8648CE3D020106082A8648CE3D03010703420004"


def _empro(fields):
    return {"function": READ_INPUT, "blocks": _EMPRO_BLOCKS, "fields": fields}


MAPS = {
    "eem350": {
        "function": READ_INPUT,
        "max_read": 11,
        "blocks": _EM24_BLOCKS,
        "fields": _EM24_FIELDS,
    },
    "eem357": _empro(_EMPRO_3PH_FIELDS),  # EEM-EM357, EEM-DM357, EEM-DM357-70
    "eem357ee": _empro(_EMPRO_3PH_FIELDS),
    "eem157ee": _empro(_EMPRO_1PH_FIELDS),
    "eemam157": _empro(_EMPRO_1PH_FIELDS),
    "em24": {
        "function": READ_INPUT,
        "max_read": 11,
        "blocks": _EM24_BLOCKS,
        "fields": _EM24_FIELDS,
        # serial number: 13 ASCII characters from 0x1300 (the EM24-DIN document, 2.9.12; 0x5000 is the
        # EM24 Ethernet's); firmware version code 0x0304 (Victron dbus-modbus-client, unverified here)
        "ident": ((SERIAL, 0x1300, 7, TEXT), (FIRMWARE, 0x0304, 1, VERSION)),
    },
    "em340": {
        # Carlo Gavazzi "EM300 Series and ET300 Series communication protocol" (v2r17) as transcribed by mbmd
        # (CGEX3X0) and a public register listing: INT32 LSW first, V*10, A*1000, W*10, PF*1000, Hz*10, kWh*10;
        # at most 50 registers a read. The maker's table itself was not readable here (unverified); the
        # layout is that of the maker's EM21 protocol table 2.3-1.
        "function": READ_INPUT,
        "max_read": 50,
        "blocks": ((0x0000, 0x12), (0x0028, 0x0E)),
        "fields": _GAVAZZI_UIP  # noqa: RUF005
        + (
            (PF, 0x0031, S16, MSW, 1, 1),
            (FREQ, 0x0033, S16, MSW, 100, 1),
            (ENERGY, 0x0034, S32, LSW, 100, 1),
        ),
    },
    "em111": {
        # Carlo Gavazzi "EM100 Series and ET100 Series" protocol, through transcriptions only (V, A: one
        # citing its public version 4.0; W, kWh: evcc); PF 0x000E and Hz 0x000F unverified.
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
        # Inepro PRO380-Mod, float32 high word first, function 03 (mbmd INEPRO opcodes from Inepro's
        # "PRO380 user manual V2.18"): V, Hz, A, kW, PF, kWh import. The maker's manual found (product
        # version 1.02) confirms the encoding only: its register matrix is an older layout.
        "function": READ_HOLDING,
        "blocks": ((0x5002, 0x2A), (0x600C, 0x02)),
        # serial number 0x4000 and firmware version 0x4007, U32 each (Victron dbus-modbus-client, from V2.18v6)
        "ident": ((SERIAL, 0x4000, 2, NUMBER), (FIRMWARE, 0x4007, 2, NUMBER)),
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
            (ENERGY, 0x600C, F32, MSW, 1000, 1),  # kWh import
        ),
    },
    "wm3m4": {
        # Iskra WM3M4/WM3M4C, function 04, 0-based input registers (EVerest RsIskraMeter, which follows
        # Iskra's "WM3M4 user manual 1.14"): Hz 105, V 107.., A 126.. (T5/T6: decade exponent + 24-bit
        # value), W total 140 (T6), energy import counter 418 with its exponent at 414 (Wh). The power
        # factor register was in no source: PF is not read (0).
        "function": READ_INPUT,
        "blocks": ((105, 8), (126, 6), (140, 2), (414, 6)),
        "fields": (
            (FREQ, 105, T5, MSW, 1000, 1),
            (U1, 107, T5, MSW, 1000, 1),
            (U2, 109, T5, MSW, 1000, 1),
            (U3, 111, T5, MSW, 1000, 1),
            (I1, 126, T6, MSW, 1000, 1),
            (I2, 128, T6, MSW, 1000, 1),
            (I3, 130, T6, MSW, 1000, 1),
            (POWER, 140, T6, MSW, 1000, 1),
            (ENERGY, 418, S32E, 414, 1, 1),
        ),
        "ident": ((SERIAL, 9, 4, TEXT),),  # serial number at 9 (EVerest); no firmware register in the sources
        "signing": _ISKRA_SIGNING,
    },
}

# Higher-level meters on Modbus/TCP (the load circuit's "High Level Measuring Device", read by the head's
# Modbus Client service); their keys are the loadcircuit area's `meter_type` choices (a test checks it).
HIGHER_LEVEL = {
    "eem377": _empro(_EMPRO_3PH_FIELDS),  # EEM-EM377
    "ma370": _empro(_EMPRO_3PH_FIELDS),  # EEM-MA370-R, EEM-MA370-24DC, EEM-MA370
}

_F32 = bytearray(4)


def _block_of(blocks, reg, words):
    for b in range(len(blocks)):
        start, count = blocks[b]
        if start <= reg and reg + words <= start + count:
            return b
    raise ValueError("register 0x%04x is in no block" % reg)


def resolve(meter_map):
    """Fields grouped by block with their offset in it: a tuple per block of
    (slot, offset, type, order, mul, div); for S32E `order` becomes the exponent register's offset in
    the same block. Raises ValueError if a field lies outside every block or a block is longer than the
    meter answers in one read (`max_read`, else the protocol's 125)."""
    blocks = meter_map["blocks"]
    limit = meter_map.get("max_read", MAX_REGS)
    for _start, count in blocks:
        if count > limit:
            raise ValueError("a block of %d registers exceeds the meter's %d a read" % (count, limit))
    out = [[] for _ in blocks]
    for slot, reg, typ, order, mul, div in meter_map["fields"]:
        b = _block_of(blocks, reg, _WORDS[typ])
        if typ == S32E:
            if _block_of(blocks, order, 1) != b:
                raise ValueError("exponent register %d is not in the block of %d" % (order, reg))
            order -= blocks[b][0]
        out[b].append((slot, reg - blocks[b][0], typ, order, mul, div))
    return tuple(tuple(f) for f in out)


def ident_value(src, count, kind):
    """An identification field of an answer (registers 0..count-1 of `src.word`) as text; allocates (read
    once at start-up, never in the tick)."""
    if kind == VERSION:
        v = src.word(0)
        return "%d.%d.%d" % (v >> 12, (v >> 8) & 0xF, v & 0xFF)
    if kind == NUMBER:
        v = 0
        for i in range(count):
            v = (v << 16) | src.word(i)
        return str(v)
    chars = []
    for i in range(count):
        w = src.word(i)
        for c in (w >> 8, w & 0xFF):
            if 32 < c < 127 or (c == 32 and chars):
                chars.append(chr(c))  # printable only: a garbled answer shows as less, never raises
    return "".join(chars).strip()


def _signed16(v):
    return v - 0x10000 if v & 0x8000 else v


def decode(src, offset, typ, order):
    """The raw value at register `offset` of an answer; `src.word(i)` gives register i (0..65535).
    Integers stay integers, float32 comes back as a float; T5/T6/S32E come back as their integer
    mantissa (`exponent` gives the decade). Raises ValueError on NaN or infinity."""
    if typ == U16:
        return src.word(offset)
    if typ == S16:
        return _signed16(src.word(offset))
    if typ == T5 or typ == T6:
        hi = src.word(offset)
        v = ((hi & 0xFF) << 16) | src.word(offset + 1)
        if typ == T6 and v & 0x800000:
            v -= 0x1000000
        return v
    if typ == S32E:
        typ = S32
        order = MSW
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


def exponent(src, offset, typ, order):
    """The decade exponent of a T5/T6 (in the value's first word) or S32E (its own register) value."""
    if typ == S32E:
        return _signed16(src.word(order))
    e = src.word(offset) >> 8
    return e - 0x100 if e & 0x80 else e


def _f32_scaled(hi, lo, mul, div):
    """int(f * mul) // div of the IEEE float32 f in words hi, lo, in integers only: no float is made, so
    the tick allocates nothing (MicroPython boxes floats). Partial products stay below 2**30 (small ints
    on 32-bit ports) for `mul` < 2**20 and results in the point's ranges. Raises ValueError like `decode`."""
    e = (hi >> 7) & 0xFF
    if e == 0xFF:
        raise ValueError("float register out of range")  # NaN or infinity
    if e == 0:
        return 0  # zero or subnormal: |f * mul| < 1
    m = ((hi & 0x7F) << 16) | lo | 0x800000  # f = +-m * 2**(e - 150)
    e -= 150
    if e >= 0:
        if m > LIMIT >> e:
            raise ValueError("float register out of range")
        r = (m << e) * mul
    else:
        # m * mul split at bytes (m = a * 2**16 + b * 2**8 + c): its bits above 16 and its low 16 bits
        a = (m >> 16) * mul
        b = ((m >> 8) & 0xFF) * mul
        c = (m & 0xFF) * mul
        top = a + ((b + (c >> 8)) >> 8)
        s = -e
        if s >= 16:
            r = top >> (s - 16)
        else:
            r = (top << (16 - s)) + (((((b & 0xFF) << 8) + c) & 0xFFFF) >> s)
    if hi & 0x8000:
        r = -r  # int() truncates toward zero, then floor division, as for a float
    return r // div


def scaled(src, offset, typ, order, mul, div):
    """The value in the point's unit (an int). Allocates nothing (32-bit ports: values within the
    small-int range), float32 registers included."""
    if typ == F32:
        hi = src.word(offset + (1 if order == LSW else 0))
        lo = src.word(offset + (0 if order == LSW else 1))
        return _f32_scaled(hi, lo, mul, div)
    v = decode(src, offset, typ, order)
    v *= mul
    if typ >= T5:
        e = exponent(src, offset, typ, order)
        if e < -12 or e > 12:
            raise ValueError("decade exponent out of range")
        while e > 0:
            v *= 10
            e -= 1
        while e < 0:
            div *= 10
            e += 1
    return v // div if v >= 0 else -(-v // div)


def encode(meter_map, values):
    """The registers {address: word} a meter of this map shows for point-unit `values` (a SLOTS list):
    the inverse of `scaled`, for simulated meters and tests."""
    regs = {}
    for slot, reg, typ, order, mul, div in meter_map["fields"]:
        v = values[slot]
        if typ == F32:
            b = struct.pack(">f", v * div / mul)
            hi, lo = (b[0] << 8) | b[1], (b[2] << 8) | b[3]
            regs[reg], regs[reg + 1] = (lo, hi) if order == LSW else (hi, lo)
        elif typ >= T5:
            m, e = _mantissa(v * div, mul, 0x7FFFFF if typ != S32E else 0x7FFFFFFF)
            if typ == S32E:
                regs[order] = e & 0xFFFF
                regs[reg], regs[reg + 1] = (m >> 16) & 0xFFFF, m & 0xFFFF
            else:
                regs[reg] = ((e & 0xFF) << 8) | ((m >> 16) & 0xFF)
                regs[reg + 1] = m & 0xFFFF
        else:
            raw = v * div // mul
            for k in range(_WORDS[typ]):
                w = (raw >> (16 * k)) & 0xFFFF  # k = 0: the least significant word
                regs[reg + (k if order == LSW else _WORDS[typ] - 1 - k)] = w
    return regs


def encode_ident(meter_map, serial, firmware):
    """The identification registers {address: word} a meter of this map shows (simulated meters, tests):
    the inverse of `ident_value`; a VERSION field takes "major.minor.patch", a NUMBER field the digits of
    the text ("1.2.3" shows as 123)."""
    regs = {}
    for which, reg, count, kind in meter_map.get("ident", ()):
        text = serial if which == SERIAL else firmware
        if kind == VERSION:
            major, minor, patch = [int(x) for x in text.split(".")]
            regs[reg] = (major << 12) | (minor << 8) | patch
            continue
        if kind == NUMBER:
            digits = [c for c in text if "0" <= c <= "9"]
            v = int("".join(digits)) if digits else 0
            for i in range(count):
                regs[reg + i] = (v >> (16 * (count - 1 - i))) & 0xFFFF
            continue
        b = text.encode()[: 2 * count]
        b += bytes(2 * count - len(b))
        for i in range(count):
            regs[reg + i] = (b[2 * i] << 8) | b[2 * i + 1]
    return regs


def _mantissa(scaled_value, mul, limit):
    """(m, e) with m * 10**e * mul == scaled_value exactly, m within +-limit, e as small as possible."""
    for e in range(-6, 7):
        if e < 0:
            num, den = scaled_value * 10 ** (-e), mul
        else:
            num, den = scaled_value, mul * 10**e
        if num % den == 0 and -limit <= num // den <= limit:
            return num // den, e
    raise ValueError("value %r has no exact mantissa" % scaled_value)
