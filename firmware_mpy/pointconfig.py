"""Configuration schema of one charging point (manual "Charging Stations | Charge Point | Create configuration").

The single source for the head's "chargepoint" configuration area and for the IO module, which validates
what it is sent with the same fields and checks and keeps its last good configuration. Fields with
`module=True` are the ones the head sends over the bus. Common subset of MicroPython and CPython.
"""

import chargedefs as d
from chargeschema import BOOL, ENUM, INT, LIST, STR, Field, canonical_crc32
from iomodule import phases
from iomodule.lock import SOCKET_TYPES
from iomodule.meters import MAPS
from iomodule.rfid import board as rfid_board

# A meter type exists exactly when its register map does (iomodule/meters.py).
METER_TYPES = ("none",) + tuple(sorted(MAPS))  # noqa: RUF005 - MicroPython has no starred tuple display
PHASE_ROTATIONS = ("unknown", "L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3")
RFID_READER_TYPES = ("twn4", "mde950", "uw_xeu1", "charx")

OUTPUT = (
    Field("mode", ENUM, "bus", choices=d.OUTPUT_MODES, doc="Mode after start-up, before any Event Action"),
    Field("duty", INT, 50, lo=0, hi=100, unit="%", doc="Share of the 2 s period for the flashing modes"),
)

EVENT_ACTION = (
    Field("event", ENUM, "never", choices=d.EA_EVENTS, doc="Input or event"),
    Field("event_input", INT, 1, lo=1, hi=d.DIGITAL_INPUTS, doc="Digital input X of di_rising/di_falling"),
    Field("condition", ENUM, "active", choices=d.EA_CONDITIONS, doc="Condition ANDed to the event"),
    Field(
        "condition_input", INT, 1, lo=1, hi=d.DIGITAL_INPUTS, doc="Digital/analog input X of the condition"
    ),
    Field(
        "condition_value",
        INT,
        0,
        lo=0,
        hi=30000,
        doc="PP current in A (pp_equals/pp_under/pp_over) or analog voltage in mV (ai_over/ai_under)",
    ),
    Field("action", ENUM, "none", choices=d.EA_ACTIONS, doc="Output or action"),
    Field("action_output", INT, 1, lo=1, hi=d.DIGITAL_OUTPUTS, doc="Digital output X of a do_* action"),
    Field(
        "action_value",
        INT,
        0,
        lo=0,
        hi=100,
        doc="Flashing PWM in % (do_flash_*) or current in A (reduce_current)",
    ),
    Field(
        "switch", ENUM, "enable", choices=d.EA_SWITCH, doc="Enable status of enable_charging/external_release"
    ),
    Field(
        "timer_ms",
        INT,
        0,
        lo=0,
        hi=86400000,
        unit="ms",
        doc="Action Timer: 0 = until reset by another Event Action; else the action lasts this long after the "
        "trigger and ends when the condition ends",
    ),
    Field(
        "description",
        STR,
        "",
        lo=0,
        hi=64,
        doc="Error description sent to the OCPP backend (e.g. EmergencyStop)",
    ),
)

