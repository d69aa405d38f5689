"""The terminal live table of `chargepark run`: one row per point from the hub's live messages."""

from __future__ import annotations

import io
import json

import chargedefs as cd
from chargepark import topics
from chargepark.datahub.point import PointTracker
from chargepark.livetable import LiveTable


def test_table_rows_from_live_messages() -> None:
    table = LiveTable(io.StringIO())
    for pos, (iec, status, bits) in enumerate((("C2", "Charging", 0), ("F", "Faulted", cd.ERR_RCM_TRIP)), 1):
        p = PointTracker("u%d" % pos, position=pos, name="Point %d" % pos)
        p.update({"iec_state": cd.IEC_STATES.index(iec), "status": cd.STATUSES.index(status), "error_bits": bits,
                  "set_current_ma": 16000, "i1_ma": 15900, "power_mw": 3657000}, True, 1.0)  # fmt: skip
        table.on_live(topics.charx(p.uid, "live"), json.dumps(p.live(p.params())).encode())
    table.on_live(topics.charx("bad", "live"), b"{not json")
    lines = table.lines([{"name": "jupicore", "state": "running", "restarts": 2},
                         {"name": "ocpp16", "state": "not installed", "restarts": 0}])  # fmt: skip
    assert lines[1].split()[:5] == ["1", "Point", "1", "Charging", "C2"]
    assert "15.9/0.0/0.0" in lines[1] and "3.66" in lines[1] and "online" in lines[1]
    assert lines[2].split()[3:5] == ["Faulted", "F"] and lines[2].endswith("RCM_TRIP")
    assert lines[-1] == "services: jupicore=running(2)"
    table.render([])
    assert table.out.getvalue().startswith("\x1b[H\x1b[J")  # type: ignore[attr-defined]


def test_banner_stays_above_the_table() -> None:
    table = LiveTable(io.StringIO())
    table.banner = ["chargepark: head running", "  WBM          http://127.0.0.1:8080/"]
    lines = table.lines([])
    assert lines[:3] == ["chargepark: head running", "  WBM          http://127.0.0.1:8080/", ""]
    assert lines[3].split()[:3] == ["#", "name", "status"]
