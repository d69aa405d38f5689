"""`chargepark update`'s view of the controller agent's progress events: one bar per position, then a line."""

from __future__ import annotations

import io

from chargepark.progressbar import transfer_progress
from chargepark.updatecli import UpdateBars
from rich.console import Console


def test_one_bar_per_position_and_a_line_for_each_outcome() -> None:
    out = io.StringIO()
    with transfer_progress(Console(file=out, width=120)) as progress:
        bars = UpdateBars(progress)
        for event in (
            {"position": 2, "state": "sending", "done": 512, "total": 2048},
            {"position": 3, "state": "sending", "done": 1024, "total": 2048},
            {"position": 3, "state": "done", "done": 2048, "total": 2048, "version": "0123456789ab"},
            {"position": 9, "state": "failed", "done": 0, "total": 2048, "error": "no module at position 9"},
        ):
            bars.show(event)
        assert set(bars.tasks) == {2, 3}  # a position that failed before sending gets no bar
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "position 3 installed (firmware 0123456789ab)",
        "position 9 FAILED: no module at position 9",
    ]
    # not a terminal: rich writes the bars' final state once, when the update ends
    assert lines[2].split()[:2] == ["position", "2"] and " 25% " in lines[2] and "0.5/2.0 kB" in lines[2]
    assert lines[3].split()[:2] == ["position", "3"] and " 100% " in lines[3] and "2.0/2.0 kB" in lines[3]
