"""Event Actions: up to 32 event + condition -> action rules, evaluated in list order every control cycle.

Semantics (manual "Charging Stations/Charge Point/Event Actions"):
- An event fires once, in the cycle it happens; "always" fires every cycle; "never" never.
- The condition is ANDed to the event. Firing starts the action.
- Action Timer 0 ms: the action stays until another Event Action changes it (it becomes the new base).
  Action Timer > 0: the action lasts that long after the last firing, so with "always" it ends one timer
  period after the condition ends (10 ms = "ends with the condition"; 3000 ms after a one-time event =
  a 3 s action).
- Later rules overwrite earlier ones in the same cycle; nothing is reverted implicitly except the end of a
  timed action, which falls back to the base state.
- Conflict: two rules that fire in the same cycle (event and condition true) and drive one target (an output,
  the current reduction, Enable Charging, External Release, the lock) to different values. The last still
  wins; `conflict` reports it for the cycle (error bit "Event Actions unclear/conflicting").
The engine keeps rules as flat int lists (no allocation per cycle).
"""

import chargedefs as d

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# rule slots (const: inlined, no module globals)
_EVENT = const(0)
_EV_IN = const(1)
_COND = const(2)
_COND_IN = const(3)
_COND_VAL = const(4)
_ACTION = const(5)
_OUT = const(6)
_VAL = const(7)
_SWITCH = const(8)
_TIMER = const(9)
_UNTIL = const(10)  # runtime: timed action active until this time
_ACTIVE = const(11)  # runtime: 1 while a timed action is active
_SLOTS = const(12)

SW_BUS = 0
SW_ENABLE = 1
SW_DISABLE = 2

LOCK_NONE = 0
LOCK_DO = 1
UNLOCK_DO = 2

_OUTPUT_OF_ACTION = {
    "do_low": d.OUT_LOW,
    "do_high": d.OUT_HIGH,
    "do_floating": d.OUT_FLOATING,
    "do_flash_high": d.OUT_FLASH_HIGH,
    "do_flash_low": d.OUT_FLASH_LOW,
    "do_pulse_low": d.OUT_PULSE_LOW,
    "do_bus": d.OUT_BUS,
}
_A_NONE = d.EA_ACTIONS.index("none")
_A_ENABLE = d.EA_ACTIONS.index("enable_charging")
_A_LOCK = d.EA_ACTIONS.index("lock")
_A_UNLOCK = d.EA_ACTIONS.index("unlock")
_A_REDUCE = d.EA_ACTIONS.index("reduce_current")
_A_EXT = d.EA_ACTIONS.index("external_release")
_A_DO_FIRST = d.EA_ACTIONS.index("do_low")
_A_DO_LAST = d.EA_ACTIONS.index("do_bus")
_A_FLASH_HIGH = d.EA_ACTIONS.index("do_flash_high")
_A_FLASH_LOW = d.EA_ACTIONS.index("do_flash_low")
_E_NEVER = d.EA_EVENTS.index("never")
_E_ALWAYS = d.EA_EVENTS.index("always")
_E_DI_RISING = d.EA_EVENTS.index("di_rising")
_E_DI_FALLING = d.EA_EVENTS.index("di_falling")


class Effects:
    """What the rules ask for this cycle; the controller reads it after `run`."""

    def __init__(self, n_out):
        self.out_mode = [d.OUT_BUS] * n_out
        self.out_duty = [50] * n_out
        self.reduce_ma = 0  # 0 = no reduction
        self.release = SW_BUS
        self.available = SW_BUS
        self.lock = LOCK_NONE  # one-shot request
        self.message_rule = -1  # index of a rule whose description goes to the backend (one per cycle)


