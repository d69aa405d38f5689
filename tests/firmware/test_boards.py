"""Board data is consistent: every pin has one job, and the IO counts match the pins listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BOARDS = sorted((Path(__file__).resolve().parents[2] / "boards").glob("*/board.json"))


def pin_uses(board: dict) -> list[tuple[str, int]]:
    uses = []
    for name, value in board.get("pins", {}).items():
        for i, pin in enumerate(value if isinstance(value, list) else [value]):
            uses.append(("%s[%d]" % (name, i), pin))
    for line in ("bus", "meter"):
        for key in ("tx", "rx", "de"):
            if key in board.get(line, {}):
                uses.append(("%s.%s" % (line, key), board[line][key]))
    return uses


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.parent.name)
def test_every_pin_has_one_job(path: Path) -> None:
    board = json.loads(path.read_text())
    seen: dict[int, str] = {}
    for use, pin in pin_uses(board):
        assert pin not in seen, "pin %d is both %s and %s" % (pin, seen[pin], use)
        seen[pin] = use


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.parent.name)
def test_io_counts_match_pins(path: Path) -> None:
    board = json.loads(path.read_text())
    pins = board.get("pins")
    if pins is None:
        assert board["hal"] == "sim"
        return
    io = board["io"]
    assert len(pins["di"]) == io["digital_inputs"]
    assert len(pins["do"]) == len(pins["do_oe"]) == io["digital_outputs"]
    assert len(pins["ai"]) == io["analog_inputs"]
