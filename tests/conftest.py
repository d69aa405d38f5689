"""Shared fixtures: paths, and real MicroPython processes running firmware code."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chargepark.procs import micropython_binary

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware_mpy"
OUT = ROOT / "out"
VECTORS = ROOT / "tests" / "vectors"

for extra in (OUT / "py", FIRMWARE, ROOT / "host_cpython"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def mpy_env(extra_path: list[Path] | None = None) -> dict[str, str]:
    """Environment for a MicroPython process whose import path is firmware_mpy (plus extra)."""
    env = dict(os.environ)
    paths = [str(p) for p in (extra_path or [])] + [str(FIRMWARE)]
    env["MICROPYPATH"] = os.pathsep.join(paths)
    return env


class MicroPython:
    """Runs snippets and scripts on the real binary with firmware_mpy on the import path."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def run(
        self, code: str, *, timeout: float = 60, extra_path: list[Path] | None = None, heap: str = "4M"
    ) -> str:
        proc = subprocess.run(
            [self.binary, "-X", "heapsize=" + heap, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=mpy_env(extra_path),
            cwd=str(ROOT),
        )
        if proc.returncode != 0:
            raise AssertionError(
                "micropython failed (%d):\n%s%s" % (proc.returncode, proc.stdout, proc.stderr)
            )
        return proc.stdout

    def spawn(
        self,
        args: list[str],
        *,
        extra_path: list[Path] | None = None,
        heap: str = "4M",
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self.binary, "-X", "heapsize=" + heap, *args],
            env=mpy_env(extra_path),
            cwd=str(cwd or ROOT),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )


@pytest.fixture(scope="session")
def micropython() -> MicroPython:
    return MicroPython(micropython_binary())


@pytest.fixture
def mpy_procs(micropython: MicroPython) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Long-running MicroPython processes a test starts; all are killed at the end of the test."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)
