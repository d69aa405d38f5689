"""Every Event Action condition, true and false, against a plain context (common subset: runs on CPython
and on the micropython binary). `failures()` returns the conditions that answered wrong."""

import chargedefs as d
from iomodule.eventactions import condition


class Ctx:
    def __init__(self, **kw):
        self.di_bits = 0
        self.ai_mv = [0, 0]
        self.plugged = False
        self.ev_connected = False
        self.error_bits = 0
        self.cable_ma = 0
        self.iec_letter = -1
        self.status = d.ST_AVAILABLE
        self.flags = 0
        self.release_now = False
        self.available_now = False
        for k in kw:
            setattr(self, k, kw[k])


# condition -> (input, value, context where it holds, context where it does not)
CASES = {
    "never": (1, 0, None, Ctx()),
    "active": (1, 0, Ctx(), None),
    "di_high": (2, 0, Ctx(di_bits=2), Ctx(di_bits=1)),
    "di_low": (2, 0, Ctx(di_bits=1), Ctx(di_bits=2)),
    "connector_plugged": (1, 0, Ctx(plugged=True), Ctx()),
    "error": (1, 0, Ctx(error_bits=d.ERR_RCM_TRIP), Ctx(error_bits=d.ERR_TEMP_DERATING)),
    "error_internal": (1, 0, Ctx(error_bits=d.ERR_CONTACTOR), Ctx(error_bits=d.ERR_DIODE)),
    "error_external": (1, 0, Ctx(error_bits=d.ERR_DIODE), Ctx(error_bits=d.ERR_CONTACTOR)),
    "pp_equals": (1, 20, Ctx(cable_ma=20000), Ctx(cable_ma=32000)),
    "status_a": (1, 0, Ctx(iec_letter=0), Ctx(iec_letter=1)),
    "status_b": (1, 0, Ctx(iec_letter=1), Ctx(iec_letter=2)),
    "status_c": (1, 0, Ctx(iec_letter=2), Ctx(iec_letter=3)),
    "status_d": (1, 0, Ctx(iec_letter=3), Ctx(iec_letter=-1)),
    "ev_connected": (1, 0, Ctx(ev_connected=True), Ctx()),
    "ev_not_connected": (1, 0, Ctx(), Ctx(ev_connected=True)),
    "available": (1, 0, Ctx(status=d.ST_AVAILABLE), Ctx(status=d.ST_CHARGING)),
    "preparing": (1, 0, Ctx(status=d.ST_PREPARING), Ctx()),
    "charging": (1, 0, Ctx(status=d.ST_CHARGING), Ctx()),
    "suspended_ev": (1, 0, Ctx(status=d.ST_SUSPENDED_EV), Ctx()),
    "suspended_evse": (1, 0, Ctx(status=d.ST_SUSPENDED_EVSE), Ctx()),
    "finishing": (1, 0, Ctx(status=d.ST_FINISHING), Ctx()),
    "reserved": (1, 0, Ctx(status=d.ST_RESERVED), Ctx()),
    "unavailable": (1, 0, Ctx(status=d.ST_UNAVAILABLE), Ctx(status=d.ST_FAULTED)),
    "contactor_failure": (1, 0, Ctx(error_bits=d.ERR_CONTACTOR), Ctx(error_bits=d.ERR_DIODE)),
    "last_rfid_invalid": (1, 0, Ctx(flags=d.FLAG_LAST_RFID_INVALID), Ctx()),
    "pp_under": (1, 20, Ctx(cable_ma=13000), Ctx(cable_ma=20000)),
    "pp_over": (1, 20, Ctx(cable_ma=32000), Ctx(cable_ma=20000)),
    "ai_over": (2, 5000, Ctx(ai_mv=[0, 5001]), Ctx(ai_mv=[9000, 5000])),
    "ai_under": (1, 5000, Ctx(ai_mv=[4999, 0]), Ctx(ai_mv=[5000, 0])),
    "charge_release": (1, 0, Ctx(release_now=True), Ctx()),
    "no_charge_release": (1, 0, Ctx(), Ctx(release_now=True)),
    "external_release": (1, 0, Ctx(available_now=True), Ctx()),
    "no_external_release": (1, 0, Ctx(), Ctx(available_now=True)),
    "derating": (1, 0, Ctx(flags=d.FLAG_DERATING), Ctx()),
    "no_derating": (1, 0, Ctx(), Ctx(flags=d.FLAG_DERATING)),
    "auth_ongoing": (1, 0, Ctx(flags=d.FLAG_AUTH_ONGOING), Ctx()),
    "no_contactor_failure": (1, 0, Ctx(), Ctx(error_bits=d.ERR_CONTACTOR)),
    "current_reduced_ext": (1, 0, Ctx(flags=d.FLAG_REDUCED_EXT), Ctx()),
    "current_not_reduced_ext": (1, 0, Ctx(), Ctx(flags=d.FLAG_REDUCED_EXT)),
    "pwm_on": (1, 0, Ctx(flags=d.FLAG_PWM_ON), Ctx()),
    "pwm_off": (1, 0, Ctx(), Ctx(flags=d.FLAG_PWM_ON)),
    "backend_offline": (1, 0, Ctx(), Ctx(flags=d.FLAG_BACKEND_ONLINE)),
    "backend_offline_available": (1, 0, Ctx(), Ctx(status=d.ST_UNAVAILABLE)),
    "backend_online": (1, 0, Ctx(flags=d.FLAG_BACKEND_ONLINE), Ctx()),
    "backend_online_available": (
        1,
        0,
        Ctx(flags=d.FLAG_BACKEND_ONLINE),
        Ctx(flags=d.FLAG_BACKEND_ONLINE, status=d.ST_FAULTED),
    ),
}


def failures():
    bad = []
    for name in d.EA_CONDITIONS:
        if name not in CASES:
            bad.append(name + ": no case")
            continue
        inp, value, yes, no = CASES[name]
        code = d.EA_CONDITIONS.index(name)
        if yes is not None and condition(yes, code, inp, value) is not True:
            bad.append(name + ": not true")
        if no is not None and condition(no, code, inp, value) is not False:
            bad.append(name + ": not false")
    return bad
