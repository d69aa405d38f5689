"""The CHARX `control` values of a charging point: the nine booleans of JupiCore's `/control` and the
watchdog pair of its `/load-management-config`, what each does to the point, when a write is refused.

The watchdog pair is the energy manager's keep-alive watchdog, one per point, kept here only: JupiCore's
`/load-management-config` and Modbus X306/X307 write the same two fields, and the Modbus server runs the
timer (chargepark.modbus.control): every write of X301 or X307 restarts it, and when it expires the point
falls back to the watchdog current as if X301 were written with it (charx-interfaces.md 1.3). It sends the
module nothing by itself: the module's own fallback is for a silent head (pointconfig fallback_*).

The values live in the store's `control` area (one record per device UID, written by JupiCore's REST, so
they persist across a restart of the head) and reach the module as point commands (docs/point-api.md)
through `chargepark.pointops`; the controller agent applies a stored record again whenever the module
(re)appears on the bus, since a module forgets its commands when it restarts. A point without a record
reads the defaults and gets no commands.

`EFFECTS` is the one table of what each field does; `docs/services.md` (JupiCore) renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chargeschema import BOOL, INT, Field

from chargepark.release import gate

Record = dict[str, Any]
Command = tuple[str, Any]

WATCHDOG_OFF = 65535  # Modbus X307's "disabled"

FIELDS = (
    Field("charge_enable", BOOL, True, doc="Charging allowed (the manual's Allow/Prohibit charging)"),
    Field("external_release", BOOL, True, doc="External release (availability); false: state F, Unavailable"),
    Field("external_status", BOOL, False, doc="External status signal (stored and reported, no effect)"),
    Field("external_locking", BOOL, False, doc="Locked by the external system (locking mode remote)"),
    Field("force_unlocking", BOOL, False, doc="Enforce unlocking: end the session and unlock"),
    Field("force_leds", BOOL, False, doc="Force the status LEDs (stored and reported, no effect)"),
    Field("force_hlc", BOOL, False, doc="Force ISO 15118 HLC (stored and reported, no effect)"),
    Field("auth_request_sent", BOOL, False, doc="An authorization request is out (stored and reported)"),
    Field("external_event_trigger", BOOL, False, doc="External Event Action trigger (stored and reported)"),
    Field("watchdog_current_a", INT, -1, lo=-1, hi=80, unit="A", rest="maximum_current_on_expired_watchdog",
          doc="Current once the watchdog expired (Modbus X306; 0 pauses); -1: the point's fallback current"),
    Field("watchdog_timer_s", INT, WATCHDOG_OFF, lo=1, hi=WATCHDOG_OFF, unit="s", rest="watchdog_timer_sec",
          doc="Watchdog time (Modbus X307): restarted by every X301/X307 write; 65535: off"),
)  # fmt: skip

BOOLEANS = tuple(f.name for f in FIELDS if f.kind == BOOL)
WATCHDOG = ("watchdog_current_a", "watchdog_timer_s")


@dataclass(frozen=True)
class Effect:
    doc: str  # what a write does (docs/services.md)
    commands: Callable[[bool, Record], list[Command]]  # (value, point configuration) -> point commands
    allowed: Callable[[Record], str] = lambda cfg: ""  # point configuration -> why a change is refused


def _enable(on: bool, cfg: Record) -> list[Command]:
    # Where the REST is the release path (manual, "Via Remote Control") it carries the release too.
    return [("enable", on), *([("release", on)] if gate.allows(cfg["release_mode"], "remote") else [])]


def _remote_release(cfg: Record) -> str:
    return gate.refusal(cfg["release_mode"], "remote")


def _remote_locking(cfg: Record) -> str:
    if cfg["connection_type"] != "socket":
        return "a fixed cable (connection type connector) has no lock"
    if cfg["locking_mode"] != "remote":
        return "locking mode %s: the point locks by itself (set locking_mode remote)" % cfg["locking_mode"]
    return ""


def _none(on: bool, cfg: Record) -> list[Command]:
    return []


EFFECTS: dict[str, Effect] = {
    "charge_enable": Effect(
        "`enable`: false stops charging at once (state F, Faulted, the session ends), true allows it again "
        "(a vehicle that stays plugged in starts a new session). In release mode remote also the charging "
        "release (`release`). Any release mode.",
        _enable,
    ),
    "external_release": Effect(
        "`available`: false -> state F, Unavailable (also with a car connected; the session ends), true "
        "-> available. Release mode remote only (409 otherwise).",
        lambda on, cfg: [("available", on)],
        _remote_release,
    ),
    "external_status": Effect(
        "stored and reported; no effect on an AC point (no CHARX meaning documented)", _none
    ),
    "external_locking": Effect(
        "true `lock`, false `unlock` (once the contactor is confirmed open). Locking mode remote only (409).",
        lambda on, cfg: [("lock" if on else "unlock", None)],
        _remote_locking,
    ),
    "force_unlocking": Effect(
        "`enforce_unlock`: true ends the session, opens the contactor and unlocks, held until the plug "
        "is out; false reverts. Any release mode.",
        lambda on, cfg: [("enforce_unlock", on)],
    ),
    "force_leds": Effect("stored and reported; no effect: the point drives no status LEDs", _none),
    "force_hlc": Effect("stored and reported; no effect: the point has no ISO 15118 HLC", _none),
    "auth_request_sent": Effect(
        "stored and reported; no effect (the release logic has its own issue)", _none
    ),
    "external_event_trigger": Effect(
        "stored and reported; no effect (no Event Action event takes it)", _none
    ),
}


def watchdog(record: Record, cfg: Record) -> tuple[int, int]:
    """(current A, timer s) of a point's watchdog; a current of -1 is the point's fallback current."""
    amps = record["watchdog_current_a"]
    return (amps if amps >= 0 else int(cfg.get("fallback_current_a", 0))), record["watchdog_timer_s"]


def refusal(changed: Record, cfg: Record) -> tuple[str, str] | None:
    """(field, reason) of the first change (a value other than the stored one) the point's configuration
    does not allow, else None."""
    for name in changed:
        if name in EFFECTS:
            why = EFFECTS[name].allowed(cfg)
            if why:
                return name, why
    return None


def commands(given: Record, record: Record, cfg: Record) -> list[Command]:
    """The point commands that make the `given` fields of `record` true on the module. A field the point's
    configuration does not allow is skipped: it can only hold its unchanged value (`refusal` refuses a
    change), and a stored one may predate a new configuration."""
    out: list[Command] = []
    for name in BOOLEANS:
        if name in given and not EFFECTS[name].allowed(cfg):
            out += EFFECTS[name].commands(bool(record[name]), cfg)
    return out


def reapply(record: Record, cfg: Record) -> list[Command]:
    """Every command of a stored record, for a module that (re)appeared (it forgot its commands)."""
    return commands(record, record, cfg)
