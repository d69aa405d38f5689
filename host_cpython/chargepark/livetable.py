"""The live table `chargepark run` shows in a terminal: one row per point, then the services (rich)."""

from __future__ import annotations

from typing import Any, TextIO

import chargedefs as cd
from rich.console import Console, Group, JustifyMethod
from rich.table import Table
from rich.text import Text

from chargepark.livepoints import LivePoints

# (header, justify) per column, in row order.
COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("#", "right"), ("name", "left"), ("status", "left"), ("IEC", "left"), ("PWM A", "right"),
    ("I1/I2/I3 A", "left"), ("kW", "right"), ("kWh", "right"), ("bus", "left"), ("errors", "left"),
)  # fmt: skip
# The statuses that stand out, as on the WBM dashboard.
STATUS_STYLE = {cd.STATUSES[cd.ST_CHARGING]: "bold green", cd.STATUSES[cd.ST_FAULTED]: "bold red"}


def _row(p: dict[str, Any]) -> list[str | Text]:
    e = p.get("energy", {})
    status = str(p.get("status", ""))
    return [
        str(p.get("position", "?")),
        str(p.get("name", "")),
        Text(status, style=STATUS_STYLE.get(status, "")),
        str(p.get("iec_61851_state", "")),
        "%.1f" % float(p.get("pwm_current_a", 0)),
        "/".join("%.1f" % e.get(k, {}).get("value", 0) for k in ("i1", "i2", "i3")),
        "%.2f" % (e.get("real_power", {}).get("value", 0) / 1000),
        "%.3f" % (e.get("part_energy_real_power", {}).get("value", 0) / 1000),
        str(p.get("bus_state", "")),
        ",".join(p.get("errors", [])),
    ]


class LiveTable(LivePoints):
    def __init__(self, out: TextIO, width: int | None = None) -> None:
        super().__init__()
        self.out = out
        # highlight off: rich would colour numbers and words of its own choosing
        self.console = Console(file=out, width=width, highlight=False)
        self.banner: list[str] = []

    def table(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for header, justify in COLUMNS:
            table.add_column(header, justify=justify, no_wrap=True)
        for p in self.by_position():
            table.add_row(*_row(p))
        return table

    def view(self, services: list[dict[str, Any]]) -> Group:
        running = "  ".join(
            "%s=%s%s" % (s["name"], s["state"], "(%d)" % s["restarts"] if s["restarts"] else "")
            for s in services
            if s["state"] != "not installed"
        )
        banner = [Text(line) for line in self.banner] + [Text("")] if self.banner else []
        return Group(*banner, self.table(), Text(""), Text("services: " + running))

    def render(self, services: list[dict[str, Any]]) -> None:
        # Home + clear to the end: the table redraws in place without scrolling.
        self.out.write("\x1b[H\x1b[J")
        self.console.print(self.view(services))
        self.console.print("(Ctrl-C stops the head)")
        self.out.flush()
