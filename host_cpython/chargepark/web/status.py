"""The Charge Point Status page's groups (the manual's Table 5-3), filled from the park tree's point, its
live message and its configuration; "Not Available" where the point has no meter (and for a meter's serial
number or firmware version its type has no register for)."""

from __future__ import annotations

from functools import partial
from typing import Any

from chargepark.web import i18n, numbers

NA = "Not Available"
# The module's binding limit (chargedefs.LIMITS, live "limit") as the status page names it.
LIMIT_TEXT = {
    "max_current": "configured maximum",
    "setpoint": "head set-point",
    "awaiting_setpoint": "fallback, waiting for load management",
    "fallback": "fallback, head silent",
    "event_action": "Event Action reduction",
    "cable": "cable",
    "derating": "temperature derating",
    "balance": "out-of-balance suppression",
    "overcurrent": "overcurrent stop",
}
# The bus counters of the live message (chargepark.bus.agent.BUS_COUNTERS) as the page labels them.
COUNTER_LABELS = (("frames_tx", "Frames sent"), ("frames_rx", "Frames received"), ("crc_errors", "CRC errors"),
                  ("timeouts", "Timeouts"), ("retries", "Retries"), ("failures", "Failed requests"))  # fmt: skip
Value = str | tuple[str, str]  # a text, or (data, msgid): "13.0 A" and "cable" translated apart


def _energy(lang: str, live: dict[str, Any], key: str) -> str:
    v = live.get("energy", {}).get(key)
    return numbers.quantity(lang, v["value"], v["unit"]) if isinstance(v, dict) and "value" in v else NA


def duration(seconds: Any) -> str:
    s = int(seconds or 0)
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)


def _limit(lang: str, live: dict[str, Any]) -> Value:
    limit = live.get("limit")
    if not isinstance(limit, dict) or limit.get("reason") not in LIMIT_TEXT:
        return NA
    return (numbers.quantity(lang, limit.get("current_a", 0), "A") + ":", LIMIT_TEXT[limit["reason"]])


def groups(
    point: dict[str, Any],
    live: dict[str, Any],
    cfg: dict[str, Any] | None,
    head: dict[str, Any] | None = None,
    lang: str = i18n.DEFAULT,
) -> list[tuple[str, list[tuple[str, Value]]]]:
    """(group title, [(label, value)]); labels and titles are catalog msgids, values are data, their numbers
    in `lang`'s notation; `head` is the head module's ETH0 address and MAC (the WBM API's network_head)."""
    qty = partial(numbers.quantity, lang)
    energy = partial(_energy, lang)
    metered = cfg is not None and cfg.get("meter_type", "none") != "none"
    meter = live if metered else {}
    session = live.get("session") or {}
    counters = live.get("bus_counters") or {}
    bus_counters: list[tuple[str, Value]] = [
        (label, numbers.number(lang, counters[k]) if k in counters else NA) for k, label in COUNTER_LABELS
    ]
    out: list[tuple[str, list[tuple[str, Value]]]] = [
        ("Current status", [
            ("Status", str(live.get("status", NA))),
            ("Local Bus State", str(live.get("bus_state", "offline"))),
            ("Charging Duration", duration(live.get("charge_time_sec"))),
            ("Plug-in Duration", duration(live.get("connected_time_sec"))),
            ("Charging Current Limit (PWM)", qty(live.get("pwm_current_a", 0), "A")),
            ("Signalled current limit", _limit(lang, live)),
            ("Measured Current L1 | L2 | L3", " | ".join(energy(meter, k) for k in ("i1", "i2", "i3"))),
            ("Charged Energy", qty(session.get("energy_wh", 0), "Wh") if metered else NA),
            ("Charging Power", energy(meter, "real_power")),
        ]),
        ("Device Info", [("Device Name", str(point.get("device_name", NA))), ("Device UID", str(point.get("uid", "")))]),
        ("Base Module", [("Firmware version", str(point.get("firmware_version", NA)))]),
        ("Bus Communication", [
            ("Backplane Bus Position", str(point.get("position", NA))),
            ("Station", str(point.get("station_name", point.get("station", "")))),
            ("Head Module IP Address", str((head or {}).get("ip") or NA)),
            ("Head Module MAC Address", str((head or {}).get("mac") or NA)),
            *bus_counters,
        ]),
        ("Energy Measuring Device", [
            ("Voltage L1 | L2 | L3", " | ".join(energy(meter, k) for k in ("u1", "u2", "u3"))),
            ("Frequency", energy(meter, "frequency")),
            ("Meter reading", energy(meter, "energy_real_power")),
            ("Power factor", energy(meter, "power_factor")),
            # read once at the meter's start; "" where its type has no such register (docs/meters.md)
            ("Serial number", str(point.get("meter_serial") or NA) if metered else NA),
            ("Meter firmware version", str(point.get("meter_firmware") or NA) if metered else NA),
        ]),
        ("Charging Point Details", [
            ("Name", str(point.get("name", ""))),
            ("Location", str(point.get("location", ""))),
            ("Release mode", str((cfg or {}).get("release_mode", NA))),
            ("IEC 61851 state", str(live.get("iec_61851_state", NA))),
            ("Temperature", qty(live["temperature_c"], "degC") if "temperature_c" in live else NA),
            ("Errors", ", ".join(live.get("errors") or []) or "-"),
        ]),
    ]  # fmt: skip
    if cfg and cfg.get("hlc", "disabled") != "disabled":
        hlc = live.get("hlc") or {}
        out.append(("ISO 15118", [("EVSE ID", str(cfg.get("evse_id", ""))), ("HLC state", str(hlc or NA))]))
    return out
