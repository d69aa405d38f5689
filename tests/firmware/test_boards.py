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


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.parent.name)
def test_lock_feedback_windows_for_every_socket_type(path: Path) -> None:
    """The drive belongs to the socket type (iomodule.lock.ACTUATORS); a board holds only the feedback
    voltage windows of its circuit, for every socket type, apart and within its ADC reference."""
    from iomodule import lock

    board = json.loads(path.read_text())
    windows = board["lock_feedback"]
    assert set(windows) == set(lock.SOCKET_TYPES)
    for socket_type, w in windows.items():
        assert set(w) == {"locked_mv", "unlocked_mv"}, socket_type  # no drive timings in board data
        (a, b), (c, e) = sorted((w["locked_mv"], w["unlocked_mv"]))
        assert 0 <= a <= b < c <= e <= board["adc"]["vref_mv"], socket_type
        profile = lock.profile(board, socket_type)
        assert profile is not None and profile["pulse_ms"] > 0 and profile["locked_mv"] == w["locked_mv"]


def test_the_sim_station_configuration_matches_the_plant_wiring() -> None:
    """boards/sim/config-full.json (the simulated park's points) monitors the contactor on the input the
    plant wires its auxiliary contact to, with a mapped meter, RCM and a temperature sensor."""
    import chargeschema
    import pointconfig
    from iomodule import meters

    sim = BOARDS[0].parent.parent / "sim"
    wiring = json.loads((sim / "board.json").read_text())["sim"]
    cfg = chargeschema.validate(
        pointconfig.FIELDS, json.loads((sim / "config-full.json").read_text()), pointconfig.CHECKS
    )
    assert (cfg["contactor_monitoring"], cfg["contactor_input"]) == (wiring["aux_type"], wiring["aux_input"])
    assert cfg["meter_type"] in meters.MAPS and cfg["rcm_enabled"] and cfg["temp_sensor"] != "off"
