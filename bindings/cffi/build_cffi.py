"""Writes the C source of the cffi (API mode) module `_chargecore_cffi` over the C core.

The cdef is read from the headers themselves (the text between `cffi-begin` and `cffi-end` markers), so the
declarations exist once. Usage: build_cffi.py INCLUDE_DIR OUT.c
"""

import re
import sys
from pathlib import Path

import cffi

MODULES = ("common", "cp", "pwm", "pp", "overcurrent", "balance", "contactor", "rcm", "temp", "fallback")
REGION = re.compile(r"/\* cffi-begin \*/(.*?)/\* cffi-end \*/", re.S)


def cdef_text(include_dir: Path) -> str:
    parts = []
    for name in MODULES:
        text = (include_dir / "chargecore" / (name + ".h")).read_text()
        found = REGION.findall(text)
        if not found:
            raise SystemExit("no cffi region in %s.h" % name)
        parts += found
    return re.sub(r"/\*.*?\*/", "", "\n".join(parts), flags=re.S)


def main() -> None:
    include_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    ffi = cffi.FFI()
    ffi.cdef(cdef_text(include_dir))
    ffi.set_source("_chargecore_cffi", '#include "chargecore/chargecore.h"')
    ffi.emit_c_code(str(out))


if __name__ == "__main__":
    main()