class EventActions:
    def __init__(self, n_out):
        self.n_out = n_out
        self.rules = []
        self.descriptions = []
        self.base = Effects(n_out)  # state left by timer-0 actions (and the configured output modes)
        self.now = Effects(n_out)  # base + active timed actions: what applies this cycle
        # Per target (outputs, reduce, release, available, lock): the value the first rule that fired this
        # cycle drove it to, -1 = none yet.
        self._claims = [-1] * (n_out + 4)
        self.conflict = False  # this cycle had a conflict

    def load(self, entries, outputs_cfg):
        """Compile validated configuration entries; `outputs_cfg` gives each output's start-up mode."""
        rules = []
        descriptions = []
        for e in entries:
            r = [0] * _SLOTS
            r[_EVENT] = d.EA_EVENTS.index(e["event"])
            r[_EV_IN] = e["event_input"]
            r[_COND] = d.EA_CONDITIONS.index(e["condition"])
            r[_COND_IN] = e["condition_input"]
            r[_COND_VAL] = e["condition_value"]
            r[_ACTION] = d.EA_ACTIONS.index(e["action"])
            r[_OUT] = e["action_output"] - 1
            r[_VAL] = e["action_value"]
            r[_SWITCH] = d.EA_SWITCH.index(e["switch"])
            r[_TIMER] = e["timer_ms"]
            rules.append(r)
            descriptions.append(e["description"])
        self.rules = rules
        self.descriptions = descriptions
        base = Effects(self.n_out)
        for i in range(len(outputs_cfg)):
            base.out_mode[i] = d.OUTPUT_MODES.index(outputs_cfg[i]["mode"])
            base.out_duty[i] = outputs_cfg[i]["duty"]
        self.base = base
        self.now = Effects(self.n_out)

    def run(self, now_ms, ctx, events, rising, falling):
        """One cycle. `events` = bit field over EA_EVENTS codes that happened this cycle; `rising`/`falling`
        = digital input edges; `ctx` answers conditions (see `condition`)."""
        base = self.base
        eff = self.now
        for i in range(self.n_out):
            eff.out_mode[i] = base.out_mode[i]
            eff.out_duty[i] = base.out_duty[i]
        eff.reduce_ma = base.reduce_ma
        eff.release = base.release
        eff.available = base.available
        eff.lock = LOCK_NONE
        eff.message_rule = -1
        claims = self._claims
        for i in range(len(claims)):
            claims[i] = -1
        conflict = False
        for idx in range(len(self.rules)):
            r = self.rules[idx]
            ev = r[_EVENT]
            if ev == _E_NEVER:
                fired = False
            elif ev == _E_ALWAYS:
                fired = True
            elif ev == _E_DI_RISING:
                fired = (rising >> (r[_EV_IN] - 1)) & 1 == 1
            elif ev == _E_DI_FALLING:
                fired = (falling >> (r[_EV_IN] - 1)) & 1 == 1
            else:
                fired = (events >> ev) & 1 == 1
            if fired and condition(ctx, r[_COND], r[_COND_IN], r[_COND_VAL]):
                if _claim(claims, self.n_out, r):
                    conflict = True
                if r[_TIMER] == 0:
                    _apply(r, base)
                    _apply(r, eff)
                else:
                    r[_UNTIL] = now_ms + r[_TIMER]
                    r[_ACTIVE] = 1
                if eff.message_rule < 0 and ev != _E_ALWAYS and self.descriptions[idx]:
                    eff.message_rule = idx
                if r[_ACTION] == _A_LOCK:
                    eff.lock = LOCK_DO
                elif r[_ACTION] == _A_UNLOCK:
                    eff.lock = UNLOCK_DO
            if r[_ACTIVE]:
                if now_ms - r[_UNTIL] >= 0:
                    r[_ACTIVE] = 0
                else:
                    _apply(r, eff)
        self.conflict = conflict
        return eff


def _claim(claims, n_out, r):
    """Record what rule `r` drives this cycle; True if an earlier rule drove the same target elsewhere."""
    a = r[_ACTION]
    if _A_DO_FIRST <= a <= _A_DO_LAST:
        target = r[_OUT]
        if target >= n_out:
            return False
        value = a * 1000 + (r[_VAL] if a == _A_FLASH_HIGH or a == _A_FLASH_LOW else 0)
    elif a == _A_REDUCE:
        target = n_out
        value = r[_VAL]
    elif a == _A_ENABLE:
        target = n_out + 1
        value = r[_SWITCH]
    elif a == _A_EXT:
        target = n_out + 2
        value = r[_SWITCH]
    elif a == _A_LOCK or a == _A_UNLOCK:
        target = n_out + 3
        value = a
    else:
        return False
    if claims[target] < 0:
        claims[target] = value
        return False
    return claims[target] != value


def _apply(r, eff):
    a = r[_ACTION]
    if _A_DO_FIRST <= a <= _A_DO_LAST:
        o = r[_OUT]
        if o < len(eff.out_mode):
            eff.out_mode[o] = _OUTPUT_CODES[a - _A_DO_FIRST]
            eff.out_duty[o] = r[_VAL]
    elif a == _A_REDUCE:
        eff.reduce_ma = r[_VAL] * 1000
    elif a == _A_ENABLE:
        eff.release = r[_SWITCH]
    elif a == _A_EXT:
        eff.available = r[_SWITCH]


_OUTPUT_CODES = tuple(_OUTPUT_OF_ACTION[d.EA_ACTIONS[a]] for a in range(_A_DO_FIRST, _A_DO_LAST + 1))

# condition codes
_C = d.EA_CONDITIONS.index


