"""Definitions shared by the IO module and the head: one table each, indexed by small integer codes.

Codes are positions in the tuples below, so the bus, Modbus, MQTT and the WBM all translate the same way.
Append only: a code, once given, never changes meaning. Common subset of MicroPython and CPython.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# IEC 61851-1 vehicle states (charx-interfaces.md 1.3 X299 spells them; E and F carry a 0 suffix there).
IEC_STATES = ("A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2", "E", "F")
STATE_A1 = const(0)
STATE_A2 = const(1)
STATE_B1 = const(2)
STATE_B2 = const(3)
STATE_C1 = const(4)
STATE_C2 = const(5)
STATE_D1 = const(6)
STATE_D2 = const(7)
STATE_E = const(8)
STATE_F = const(9)

# User-facing statuses, named as OCPP 1.6 and the manual name them.
STATUSES = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEV",
    "SuspendedEVSE",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
ST_AVAILABLE = const(0)
ST_PREPARING = const(1)
ST_CHARGING = const(2)
ST_SUSPENDED_EV = const(3)
ST_SUSPENDED_EVSE = const(4)
ST_FINISHING = const(5)
ST_RESERVED = const(6)
ST_UNAVAILABLE = const(7)
ST_FAULTED = const(8)

# Error bits: charx-interfaces.md section 4 (Modbus X293, 32 bits, bit = manual bit - 1).
ERR_TEMP_HIGH = const(0x00000001)
ERR_TEMP_DERATING = const(0x00000002)
ERR_CONFIG = const(0x00000008)
ERR_LM_PAUSED = const(0x00000010)
ERR_EVENT_ACTIONS = const(0x00000020)
ERR_RFID_READER = const(0x00000040)
ERR_REJECT_20A_13A = const(0x00010000)
ERR_REJECT_13A = const(0x00020000)
ERR_PP = const(0x00040000)
ERR_CP = const(0x00080000)
ERR_VEHICLE = const(0x00100000)
ERR_LOCK = const(0x00200000)
ERR_UNLOCK = const(0x00400000)
ERR_LOCK_UNKNOWN = const(0x00800000)
ERR_OVERCURRENT = const(0x01000000)
ERR_METER_COMM = const(0x02000000)
ERR_STATUS_D = const(0x04000000)
ERR_CONTACTOR = const(0x08000000)
ERR_DIODE = const(0x10000000)
ERR_POWER_SUPPLY = const(0x20000000)
ERR_RCM_TRIP = const(0x40000000)
ERR_RCM_SENSOR = const(0x80000000)

# (mask, name, kind): kind "internal" = fault of the charging station, "external" = fault on the vehicle
# side (manual conditions "Error Internal"/"Error External"), "info" = reported but not an error state.
ERRORS = (
    (ERR_TEMP_HIGH, "TEMP_HIGH", "internal"),
    (ERR_TEMP_DERATING, "TEMP_DERATING", "info"),
    (ERR_CONFIG, "CONFIG", "internal"),
    (ERR_LM_PAUSED, "LM_PAUSED", "info"),
    (ERR_EVENT_ACTIONS, "EVENT_ACTIONS", "info"),
    (ERR_RFID_READER, "RFID_READER", "info"),
    (ERR_REJECT_20A_13A, "REJECT_20A_13A", "external"),
    (ERR_REJECT_13A, "REJECT_13A", "external"),
    (ERR_PP, "PP", "external"),
    (ERR_CP, "CP", "external"),
    (ERR_VEHICLE, "VEHICLE", "external"),
    (ERR_LOCK, "LOCK", "internal"),
    (ERR_UNLOCK, "UNLOCK", "internal"),
    (ERR_LOCK_UNKNOWN, "LOCK_UNKNOWN", "internal"),
    (ERR_OVERCURRENT, "OVERCURRENT", "external"),
    (ERR_METER_COMM, "METER_COMM", "internal"),
    (ERR_STATUS_D, "STATUS_D", "external"),
    (ERR_CONTACTOR, "CONTACTOR", "internal"),
    (ERR_DIODE, "DIODE", "external"),
    (ERR_POWER_SUPPLY, "POWER_SUPPLY", "internal"),
    (ERR_RCM_TRIP, "RCM_TRIP", "internal"),
    (ERR_RCM_SENSOR, "RCM_SENSOR", "internal"),
)


def _mask_of(kind):
    m = 0
    for mask, _name, k in ERRORS:
        if k == kind:
            m |= mask
    return m


ERRORS_INTERNAL = _mask_of("internal")
ERRORS_EXTERNAL = _mask_of("external")
ERRORS_FAULT = ERRORS_INTERNAL | ERRORS_EXTERNAL  # bits that put the point into Faulted


def error_names(bits):
    """Names of the set bits, in table order (for logs, MQTT error_status_enum and the WBM)."""
    return [name for mask, name, _k in ERRORS if bits & mask]


# Release modes: codes as Modbus X120.
RELEASE_MODES = ("dashboard", "whitelist", "remote", "permanent", "ocpp", "modbus")

# Locking actuator states.
LOCK_STATES = ("unlocked", "locking", "locked", "unlocking", "error", "unknown")
LOCK_UNLOCKED = const(0)
LOCK_LOCKING = const(1)
LOCK_LOCKED = const(2)
LOCK_UNLOCKING = const(3)
LOCK_ERROR = const(4)
LOCK_UNKNOWN = const(5)

# Digital output modes (manual "Digital Output X ..."). Modbus X302 uses its own 4-bit codes (see
# OUTPUT_MODBUS_CODES); the order here is ours.
OUTPUT_MODES = ("low", "high", "floating", "flash_high", "flash_low", "pulse_low", "bus")
OUT_LOW = const(0)
OUT_HIGH = const(1)
OUT_FLOATING = const(2)
OUT_FLASH_HIGH = const(3)
OUT_FLASH_LOW = const(4)
OUT_PULSE_LOW = const(5)
OUT_BUS = const(6)
OUTPUT_FLASH_PERIOD_MS = const(2000)  # manual: "Period length = 2 s"
OUTPUT_MODBUS_CODES = (1, 2, 0, 3, 3, 4, 0)  # X302: 0 floating, 1 low, 2 high, 3 flashing, 4 pulsating

# IO of one charging point (the CHARX IO set). A board maps them to pins and may provide fewer.
DIGITAL_INPUTS = const(4)
DIGITAL_OUTPUTS = const(4)
ANALOG_INPUTS = const(2)

# Event Actions (manual "Charging Stations/Charge Point/Event Actions"). Config stores the names; the
# engine works on the codes (positions).
EA_EVENTS = (
    "never",
    "always",
    "new_error",
    "error_resolved",
    "di_rising",  # uses event_input
    "di_falling",  # uses event_input
    "plug_connected",
    "plug_disconnected",
    "ev_connected",
    "ev_disconnected",
    "rfid_release",
    "rfid_denied",
    "derating_started",
    "derating_ended",
    "contactor_failure",
    "teach_in_ok",
    "teach_out_ok",
    "teach_in_failed",
)
EA_CONDITIONS = (
    "never",
    "active",
    "di_high",  # uses condition_input
    "di_low",  # uses condition_input
    "connector_plugged",
    "error",
    "error_internal",
    "error_external",
    "pp_equals",  # condition_value = A
    "status_a",
    "status_b",
    "status_c",
    "status_d",
    "ev_connected",
    "ev_not_connected",
    "available",
    "preparing",
    "charging",
    "suspended_ev",
    "suspended_evse",
    "finishing",
    "reserved",
    "unavailable",
    "contactor_failure",
    "last_rfid_invalid",
    "pp_under",  # condition_value = A
    "pp_over",  # condition_value = A
    "ai_over",  # condition_input, condition_value = mV
    "ai_under",  # condition_input, condition_value = mV
    "charge_release",
    "no_charge_release",
    "external_release",
    "no_external_release",
    "derating",
    "no_derating",
    "auth_ongoing",
    "no_contactor_failure",
    "current_reduced_ext",
    "current_not_reduced_ext",
    "pwm_on",
    "pwm_off",
    "backend_offline",
    "backend_offline_available",
    "backend_online",
    "backend_online_available",
)
EA_ACTIONS = (
    "none",
    "enable_charging",  # uses switch
    "lock",
    "unlock",
    "do_low",  # uses action_output
    "do_high",
    "do_floating",
    "do_flash_high",  # action_output, action_value = duty %
    "do_flash_low",  # action_output, action_value = duty %
    "do_pulse_low",
    "do_bus",
    "reduce_current",  # action_value = A
    "external_release",  # uses switch
)
EA_SWITCH = ("bus", "enable", "disable")  # "Enable Status" of enable_charging / external_release
EA_MAX = const(32)

# Events a point reports through pop_event() -> (code, arg).
EVENTS = (
    "session_start",  # arg: [session id, meter Wh or -1] (iomodule/session.py)
    "session_stop",  # arg: [session id, meter Wh or -1, energy Wh, plug-in s, charging s, STOP_REASONS code]
    "error_new",  # arg: the new error bits
    "error_resolved",  # arg: the cleared error bits
    "rfid_read",  # arg: tag (str)
    "status",  # arg: new status code
    "ea_message",  # arg: Event Action description text for the backend (e.g. "EmergencyStop")
    "config_refused",  # arg: reason (str)
    "session_release",  # arg: [session id, meter Wh or -1]: the session's release (again after one taken back)
    "latch_kept",  # arg: error bits still latched although a new configuration stopped monitoring them
    "rfid_board",  # arg: the CHARX RFID/NFC board's firmware version "major.minor", when first known
    "meter_ident",  # arg: [serial number, firmware version] of the energy meter as read at its start ("": none)
    "meter_key",  # arg: a signing meter's public key (DER SubjectPublicKeyInfo, hex) as read at its start
    "meter_signed",  # arg: [session id, OCMF record or "", 0 or why not] (iomodule/signing.py) after session_stop or release false
)
EV_SESSION_START = const(0)
EV_SESSION_STOP = const(1)
EV_ERROR_NEW = const(2)
EV_ERROR_RESOLVED = const(3)
EV_RFID_READ = const(4)
EV_STATUS = const(5)
EV_EA_MESSAGE = const(6)
EV_CONFIG_REFUSED = const(7)
EV_SESSION_RELEASE = const(8)
EV_LATCH_KEPT = const(9)
EV_RFID_BOARD = const(10)
EV_METER_IDENT = const(11)
EV_METER_KEY = const(12)
EV_METER_SIGNED = const(13)

# A load circuit's higher-level meter on this point's meter line (the bus message `higher_meter`): none
# configured here, no reading yet, the values of its last complete cycle, communication lost.
HIGHER_STATES = ("none", "waiting", "ok", "lost")
HIGHER_NONE = const(0)
HIGHER_WAITING = const(1)
HIGHER_OK = const(2)
HIGHER_LOST = const(3)

# Why a session ended (session_stop). Only an unplug ends it normally; the rest abort it.
STOP_REASONS = ("ev_disconnected", "disabled", "unavailable", "unconfigured", "enforced_unlock")
STOP_EV_DISCONNECTED = const(0)
STOP_DISABLED = const(1)
STOP_UNAVAILABLE = const(2)
STOP_UNCONFIGURED = const(3)
STOP_ENFORCED_UNLOCK = const(4)

# Live state of one point, in bus order: (name, unit). Every value is an integer. A unit naming a tuple
# of this module (IEC_STATES, STATUSES, LOCK_STATES) means the value is a position in it; "bits" is a
# bitfield; "bool" is 0/1. LIVE_TYPES gives each field's struct format (same order) for binary codecs.
LIVE_FIELDS = (
    ("iec_state", "IEC_STATES"),
    ("status", "STATUSES"),
    ("error_bits", "bits"),
    ("set_current_ma", "mA"),  # current signalled on the PWM now (0 = none)
    ("duty_permille", "0.1%"),  # CP duty; 1000 = constant +12 V, 0 = -12 V (F)
    ("cable_ma", "mA"),  # cable capacity from PP (0 = no cable / fixed connector)
    ("release", "bool"),  # charging release present
    ("available", "bool"),  # external release (availability)
    ("enabled", "bool"),
    ("lock_state", "LOCK_STATES"),
    ("contactor", "bool"),  # contactor commanded closed
    ("u1_mv", "mV"),
    ("u2_mv", "mV"),
    ("u3_mv", "mV"),
    ("i1_ma", "mA"),
    ("i2_ma", "mA"),
    ("i3_ma", "mA"),
    ("power_mw", "mW"),
    ("energy_wh", "Wh"),  # meter total
    ("session_wh", "Wh"),
    ("power_factor_pm", "permille"),
    ("frequency_mhz", "mHz"),
    ("temp_dc", "0.1 degC"),
    ("rcm_ua", "uA"),  # DC residual current
    ("connected_s", "s"),  # time in B/C/D of this session
    ("charging_s", "s"),  # time in C/D of this session
    ("inputs", "bits"),  # digital input n = bit n-1
    ("outputs", "bits"),  # 4 bits per output, OUTPUT_MODES code, output 1 = bits 3..0
    ("ai1_mv", "mV"),
    ("ai2_mv", "mV"),
    ("flags", "bits"),  # FLAG_* below
    ("config_version", "count"),
    ("config_checksum", "crc32"),
    ("limit", "LIMITS"),  # the limit that binds set_current_ma now
)
LIVE_TYPES = (
    "B", "B", "I", "I", "H", "I", "B", "B", "B", "B", "B",
    "I", "I", "I", "i", "i", "i", "i", "I", "I", "h", "I",
    "h", "I", "I", "I", "H", "H", "H", "H", "H", "I", "I",
    "B",
)  # fmt: skip

# The limit that binds the signalled current (live field "limit"), the least of every limit in
# iomodule.point._target; the WBM status page shows it as e.g. "13 A: cable".
LIMITS = ("max_current", "setpoint", "awaiting_setpoint", "fallback", "event_action", "cable", "derating",
          "balance", "overcurrent")  # fmt: skip
LIMIT_MAX = const(0)  # the configured maximum
LIMIT_SETPOINT = const(1)  # the head's set-point (load management, Modbus, OCPP through it)
LIMIT_AWAITING = const(2)  # a load-managed point before its first set-point: its fallback current
LIMIT_FALLBACK = const(3)  # head silent: the fallback current
LIMIT_EVENT_ACTION = const(4)  # an Event Action's current reduction
LIMIT_CABLE = const(5)  # the cable's capacity (PP)
LIMIT_DERATING = const(6)  # temperature derating
LIMIT_BALANCE = const(7)  # out-of-balance suppression (20 A)
LIMIT_OVERCURRENT = const(8)  # stopped by the overcurrent monitor

# Bits of the "flags" live field.
FLAG_FALLBACK = const(0x0001)  # head silent: fallback current applied
FLAG_DERATING = const(0x0002)  # temperature derating active
FLAG_REDUCED_EXT = const(0x0004)  # current reduced for external reasons (head set-point / Event Action)
FLAG_PWM_ON = const(0x0008)
FLAG_ENFORCED_UNLOCK = const(0x0010)
FLAG_OVERCURRENT_WAIT = const(0x0020)  # overcurrent stop, waiting for the 1-minute restart
FLAG_HEAD_ONLINE = const(0x0040)
FLAG_VENTILATION = const(0x0080)  # vehicle asks for ventilation (state D)
FLAG_LAST_RFID_INVALID = const(0x0100)
FLAG_AUTH_ONGOING = const(0x0200)
FLAG_BACKEND_ONLINE = const(0x0400)  # as told by the head
FLAG_CONFIGURED = const(0x0800)
FLAG_AWAITING_SETPOINT = const(0x1000)  # in a load circuit, no set-point yet: the fallback current applies
FLAG_ONE_PHASE = const(0x2000)  # the phase contactor is set to one phase (iomodule/phases.py)
FLAG_PHASE_SWITCHING = const(0x4000)  # a 1-/3-phase switch is under way: no PWM, contactor open
