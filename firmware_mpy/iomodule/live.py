"""The live state the point exports (chargedefs.LIVE_FIELDS, in bus order), written without allocating.

Buffer indices come from LIVE_FIELDS by name, so the order is defined there only.
"""

import chargedefs as d

from iomodule import meters

_NAMES = [f[0] for f in d.LIVE_FIELDS]
_ix = _NAMES.index
IEC_STATE = _ix("iec_state")
STATUS = _ix("status")
ERROR_BITS = _ix("error_bits")
SET_CURRENT = _ix("set_current_ma")
DUTY = _ix("duty_permille")
CABLE = _ix("cable_ma")
RELEASE = _ix("release")
AVAILABLE = _ix("available")
ENABLED = _ix("enabled")
LOCK_STATE = _ix("lock_state")
CONTACTOR = _ix("contactor")
SESSION_WH = _ix("session_wh")
TEMP = _ix("temp_dc")
RCM = _ix("rcm_ua")
CONNECTED = _ix("connected_s")
CHARGING = _ix("charging_s")
INPUTS = _ix("inputs")
OUTPUTS = _ix("outputs")
AI1 = _ix("ai1_mv")
AI2 = _ix("ai2_mv")
FLAGS = _ix("flags")
CONFIG_VERSION = _ix("config_version")
CONFIG_CHECKSUM = _ix("config_checksum")
LIMIT = _ix("limit")
# live field <- meter slot (iomodule.meters): the readings, 0 while there is none
METER_FIELDS = (
    (_ix("u1_mv"), meters.U1),
    (_ix("u2_mv"), meters.U2),
    (_ix("u3_mv"), meters.U3),
    (_ix("i1_ma"), meters.I1),
    (_ix("i2_ma"), meters.I2),
    (_ix("i3_ma"), meters.I3),
    (_ix("power_mw"), meters.POWER),
    (_ix("energy_wh"), meters.ENERGY),
    (_ix("power_factor_pm"), meters.PF),
    (_ix("frequency_mhz"), meters.FREQ),
)
del _NAMES, _ix


def state_into(p, buf):
    pwm = 0 < p.duty < 1000
    buf[IEC_STATE] = p.iec_state
    buf[STATUS] = p.status
    buf[ERROR_BITS] = p.error_bits
    buf[SET_CURRENT] = p.signalled_ma if pwm else 0
    buf[LIMIT] = p.limit
    buf[DUTY] = p.duty
    buf[CABLE] = p.cable_ma
    buf[RELEASE] = 1 if p.release_now else 0
    buf[AVAILABLE] = 1 if p.available_now else 0
    buf[ENABLED] = 1 if p.enabled else 0
    lock = p.locking.lock
    buf[LOCK_STATE] = lock.state if lock is not None else d.LOCK_UNLOCKED
    buf[CONTACTOR] = 1 if p.contactor_cmd else 0
    m = p.meter
    ok = p.meter_ok
    for field, slot in METER_FIELDS:
        buf[field] = m[slot] if ok else 0
    buf[SESSION_WH] = p.session.energy_wh(p)
    buf[TEMP] = p.protections.temp_dc if p.cfg["temp_sensor"] == "pt1000" else 0
    ua = p.hal.rcm_ua() if p.rcm_on else 0
    buf[RCM] = ua if ua > 0 else 0
    buf[CONNECTED] = p.session.connected_s(p.last_tick)
    buf[CHARGING] = p.session.charging_ms // 1000
    buf[INPUTS] = p.di_bits
    buf[OUTPUTS] = p.outputs.packed_modes()
    buf[AI1] = p.ai_mv[0] if p.n_ai > 0 else 0
    buf[AI2] = p.ai_mv[1] if p.n_ai > 1 else 0
    buf[FLAGS] = p.flags
    buf[CONFIG_VERSION] = p.config_version
    buf[CONFIG_CHECKSUM] = p.config_checksum


def snapshot(p):
    buf = [0] * len(d.LIVE_FIELDS)
    state_into(p, buf)
    out = {}
    for i in range(len(d.LIVE_FIELDS)):
        out[d.LIVE_FIELDS[i][0]] = buf[i]
    return out
