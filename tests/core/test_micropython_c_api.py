"""The MicroPython user C module names exactly the twin's API (CI cannot build it: no MicroPython tree).

The module's globals table and the constants' X-macros are read from the C sources, so a function or a
constant added to one side and not the other fails here; check_unix.py runs the vectors on a real build.
"""

from __future__ import annotations

import re
from pathlib import Path

import chargecore

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "bindings" / "micropython" / "chargecore" / "modchargecore.c"
HEADERS = ROOT / "core_c" / "include" / "chargecore"
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
KEY = re.compile(r"^\s*\{MP_ROM_QSTR\(MP_QSTR_(\w+)\),", re.MULTILINE)


def module_names() -> set[str]:
    source = MODULE.read_text()
    table = source[source.index("chargecore_globals_table[] = {") :]
    table = table[: table.index("};")]
    names = set(KEY.findall(table)) - {"__name__", "BACKEND"}
    assert "CC_ALL_CONSTANTS(CONST_ENTRY)" in table
    for header in HEADERS.glob("*.h"):
        names |= set(re.findall(r"\bX\(([A-Z]\w*), *-?\w+\)", COMMENT.sub("", header.read_text())))
    return names


def test_module_globals_match_the_twin() -> None:
    twin = chargecore.use("twin")
    assert module_names() == set(chargecore.api(twin))


def test_each_type_has_the_twins_methods() -> None:
    twin = chargecore.use("twin")
    source = MODULE.read_text()
    for type_name in ("Cp", "Overcurrent", "Contactor", "Rcm", "Derating", "Fallback"):
        cls = getattr(twin, type_name)
        methods = {m for m in dir(cls) if not m.startswith("_") and callable(getattr(cls, m))}
        block = source[: source.index("MP_DEFINE_CONST_OBJ_TYPE(cc_type_%s," % type_name)]
        block = block[block.rindex("_locals_table[] = {") :]
        assert set(KEY.findall(block)) == methods, type_name