FIELDS = (
    Field("name", STR, "Charge Point", lo=1, hi=32,
          rest="charging_point_name", doc="Unique name of the charging point"),
    Field("location", STR, "", lo=0, hi=64, rest="location", doc="Location"),
    # Charging Connection
    Field("connection_type", ENUM, "socket", choices=("socket", "connector"), module=True,
          doc="Socket outlet (mobile cable, PP coded) or connector (fixed cable)"),
    Field("standard", ENUM, "IEC 62196", choices=("IEC 62196",), doc="Standard of the charging socket"),
    Field("socket_type", ENUM, "marquardt4", choices=SOCKET_TYPES, module=True,
          doc="Socket outlet type = locking actuator"),
    Field("locking_mode", ENUM, "connected", choices=("connected", "remote"), module=True,
          doc="connected: lock on EV connected, unlock on EV disconnected; remote: lock/unlock commands only"),
    Field("plug_rejection", ENUM, "none", choices=("none", "reject_13a", "reject_20a_13a"), module=True,
          doc="Refuse cables of low current capacity"),
    Field("status_d", ENUM, "reject", choices=("reject", "accept"), module=True,
          doc="Vehicles that ask for ventilation (state D)"),
    # Energy | Charge Currents
    Field("min_current_a", INT, 10, lo=6, hi=80, unit="A", module=True,
          rest="minimum_charge_current", doc="Charge current minimum"),
    Field("max_current_a", INT, 16, lo=6, hi=80, unit="A", module=True,
          rest="maximum_charge_current", doc="Charge current maximum"),
    Field("fallback_current_a", INT, 6, lo=0, hi=80, unit="A", module=True,
          rest="fallback_charge_current",
          doc="Current when the head module is silent for the fallback time (below the minimum: suspend)"),
    Field("fallback_time_s", INT, 60, lo=1, hi=65534, unit="s", module=True,
          doc="Silence of the head module before the fallback current applies"),
    # Energy | Energy measuring device
    Field("meter_type", ENUM, "none", choices=METER_TYPES, module=True,
          rest="energy_meter_type",
          doc="Energy measuring device type: the types with a register map (iomodule/meters.py)"),
    Field("phase_rotation", ENUM, "unknown", choices=PHASE_ROTATIONS,
          rest="connector_phase_rotation", doc="Connector phase rotation"),
    Field("screen_abbreviation", STR, "", lo=0, hi=8, doc="Calibration law: abbreviation shown on the display"),
    Field("cp_selection", ENUM, "rfid", choices=("rfid", "screen"), doc="Calibration law: point selection"),
    # Monitoring | Protection
    Field("contactor_monitoring", ENUM, "off", choices=("off", "no", "nc"), module=True,
          doc="Auxiliary contact type: N/O (closed = 12 V when stuck) or N/C (open when stuck)"),
    Field("contactor_input", INT, 1, lo=1, hi=d.DIGITAL_INPUTS, module=True,
          doc="Digital input wired to the auxiliary contact"),
    Field("rcm_enabled", BOOL, False, module=True, doc="DC residual current monitoring"),
    # Monitoring | Charge Current Monitoring
    Field("overcurrent", ENUM, "off", choices=("off", "shutdown", "evze"), module=True,
          doc="Overcurrent shutdown (110 %/100 s, 120 %/10 s) or EV/ZE Ready derating"),
    Field("out_of_balance", BOOL, False, module=True, doc="Out-of-balance suppression (max. 20 A)"),
    # Monitoring | Derating
    Field("temp_sensor", ENUM, "off", choices=("off", "pt1000", "ptc"), module=True, doc="Temperature sensor"),
    Field("derating_start_temp_c", INT, 40, lo=0, hi=80, unit="degC", module=True, doc="Start temperature"),
    Field("derating_stop_temp_c", INT, 60, lo=40, hi=100, unit="degC", module=True, doc="Stop temperature"),
    Field("derating_start_current_a", INT, 16, lo=6, hi=80, unit="A", module=True, doc="Start current"),
    Field("derating_stop_current_a", INT, 10, lo=6, hi=80, unit="A", module=True, doc="Stop current"),
    Field("ptc_trip_ohm", INT, 2000, lo=100, hi=20000, unit="Ohm", module=True,
          doc="PTC chain terminating resistance: trip above it"),
    # Allow Charging
    Field("release_mode", ENUM, "dashboard", choices=d.RELEASE_MODES, module=True,
          rest="release_charging_mode", doc="Release mode (X120 code)"),
    Field("rfid_reader", STR, "", lo=0, hi=32,
          rest="rfid_reader_device_uid", doc="Charging point whose RFID reader serves this point"),
    Field("rfid_reader_type", ENUM, "twn4", choices=RFID_READER_TYPES, module=True,
          rest="rfid_reader_type", doc="Type of RFID reader (the driver of this module's reader line)"),
    Field("rfid_timeout_s", INT, 60, lo=1, hi=3600, unit="s", module=True,
          doc="An RFID release without a connected vehicle is discarded after this time"),
    Field("ocpp_connector_id", INT, -1, lo=-1, hi=1000,
          rest="ocpp16_connector_id", doc="OCPP ConnectorId (-1 = not set)"),
    # ISO 15118
    Field("hlc", ENUM, "disabled", choices=("disabled", "optional", "required"),
          rest="evse_hlc_policy", doc="High Level Communication"),
    Field("evse_id", STR, "", lo=0, hi=37, doc="EVSE ID, e.g. DE123E4567"),
    Field("free_service", BOOL, False, doc="Free EVSE charge service"),
    Field("payment", ENUM, "external", choices=("external", "contract_and_external"), doc="Payment options"),
    # IO
    Field("outputs", LIST, [], hi=d.DIGITAL_OUTPUTS, item=OUTPUT, module=True,
          doc="Digital outputs 1..4: start-up mode and flashing duty (missing entries: bus controlled)"),
    Field("event_actions", LIST, [], hi=d.EA_MAX, item=EVENT_ACTION, module=True,
          doc="Event Actions, evaluated in this order every cycle"),
)  # fmt: skip

# Module fields the head derives from other areas when it pushes; no chargepoint record stores them.
DERIVED = (
    Field("load_managed", BOOL, False, module=True,
          doc="The point belongs to a load circuit: until the load manager's first set-point it signals its "
              "fallback current, the room the manager keeps for a point it cannot reach"),
    Field("higher_meter", BOOL, False, module=True,
          doc="A load circuit's higher-level meter is on this point's meter line (RS-485): the module reads "
              "it too, of the point's meter type at the point meter's address + 1"),
    Field("rfid_byte_order", ENUM, "BE", choices=("BE", "LE"), module=True,
          doc="UIDs as read (BE) or byte-reversed (LE): the OCPP key RFIDByteOrder"),
    Field("rfid_char_order", BOOL, False, module=True,
          doc="Swap the bytes of each 16-bit word of a UID: the OCPP key RFIDCharacterOrder"),
)  # fmt: skip
DERIVED += rfid_board.FIELDS  # the CHARX RFID/NFC board's, from the head's "rfidboard" area

