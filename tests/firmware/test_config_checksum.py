"""The configuration checksum: computed once per push, in small pieces, the same on both interpreters.

A module checks the head's checksum against the validated record before anything applies
(ChargePoint.configure), and `chargeschema.canonical_crc32` feeds the canonical text to CRC-32 in pieces
instead of building it whole (docs/porting.md "Memory budget").
"""

import json
import zlib

import chargeschema
import pointconfig
import pytest
from simpoint import FULL, ROOT

BOARD = ROOT / "boards" / "sim" / "board.json"
RULE = {"event": "always", "condition": "charging", "action": "do_flash_high", "action_output": 3,
        "action_value": 50, "timer_ms": 10, "description": 'say "stop"\\now\x01'}  # fmt: skip
LARGE = dict(FULL, event_actions=[RULE] * 16)  # hundreds of pieces: many flushes of the CRC


@pytest.mark.parametrize(
    "doc", [LARGE, {}, [], {"b": [1, True, None], "a": 'q"', "e": {}, "t": (1, -2)}], ids=range(4)
)
def test_the_crc_in_pieces_is_the_crc_of_the_whole_text(doc: object) -> None:
    assert chargeschema.canonical_crc32(doc) == zlib.crc32(chargeschema.canonical(doc).encode())


def test_micropython_computes_the_heads_checksum(micropython) -> None:  # type: ignore[no-untyped-def]
    code = "import json, pointconfig\nprint(pointconfig.checksum(json.loads(%r)))\n" % json.dumps(LARGE)
    assert int(micropython.run(code).strip()) == pointconfig.checksum(LARGE)


def test_a_checksum_mismatch_is_refused_before_anything_applies() -> None:
    from iomodule.point import ChargePoint
    from simboard.hal import SimHal
    from simboard.plant import Plant

    board = json.loads(BOARD.read_text())
    point = ChargePoint(board, SimHal(board, Plant()))
    sent = chargeschema.validate(pointconfig.MODULE_FIELDS, FULL)  # the head sends every module field
    point.configure(sent, pointconfig.checksum(sent))
    assert point.config_version == 1 and point.config_checksum == pointconfig.checksum(sent)
    with pytest.raises(ValueError, match="checksum mismatch"):
        point.configure(dict(sent, max_current_a=20), pointconfig.checksum(sent))
    assert point.cfg["max_current_a"] == FULL["max_current_a"] and point.config_version == 1
