"""The terminal live table of `chargepark run`: one row per point from the hub's live messages."""

from __future__ import annotations

import io
import json
import re
from importlib.resources import files

import chargedefs as cd
from chargepark import topics
from chargepark.datahub.point import PointTracker
from chargepark.livetable import STATUS_STYLE, LiveTable
from rich.console import Console


def screen(table: LiveTable, services: list[dict[str, object]]) -> list[str]:
    """What one redraw puts on the terminal, as lines (rich pads cells with blanks)."""
    table.render(services)  # type: ignore[arg-type]
    out = table.out.getvalue()  # type: ignore[attr-defined]
    assert out.startswith("\x1b[H\x1b[J")  # home + clear: the table redraws in place
    return [line.rstrip() for line in out[len("\x1b[H\x1b[J") :].splitlines()]


def test_table_rows_from_live_messages() -> None:
    table = LiveTable(io.StringIO(), width=160)
    for pos, (iec, status, bits) in enumerate((("C2", "Charging", 0), ("F", "Faulted", cd.ERR_RCM_TRIP)), 1):
        p = PointTracker("u%d" % pos, position=pos, name="Point %d" % pos)
        p.update({"iec_state": cd.IEC_STATES.index(iec), "status": cd.STATUSES.index(status), "error_bits": bits,
                  "set_current_ma": 16000, "i1_ma": 15900, "power_mw": 3657000}, True, 1.0)  # fmt: skip
        table.on_live(topics.charx(p.uid, "live"), json.dumps(p.live(p.params())).encode())
    table.on_live(topics.charx("bad", "live"), b"{not json")
    lines = screen(table, [{"name": "jupicore", "state": "running", "restarts": 2},
                           {"name": "ocpp16", "state": "not installed", "restarts": 0}])  # fmt: skip
    assert lines[0].split() == "# name status IEC PWM A I1/I2/I3 A kW kWh bus errors".split()
    assert lines[1].split()[:5] == ["1", "Point", "1", "Charging", "C2"]
    assert "15.9/0.0/0.0" in lines[1] and "3.66" in lines[1] and "online" in lines[1]
    assert lines[2].split()[3:5] == ["Faulted", "F"] and lines[2].endswith("RCM_TRIP")
    assert lines[-2:] == ["services: jupicore=running(2)", "(Ctrl-C stops the head)"]


def test_charging_and_faulted_stand_out_on_a_terminal() -> None:
    table = LiveTable(io.StringIO(), width=160)
    table.console = Console(file=table.out, width=160, force_terminal=True, color_system="standard")
    for pos, status in enumerate(("Charging", "Faulted", "Available"), 1):
        table.on_live(
            topics.charx("u%d" % pos, "live"), json.dumps({"position": pos, "status": status}).encode()
        )
    out = "\n".join(screen(table, []))
    assert "\x1b[1;32mCharging" in out and "\x1b[1;31mFaulted" in out  # bold green, bold red
    assert "\x1b[1;32mAvailable" not in out and "\x1b[1;31mAvailable" not in out


def test_banner_stays_above_the_table() -> None:
    table = LiveTable(io.StringIO(), width=160)
    table.banner = ["chargepark: head running", "  WBM          http://127.0.0.1:8080/"]
    lines = screen(table, [])
    assert lines[:3] == ["chargepark: head running", "  WBM          http://127.0.0.1:8080/", ""]
    assert lines[3].split()[:3] == ["#", "name", "status"]


def test_the_styled_statuses_are_chargedefs_names_and_the_dashboards() -> None:
    # The WBM's status cells take the status name as CSS class: its capitalised classes are statuses.
    style = files("chargepark.web").joinpath("static/wbm.css").read_text()
    dashboard = set(re.findall(r"\.([A-Z]\w*)\s*\{", style))
    assert dashboard <= set(cd.STATUSES) and dashboard == set(STATUS_STYLE)
