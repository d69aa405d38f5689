"""The user C module `_chargecore` on a real MicroPython (unix port) built with USER_C_MODULES.

Needs a MicroPython source tree in MPY_SOURCE (docs/core.md). No package registry carries one, so CI never
has it; a developer with the tree runs: MPY_SOURCE=/path/to/micropython pytest tests/core.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from backends import VECTORS, vector_files

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MPY_SOURCE = os.environ.get("MPY_SOURCE", "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not MPY_SOURCE, reason="MPY_SOURCE (a MicroPython source tree) is not set; CI has none"
    ),
]


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


def test_user_c_module_passes_the_vectors(tmp_path: Path) -> None:
    binary = build_unix(tmp_path / "build")
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
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(HERE), str(ROOT / "firmware_mpy")]))
    out = subprocess.run([str(binary), "-X", "heapsize=16M", "-c", code], capture_output=True, text=True,
                         env=env, timeout=300, check=True).stdout  # fmt: skip
    assert "FAIL" not in out, out
    assert out.split()[-1] == "micropython-c"
    assert int(out.split()[-2]) > 500
