"""The C core keeps its rules by construction: C99 without extensions, no floating point (compiled with
-mgeneral-regs-only, which refuses any float), no global state (no .data/.bss symbols; -fno-pic keeps const
tables of pointers read-only), no heap."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent.parent / "core_c"
SOURCES = sorted((CORE / "src").glob("*.c"))
FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Wconversion", "-Wshadow", "-Werror", "-O2",
         "-mgeneral-regs-only", "-fno-pic", "-I%s" % (CORE / "include")]  # fmt: skip
HEAP = {"malloc", "calloc", "realloc", "free", "aligned_alloc"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_c_rules(source: Path, tmp_path: Path) -> None:
    cc = shutil.which("gcc") or "cc"
    obj = tmp_path / (source.stem + ".o")
    subprocess.run(
        [cc, *FLAGS, "-c", str(source), "-o", str(obj)], check=True, capture_output=True, text=True
    )
    symbols = subprocess.run(["nm", str(obj)], check=True, capture_output=True, text=True).stdout.splitlines()
    writable = [s for s in symbols if len(s.split()) == 3 and s.split()[1] in "BbDdCGgSs"]
    assert writable == [], "global state in %s" % source.name
    undefined = {s.split()[-1] for s in symbols if s.split()[0] == "U"}
    assert undefined & HEAP == set()
    assert undefined <= {"memcpy", "memset", "cc_oc_evze_stages_pct", "cc_oc_evze_stage_count"}, undefined
