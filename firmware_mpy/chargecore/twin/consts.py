"""Every named constant of the safety core (the C header core_c/include/chargecore/*.h holds the same values;
tests/core checks that all backends agree). Units: mV, mA, ms, Ohm, milliohm, tenths of a percent,
tenths of a degree Celsius. Common subset of MicroPython and CPython."""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# Ticks: callers pass a millisecond tick; the core only uses differences modulo 2**30 (MicroPython small int).
TICK_MASK = const(0x3FFFFFFF)

# --- CP: states returned by classification
STATE_NONE = const(0)  # nothing classified yet
STATE_A = const(1)
STATE_B = const(2)
STATE_C = const(3)
STATE_D = const(4)
STATE_E = const(5)
STATE_F = const(6)
STATE_PILOT_FAULT = const(7)  # plateau above 13 V, or a level no state explains

# CP window status
WIN_OK = const(0)
WIN_NOISY = const(1)  # plateau spread too large, a glitch shorter than the edge skip, or an empty plateau
WIN_EMPTY = const(2)  # no samples, or more than CP_MAX_SAMPLES

# CP fault bits (Cp.faults)
CP_FAULT_DIODE = const(1)  # latched until state A
CP_FAULT_NOISY = const(2)  # CP noisy_limit consecutive windows rejected; clears on the next good window

# CP bands (positive plateau, mV): IEC 61851-1 Annex A, lower edges inclusive
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
CP_DIODE_NEG_MAX_MV = const(-11000)  # negative plateau must be at or below this while PWM runs
CP_MIN_SWING_MV = const(2000)  # a window whose max-min is smaller is a constant level (no PWM)
CP_MAX_SAMPLES = const(32767)  # keeps every sum below 2**31 (viper and C int32)
CP_MAX_FULL_SCALE_MV = const(1000000)  # 65535 codes span at most 1000 V: every mV fits in 32 bits

# CP configuration defaults: 400 kHz sampling, 1000 samples = 2.5 ms = 2.5 PWM periods at 1 kHz
CP_DEFAULT_SAMPLE_RATE_HZ = const(400000)
CP_DEFAULT_EDGE_SKIP = const(4)  # 4 samples = 10 us after every edge are never averaged
CP_DEFAULT_NOISE_MV = const(1000)
CP_DEFAULT_NOISY_LIMIT = const(8)

# --- PWM (duty in tenths of a percent)
DUTY_F = const(0)  # constant -12 V: state F, EVSE unavailable
DUTY_DIGITAL = const(50)  # 5 %: digital communication (ISO 15118)
DUTY_OFF = const(1000)  # constant +12 V: no PWM, no charging allowed (X1)
PWM_MIN_MA = const(6000)
PWM_LOW_MAX_MA = const(51000)  # top of the duty = I / 0.6 range
PWM_HIGH_MIN_MA = const(52500)  # bottom of the duty = I / 2.5 + 64 range; the gap clamps to 51 A
PWM_MAX_MA = const(80000)
EV_DIGITAL = const(-1)  # current_from_duty: 3..7 %: digital communication requested
EV_ERROR = const(-2)  # current_from_duty: 7..8 %: error

# --- PP (cable capacity in mA)
PP_NONE = const(0)  # open / above 4500 Ohm: no cable
PP_FAULT = const(-1)  # below 60 Ohm or negative: short / invalid
PP_SHORT_BELOW_OHM = const(60)
PP_63A_MAX_OHM = const(140)
PP_32A_MAX_OHM = const(308)
PP_20A_MAX_OHM = const(936)
PP_13A_MAX_OHM = const(4500)
REJECT_NONE = const(0)
REJECT_13A = const(1)
REJECT_20A_13A = const(2)

# --- Overcurrent
OC_MODE_OFF = const(0)
OC_MODE_SHUTDOWN = const(1)
OC_MODE_EVZE = const(2)
OC_OK = const(0)
OC_PAUSED = const(1)  # shut down, restarts after OC_RESTART_MS
OC_ERROR = const(2)  # second occurrence (or last EV/ZE stage exceeded): latched until reset()
OC_GRACE_MS = const(7000)  # after every change of the signalled current the vehicle may take 5..7 s
OC_110_MS = const(100000)
OC_120_MS = const(10000)
OC_RESTART_MS = const(60000)
OC_EVZE_OVER_PCT = const(110)
OC_EVZE_HOLD_MS = const(10000)
OC_EVZE_STAGES_PCT = (100, 75, 50)  # signalled current per stage, percent of the set current

# --- Balance
UNBALANCE_MAX_MA = const(20000)
ROT_L1L2L3 = const(0)
ROT_L2L3L1 = const(1)
ROT_L3L1L2 = const(2)
ROT_L1L3L2 = const(3)
ROT_L3L2L1 = const(4)
ROT_L2L1L3 = const(5)

# --- Contactor
AUX_NONE = const(0)
AUX_NO = const(1)  # aux input high (12 V) = contactor closed
AUX_NC = const(2)  # aux input high = contactor open
CT_OK = const(0)
CT_WELDED = const(1)  # feedback closed while commanded open: never close again until reset()
CT_NOT_CLOSED = const(2)  # feedback did not close within the timeout
CT_LOST = const(3)  # feedback opened while commanded closed
CT_DEFAULT_DEBOUNCE_MS = const(10)
CT_DEFAULT_TIMEOUT_MS = const(250)

# --- RCM (residual current in microampere)
RCM_OK = const(0)
RCM_TRIPPED = const(1)
RCM_TESTING = const(2)
RCM_TEST_FAILED = const(3)
RCM_TRIP_UA = const(6000)
RCM_DEFAULT_FILTER_MS = const(40)
RCM_TEST_TRIP_MAX_MS = const(500)
RCM_TEST_RELEASE_MAX_MS = const(500)

# --- Temperature (tenths of a degree Celsius, resistance in milliohm)
TEMP_SHORT = const(32766)  # sentinels are hotter than any stop temperature: a forgotten check still stops
TEMP_OPEN = const(32767)
PT1000_MIN_DDEGC = const(-500)
PT1000_MAX_DDEGC = const(2500)
PT1000_TABLE_MIN_DDEGC = const(-2000)  # pt1000_mohm clamps to the IEC 60751 range -200..850 degC
PT1000_TABLE_MAX_DDEGC = const(8500)
PTC_OK = const(0)
PTC_TRIP = const(1)
PTC_FAULT = const(2)
DERATE_LINEAR = const(0)
DERATE_ACTIVATION = const(1)
NO_LIMIT_MA = const(1000000)
