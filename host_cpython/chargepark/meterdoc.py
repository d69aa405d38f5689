"""Generates docs/meters.md from the meter register maps (`iomodule.meters`) and the provenance table below.

`python -m chargepark.meterdoc` rewrites the file; a test fails when it is stale. The maps are the one
table of registers; `PROVENANCE` is the one table of where each map comes from and how far it was checked
(a test checks that it names exactly the maps).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NamedTuple

from iomodule import meters

DOC = Path(__file__).resolve().parents[2] / "docs" / "meters.md"


class Provenance(NamedTuple):
    products: str  # the manual's names and article numbers
    document: str  # the register documentation the map was built from, with its version
    checked: str  # how far the map was checked against it, register by register


_EMPRO_DOC = (
    'Phoenix Contact user manual "EMpro - multifunctional energy measuring devices for DIN rail mounting" '
    "109357_en_00 (the maker's; public copy): functions 03 and 04 serve the same registers, 06/16 write, "
    "Fl32 = IEEE 754 single; its register table could not be read with the search tools. Addresses and "
    "word order from OpenEMS `io.openems.edge.meter.phoenixcontact` (read from EEM-MA370 and 1P2W "
    "EEM-xM157 meters)"
)
_EMPRO_CHECK = (
    "function 04 and float32 against the maker's manual; V 0x8006.., Hz 0x800C, A 0x800E.., W 0x8016, "
    "PF 0x801C, Wh import 0x9306 and low word first against OpenEMS only: NOT checked against the maker's "
    "table (a public third-party listing, aggsoft, puts the EEM-EM3xx voltages at 0x1000: the sources "
    "disagree)"
)
_EM24_DOC = (
    'Carlo Gavazzi "EM24-DIN PFA, PFB & X models Communication Protocol" (the maker\'s; public copy, '
    "V4 R0 of 2012-12-03 is the edition public listings cite)"
)

PROVENANCE: dict[str, Provenance] = {
    "eem350": Provenance(
        "Phoenix Contact EEM-350-D-MCB (2905849)",
        'no Phoenix Contact register document found; SmartEVSE `EMConfig` entry "Phoenix C" says the '
        "meter has the EM24-DIN layout (at most 11 registers a read), and that layout follows " + _EM24_DOC,
        "every register against the EM24-DIN document (as `em24`); that this meter has that layout: "
        "SmartEVSE only, NOT checked against a maker document",
    ),
    "eem357": Provenance(
        "Phoenix Contact EEM-EM357 (2908588), EEM-DM357 (1252817), EEM-DM357-70 (1219095)",
        _EMPRO_DOC,
        _EMPRO_CHECK,
    ),
    "eem357ee": Provenance("Phoenix Contact EEM-EM357-EE (1311985)", _EMPRO_DOC, _EMPRO_CHECK),
    "eem157ee": Provenance(
        "Phoenix Contact EEM-EM157-EE (1311993), single phase", _EMPRO_DOC, _EMPRO_CHECK + " (L1 only)"
    ),
    "eemam157": Provenance(
        "Phoenix Contact EEM-AM157-EE / -70 (1219090), single phase", _EMPRO_DOC, _EMPRO_CHECK + " (L1 only)"
    ),
    "em24": Provenance(
        "Carlo Gavazzi EM24",
        _EM24_DOC,
        "register by register against the maker's document: table 2.3-1 V L-N 0x0000.. (INT32, V*10), "
        "A 0x000C.. (A*1000), W sys 0x0028 (W*10), PF sys 0x0035 (INT16, PF*1000), Hz 0x0037 (Hz*10), "
        "kWh(+) TOT 0x003E (kWh*10); 2.1 INT32 low word first; 1.2.2 at most 11 registers a read, 03 and 04 "
        "alike; serial number 2.9.12 (the map read the EM24 Ethernet's 0x5000 before: fixed to 0x1300)",
    ),
    "em340": Provenance(
        "Carlo Gavazzi EM340",
        'Carlo Gavazzi "EM300 Series and ET300 Series communication protocol" v2r17 (the maker\'s; public '
        "copies of v2r9, v2r11 and v2r17 exist, but their register table could not be read with the search "
        "tools), as transcribed by mbmd (`carlogavazzi-ex.go`, EM340 opcodes) and a public register listing "
        "citing v2r17",
        "register by register against both transcriptions (they agree): V 0x0000.., A 0x000C.., W 0x0028, "
        "PF 0x0031, Hz 0x0033, kWh(+) 0x0034, at most 50 registers a read; the same layout and scales are "
        "in the maker's EM21 protocol V1R0 table 2.3-1 (read); NOT checked against the EM300 document's table",
    ),
    "em111": Provenance(
        "Carlo Gavazzi EM111",
        'Carlo Gavazzi "EM100 Series and ET100 Series communication protocol" (the maker\'s; located, its '
        "table not readable with the search tools); a public transcription citing its public version 4.0 "
        "(2025-06); evcc template `cg-emt1xx`",
        "V 0x0000 (INT32, V*10), A 0x0002 (A*1000), low word first against that transcription; W 0x0004 and "
        "kWh(+) TOT 0x0010 (INT32, x0.1) against evcc; PF 0x000E, Hz 0x000F NOT checked",
    ),
    "pro380": Provenance(
        "Inepro Metering PRO380(-Mod)",
        'Inepro "PRO380 user manual" V2.18 as transcribed by mbmd (`inepro.go`); the maker\'s PRO380 manual '
        "found (product version 1.02, 2015, public copy) has an older register matrix",
        "register by register against mbmd: V 0x5002.., Hz 0x5008, A 0x500C.., kW 0x5012, PF 0x502A, "
        "kWh import 0x600C; against the maker's V1.02 manual only the encoding (IEEE float, high word "
        "first, function 03): its addresses (serial 0x1000, measurements from 0x2000) are not this map's, "
        "so a meter of that software does not answer it (mbmd issue 327 reports such older PRO380-Mod meters); "
        "the V2.18 addresses are NOT checked against a maker document",
    ),
    "wm3m4": Provenance(
        "Iskra WM3M4(C)",
        'Iskra "WM3M4 user manual" 1.14 as implemented by EVerest `RsIskraMeter` (and TinkerForge\'s '
        "`meter_iskra`, which agrees 1-based); the maker's document was not found with the search tools",
        "register by register against EVerest (decimal there): Hz 105, V 107.., A 126.. (T5/T6), W 140 (T6), "
        "Wh import 418 with its exponent at 414, function 04; no power factor register in either source "
        "(PF reads 0); NOT checked against a maker document",
    ),
    "eem377": Provenance("Phoenix Contact EEM-EM377 (2908590), over Modbus/TCP", _EMPRO_DOC, _EMPRO_CHECK),
    "ma370": Provenance(
        "Phoenix Contact EEM-MA370-R (2907980), EEM-MA370-24DC (1127059), EEM-MA370 (2907983), over Modbus/TCP",
        _EMPRO_DOC,
        _EMPRO_CHECK,
    ),
}

_SLOTS = ("U1", "U2", "U3", "I1", "I2", "I3", "P", "E", "PF", "f")
_UNITS = ("mV", "mV", "mV", "mA", "mA", "mA", "mW", "Wh", "permille", "mHz")
_TYPES = ("S16", "U16", "S32", "U32", "F32", "U64", "T5", "T6", "S32E")


def _field(f: tuple[int, int, int, int, int, int]) -> str:
    slot, reg, typ, order, mul, div = f
    scale = "x%d" % mul if div == 1 else "x%d/%d" % (mul, div)
    if meters.F32 == typ or typ in (meters.S32, meters.U32, meters.U64):
        words = " LSW" if order == meters.LSW else ""
    else:
        words = ""
    exp = " exp@%s" % _reg(order) if typ == meters.S32E else ""
    return "%s %s %s%s%s %s" % (_SLOTS[slot], _reg(reg), _TYPES[typ], words, exp, scale)


def _reg(reg: int) -> str:
    return "0x%04X" % reg


def _table(title: str, maps: dict[str, Any]) -> list[str]:
    lines = [
        "## " + title,
        "",
        "| type | products (manual) | function | blocks (start, count) | fields: value register type scale (to %s) |"
        % ", ".join("%s %s" % (s, u) for s, u in zip(_SLOTS, _UNITS, strict=True)),
        "| --- | --- | --- | --- | --- |",
    ]
    for name in sorted(maps):
        mp = maps[name]
        blocks = ", ".join("(%s, %d)" % (_reg(s), n) for s, n in mp["blocks"])
        if "max_read" in mp:
            blocks += "; at most %d a read" % mp["max_read"]
        fields = "; ".join(_field(f) for f in mp["fields"])
        lines.append(
            "| `%s` | %s | %02d | %s | %s |"
            % (name, PROVENANCE[name].products, mp["function"], blocks, fields)
        )
    lines += ["", "| type | register document (version) | checked |", "| --- | --- | --- |"]
    for name in sorted(maps):
        p = PROVENANCE[name]
        lines.append("| `%s` | %s | %s |" % (name, p.document, p.checked))
    return [*lines, ""]


# Where the identification registers of a map (`ident`) come from; a type without them shows "Not Available".
IDENT_SOURCES: dict[str, str] = {
    "em24": "serial number: the maker's EM24-DIN document (2.9.12: 13 ASCII characters, two a register, from "
    "0x1300; older meters may not have it); firmware version code 0x0304: Victron `dbus-modbus-client` "
    "(`carlo_gavazzi.py`, EM24 Ethernet models), NOT confirmed for the RS-485 models",
    "pro380": "Victron `dbus-modbus-client` (`inepro.py`, following Inepro's PRO380 user manual V2.18v6): "
    "serial number 0x4000 and firmware version 0x4007, U32 high word first each, function 03",
    "wm3m4": "EVerest `RsIskraMeter` (following Iskra's WM3M4 user manual 1.14): serial number at input "
    "register 9 (4 registers of text); neither source reads a firmware version",
}


def _ident_table() -> list[str]:
    lines = [
        "## Meter identification (serial number, firmware version)",
        "",
        "Read once when the meter starts answering (and again after it was lost), reported to the head (event",
        "`meter_ident`, kept in the module area's `meter_serial`/`meter_firmware`) and shown on the WBM point",
        'status page\'s "Energy Measuring Device" group; "Not Available" where the type has no such register.',
        "",
        "| type | serial number | firmware version | source |",
        "| --- | --- | --- | --- |",
    ]
    for name in sorted(meters.MAPS):
        fields = {f[0]: f for f in meters.MAPS[name].get("ident", ())}
        cells = []
        for which in (meters.SERIAL, meters.FIRMWARE):
            f = fields.get(which)
            kind = (
                {meters.TEXT: "text", meters.VERSION: "version code", meters.NUMBER: "number"}[f[3]]
                if f
                else ""
            )
            cells.append("%s, %d register(s), %s" % (_reg(f[1]), f[2], kind) if f else "Not Available")
        source = IDENT_SOURCES.get(name, "none of the sources names identification registers")
        lines.append("| `%s` | %s | %s | %s |" % (name, cells[0], cells[1], source))
    return [*lines, ""]


# Where a signing map's transaction registers (`signing`) come from; a test checks it names exactly those maps.
SIGNING_SOURCES: dict[str, str] = {
    "wm3m4": 'Iskra "WM3M4 user manual" 1.14 as implemented by EVerest `RsIskraMeter` (state 7000, command '
    "7051 with 'B'/'r', signature status 7052, lengths 7056-7058, algorithm 7059, metadata 7100, signed data "
    "7612, public key 8124, signature 8188, clock 7053-7055 (UTC offset in minutes, UTC seconds) and 7071 = 2 "
    "(synchronized) before each transaction; holding registers); NOT checked against a maker document",
}


def _signing_table() -> list[str]:
    lines = [
        "## Signing meters (calibration law)",
        "",
        "A type whose map has `signing` registers keeps an ECDSA P-256 key pair and shows its public key (the",
        "raw point X|Y; with `meters.KEY_PREFIX`, the DER SubjectPublicKeyInfo). A transaction started and",
        "stopped by the command register ends in an OCMF payload with the readings at start and end and its",
        "ECDSA-SHA256 signature (DER) over exactly those bytes. Before each transaction the module sets the",
        "meter's clock from the head's wall clock (point command `clock`, sent by the controller agent when the",
        "module appears and hourly), so the readings' times carry S (synchronized), not U. The simulated park's",
        "meter of such a type signs likewise (`chargepark.simmeter.SigningMeter`, a key pair made at its start;",
        "its clock as the module set it).",
        "",
        "| type | registers (holding, decimal) | source |",
        "| --- | --- | --- |",
    ]
    for name in sorted(meters.MAPS):
        sig = meters.MAPS[name].get("signing")
        if sig:
            regs = ", ".join(
                "%s %s" % (k, ("0x%04X" % v) if k in ("start", "stop") else v) for k, v in sig.items()
            )
            lines.append("| `%s` | %s | %s |" % (name, regs, SIGNING_SOURCES[name]))
    return [*lines, ""]


def render() -> str:
    lines = [
        "# Energy meters",
        "",
        "<!-- generated by `python -m chargepark.meterdoc` from iomodule/meters.py and chargepark/meterdoc.py;"
        " do not edit -->",
        "",
        "Every energy meter of the manual has a register map in `firmware_mpy/iomodule/meters.py`: the RS-485",
        'types (`MAPS`, the point\'s "Energy measuring device type", `pointconfig.METER_TYPES`) are read by the',
        "IO module's Modbus RTU driver; the higher-level meters of a load circuit (`HIGHER_LEVEL`, the",
        "loadcircuit area's `meter_type`) by the head's Modbus Client service over Modbus/TCP. A higher-level",
        "meter on a point's RS-485 line (\"RS-485 connection\") is of the point's own type and read by that",
        "point's module at the point meter's address + 1 (module field `higher_meter`). Word order LSW =",
        "low word first; registers are protocol addresses (0-based, hex); T5/T6 = Iskra's decade exponent in the high byte and a 24-bit value; S32E = S32 times",
        "10 to the power of the register named. The simulated park serves each map from a pymodbus server",
        "(`chargepark.simmeter`).",
        "",
        "**Provenance.** Only the EM24-DIN map (and the EEM-350-D-MCB, which has its layout) was checked",
        "register by register against the maker's own register document. For the others the maker's document",
        "was either not found or found without a readable register table (named below with what it did",
        "confirm); they were checked against the third-party transcription or implementation named below, and",
        "what none of them confirms is marked NOT checked. Before relying on a map in the field, read the",
        "listed registers from the meter with `mbpoll` and compare them with its display.",
        "",
    ]
    lines += _table("RS-485 meters (IO module)", meters.MAPS)
    lines += _table("Higher-level meters over Modbus/TCP (Modbus Client service)", meters.HIGHER_LEVEL)
    lines += _ident_table()
    lines += _signing_table()
    return "\n".join(lines)


def main() -> int:
    DOC.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