DERIVED += phases.FIELDS  # from the point's entry in its load circuit (the head's "loadcircuit" area)

MODULE_FIELDS = tuple(f for f in FIELDS if f.module) + DERIVED


def min_not_above_max(c):
    if c["min_current_a"] > c["max_current_a"]:
        return ("min_current_a", "charge current minimum must not exceed the maximum")
    return None


def derating_order(c):
    if c["temp_sensor"] != "pt1000":
        return None
    if c["derating_start_temp_c"] >= c["derating_stop_temp_c"]:
        return ("derating_start_temp_c", "start temperature must be below the stop temperature")
    if c["derating_start_current_a"] <= c["derating_stop_current_a"]:
        return ("derating_start_current_a", "start current must be above the stop current")
    return None


def fallback_in_range(c):
    # Below the minimum is allowed (the CHARX defaults are 6 A fallback, 10 A minimum): the point then
    # suspends while the head is silent.
    if c["fallback_current_a"] > c["max_current_a"]:
        return ("fallback_current_a", "must not exceed the charge current maximum")
    return None


# The release modes in which an Event Action may issue or withdraw the charging release (Enable Charging
# with Enable or Disable): "Via Remote Control: ... the release is issued via the REST API or Event
# Actions" (manual, "Allow Charging | Release Mode"). The head's gate (release/gate.py) agrees (tested).
EA_RELEASE_MODES = ("remote",)


def release_by_event_actions(c):
    """An Event Action that switches the charging release is refused outside EA_RELEASE_MODES; "bus"
    (the release as the head sets it) is no release path and allowed in every mode."""
    if c["release_mode"] in EA_RELEASE_MODES:
        return None
    for i, ea in enumerate(c["event_actions"]):
        if ea["action"] == "enable_charging" and ea["switch"] != "bus":
            return (
                "event_actions[%d].switch" % i,
                "Enable Charging %s switches the charging release: only in release mode remote "
                "(Via Remote Control), not %s" % (ea["switch"], c["release_mode"]),
            )
    return None


def _io_check(counts):
    """A check refusing Event Actions that name an input/output beyond `counts` = (inputs, outputs, analogs)."""
    n_in, n_out, n_ai = counts

    def check(c):
        if c["contactor_monitoring"] != "off" and c["contactor_input"] > n_in:
            return ("contactor_input", "digital input %d does not exist" % c["contactor_input"])
        if len(c["outputs"]) > n_out:
            return ("outputs", "only %d digital outputs exist" % n_out)
        for i, ea in enumerate(c["event_actions"]):
            problem = _ea_io_problem(ea, n_in, n_out, n_ai)
            if problem:
                return ("event_actions[%d].%s" % (i, problem[0]), problem[1])
        return None

    return check


def _ea_io_problem(ea, n_in, n_out, n_ai):
    if ea["event"] in ("di_rising", "di_falling") and ea["event_input"] > n_in:
        return ("event_input", "digital input %d does not exist" % ea["event_input"])
    cond = ea["condition"]
    if cond in ("di_high", "di_low") and ea["condition_input"] > n_in:
        return ("condition_input", "digital input %d does not exist" % ea["condition_input"])
    if cond in ("ai_over", "ai_under") and ea["condition_input"] > n_ai:
        return ("condition_input", "analog input %d does not exist" % ea["condition_input"])
    if cond in ("pp_equals", "pp_under", "pp_over") and ea["condition_value"] > 80:
        return ("condition_value", "PP current must be <= 80 A")
    action = ea["action"]
    if action.startswith("do_") and ea["action_output"] > n_out:
        return ("action_output", "digital output %d does not exist" % ea["action_output"])
    if action == "reduce_current" and ea["action_value"] > 80:
        return ("action_value", "current must be <= 80 A")
    return None


def checks_for(counts):
    """The cross-field checks for a module with `counts` = (digital inputs, digital outputs, analog inputs)."""
    return (
        min_not_above_max,
        derating_order,
        fallback_in_range,
        release_by_event_actions,
        _io_check(counts),
        phases.checker(counts[1]),
    )


# The head validates against the full CHARX IO set; each module re-checks against its board's counts.
CHECKS = checks_for((d.DIGITAL_INPUTS, d.DIGITAL_OUTPUTS, d.ANALOG_INPUTS))


def module_part(cfg):
    """The part of a full configuration the IO module needs (what the head sends over the bus)."""
    part = {f.name: cfg[f.name] for f in MODULE_FIELDS if f.name in cfg}
    for f in DERIVED:
        part.setdefault(f.name, f.default)
    return part


def checksum(module_cfg):
    """CRC-32 of the canonical text of the module fields: head and module compare it to detect drift."""
    return canonical_crc32(module_part(module_cfg))
