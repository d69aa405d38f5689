"""Configuration names -> core constants: the tables a point reads when it applies a configuration.

Keyed by the choices of the pointconfig fields of the same name (a test checks they agree).
"""

import chargecore as core

OVERCURRENT = {"off": core.OC_MODE_OFF, "shutdown": core.OC_MODE_SHUTDOWN, "evze": core.OC_MODE_EVZE}
CONTACTOR_MONITORING = {"off": core.AUX_NONE, "no": core.AUX_NO, "nc": core.AUX_NC}
PLUG_REJECTION = {
    "none": core.REJECT_NONE,
    "reject_13a": core.REJECT_13A,
    "reject_20a_13a": core.REJECT_20A_13A,
}
# IEC letter of a classified CP state: 0..3 = A..D (E, F, pilot fault and "no window yet" are not here).
LETTER = {core.STATE_A: 0, core.STATE_B: 1, core.STATE_C: 2, core.STATE_D: 3}
