"""The live table `chargepark run` shows in a terminal: one row per point, then the services."""

from __future__ import annotations

from typing import Any, TextIO

from chargepark.livepoints import LivePoints

HEADER = "%-3s %-14s %-13s %-4s %6s %-17s %8s %9s %-8s %s" % (
    "#", "name", "status", "IEC", "PWM A", "I1/I2/I3 A", "kW", "kWh", "bus", "errors",
)  # fmt: skip


class LiveTable(LivePoints):
    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out
        self.banner: list[str] = []

    def lines(self, services: list[dict[str, Any]]) -> list[str]:
        rows = [*self.banner, "", HEADER] if self.banner else [HEADER]
        for p in self.by_position():
            e = p.get("energy", {})
            cur = "/".join("%.1f" % e.get(k, {}).get("value", 0) for k in ("i1", "i2", "i3"))
            rows.append(
                "%-3s %-14.14s %-13s %-4s %6.1f %-17s %8.2f %9.3f %-8s %s"
                % (
                    p.get("position", "?"), p.get("name", ""), p.get("status", ""), p.get("iec_61851_state", ""),
                    float(p.get("pwm_current_a", 0)), cur, e.get("real_power", {}).get("value", 0) / 1000,
                    e.get("part_energy_real_power", {}).get("value", 0) / 1000, p.get("bus_state", ""),
                    ",".join(p.get("errors", [])),
                )
            )  # fmt: skip
        rows.append("")
        rows.append(
            "services: "
            + "  ".join(
                "%s=%s%s" % (s["name"], s["state"], "(%d)" % s["restarts"] if s["restarts"] else "")
                for s in services
                if s["state"] != "not installed"
            )
        )
        return rows

    def render(self, services: list[dict[str, Any]]) -> None:
        # Home + clear to the end: the table redraws in place without scrolling.
        self.out.write("\x1b[H\x1b[J" + "\n".join(self.lines(services)) + "\n(Ctrl-C stops the head)\n")
        self.out.flush()
