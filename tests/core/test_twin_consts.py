"""The twin's constants are generated from the C headers (build/tools/twin_consts.py, `scons core`)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("twin_consts", ROOT / "build" / "tools" / "twin_consts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("twin_consts", module)
    spec.loader.exec_module(module)
    return module


gen = _generator()


def test_committed_consts_are_what_the_headers_generate() -> None:
    committed = (ROOT / gen.OUTPUT).read_text()
    assert committed == gen.render(str(ROOT)), (
        "stale: run `scons core` (or python build/tools/twin_consts.py)"
    )


def _headers_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / gen.HEADERS, tmp_path / gen.HEADERS)
    return tmp_path / gen.HEADERS


def test_a_changed_header_value_changes_the_output(tmp_path: Path) -> None:
    headers = _headers_copy(tmp_path)
    rcm = headers / "rcm.h"
    rcm.write_text(rcm.read_text().replace("X(RCM_TRIP_UA, 6000)", "X(RCM_TRIP_UA, 5000)"))
    stages = headers / "overcurrent.h"
    stages.write_text(stages.read_text().replace("X(100) X(75) X(50)", "X(100) X(60)"))
    text = gen.render(str(tmp_path))
    assert "RCM_TRIP_UA = const(5000)\n" in text and "OC_EVZE_STAGES_PCT = (100, 60)\n" in text
    assert text != (ROOT / gen.OUTPUT).read_text()


@pytest.mark.parametrize(
    "entry, why",
    [("X(RCM_TRIP_UA, 6000u)", "an entry is not X"), ("X(RCM_OK, 0) X(RCM_OK, 0)", "twice")],
)
def test_an_entry_the_twin_cannot_take_is_refused(tmp_path: Path, entry: str, why: str) -> None:
    rcm = _headers_copy(tmp_path) / "rcm.h"
    rcm.write_text(rcm.read_text().replace("X(RCM_TRIP_UA, 6000)", entry))
    with pytest.raises(ValueError, match=why):
        gen.render(str(tmp_path))
