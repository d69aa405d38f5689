"""The CPython-side backends under test, imported through the facade (its `use`)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import chargecore

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
C_BACKENDS = ("cython", "cffi")
CPYTHON_BACKENDS = (*C_BACKENDS, "twin")


def backend(name: str) -> ModuleType:
    try:
        return chargecore.use(name)
    except ImportError as exc:  # the C backends come from `scons core py`
        raise AssertionError("backend %s is not built: run `scons -Q core py` (%s)" % (name, exc)) from exc


def vector_files() -> list[Path]:
    return sorted(p for p in VECTORS.glob("*.json") if p.name != "constants.json")


def load(path: Path) -> Any:
    return json.loads(path.read_text())
