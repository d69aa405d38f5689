"""The local MQTT topic map: the one definition every service publishes and subscribes by.

Local topics follow the CHARX layout existing clients read (`charging_controllers/<uid>/data/...`);
internal traffic between our own services lives under `applications/<service>/...` like the CHARX
load-management topics. `docs/mqtt-topics.md` is rendered from this table (`python -m chargepark.topics`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    pattern: str  # `{uid}` / `{param}` are placeholders
    publisher: str
    payload: str
    retained: bool
    doc: str


CHARX_DATA = "charging_controllers/{uid}/data/{param}"
CHARX_MAX_CURRENT = "charging_controllers/{uid}/control/maximum_current"
AGENT_LIVE = "applications/controller-agent/charging_controllers/{uid}/live"
AGENT_MODULES = "applications/controller-agent/modules"
AGENT_EVENT = "applications/controller-agent/charging_controllers/{uid}/event"
AGENT_COMMAND = "applications/controller-agent/charging_controllers/{uid}/command"
AGENT_COMMAND_RESULT = "applications/controller-agent/charging_controllers/{uid}/command_result"
AGENT_UPDATE = "applications/controller-agent/update"
AGENT_UPDATE_PROGRESS = "applications/controller-agent/update/progress"
SESSION_EVENT = "applications/jupicore/sessions/{uid}"
SERVICES = "applications/supervisor/services"
SYSTEM_MONITOR = "applications/system-monitor/data"

# CHARX data parameters published by the data hub: name -> (payload, doc). `live` is our addition.
DATA_PARAMS: dict[str, tuple[str, str]] = {
    "iec_61851_state": (
        "plain string `A1`, `B1`, `B2`, `C1`, `C2`, `D1`, `D2`, `E`, `F`",
        "IEC 61851 CP state",
    ),
    "status": ("plain string `Available`, `Preparing`, `Charging`, ...", "user status (OCPP-like)"),
    "energy": (
        'JSON energy object, each metric `{"value": x, "unit": u}`',
        "meter: u1..u3, i1..i3, powers, energy",
    ),
    "rfid": ('JSON `{"tag": "...", "timestamp": "YYYY-MM-DDTHH:MM:SS"}`', "last RFID tag of this plug-in"),
    "error_status_int": ("integer as string", "32-bit error word (charx-interfaces section 4)"),
    "error_status_enum": ("`NO_ERRORS` or `ERR_STATE_<NAME>` of the lowest set bit", "first active error"),
    "charge_time_sec": ("integer seconds as string", "charging duration (time in Charging / state C)"),
    "connected_time_sec": (
        "integer seconds as string",
        "plug-in duration (Occupied/Charging/Error), 0 when unplugged",
    ),
    "pwm_duty_cycle_percent": ("number as string, 100 = no charge permitted", "CP PWM duty"),
    "pwm_current_a": ("number as string", "current signalled to the EV (0 when no vehicle)"),
    "temperature_c": ("number as string", "connector temperature"),
    "bus_state": ("`online` / `offline`", "backplane link of this point"),
    "hlc": ("JSON object or `null`", "ISO 15118 data when present"),
    "live": (
        "JSON object: every field above plus position, name, session",
        "whole point in one message (WBM, live table)",
    ),
}

TOPICS: tuple[Topic, ...] = (
    Topic(
        CHARX_DATA,
        "jupicore",
        "see the parameter table",
        True,
        "live state of a charging point, CHARX layout; each parameter is published when it changes",
    ),
    Topic(
        CHARX_MAX_CURRENT,
        "jupicore",
        "number as string [A]",
        True,
        "retained view of the maximum current; publishing here does not control the point (as CHARX)",
    ),
    Topic(
        AGENT_LIVE,
        "controller-agent",
        "JSON: the point snapshot (LIVE_FIELDS names) + `uid`, `position`, `online`, `t` (read at), `name`, `configured`",
        False,
        "raw live state polled from the IO module over the backplane bus",
    ),
    Topic(
        AGENT_MODULES,
        "controller-agent",
        "JSON list of `{uid, position, firmware_version, online}`",
        True,
        "modules discovered on the backplane bus",
    ),
    Topic(
        AGENT_EVENT,
        "controller-agent",
        'JSON `{"event": <chargedefs.EVENTS name>, "arg": ...}`',
        False,
        "an event the point reported (session start/stop, RFID read, errors, ...)",
    ),
    Topic(
        AGENT_COMMAND,
        "any service",
        'JSON `{"name": <point command>, "value": ..., "id": "..."}`',
        False,
        "a command for the point (point API command names)",
    ),
    Topic(
        AGENT_COMMAND_RESULT,
        "controller-agent",
        'JSON `{"id": "...", "ok": bool, "error": "..."}`',
        False,
        "result of a command",
    ),
    Topic(
        SESSION_EVENT,
        "jupicore",
        "JSON session record (start, end, energy_wh, id_tag, reason)",
        False,
        "a charging session started, changed or ended",
    ),
    Topic(
        SERVICES,
        "supervisor",
        "JSON list of `{name, state, version, uptime_s, restarts, last_error}`",
        True,
        "service table of the head",
    ),
    Topic(
        SYSTEM_MONITOR,
        "system-monitor",
        "JSON `{cpu_percent, mem_total_kb, mem_available_kb, disk_*, load, services}`",
        True,
        "system data of the head",
    ),
)


def charx(uid: str, param: str) -> str:
    return CHARX_DATA.format(uid=uid, param=param)


def fill(pattern: str, **parts: str) -> str:
    return pattern.format(**parts)


def subscription(pattern: str) -> str:
    """The MQTT wildcard subscription matching every topic of a pattern."""
    return pattern.replace("{uid}", "+").replace("{param}", "+")


def uid_of(topic: str, pattern: str) -> str | None:
    """The `{uid}` part of a topic matching pattern, else None."""
    want = pattern.split("/")
    got = topic.split("/")
    if len(want) != len(got):
        return None
    uid = None
    for w, g in zip(want, got, strict=True):
        if w == "{uid}":
            uid = g
        elif w != g and w != "{param}":
            return None
    return uid


def render_markdown() -> str:
    lines = [
        "# MQTT topics (local broker)",
        "",
        "Generated from `host_cpython/chargepark/topics.py` by `python -m chargepark.topics > docs/mqtt-topics.md`;",
        "a test fails when this file is stale. The broker is mosquitto on 127.0.0.1 (port from the configuration,",
        "1883 by default), anonymous, QoS 0. `<uid>` is the charging controller UID (REST controller key).",
        "The manual's `<prefix>/<device type>/<device id>/...` hierarchy is only used by the bridge to a remote broker.",
        "",
        "| topic | publisher | retained | payload | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in TOPICS:
        lines.append(
            "| `%s` | %s | %s | %s | %s |"
            % (
                t.pattern.replace("{", "<").replace("}", ">"),
                t.publisher,
                "yes" if t.retained else "no",
                t.payload,
                t.doc,
            )
        )
    lines += [
        "",
        "## `charging_controllers/<uid>/data/<param>` parameters",
        "",
        "| param | payload | meaning |",
        "| --- | --- | --- |",
    ]
    for name, (payload, doc) in DATA_PARAMS.items():
        lines.append("| `%s` | %s | %s |" % (name, payload, doc))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
