"""The Event Actions page's parts: the manual's example tables (chargepark.ea_examples, which the firmware
tests run on the module) appended as presets, each entry valid by the one schema; the point's inputs and
outputs from the data hub's live message."""

from __future__ import annotations

import chargedefs as cd
import chargeschema as cs
import pointconfig
import pytest
from chargepark import ea_examples
from chargepark.datahub.point import PointTracker
from chargepark.web import eventactions, status


@pytest.mark.parametrize("name", sorted(ea_examples.TABLES))
def test_a_preset_appends_the_manuals_table_valid_by_the_schema(name: str) -> None:
    kept = eventactions.apply([], "add")
    out = eventactions.apply(kept, "preset:" + name)
    table = ea_examples.TABLES[name][1]
    assert out[:1] == kept and len(out) == 1 + len(table)
    for entry, example in zip(out[1:], table, strict=True):
        assert {k: entry[k] for k in example} == example  # the example's settings, the rest defaults
        assert cs.validate(pointconfig.EVENT_ACTION, entry) == entry


def test_the_three_tables_of_the_manual_fit_one_point_together() -> None:
    entries: list[dict[str, object]] = []
    for name in ea_examples.TABLES:
        entries = eventactions.apply(entries, "preset:" + name)
    assert len(entries) == 3 + 11 + 2 <= eventactions.MAX
    # the external specifications release charging: a point in release mode Via Remote Control
    cfg = {"name": "P", "location": "L", "release_mode": "remote", "event_actions": entries}
    record = cs.validate(pointconfig.FIELDS, cfg, pointconfig.checks_for((cd.DIGITAL_INPUTS, cd.DIGITAL_OUTPUTS,
                                                                           cd.ANALOG_INPUTS)))  # fmt: skip
    assert record["event_actions"] == entries


def test_an_unknown_preset_changes_nothing() -> None:
    kept = eventactions.apply([], "add")
    assert eventactions.apply(kept, "preset:nope") == kept


def test_the_inputs_and_outputs_from_the_live_message() -> None:
    p = PointTracker("u1", position=1, name="P1")
    # output 1 high, 2 flashing, 3 low, 4 bus controlled
    outputs = cd.OUT_HIGH | cd.OUT_FLASH_HIGH << 4 | cd.OUTPUT_MODES.index("bus") << 12
    p.update({"inputs": 0b1010, "outputs": outputs, "ai1_mv": 7512, "ai2_mv": 0}, True, 1.0)
    live = p.live(p.params())
    assert live["io"] == {"inputs": [False, True, False, True], "outputs": ["high", "flash_high", "low", "bus"],
                          "analog_mv": [7512, 0]}  # fmt: skip
    assert eventactions.io_state(live) == {
        "inputs": ["Low", "High", "Low", "High"],
        "outputs": ["High", "Flashing high", "Low", "Bus controlled"],
        "analog": ["7.51 V", "0.00 V"],
    }
    assert eventactions.io_state({})["inputs"] == [status.NA] * cd.DIGITAL_INPUTS  # no sample yet
