"""The point's commands: one table, the arguments of each declared as fields (docs/point-api.md).

The head validates a command with `COMMANDS.args(name, value)` before it sends it over the bus; the
module validates it again with the same table. A value is one value (one field), a list in field order,
a dict by field name, or None (every field at its default). `docs/point-api.md`'s command table is
generated from this one (`python -m chargepark.pointdoc`).
"""

import chargedefs as d
from chargehandlers import Table
from chargeschema import BOOL, ENUM, INT, STR, Field

from iomodule.eventactions import LOCK_DO, UNLOCK_DO

COMMANDS = Table()
_on = COMMANDS.on
_OUTPUT_MODES = tuple(m for m in d.OUTPUT_MODES if m != "bus")


def _on_off(doc):
    return Field("on", BOOL, True, doc=doc)


def _sets(name, attr, field, doc):
    """A command that only sets one attribute of the point to its value."""

    def handler(p, value):
        setattr(p, attr, value)

    _on(name, field, doc=doc)(handler)


# fmt: off
_sets("setpoint_ma", "setpoint_ma", Field("ma", INT, 0, 0, 80000, unit="mA"),
      "head / load-management current; below the minimum (e.g. 0, Modbus X301 = 0) the point suspends (SuspendedEVSE)")
_sets("enable", "enabled", _on_off("enabled"),
      'manual "Allow/Prohibit": False -> state F, Faulted (no error bit); the session ends (reason disabled) and its release with it')
_sets("available", "available_cmd", _on_off("available"),
      "external release (availability): False -> F, Unavailable; the session ends (reason unavailable)")
_sets("backend", "backend_online", _on_off("online"),
      "backend (OCPP) online, for the Backend online/offline Event Action conditions")
_sets("reserved", "reserved", _on_off("reserved"), "the point is reserved (status Reserved while no vehicle)")
_sets("teach_wait", "teach_waiting", _on_off("waiting"),
      'the head waits for a card to teach in or out at this reader: the CHARX RFID/NFC board shows "Waiting for RFID card to add/delete"')
# fmt: on


@_on("release", _on_off("released"),
     doc="charging release (dashboard, remote, OCPP, Modbus); permanent mode is always released. Also the OCPP "
         "service's decision on a card read here: ends Authorization Request ongoing. Taken back in a released "
         "session, it ends a signing meter's transaction (event meter_signed follows)")  # fmt: skip
def _release(p, on):
    if not on and p.release_cmd and not p.permanent and p.session.released:
        p.end_meter_transaction()  # the transaction stops: a signing meter signs it now
        p.session.released = False  # a release later in this session starts the next one
    p.release_cmd = on
    p.asking_at = -1


@_on(
    "clock",
    Field("utc_s", INT, 0, 0, 0xFFFFFFFF, unit="s", doc="UTC seconds since 1970"),
    Field("tz_min", INT, 0, -720, 840, unit="min", doc="local time's offset from UTC"),
    doc="the head's wall clock: a signing meter's clock is set from it before each transaction (its records' times then carry S, synchronized, not U); the controller agent sends it when the module appears and hourly",
)
def _clock(p, utc_s, tz_min):
    p.set_clock(utc_s, tz_min)


@_on("lock", doc="lock the socket (remote locking mode, Event Actions)")
def _lock(p):
    p.lock_req = LOCK_DO


@_on("unlock", doc="unlock the socket once the contactor is confirmed open (PWM stops first)")
def _unlock(p):
    p.lock_req = UNLOCK_DO


@_on(
    "enforce_unlock",
    _on_off("enforce"),
    doc="True: end the session (reason enforced_unlock), PWM off, contactor open and confirmed, then unlock; held until the plug is out. False reverts",
)
def _enforce_unlock(p, on):
    p.locking.enforced = on


@_on(
    "output",
    Field("index", INT, 1, 1, d.DIGITAL_OUTPUTS),
    Field("mode", ENUM, "low", choices=_OUTPUT_MODES + tuple(range(len(_OUTPUT_MODES)))),
    Field("duty", INT, 0, 0, 100, unit="%"),
    doc="the bus request for a digital output (mode name or OUTPUT_MODES code); drives the pin while the output's mode is bus",
)
def _output(p, index, mode, duty):
    if index > p.n_out:
        raise ValueError("output: this board has %d outputs" % p.n_out)
    if isinstance(mode, str):
        mode = d.OUTPUT_MODES.index(mode)
    p.outputs.bus_mode[index - 1] = mode
    p.outputs.bus_duty[index - 1] = duty


@_on(
    "phases",
    Field("count", INT, 3, 1, 3),
    doc="1 or 3 phases through the phase contactor (iomodule/phases.py): PWM off, contactor open and confirmed, pause, switch, pause, PWM again; refused without a phase output, during a switch, within phase_switch_hold_s of the last or beyond phase_switch_max in a session",
)
def _phases(p, count):
    p.phase_switch.request(count, p.last_tick)


@_on(
    "reset_error",
    doc="operator reset of every latch (RCM, contactor incl. a weld lock-out, overcurrent, diode, PP, status D); a cause that persists is detected again at once",
)
def _reset_error(p):
    p.protections.reset()
    p.cp.reset()
    if p.locking.lock is not None:
        p.locking.lock.error = 0


@_on(
    "rfid",
    Field("tag", STR, "", 1, 64),
    Field("ok", BOOL, False),
    doc="the head's whitelist verdict on a card read here: ok -> release (whitelist mode), else RFID denied",
)
def _rfid(p, tag, ok):
    p.rfid_verdict(ok)


@_on(
    "rfid_decided",
    Field("shown", ENUM, "none", choices=("none", "accepted", "denied")),
    doc="the head decided on the card read here without a verdict for this point (another point of the reader "
    "took it, or it was only recorded): ends Authorization Request ongoing; the CHARX RFID/NFC board shows "
    "RFID accepted / not accepted unless none",
)
def _rfid_decided(p, shown):
    p.rfid_decided(shown)


@_on(
    "fallback",
    Field("current_ma", INT, 0, 0, 80000, unit="mA"),
    Field("time_ms", INT, 0, 0, 65535000, unit="ms"),
    doc="watchdog fallback from Modbus X306/X307; overrides the configured pair until the next restart",
)
def _fallback(p, current_ma, time_ms):
    p.fallback_override = (time_ms, current_ma)
    p.fit_fallback()


@_on(
    "teach",
    Field("result", ENUM, "in_ok", choices=("in_ok", "out_ok", "in_failed")),
    doc="result of an RFID teach-in/out on the head: fires Teach-in Successful / Teach-out Successful / Teach-in Failed",
)
def _teach(p, result):
    p.teach(result)


@_on(
    "unconfigure",
    doc="delete the configuration: back to the factory face (Unavailable, no PWM); the session ends (reason unconfigured); latches stay",
)
def _unconfigure(p):
    p.unconfigure()
