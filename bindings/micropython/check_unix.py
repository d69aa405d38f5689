"""The user C module `_chargecore` on a real MicroPython (unix port) built with USER_C_MODULES.

No package registry carries a MicroPython source tree, so this check is not part of the suite (CI cannot
build the module); a developer with a tree runs it by hand:

    python bindings/micropython/check_unix.py /path/to/micropython

It builds the unix port with the module and runs every golden vector through it. The suite checks in CI
that the module's names are the twin's (tests/core/test_micropython_c_api.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "core"
sys.path.insert(0, str(TESTS))
from backends import VECTORS, vector_files  # noqa: E402

MPY_SOURCE = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MPY_SOURCE", "")


def build_unix(build: Path) -> Path:
    """The unix port with the core linked in (frozen modules, ffi, btree and ssl left out: no submodules)."""
    src = Path(MPY_SOURCE)
    subprocess.run(["make", "-s", "-C", str(src / "mpy-cross")], check=True, capture_output=True)
    subprocess.run(
        ["make", "-s", "-j4", "-C", str(src / "ports" / "unix"), "BUILD=%s" % build, "VARIANT=standard",
         "USER_C_MODULES=%s" % (ROOT / "bindings" / "micropython"), "FROZEN_MANIFEST=", "MICROPY_PY_FFI=0",
         "MICROPY_PY_BTREE=0", "MICROPY_PY_SSL=0"],
        check=True, capture_output=True,
    )  # fmt: skip
    return build / "micropython"


def check(build: Path) -> None:
    binary = build_unix(build)
    code = """
import chargecore, vector_runner
mod = chargecore.use("micropython-c")
total, fails = vector_runner.run_files(mod, %r, %r)
for msg in fails:
    print("FAIL", msg)
twin = chargecore.use("twin")
if sorted(chargecore.api(mod)) != sorted(chargecore.api(twin)):
    print("FAIL api differs")
print("STEPS", total, chargecore.BACKEND)
""" % ([str(p) for p in vector_files()], str(VECTORS / "constants.json"))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(TESTS), str(ROOT / "firmware_mpy")]))
    out = subprocess.run([str(binary), "-X", "heapsize=16M", "-c", code], capture_output=True, text=True,
                         env=env, timeout=300, check=True).stdout  # fmt: skip
    assert "FAIL" not in out, out
    assert out.split()[-1] == "micropython-c"
    assert int(out.split()[-2]) > 500
    print("ok: %s vector steps on _chargecore" % out.split()[-2])


if __name__ == "__main__":
    if not MPY_SOURCE:
        sys.exit("usage: check_unix.py /path/to/micropython-source")
    with tempfile.TemporaryDirectory() as tmp:
        check(Path(tmp) / "build")