def condition(ctx, code, inp, value):
    """Evaluate condition `code` against the controller `ctx` (attributes documented in point.py)."""
    if code == _C_ACTIVE:
        return True
    if code == _C_NEVER:
        return False
    if code <= _C_ERROR_EXTERNAL:
        if code == _C_DI_HIGH:
            return (ctx.di_bits >> (inp - 1)) & 1 == 1
        if code == _C_DI_LOW:
            return (ctx.di_bits >> (inp - 1)) & 1 == 0
        if code == _C_PLUGGED:
            return ctx.plugged
        if code == _C_ERROR:
            return ctx.error_bits & d.ERRORS_FAULT != 0
        if code == _C_ERROR_INTERNAL:
            return ctx.error_bits & d.ERRORS_INTERNAL != 0
        return ctx.error_bits & d.ERRORS_EXTERNAL != 0
    if code == _C_PP_EQUALS:
        return ctx.cable_ma == value * 1000
    if code <= _C_STATUS_D:
        return ctx.iec_letter == code - _C_STATUS_A  # 0 = A .. 3 = D
    if code == _C_EV_CONNECTED:
        return ctx.ev_connected
    if code == _C_EV_NOT_CONNECTED:
        return not ctx.ev_connected
    if code <= _C_UNAVAILABLE:
        return ctx.status == code - _C_AVAILABLE
    if code == _C_CONTACTOR_FAILURE:
        return ctx.error_bits & d.ERR_CONTACTOR != 0
    if code == _C_NO_CONTACTOR_FAILURE:
        return ctx.error_bits & d.ERR_CONTACTOR == 0
    if code == _C_LAST_RFID_INVALID:
        return ctx.flags & d.FLAG_LAST_RFID_INVALID != 0
    if code == _C_PP_UNDER:
        return ctx.cable_ma < value * 1000
    if code == _C_PP_OVER:
        return ctx.cable_ma > value * 1000
    if code == _C_AI_OVER:
        return ctx.ai_mv[inp - 1] > value if inp <= len(ctx.ai_mv) else False
    if code == _C_AI_UNDER:
        return ctx.ai_mv[inp - 1] < value if inp <= len(ctx.ai_mv) else False
    if code == _C_RELEASE:
        return ctx.release_now
    if code == _C_NO_RELEASE:
        return not ctx.release_now
    if code == _C_EXT_RELEASE:
        return ctx.available_now
    if code == _C_NO_EXT_RELEASE:
        return not ctx.available_now
    if code == _C_DERATING:
        return ctx.flags & d.FLAG_DERATING != 0
    if code == _C_NO_DERATING:
        return ctx.flags & d.FLAG_DERATING == 0
    if code == _C_AUTH:
        return ctx.flags & d.FLAG_AUTH_ONGOING != 0
    if code == _C_REDUCED:
        return ctx.flags & d.FLAG_REDUCED_EXT != 0
    if code == _C_NOT_REDUCED:
        return ctx.flags & d.FLAG_REDUCED_EXT == 0
    if code == _C_PWM_ON:
        return ctx.flags & d.FLAG_PWM_ON != 0
    if code == _C_PWM_OFF:
        return ctx.flags & d.FLAG_PWM_ON == 0
    online = ctx.flags & d.FLAG_BACKEND_ONLINE != 0
    if code == _C_BACKEND_OFFLINE:
        return not online
    if code == _C_BACKEND_ONLINE:
        return online
    avail = ctx.status != d.ST_UNAVAILABLE and ctx.status != d.ST_FAULTED
    if code == _C_BACKEND_OFFLINE_AVAILABLE:
        return not online and avail
    if code == _C_BACKEND_ONLINE_AVAILABLE:
        return online and avail
    return False


_C_NEVER = _C("never")
_C_ACTIVE = _C("active")
_C_DI_HIGH = _C("di_high")
_C_DI_LOW = _C("di_low")
_C_PLUGGED = _C("connector_plugged")
_C_ERROR = _C("error")
_C_ERROR_INTERNAL = _C("error_internal")
_C_ERROR_EXTERNAL = _C("error_external")
_C_PP_EQUALS = _C("pp_equals")
_C_STATUS_A = _C("status_a")
_C_STATUS_D = _C("status_d")
_C_EV_CONNECTED = _C("ev_connected")
_C_EV_NOT_CONNECTED = _C("ev_not_connected")
_C_AVAILABLE = _C("available")
_C_UNAVAILABLE = _C("unavailable")
_C_CONTACTOR_FAILURE = _C("contactor_failure")
_C_LAST_RFID_INVALID = _C("last_rfid_invalid")
_C_PP_UNDER = _C("pp_under")
_C_PP_OVER = _C("pp_over")
_C_AI_OVER = _C("ai_over")
_C_AI_UNDER = _C("ai_under")
_C_RELEASE = _C("charge_release")
_C_NO_RELEASE = _C("no_charge_release")
_C_EXT_RELEASE = _C("external_release")
_C_NO_EXT_RELEASE = _C("no_external_release")
_C_DERATING = _C("derating")
_C_NO_DERATING = _C("no_derating")
_C_AUTH = _C("auth_ongoing")
_C_NO_CONTACTOR_FAILURE = _C("no_contactor_failure")
_C_REDUCED = _C("current_reduced_ext")
_C_NOT_REDUCED = _C("current_not_reduced_ext")
_C_PWM_ON = _C("pwm_on")
_C_PWM_OFF = _C("pwm_off")
_C_BACKEND_OFFLINE = _C("backend_offline")
_C_BACKEND_OFFLINE_AVAILABLE = _C("backend_offline_available")
_C_BACKEND_ONLINE = _C("backend_online")
_C_BACKEND_ONLINE_AVAILABLE = _C("backend_online_available")
