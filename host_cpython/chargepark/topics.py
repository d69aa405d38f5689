"""The local MQTT topic map: the one definition every service publishes and subscribes by.

Local topics follow the CHARX layout existing clients read (`charging_controllers/<uid>/data/...`);
internal traffic between our own services lives under `applications/<service>/...` like the CHARX
load-management topics. Who publishes and subscribes is declared by the service specs
(`services/<name>/spec.py`); `docs/mqtt-topics.md` is rendered from both (`python -m chargepark.services.docs`).
Every publish goes through this map: `MqttLink.publish` takes the retained flag from it and refuses a topic
that is not in it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    pattern: str  # `{uid}`, `{param}`, `{area}`, `{circuit}` are placeholders, one topic level each
    payload: str
    retained: bool
    doc: str
    outside: str = ""  # publishers that are not services (a CLI, the store's writer, any client)
    # 1: delivered at least once, and kept by the broker for a subscriber with a persistent session that is
    # down (a restarting data hub must not lose a session's events); 0: the latest value is what counts.
    qos: int = 0


CHARX_DATA = "charging_controllers/{uid}/data/{param}"
CHARX_MAX_CURRENT = "charging_controllers/{uid}/control/maximum_current"
AGENT_LIVE = "applications/controller-agent/charging_controllers/{uid}/live"
AGENT_MODULES = "applications/controller-agent/modules"
AGENT_EVENT = "applications/controller-agent/charging_controllers/{uid}/event"
AGENT_COMMAND = "applications/controller-agent/charging_controllers/{uid}/command"
AGENT_COMMAND_RESULT = "applications/controller-agent/charging_controllers/{uid}/command_result"
AGENT_UPDATE = "applications/controller-agent/update"
AGENT_PARK_STATION = "applications/controller-agent/park/stations/{uid}"
AGENT_PARK_CONFIG = "applications/controller-agent/park/charging_controllers/{uid}/config"
AGENT_PARK_UPDATE = "applications/controller-agent/park/stations/{uid}/update"
AGENT_UPDATE_PROGRESS = "applications/controller-agent/update/progress"
SESSION_EVENT = "applications/jupicore/sessions/{uid}"
RFID_RECENT = "applications/jupicore/rfid/recent"
RFID_TEACH = "applications/jupicore/rfid/teach"
SERVICES = "applications/supervisor/services"
SYSTEM_MONITOR = "applications/system-monitor/data"
CONFIG_VERSION = "applications/configuration/{area}/version"
MODBUS_CLIENT_METER = "applications/modbus-client/load_circuits/{circuit}/meter"
MODBUS_DYNAMIC_CURRENT = "applications/modbus-server/dynamic_max_current"
MODBUS_POINT_CURRENT = "applications/modbus-server/charging_controllers/{uid}/max_current"
OCPP_LIMIT = "applications/ocpp16/charging_controllers/{uid}/limit"
LM_CIRCUIT = "applications/loadmanagement/data/load_circuit/{circuit}"
LM_POINT_LIMIT = "applications/loadmanagement/data/charging_controllers/{uid}/limit"
BRIDGE_STATE = "applications/mqtt-bridge/state"
BRIDGE_CONFIG = "applications/mqtt-bridge/config"
BRIDGE_VPN_STATE = "applications/mqtt-bridge/VPN_Connection_State"
BRIDGE_COMMAND = "applications/mqtt-bridge/command"

# CHARX data parameters published by the data hub: name -> (payload, doc). `live` is our addition.
DATA_PARAMS: dict[str, tuple[str, str]] = {
    "iec_61851_state": (
        "plain string `A1`, `B1`, `B2`, `C1`, `C2`, `D1`, `D2`, `E`, `F`",
        "IEC 61851 CP state",
    ),
    "status": ("plain string `Available`, `Preparing`, `Charging`, ...", "user status (OCPP-like)"),
    "energy": (
        'JSON energy object, each metric `{"value": x, "unit": u}`',
        "meter: u1..u3, i1..i3, powers, energy; energy_meter_info (type, model, address, serial, firmware)",
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
        "JSON object: every field above plus position, name, session, io (inputs/outputs/analog inputs)",
        "whole point in one message (WBM, live table)",
    ),
}

TOPICS: tuple[Topic, ...] = (
    Topic(
        CHARX_DATA,
        "see the parameter table",
        True,
        "live state of a charging point, CHARX layout; each parameter is published when it changes",
    ),
    Topic(
        CHARX_MAX_CURRENT,
        "number as string [A]",
        True,
        "retained view of the maximum current; publishing here does not control the point (as CHARX)",
    ),
    Topic(
        AGENT_LIVE,
        "JSON: the point snapshot (LIVE_FIELDS names) + `uid`, `position`, `online`, `t` (read at), `name`, `configured`",
        False,
        "raw live state polled from the IO module over the backplane bus",
    ),
    Topic(
        AGENT_MODULES,
        "JSON list of `{uid, position, firmware_version, online}`",
        True,
        "modules discovered on the backplane bus",
    ),
    Topic(
        AGENT_EVENT,
        'JSON `{"event": <chargedefs.EVENTS name>, "arg": ...}`',
        False,
        "an event the point reported (session start/stop, RFID read, errors, ...)",
        qos=1,
    ),
    Topic(
        AGENT_COMMAND,
        'JSON `{"name": <point command>, "value": ..., "id": "..."}`',
        False,
        "a command for the point (point API command names); the agent validates it before the bus",
        outside="any client",
    ),
    Topic(
        AGENT_COMMAND_RESULT,
        'JSON `{"id": "...", "ok": bool, "error": "...", "kind": "invalid"|"unknown"|"offline"|"refused"}` (`kind`, `error` on failure; `chargepark.pointops`)',
        False,
        "result of a command",
    ),
    Topic(
        AGENT_UPDATE,
        'JSON `{"id": "...", "image_dir": "...", "positions": [..] or "all"}`',
        False,
        "install a firmware image over the bus on the asked modules",
        outside="`chargepark update`",
    ),
    Topic(
        AGENT_UPDATE_PROGRESS,
        "JSON `{id, position, done, total, state, error}` (`version` when done)",
        False,
        "progress of an update, per module, then `finished`",
    ),
    Topic(
        AGENT_PARK_STATION,
        "JSON `{station, name, location, address, modules: [{uid, position, device_name, hardware_version, "
        "firmware_version, online}]}`",
        True,
        "a park client's station and its modules, published by the client's agent and bridged to the server's "
        "broker over ETH1 (park/link.py); the server's agent takes the modules over (park/server.py)",
    ),
    Topic(
        AGENT_PARK_CONFIG,
        "JSON: the module configuration the server derived for the point (its chargepoint record and the "
        "`pointconfig.DERIVED` fields), `null` = not configured on the server",
        True,
        "the park server's configuration of a client's point, bridged to the client, whose agent stores it "
        "(validated whole, park/client.py) and sends it to the module",
        qos=1,
    ),
    Topic(
        AGENT_PARK_UPDATE,
        'JSON `{"id": "...", "station": <uid>, "positions": [..] or "all", "manifest": <manifest.json text>, '
        '"image": <firmware.img, base64>}`',
        False,
        "a board image for a park client's modules, bridged to that client only, whose agent checks it against "
        "the manifest's SHA-256, stores it and runs the bus update (park/update.py); progress on "
        "AGENT_UPDATE_PROGRESS, bridged back",
        outside="`chargepark bundle install` on the park server",
        qos=1,
    ),
    Topic(
        SESSION_EVENT,
        "JSON session record (start, end, energy_wh, id_tag, reason)",
        False,
        "a charging session started, changed or ended",
    ),
    Topic(
        RFID_RECENT,
        'JSON `{"scans": [{tag, reader, at, verdict}, ...] newest first, "teach": {reader, mode, until} or null}`',
        True,
        "the cards recently read at the park's readers and what the RFID decision made of them (release/rfid.py)",
    ),
    Topic(
        RFID_TEACH,
        'JSON `{"reader": <uid>, "mode": "in"|"out"|"off", "seconds": n}`',
        False,
        "arm (or cancel) a teach-in or teach-out of the next card at a point's reader",
    ),
    Topic(
        SERVICES,
        "JSON list of `{name, state, version, uptime_s, restarts, last_error}`",
        True,
        "service table of the head",
    ),
    Topic(
        SYSTEM_MONITOR,
        "JSON `{cpu_percent, mem_total_kb, mem_available_kb, disk_*, load, services}`",
        True,
        "system data of the head",
    ),
    Topic(
        MODBUS_CLIENT_METER,
        "JSON `{circuit, type, online, t}` + when online the reading in live-state names (`u1_mv`..`frequency_mhz`)",
        False,
        "a reading of the load circuit's higher-level meter, every second: Modbus/TCP meters by the Modbus Client, "
        "an RS-485 meter on a point's line by the controller agent from that point's IO module",
    ),
    Topic(
        MODBUS_DYNAMIC_CURRENT,
        "JSON `{a}`: register 167 in A, `null` = no dynamic cap (65535)",
        True,
        "the dynamic maximum current of the first load circuit a Modbus client wrote; load management applies it",
    ),
    Topic(
        MODBUS_POINT_CURRENT,
        "JSON `{ma}`: the charge current a Modbus client wrote (X301; X306 once the watchdog expired) in mA, "
        "`null` = none",
        True,
        "a Modbus client's limit on this point; load management, the one set-point path, applies it",
    ),
    Topic(
        OCPP_LIMIT,
        "JSON `{ma, reason}`: the connector's OCPP limit in mA (`null` = none); reason `charge_point_max_profile`, "
        "`tx_default_profile`, `tx_profile`, `max_current` or `global_max_current`",
        True,
        "the backend's limit on this point now (smart charging composite schedule, MaxCurrent, GlobalMaxCurrent); "
        "load management, the one set-point path, applies it",
    ),
    Topic(
        LM_CIRCUIT,
        "JSON `{circuit, name, active, limiting, monitored, current_a, planned_a, phase_*_a, budget_reason, notes, points, t}`",
        True,
        'load management status of a load circuit (WBM "Load Management Status"), every round',
    ),
    Topic(
        LM_POINT_LIMIT,
        "JSON `{uid, circuit, setpoint_ma, signalled_ma, reason, allocation_reason, grid_phases}`",
        True,
        "why this point is limited: the binding limit now (load_circuit, higher_level_fuse, cable, max_current, "
        "modbus_167, vehicle, paused_minimums, derating, event_action, fallback, ...)",
    ),
    Topic(
        BRIDGE_STATE,
        "JSON `{state, reason, broker, t}`; state `off`, `connecting`, `connected`, `refused`, `tls_error`, `unreachable`, `error`",
        True,
        "connection of the MQTT bridge to the remote broker, with the reason it is not up (the WBM shows it)",
    ),
    Topic(
        BRIDGE_CONFIG,
        'JSON `{"device-type", "id", "name", "location"}`',
        True,
        "the station as the remote broker sees it; forwarded to `<prefix>/<device type>/<device id>/config`",
    ),
    Topic(
        BRIDGE_VPN_STATE,
        'JSON `{"vpn_status": "connected"|"not connected", "vpn_ip": "..."}`',
        True,
        "OpenVPN tunnel state; forwarded to `<prefix>/<device type>/<device id>/VPN_Connection_State`",
    ),
    Topic(
        BRIDGE_COMMAND,
        'JSON `{"openvpn": "connect"|"disconnect"}` (OpenVPN "On Request")',
        False,
        "a command from the remote broker's `<prefix>/<device type>/<device id>/command`, published here by the bridge",
        outside="the remote broker, through the bridge",
    ),
    Topic(
        CONFIG_VERSION,
        "integer as string: the area's change counter (`ConfigStore.versions()`)",
        True,
        "a configuration area changed; services that read it re-read the store (no polling)",
        outside="the configuration store's writer (`chargepark config`, any service that writes)",
    ),
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def charx(uid: str, param: str) -> str:
    return CHARX_DATA.format(uid=uid, param=param)


def fill(pattern: str, **parts: str) -> str:
    return pattern.format(**parts)


def subscription(pattern: str) -> str:
    """The MQTT wildcard subscription matching every topic of a pattern."""
    return _PLACEHOLDER.sub("+", pattern)


def parts_of(topic: str, pattern: str) -> dict[str, str] | None:
    """The placeholder values of a topic matching pattern, else None."""
    want = pattern.split("/")
    got = topic.split("/")
    if len(want) != len(got):
        return None
    parts: dict[str, str] = {}
    for w, g in zip(want, got, strict=True):
        name = _PLACEHOLDER.fullmatch(w)
        if name:
            parts[name.group(1)] = g
        elif w != g:
            return None
    return parts


def uid_of(topic: str, pattern: str) -> str | None:
    """The `{uid}` part of a topic matching pattern, else None."""
    parts = parts_of(topic, pattern)
    return None if parts is None else parts.get("uid")


@functools.lru_cache(maxsize=4096)  # a head publishes a bounded set of topics (points x params)
def entry(topic: str) -> Topic:
    """The map's entry for a concrete topic; KeyError for a topic the map does not define."""
    for t in TOPICS:
        if parts_of(topic, t.pattern) is not None:
            return t
    raise KeyError("topic %r is not in the topic map (chargepark/topics.py)" % topic)


def entry_of_subscription(subscription: str) -> Topic:
    """The map's entry a subscription filter reads: `+` only where the pattern has a placeholder."""
    got = subscription.split("/")
    for t in TOPICS:
        want = t.pattern.split("/")
        if len(want) == len(got) and all(
            g == w or _PLACEHOLDER.fullmatch(w) for w, g in zip(want, got, strict=True)
        ):
            return t
    raise KeyError("subscription %r reads no topic of the topic map (chargepark/topics.py)" % subscription)
