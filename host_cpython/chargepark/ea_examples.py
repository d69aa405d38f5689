"""The manual's own Event Action example tables ("Examples of Event Action configuration"), as entries of
`pointconfig.EVENT_ACTION`. One copy: the firmware tests run them on the module
(`tests/firmware/test_eventactions.py`) and the WBM's Event Actions page loads them as presets."""

from __future__ import annotations

from typing import Any

Entry = dict[str, Any]


def entry(event: str, action: str, condition: str = "active", timer_ms: int = 10, **extra: Any) -> Entry:
    """One Event Action; the settings it does not name keep their defaults. The manual's timer is 10 ms
    where an action should end with its condition."""
    return {"event": event, "action": action, "condition": condition, "timer_ms": timer_ms, **extra}


# Event Actions for external specifications
EXTERNAL = [
    # 1: charging release via digital input 1 (a button) when a car is connected
    entry("di_rising", "enable_charging", "status_b", timer_ms=0, event_input=1, switch="enable"),
    # 2: shutdown of the charging point by input 2
    entry("always", "external_release", "di_high", timer_ms=1000, condition_input=2, switch="disable"),
    # 3: current reduction to 16 A by input 4
    entry("always", "reduce_current", "di_high", condition_input=4, action_value=16),
]

# Event Action configuration for the LED charging socket: output 1 red, 2 green, 3 blue
LED = [
    entry("always", "do_high", "error_internal", action_output=1),
    entry("always", "do_flash_high", "error_external", action_output=1, action_value=50),
    entry("rfid_denied", "do_flash_high", "active", timer_ms=3000, action_output=1, action_value=50),
    entry("always", "do_high", "reserved", action_output=1),
    entry("always", "do_flash_high", "suspended_evse", action_output=1, action_value=50),
    entry("always", "do_high", "available", action_output=2),
    entry("always", "do_high", "reserved", action_output=2),
    entry("always", "do_flash_high", "suspended_evse", action_output=2, action_value=50),
    entry("always", "do_high", "preparing", action_output=3),
    entry("always", "do_flash_high", "charging", action_output=3, action_value=50),
    entry("always", "do_flash_high", "suspended_ev", action_output=3, action_value=80),
]

# Connection to the fourth digital input: an emergency stop switch (the StopReason for the OCPP backend)
EMERGENCY_STOP = [
    entry("di_rising", "external_release", "active", timer_ms=0, event_input=4, switch="disable",
          description="EmergencyStop"),
    entry("di_falling", "external_release", "active", timer_ms=0, event_input=4, switch="enable"),
]  # fmt: skip

# name -> (the manual's title of the table, its entries)
TABLES: dict[str, tuple[str, list[Entry]]] = {
    "external": ("Event Actions for external specifications", EXTERNAL),
    "led": ("Event Action configuration for the LED charging socket", LED),
    "emergency-stop": ("Emergency stop switch on digital input 4", EMERGENCY_STOP),
}
