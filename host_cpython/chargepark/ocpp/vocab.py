"""Our definitions in OCPP 1.6 words: one table each, keyed by the chargedefs name, so that a test can check
that every status, error bit and stop reason of `chargedefs` has its OCPP counterpart."""

from __future__ import annotations

import datetime

import chargedefs
from ocpp.v16.enums import ChargePointErrorCode as Err
from ocpp.v16.enums import ChargePointStatus, Measurand, Reason

# chargedefs.STATUSES are named as OCPP names them; the map is the identity, checked by a test.
STATUS: dict[str, ChargePointStatus] = {name: ChargePointStatus(name) for name in chargedefs.STATUSES}

# chargedefs.ERRORS name -> StatusNotification errorCode. "info" bits are no error for OCPP.
ERROR: dict[str, Err] = {
    "TEMP_HIGH": Err.high_temperature,
    "TEMP_DERATING": Err.no_error,
    "CONFIG": Err.internal_error,
    "LM_PAUSED": Err.no_error,
    "EVENT_ACTIONS": Err.no_error,
    "RFID_READER": Err.reader_failure,
    "REJECT_20A_13A": Err.other_error,
    "REJECT_13A": Err.other_error,
    "PP": Err.other_error,
    "CP": Err.ev_communication_error,
    "VEHICLE": Err.ev_communication_error,
    "LOCK": Err.connector_lock_failure,
    "UNLOCK": Err.connector_lock_failure,
    "LOCK_UNKNOWN": Err.connector_lock_failure,
    "OVERCURRENT": Err.over_current_failure,
    "METER_COMM": Err.power_meter_failure,
    "STATUS_D": Err.ev_communication_error,
    "CONTACTOR": Err.power_switch_failure,
    "DIODE": Err.ev_communication_error,
    "POWER_SUPPLY": Err.under_voltage,
    "RCM_TRIP": Err.ground_failure,
    "RCM_SENSOR": Err.ground_failure,
}

# chargedefs.STOP_REASONS -> StopTransaction reason.
STOP_REASON: dict[str, Reason] = {
    "ev_disconnected": Reason.ev_disconnected,
    "disabled": Reason.local,
    "unavailable": Reason.local,
    "unconfigured": Reason.other,
    "enforced_unlock": Reason.unlock_command,
}

EMERGENCY_STOP = "EmergencyStop"  # the Event Action description that makes the stop reason EmergencyStop


def error_code(bits: int) -> tuple[Err, str]:
    """The errorCode of the first error bit OCPP calls an error, and every set bit's name (vendorErrorCode,
    at most 50 characters)."""
    names = chargedefs.error_names(bits)
    code = next((ERROR[n] for n in names if ERROR[n] != Err.no_error), Err.no_error)
    return code, ",".join(names)[:50]


# Measurand -> (live-state fields by phase (None = no phase), unit, divisor to the OCPP unit).
MEASURANDS: dict[Measurand, tuple[tuple[tuple[str | None, str], ...], str, int]] = {
    Measurand.energy_active_import_register: (((None, "energy_wh"),), "Wh", 1),
    Measurand.power_active_import: (((None, "power_mw"),), "W", 1000),
    Measurand.current_import: ((("L1", "i1_ma"), ("L2", "i2_ma"), ("L3", "i3_ma")), "A", 1000),
    Measurand.current_offered: (((None, "set_current_ma"),), "A", 1000),
    Measurand.voltage: ((("L1-N", "u1_mv"), ("L2-N", "u2_mv"), ("L3-N", "u3_mv")), "V", 1000),
    Measurand.frequency: (((None, "frequency_mhz"),), "", 1000),
    Measurand.power_factor: (((None, "power_factor_pm"),), "", 1000),
    Measurand.temperature: (((None, "temp_dc"),), "Celsius", 10),
}


def measurands(csv: str) -> list[Measurand]:
    """The configured measurands we can sample (MeterValuesSampledData); unknown names raise ValueError."""
    out = []
    for name in (n.strip() for n in csv.split(",")):
        if not name:
            continue
        m = Measurand(name)
        if m not in MEASURANDS:
            raise ValueError("measurand %s is not measured here" % name)
        out.append(m)
    return out


def sampled_values(live: dict[str, int], wanted: list[Measurand], context: str) -> list[dict[str, str]]:
    """SampledValue objects (OCPP JSON names) of one live sample."""
    out = []
    for m in wanted:
        fields, unit, div = MEASURANDS[m]
        for phase, name in fields:
            v: dict[str, str] = {"value": _num(live.get(name, 0), div), "context": context,
                                 "measurand": m.value, "location": "Outlet"}  # fmt: skip
            if unit:
                v["unit"] = unit
            if phase:
                v["phase"] = phase
            out.append(v)
    return out


def _num(raw: int, div: int) -> str:
    return str(raw) if div == 1 else ("%.3f" % (raw / div)).rstrip("0").rstrip(".")


def moment(text: str) -> datetime.datetime:
    """An OCPP dateTime (any offset; none = UTC) as an aware datetime; ValueError when it is none."""
    at = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=datetime.UTC)
