"""Every named constant of the safety core, for the twin. GENERATED from core_c/include/chargecore/*.h by
build/tools/twin_consts.py (`scons core`): edit the headers, not this file. Units: mV, mA, ms, Ohm, milliohm,
tenths of a percent, tenths of a degree Celsius. Common subset of MicroPython and CPython."""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# --- common.h: Shared by every module of the safety core: error codes, ticks, the one rounding rule.
TICK_MASK = const(0x3FFFFFFF)

# --- cp.h: Control pilot: window statistics from raw ADC codes, state classification with hysteresis, diode check.
STATE_NONE = const(0)
STATE_A = const(1)
STATE_B = const(2)
STATE_C = const(3)
STATE_D = const(4)
STATE_E = const(5)
STATE_F = const(6)
STATE_PILOT_FAULT = const(7)
WIN_OK = const(0)
WIN_NOISY = const(1)
WIN_EMPTY = const(2)
CP_FAULT_DIODE = const(1)
CP_FAULT_NOISY = const(2)
CP_PILOT_FAULT_ABOVE_MV = const(13000)
CP_A_MIN_MV = const(11000)
CP_A_HYST_MIN_MV = const(10000)
CP_B_MIN_MV = const(8000)
CP_B_HYST_MIN_MV = const(7000)
CP_C_MIN_MV = const(5000)
CP_C_HYST_MIN_MV = const(4000)
CP_D_MIN_MV = const(2000)
CP_E_MIN_MV = const(-1000)
CP_F_MIN_MV = const(-13000)
CP_F_MAX_MV = const(-11000)
CP_DIODE_NEG_MAX_MV = const(-11000)
CP_MIN_SWING_MV = const(2000)
CP_MAX_SAMPLES = const(32767)
CP_MAX_FULL_SCALE_MV = const(1000000)
CP_DEFAULT_SAMPLE_RATE_HZ = const(400000)
CP_DEFAULT_EDGE_SKIP = const(4)
CP_DEFAULT_NOISE_MV = const(1000)
CP_DEFAULT_NOISY_LIMIT = const(8)

# --- pwm.h: Signalled current <-> PWM duty (IEC 61851-1 Annex A); duty in tenths of a percent, current in mA.
DUTY_F = const(0)
DUTY_DIGITAL = const(50)
DUTY_OFF = const(1000)
PWM_MIN_MA = const(6000)
PWM_LOW_MAX_MA = const(51000)
PWM_HIGH_MIN_MA = const(52500)
PWM_MAX_MA = const(80000)
EV_DIGITAL = const(-1)
EV_ERROR = const(-2)

# --- pp.h: Proximity pilot: PP-PE resistance -> cable capacity (mA), and plug rejection.
PP_NONE = const(0)
PP_FAULT = const(-1)
PP_SHORT_BELOW_OHM = const(60)
PP_63A_MAX_OHM = const(140)
PP_32A_MAX_OHM = const(308)
PP_20A_MAX_OHM = const(936)
PP_13A_MAX_OHM = const(4500)
REJECT_NONE = const(0)
REJECT_13A = const(1)
REJECT_20A_13A = const(2)

# --- overcurrent.h: Charge current monitoring: "Overcurrent shutdown" and the "EV/ZE Ready" stage derating.
OC_MODE_OFF = const(0)
OC_MODE_SHUTDOWN = const(1)
OC_MODE_EVZE = const(2)
OC_OK = const(0)
OC_PAUSED = const(1)
OC_ERROR = const(2)
OC_GRACE_MS = const(7000)
OC_110_MS = const(100000)
OC_120_MS = const(10000)
OC_RESTART_MS = const(60000)
OC_EVZE_OVER_PCT = const(110)
OC_EVZE_HOLD_MS = const(10000)
OC_EVZE_STAGES_PCT = (100, 75, 50)

# --- balance.h: Out-of-balance suppression (20 A between phases) and the meter's phase rotation.
UNBALANCE_MAX_MA = const(20000)
ROT_L1L2L3 = const(0)
ROT_L2L3L1 = const(1)
ROT_L3L1L2 = const(2)
ROT_L1L3L2 = const(3)
ROT_L3L2L1 = const(4)
ROT_L2L1L3 = const(5)

# --- contactor.h: Contactor: command against auxiliary-contact feedback (N/O or N/C), debounce, timeout, weld detection.
AUX_NONE = const(0)
AUX_NO = const(1)
AUX_NC = const(2)
CT_OK = const(0)
CT_WELDED = const(1)
CT_NOT_CLOSED = const(2)
CT_LOST = const(3)
CT_DEFAULT_DEBOUNCE_MS = const(10)
CT_DEFAULT_TIMEOUT_MS = const(250)

# --- rcm.h: DC residual current monitoring (6 mA), its self-test and the latched trip. Current in microampere.
RCM_OK = const(0)
RCM_TRIPPED = const(1)
RCM_TESTING = const(2)
RCM_TEST_FAILED = const(3)
RCM_TRIP_UA = const(6000)
RCM_DEFAULT_FILTER_MS = const(40)
RCM_TEST_TRIP_MAX_MS = const(500)
RCM_TEST_RELEASE_MAX_MS = const(500)

# --- temp.h: Temperature: Pt1000 (IEC 60751) in milliohm <-> tenths of a degree Celsius, PTC chain, derating.
TEMP_SHORT = const(32766)
TEMP_OPEN = const(32767)
PT1000_MIN_DDEGC = const(-500)
PT1000_MAX_DDEGC = const(2500)
PT1000_TABLE_MIN_DDEGC = const(-2000)
PT1000_TABLE_MAX_DDEGC = const(8500)
PTC_OK = const(0)
PTC_TRIP = const(1)
PTC_FAULT = const(2)
DERATE_LINEAR = const(0)
DERATE_ACTIVATION = const(1)
NO_LIMIT_MA = const(1000000)
