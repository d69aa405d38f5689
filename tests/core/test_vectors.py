"""The golden vectors on all four implementations: C via Cython, C via cffi, the twin on CPython and on the
real `micropython` binary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import chargecore
import pytest
import vector_runner
from backends import CPYTHON_BACKENDS, VECTORS, backend, load, vector_files

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(VECTORS))
import make_vectors  # noqa: E402


@pytest.mark.parametrize("name", CPYTHON_BACKENDS)
@pytest.mark.parametrize("path", vector_files(), ids=lambda p: p.stem)
def test_vectors_on_cpython(name: str, path: Path) -> None:
    steps, fails = vector_runner.run_vectors(backend(name), load(path))
    assert steps > 0
    assert fails == []


@pytest.mark.parametrize("name", CPYTHON_BACKENDS)
def test_constants(name: str) -> None:
    assert vector_runner.check_constants(backend(name), load(VECTORS / "constants.json")) == []


def test_vectors_on_micropython(micropython) -> None:  # type: ignore[no-untyped-def]
    files = [str(p) for p in vector_files()]
    code = """
import chargecore, vector_runner
total, fails = vector_runner.run_files(chargecore.use("twin"), %r, %r)
for msg in fails:
    print("FAIL", msg)
print("STEPS", total, chargecore.BACKEND)
""" % (files, str(VECTORS / "constants.json"))
    out = micropython.run(code, extra_path=[HERE], heap="16M")
    assert "FAIL" not in out, out
    expected = sum(vector_runner.run_vectors(backend("twin"), load(p))[0] for p in vector_files())
    assert out.split()[-2:] == [str(expected), "twin"]


def test_vector_files_are_generated_from_their_source() -> None:
    for name, text in make_vectors.render().items():
        assert (VECTORS / name).read_text() == text, "%s is stale: run tests/vectors/make_vectors.py" % name


def test_every_backend_has_the_same_api() -> None:
    apis = {name: sorted(chargecore.api(backend(name))) for name in CPYTHON_BACKENDS}
    assert apis["cython"] == apis["twin"]
    assert apis["cffi"] == apis["twin"]
    documented = (HERE.parent.parent / "docs" / "core-api.md").read_text()
    for name in apis["twin"]:
        if not name.isupper():
            assert "`%s" % name in documented, "%s is missing from docs/core-api.md" % name


def _facade(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import chargecore; print(chargecore.BACKEND, chargecore.Cp.__module__)"
    full = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60)


def test_facade_prefers_cython_and_can_be_forced() -> None:
    env = {"CHARGECORE_BACKEND": ""}
    assert _facade(env).stdout.split() == ["cython", "_chargecore_cy"]
    assert _facade({"CHARGECORE_BACKEND": "cffi"}).stdout.split() == ["cffi", "_chargecore_cffi_api"]
    assert _facade({"CHARGECORE_BACKEND": "twin"}).stdout.split() == ["twin", "chargecore.twin.cp"]
    missing = _facade({"CHARGECORE_BACKEND": "micropython-c"})
    assert missing.returncode != 0 and "No module named '_chargecore'" in missing.stderr


def test_facade_on_micropython_falls_back_to_the_twin(micropython) -> None:  # type: ignore[no-untyped-def]
    out = micropython.run("import chargecore; print(chargecore.BACKEND, chargecore.backends())")
    assert out.split() == ["twin", "('micropython-c',", "'twin')"]


def test_vectors_json_is_plain_data() -> None:
    # The MicroPython runner reads the files with its small json module: no NaN, no exotic types.
    for path in [*vector_files(), VECTORS / "constants.json"]:
        json.loads(path.read_text(), parse_constant=lambda c: pytest.fail("non-standard constant %s" % c))


def test_c_backends_come_from_the_requested_build() -> None:
    # Under `scons sanitize` the instrumented modules in out/sanitize/py must be the ones tested.
    build = os.environ.get("CHARGECORE_BUILD_DIR") or str(HERE.parent.parent / "out" / "py")
    assert backend("cython").__file__.startswith(build)
    assert backend("cffi")._ffi is not None and sys.modules["_chargecore_cffi"].__file__.startswith(build)


def test_twin_on_micropython_refuses_windows_it_cannot_read_safely(micropython) -> None:  # type: ignore[no-untyped-def]
    code = """
import chargecore
from array import array
cp = chargecore.use("twin").Cp(2048, 15000, 2048)
for wrong in (bytearray(8), b"ab", array("B", [1, 2, 3]), [1, 2, 3]):
    try:
        cp.window(wrong)
        print("accepted", wrong)
    except TypeError:
        pass
a = array("H", [3277] * 1000)
print(cp.window(memoryview(a)[:500]), cp.high_n, cp.window(a), cp.high_n)
"""
    assert micropython.run(code).split() == ["0", "500", "0", "1000"]
