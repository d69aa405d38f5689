"""Authors the golden vectors (tests/vectors/*.json): the single source all four core implementations run.

Every expected value here comes from the specification (docs/core-api.md, iec61851.md, the manual), written
out by hand or computed by the small independent oracles below, never by calling the core. Run
`python tests/vectors/make_vectors.py` after changing a vector; tests/core checks the JSON is up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# --- spec values, written out
A, B, C, D, E, F, PF, NONE = 1, 2, 3, 4, 5, 6, 7, 0
WIN_OK, WIN_NOISY, WIN_EMPTY = 0, 1, 2
DIODE, NOISY = 1, 2
NO_LIMIT = 1000000
TEMP_SHORT, TEMP_OPEN = 32766, 32767

Step = dict[str, Any]


def step(call: str, args: list[Any], ret: Any = None, **attrs: Any) -> Step:
    s: Step = {"call": call, "args": args}
    if ret is not None:
        s["ret"] = ret
    if attrs:
        s["attrs"] = attrs
    return s


def fn_case(name: str, call: str, pairs: list[tuple[list[Any], int]]) -> dict[str, Any]:
    return {"name": name, "steps": [step(call, a, r) for a, r in pairs]}


def obj_case(name: str, cls: str, args: list[Any], steps: list[Step]) -> dict[str, Any]:
    return {"name": name, "new": [cls, args], "steps": steps}


def raises(name: str, cls: str, args: list[Any]) -> dict[str, Any]:
    return {"name": name, "raises": [cls, args]}


# ---------------------------------------------------------------- constants
CONSTANTS = {
    "TICK_MASK": 0x3FFFFFFF,
    "STATE_NONE": 0, "STATE_A": 1, "STATE_B": 2, "STATE_C": 3, "STATE_D": 4, "STATE_E": 5, "STATE_F": 6,
    "STATE_PILOT_FAULT": 7, "WIN_OK": 0, "WIN_NOISY": 1, "WIN_EMPTY": 2, "CP_FAULT_DIODE": 1, "CP_FAULT_NOISY": 2,
    "CP_PILOT_FAULT_ABOVE_MV": 13000, "CP_A_MIN_MV": 11000, "CP_A_HYST_MIN_MV": 10000, "CP_B_MIN_MV": 8000,
    "CP_B_HYST_MIN_MV": 7000, "CP_C_MIN_MV": 5000, "CP_C_HYST_MIN_MV": 4000, "CP_D_MIN_MV": 2000,
    "CP_E_MIN_MV": -1000, "CP_F_MIN_MV": -13000, "CP_F_MAX_MV": -11000, "CP_DIODE_NEG_MAX_MV": -11000,
    "CP_MIN_SWING_MV": 2000, "CP_MAX_SAMPLES": 32767, "CP_MAX_FULL_SCALE_MV": 1000000, "CP_DEFAULT_SAMPLE_RATE_HZ": 400000,
    "CP_DEFAULT_EDGE_SKIP": 4, "CP_DEFAULT_NOISE_MV": 1000, "CP_DEFAULT_NOISY_LIMIT": 8,
    "DUTY_F": 0, "DUTY_DIGITAL": 50, "DUTY_OFF": 1000, "PWM_MIN_MA": 6000, "PWM_LOW_MAX_MA": 51000,
    "PWM_HIGH_MIN_MA": 52500, "PWM_MAX_MA": 80000, "EV_DIGITAL": -1, "EV_ERROR": -2,
    "PP_NONE": 0, "PP_FAULT": -1, "PP_SHORT_BELOW_OHM": 60, "PP_63A_MAX_OHM": 140, "PP_32A_MAX_OHM": 308,
    "PP_20A_MAX_OHM": 936, "PP_13A_MAX_OHM": 4500, "REJECT_NONE": 0, "REJECT_13A": 1, "REJECT_20A_13A": 2,
    "OC_MODE_OFF": 0, "OC_MODE_SHUTDOWN": 1, "OC_MODE_EVZE": 2, "OC_OK": 0, "OC_PAUSED": 1, "OC_ERROR": 2,
    "OC_GRACE_MS": 7000, "OC_110_MS": 100000, "OC_120_MS": 10000, "OC_RESTART_MS": 60000,
    "OC_EVZE_OVER_PCT": 110, "OC_EVZE_HOLD_MS": 10000,
    "UNBALANCE_MAX_MA": 20000, "ROT_L1L2L3": 0, "ROT_L2L3L1": 1, "ROT_L3L1L2": 2, "ROT_L1L3L2": 3,
    "ROT_L3L2L1": 4, "ROT_L2L1L3": 5,
    "AUX_NONE": 0, "AUX_NO": 1, "AUX_NC": 2, "CT_OK": 0, "CT_WELDED": 1, "CT_NOT_CLOSED": 2, "CT_LOST": 3,
    "CT_DEFAULT_DEBOUNCE_MS": 10, "CT_DEFAULT_TIMEOUT_MS": 250,
    "RCM_OK": 0, "RCM_TRIPPED": 1, "RCM_TESTING": 2, "RCM_TEST_FAILED": 3, "RCM_TRIP_UA": 6000,
    "RCM_DEFAULT_FILTER_MS": 40, "RCM_TEST_TRIP_MAX_MS": 500, "RCM_TEST_RELEASE_MAX_MS": 500,
    "TEMP_SHORT": 32766, "TEMP_OPEN": 32767, "PT1000_MIN_DDEGC": -500, "PT1000_MAX_DDEGC": 2500,
    "PT1000_TABLE_MIN_DDEGC": -2000, "PT1000_TABLE_MAX_DDEGC": 8500, "PTC_OK": 0, "PTC_TRIP": 1,
    "PTC_FAULT": 2, "DERATE_LINEAR": 0, "DERATE_ACTIVATION": 1, "NO_LIMIT_MA": 1000000,
}  # fmt: skip
TUPLES = {"OC_EVZE_STAGES_PCT": [100, 75, 50]}

# ---------------------------------------------------------------- CP
ZERO, NUM, DEN = 2048, 15000, 2048  # 12-bit ADC, +-15 V full scale: the board scaling of the vectors
CP_ARGS = [ZERO, NUM, DEN]
SKIP = 4
RATE = 400000


def div_round(a: int, b: int) -> int:
    q = (abs(a) + b // 2) // b
    return q if a >= 0 else -q


def code(mv: int) -> int:
    return ZERO + div_round(mv * DEN, NUM)


def mv_of(total: int, count: int) -> int:
    return div_round((total - ZERO * count) * NUM, count * DEN)


def rle(*runs: tuple[int, int]) -> dict[str, Any]:
    return {"rle": [[code(mv), n] for mv, n in runs]}


def pwm(high_mv: int, low_mv: int, high: int, low: int, total: int = 1000) -> list[tuple[int, int]]:
    """Runs of a clean PWM window starting at a rising edge, cut at `total` samples."""
    runs: list[tuple[int, int]] = []
    left = total
    while left > 0:
        for mv, n in ((high_mv, high), (low_mv, low)):
            if left > 0:
                runs.append((mv, min(n, left)))
                left -= min(n, left)
    return runs


def clean_window(runs: list[tuple[int, int]]) -> dict[str, int]:
    """Oracle for a window of alternating clean plateaus (the spec's rules, written independently)."""
    codes = [(code(mv), n) for mv, n in runs]
    high_code = max(c for c, _ in codes)
    hs = hn = ls = ln = 0
    pos = 0
    rises = []
    nhigh_at = []
    nhigh = 0
    for i, (c, n) in enumerate(codes):
        is_high = c == high_code
        if is_high and i > 0:
            rises.append(pos)
            nhigh_at.append(nhigh)
        used = max(0, n - SKIP)
        if is_high:
            hs += c * used
            hn += used
            nhigh += n
        else:
            ls += c * used
            ln += used
        pos += n
    out = {"status": WIN_OK, "high_n": hn, "low_n": ln, "high_mv": mv_of(hs, hn), "low_mv": mv_of(ls, ln)}
    if len(rises) >= 2:
        span = rises[-1] - rises[0]
        out["duty"] = div_round((nhigh_at[-1] - nhigh_at[0]) * 1000, span)
        out["freq_hz"] = div_round((len(rises) - 1) * RATE, span)
    else:
        out["duty"] = div_round(nhigh * 1000, pos)
        out["freq_hz"] = 0
    return out


def cp_vectors() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    # Band edges from both sides, for every previous state (columns: prev A, B, C, D, NONE).
    bands = [
        (13001, [PF] * 5), (13000, [A] * 5), (11000, [A] * 5), (10999, [A, B, B, B, B]), (10000, [A, B, B, B, B]),
        (9999, [B] * 5), (8000, [B] * 5), (7999, [B, B, C, C, C]), (7000, [B, B, C, C, C]), (6999, [C] * 5),
        (5000, [C] * 5), (4999, [C, C, C, D, D]), (4000, [C, C, C, D, D]), (3999, [D] * 5), (2000, [D] * 5),
        (1999, [E] * 5), (0, [E] * 5), (-1000, [E] * 5), (-1001, [PF] * 5),
    ]  # fmt: skip
    pairs = []
    for mv, expect in bands:
        for prev, exp in zip((A, B, C, D, NONE), expect, strict=True):
            pairs.append(([prev, 500, mv, 500, -12000], exp))
    for low, exp in ((-13001, PF), (-13000, F), (-12000, F), (-11000, F), (-10999, PF)):
        pairs.append(([NONE, 0, 0, 1000, low], exp))
    pairs.append(([B, 0, 0, 0, 0], PF))
    pairs.append(([E, 0, 0, 0, 0], PF))
    cases.append(fn_case("cp_state band edges, both sides, every previous state", "cp_state", pairs))

    def window_case(name: str, runs: list[tuple[int, int]], pwm_on: int, state: int, **extra: int) -> None:
        attrs = clean_window(runs)
        seen = {k: extra.pop(k) for k in ("duty", "freq_hz") if k in extra}
        attrs.update(seen)
        cases.append(
            obj_case(name, "Cp", CP_ARGS, [step("window", [rle(*runs)], WIN_OK, **attrs),
                                           step("classify", [pwm_on], state, **extra)])
        )  # fmt: skip

    window_case("B2 50 %", pwm(9000, -12000, 200, 200), 1, B, duty=500, freq_hz=1000, diode_ok=1, faults=0)
    window_case("C2 26.6 % (16 A)", pwm(6000, -12000, 106, 294), 1, C, diode_ok=1)
    window_case("D2 50 %", pwm(3000, -12000, 200, 200), 1, D, diode_ok=1)
    window_case("B2 5 % digital", pwm(9000, -12000, 20, 380), 1, B, duty=50)
    window_case("C2 96 %", pwm(6000, -12000, 384, 16), 1, C, duty=960)
    window_case("B2 at 1020 Hz", pwm(9000, -12000, 196, 196), 1, B, freq_hz=1020, duty=500)
    window_case("B2 at 980 Hz", pwm(9000, -12000, 204, 204), 1, B, freq_hz=980, duty=500)
    window_case(
        "one rising edge: duty over the whole window", pwm(9000, -12000, 300, 300, 900), 1, B, freq_hz=0
    )
    window_case("A2: PWM while unplugged", pwm(12000, -12000, 200, 200), 1, A, diode_ok=0)
    window_case("diode missing in B: low plateau -8.8 V", pwm(9000, -8800, 200, 200), 1, B, faults=DIODE)
    window_case("diode check off without PWM command", pwm(9000, -8800, 200, 200), 0, B, faults=0)
    window_case("diode edge -11000 passes", pwm(9000, -11000, 200, 200), 1, B, faults=0, diode_ok=1)
    window_case("pilot fault: positive plateau above 13 V", pwm(13500, -12000, 200, 200), 1, PF)

    def const_case(name: str, mv: int, n: int, state: int, high: bool, pwm_on: int = 0, **extra: int) -> None:
        c = code(mv)
        level = mv_of(c * n, n)
        attrs = {"status": WIN_OK, "freq_hz": 0}
        attrs.update(
            {"high_n": n, "high_mv": level, "low_n": 0, "duty": 1000}
            if high
            else {"high_n": 0, "low_n": n, "low_mv": level, "duty": 0}
        )
        cases.append(
            obj_case(name, "Cp", CP_ARGS, [step("window", [rle((mv, n))], WIN_OK, **attrs),
                                           step("classify", [pwm_on], state, **extra)])
        )  # fmt: skip

    const_case("A1 constant +12 V", 12000, 1000, A, True)
    const_case("B1 constant +9 V", 9000, 1000, B, True)
    const_case("E: constant 0 V", 0, 1000, E, True)
    const_case("F: constant -12 V", -12000, 1000, F, False)
    const_case("constant -6 V is a pilot fault", -6000, 1000, PF, False)
    const_case("constant -0.996 V is E (inside the -1 V edge)", -995, 1000, E, True)
    const_case("constant -1.011 V is a negative level: pilot fault", -1010, 1000, PF, False)
    const_case("one sample window", 9000, 1, B, True)
    const_case("longest window", 9000, 32767, B, True)
    const_case(
        "B1 constant +9 V with PWM commanded: negative plateau missing", 9000, 1000, B, True, 1, faults=DIODE
    )

    empty_attrs = {"status": WIN_EMPTY, "high_n": 0, "low_n": 0, "duty": 0, "freq_hz": 0}
    cases.append(
        obj_case("empty window", "Cp", CP_ARGS, [step("window", [{"rle": []}], WIN_EMPTY, **empty_attrs)])
    )
    cases.append(
        obj_case(
            "too long window", "Cp", CP_ARGS, [step("window", [rle((9000, 32768))], WIN_EMPTY, **empty_attrs)]
        )
    )
    glitch = [(9000, 200), (-12000, 100), (9000, 4), (-12000, 96), (9000, 200), (-12000, 200), (9000, 200)]
    cases.append(
        obj_case(
            "glitch of edge_skip samples is noisy", "Cp", CP_ARGS, [step("window", [rle(*glitch)], WIN_NOISY)]
        )
    )
    ok_short = [(9000, 200), (-12000, 100), (9000, 5), (-12000, 95), (9000, 200), (-12000, 200), (9000, 200)]
    cases.append(
        obj_case("a run of edge_skip + 1 is fine", "Cp", CP_ARGS, [step("window", [rle(*ok_short)], WIN_OK)])
    )
    spread = [(9000, 100), (10010, 100), (-12000, 200), (9000, 200), (-12000, 200), (9000, 200)]
    cases.append(
        obj_case(
            "plateau spread 1011 mV is noisy", "Cp", CP_ARGS, [step("window", [rle(*spread)], WIN_NOISY)]
        )
    )
    edge = [
        (9000, 100),
        (10001, 100),
        (-12000, 200),
        (9000, 200),
        (-12000, 200),
        (9000, 200),
    ]  # spread 996 mV
    for noise, status in ((996, WIN_OK), (995, WIN_NOISY)):
        cases.append(
            obj_case(
                "plateau spread 996 mV against noise_mv %d" % noise,
                "Cp",
                [ZERO, NUM, DEN, RATE, SKIP, noise, 8],
                [step("window", [rle(*edge)], status)],
            )
        )
    spread_ok = [(9000, 100), (9990, 100), (-12000, 200), (9000, 200), (-12000, 200), (9000, 200)]
    cases.append(
        obj_case(
            "plateau spread under 1000 mV is fine", "Cp", CP_ARGS, [step("window", [rle(*spread_ok)], WIN_OK)]
        )
    )
    cases.append(
        obj_case("constant window spread above noise_mv is noisy", "Cp", [ZERO, NUM, DEN, RATE, SKIP, 500, 8],
                 [step("window", [rle((9000, 500), (10000, 500))], WIN_NOISY)])
    )  # fmt: skip

    b = rle(*pwm(9000, -12000, 200, 200))
    bad = rle(*glitch)
    noisy_steps = [step("update", [b, 1], B)]
    for k in range(1, 8):
        noisy_steps.append(step("update", [bad, 1], B, noisy=k, faults=0))
    noisy_steps.append(step("update", [bad, 1], B, noisy=8, faults=NOISY))
    noisy_steps.append(step("update", [bad, 1], B, noisy=8, faults=NOISY))
    noisy_steps.append(step("update", [b, 1], B, noisy=0, faults=0))
    cases.append(obj_case("noisy windows: state kept, fault at the limit, cleared by a good window", "Cp", CP_ARGS,
                          noisy_steps))  # fmt: skip

    nodiode = rle(*pwm(9000, -8800, 200, 200))
    a2 = rle(*pwm(12000, -12000, 200, 200))
    cases.append(
        obj_case("diode fault latched until state A", "Cp", CP_ARGS, [
            step("update", [b, 1], B, diode_ok=1, faults=0),
            step("update", [nodiode, 1], B, faults=DIODE),
            step("update", [b, 1], B, faults=DIODE),
            step("update", [rle(*pwm(6000, -12000, 200, 200)), 1], C, faults=DIODE),
            step("update", [a2, 1], A, faults=0, diode_ok=0),
            step("update", [b, 1], B, faults=0, diode_ok=1),
            step("reset", [], None, state=NONE, faults=0, diode_ok=0, status=WIN_EMPTY),
            step("classify", [1], NONE, state=NONE, noisy=1),
        ])
    )  # fmt: skip
    hyst = rle(*pwm(10500, -12000, 200, 200))
    cases.append(
        obj_case("hysteresis through windows: 10.5 V stays A, from B it is B", "Cp", CP_ARGS, [
            step("update", [a2, 1], A), step("update", [hyst, 1], A), step("update", [b, 1], B),
            step("update", [hyst, 1], B),
        ])
    )  # fmt: skip
    for bad_args in ([ZERO, 0, DEN], [ZERO, NUM, 0], [ZERO, -1, DEN], [-1, NUM, DEN], [65536, NUM, DEN],
                     [ZERO, NUM, DEN, 0], [ZERO, NUM, DEN, RATE, -1], [ZERO, NUM, DEN, RATE, SKIP, -1],
                     [ZERO, NUM, DEN, RATE, SKIP, 1000, 0], [0, 16, 1], [0, 1000001, 65535]):  # fmt: skip
        cases.append(raises("Cp rejects %r" % (bad_args,), "Cp", bad_args))
    full = {"rle": [[65535, 10]]}
    cases.append(
        obj_case(
            "full scale edge: 65535 codes = 1000 V accepted",
            "Cp",
            [0, 1000000, 65535],
            [step("window", [full], WIN_OK, high_mv=1000000), step("classify", [0], PF)],
        )
    )
    cases.append(
        obj_case(
            "full scale edge: 15 mV per code accepted",
            "Cp",
            [0, 15, 1],
            [step("window", [full], WIN_OK, high_mv=983025)],
        )
    )
    return cases


# ---------------------------------------------------------------- PWM / PP / balance
def pwm_vectors() -> list[dict[str, Any]]:
    duty = [
        ([-2147483648], 1000), ([-1], 1000), ([0], 1000), ([5999], 1000), ([6000], 100), ([6001], 100), ([6059], 100),
        ([6060], 101), ([16000], 266), ([32000], 533), ([50999], 849), ([51000], 850), ([51001], 850),
        ([52499], 850), ([52500], 850), ([52749], 850), ([52750], 851), ([63000], 892), ([79999], 959),
        ([80000], 960), ([80001], 960), ([2147483647], 960),
    ]  # fmt: skip
    back = [
        ([-2147483648], 0), ([-1], 0), ([0], 0), ([29], 0), ([30], -1), ([50], -1), ([70], -1), ([71], -2),
        ([79], -2), ([80], 6000), ([99], 6000), ([100], 6000), ([101], 6060), ([500], 30000), ([850], 51000),
        ([851], 52750), ([960], 80000), ([961], 80000), ([970], 80000), ([971], 0), ([1000], 0), ([2147483647], 0),
    ]  # fmt: skip
    return [fn_case("duty_from_current edges", "duty_from_current", duty),
            fn_case("current_from_duty edges", "current_from_duty", back)]  # fmt: skip


def pp_vectors() -> list[dict[str, Any]]:
    cap = [
        ([-2147483648], -1), ([-1], -1), ([0], -1), ([59], -1), ([60], 63000), ([80], 63000), ([100], 63000),
        ([140], 63000), ([141], 32000), ([164], 32000), ([220], 32000), ([308], 32000), ([309], 20000),
        ([400], 20000), ([680], 20000), ([936], 20000), ([937], 13000), ([1100], 13000), ([1500], 13000),
        ([2460], 13000), ([4500], 13000), ([4501], 0), ([2147483647], 0),
    ]  # fmt: skip
    accept = []
    for capacity, none, r13, r20 in ((-1, 0, 0, 0), (0, 0, 0, 0), (13000, 1, 0, 0), (20000, 1, 1, 0),
                                     (32000, 1, 1, 1), (63000, 1, 1, 1)):  # fmt: skip
        accept += [([capacity, 0], none), ([capacity, 1], r13), ([capacity, 2], r20), ([capacity, 3], 0),
                   ([capacity, -1], 0)]  # fmt: skip
    return [
        fn_case("pp_capacity edges", "pp_capacity", cap),
        fn_case("pp_accept matrix", "pp_accept", accept),
    ]


def balance_vectors() -> list[dict[str, Any]]:
    lim = [
        ([32000, 16000, 16000, 16000], 32000), ([32000, 30000, 0, 0], 20000), ([32000, 20000, 0, 0], 20000),
        ([32000, 0, 30000, 5000], 20000), ([32000, 25000, 25000, 4999], 24999), ([32000, 25000, 25000, 5000], 25000),
        ([32000, 25000, 25000, 12001], 32000), ([16000, 0, 0, 0], 16000), ([0, 0, 0, 0], 0),
        ([32000, -30000, 0, 0], 0), ([32000, -20001, 0, 0], 0), ([32000, -19999, 0, 0], 1),
        ([2147483647, 2147483647, 2147483647, 2147483647], 2147483647), ([-5, 0, 0, 0], 0),
        ([32000, -2147483648, 0, 0], 0),
    ]  # fmt: skip
    rot = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]]
    phases = [([r, p], rot[r][p]) for r in range(6) for p in range(3)]
    phases += [([-1, 0], -1), ([6, 0], -1), ([0, -1], -1), ([0, 3], -1)]
    return [fn_case("balance_limit", "balance_limit", lim), fn_case("phase_of table", "phase_of", phases)]


# ---------------------------------------------------------------- overcurrent
def oc_vectors() -> list[dict[str, Any]]:
    SH, EV, OFF = 1, 2, 0
    s = 16000
    t0 = 1000
    g = t0 + 7000  # grace ends
    over120 = 19201  # > 120 % of 16 A
    at120 = 19200  # exactly 120 %: not over
    over110 = 17601
    cases = [
        obj_case("grace: before, at, after", "Overcurrent", [SH], [
            step("update", [t0, s, 40000], s, state=0),
            step("update", [g - 1, s, 40000], s, state=0),
            step("update", [g, s, 40000], s, state=0),  # timer starts now
            step("update", [g + 9999, s, 40000], s, state=0),
            step("update", [g + 10000, s, 40000], 0, state=1, trips=1),
        ]),
        obj_case("120 %: just before, at, after 10 s", "Overcurrent", [SH], [
            step("update", [t0, s, 0], s), step("update", [g, s, over120], s),
            step("update", [g + 9999, s, over120], s, state=0),
            step("update", [g + 10000, s, over120], 0, state=1, trips=1),
            step("update", [g + 10001, s, over120], 0, state=1),
        ]),
        obj_case("exactly 120 % runs only the 110 % timer (100 s)", "Overcurrent", [SH], [
            step("update", [t0, s, 0], s), step("update", [g, s, at120], s),
            step("update", [g + 10000, s, at120], s, state=0),
            step("update", [g + 99999, s, at120], s, state=0),
            step("update", [g + 100000, s, at120], 0, state=1),
        ]),
        obj_case("110 %: 100 s boundary; exactly 110 % never trips", "Overcurrent", [SH], [
            step("update", [t0, s, 0], s), step("update", [g, s, 17600], s),
            step("update", [g + 200000, s, 17600], s, state=0),
            step("update", [g + 200001, s, over110], s),
            step("update", [g + 300000, s, over110], s, state=0),
            step("update", [g + 300001, s, over110], 0, state=1),
        ]),
        obj_case("a dip below resets the timer", "Overcurrent", [SH], [
            step("update", [t0, s, 0], s), step("update", [g, s, over120], s),
            step("update", [g + 9000, s, s], s), step("update", [g + 9001, s, over120], s),
            step("update", [g + 19000, s, over120], s, state=0),
            step("update", [g + 19001, s, over120], 0, state=1),
        ]),
        obj_case("restart after one minute, second trip -> error, reset", "Overcurrent", [SH], [
            step("update", [t0, s, 0], s), step("update", [g, s, over120], s),
            step("update", [g + 10000, s, over120], 0, state=1, trips=1),
            step("update", [g + 10000 + 59999, s, over120], 0, state=1),
            step("update", [g + 10000 + 60000, s, over120], s, state=0),  # restart: new grace
            step("update", [g + 10000 + 60000 + 6999, s, over120], s, state=0),
            step("update", [g + 10000 + 60000 + 7000, s, over120], s, state=0),
            step("update", [g + 10000 + 60000 + 16999, s, over120], s, state=0),
            step("update", [g + 10000 + 60000 + 17000, s, over120], 0, state=2, trips=2),
            step("update", [g + 500000, s, 0], 0, state=2),
            step("reset", [], None, state=0, trips=0),
            step("update", [g + 500001, s, 0], s, state=0),
        ]),
        obj_case("a set-point change restarts the grace period", "Overcurrent", [SH], [
            step("update", [t0, 32000, 0], 32000), step("update", [g, 32000, 30000], 32000),
            step("update", [g + 1, 16000, 30000], 16000),
            step("update", [g + 1 + 6999, 16000, 30000], 16000),
            step("update", [g + 1 + 7000, 16000, 30000], 16000),  # grace over: the 120 % timer starts
            step("update", [g + 1 + 7000 + 9999, 16000, 30000], 16000, state=0),
            step("update", [g + 1 + 7000 + 10000, 16000, 30000], 0, state=1),
        ]),
        obj_case("set 0: nothing to supervise", "Overcurrent", [SH], [
            step("update", [t0, 0, 5000], 0), step("update", [g + 100000, 0, 5000], 0, state=0),
        ]),
        obj_case("off mode passes the set current", "Overcurrent", [OFF], [
            step("update", [t0, s, 99999], s), step("update", [t0 + 999999, s, 99999], s, state=0),
        ]),
        obj_case("tick wrap at 2**30", "Overcurrent", [SH], [
            step("update", [0x3FFFFFFF - 100, s, 0], s),
            step("update", [0x3FFFFFFF - 100 + 7000, s, over120], s),
            step("update", [0x3FFFFFFF - 100 + 16999, s, over120], s),
            step("update", [0x3FFFFFFF - 100 + 17000, s, over120], 0, state=1),
        ]),
        obj_case("EV/ZE: stages 100 -> 75 -> 50 % -> error", "Overcurrent", [EV], [
            step("update", [t0, s, 0], s, stage=0), step("update", [g, s, 17601], s),
            step("update", [g + 9999, s, 17601], s, stage=0),
            step("update", [g + 10000, s, 17601], 12000, stage=1, trips=1),
            step("update", [g + 10000 + 6999, s, 17601], 12000, stage=1),
            step("update", [g + 10000 + 7000, s, 13201], 12000),
            step("update", [g + 10000 + 16999, s, 13201], 12000, stage=1),
            step("update", [g + 10000 + 17000, s, 13201], 8000, stage=2, trips=2),
            step("update", [g + 50000, s, 8800], 8000, stage=2),
            step("update", [g + 50001, s, 8801], 8000),
            step("update", [g + 60001, s, 8801], 0, state=2, stage=2, trips=3),
            step("update", [g + 60002, s, 0], 0, state=2),
        ]),
        obj_case("EV/ZE: exactly 110 % stays", "Overcurrent", [EV], [
            step("update", [t0, s, 0], s), step("update", [g, s, 17600], s),
            step("update", [g + 100000, s, 17600], s, stage=0),
        ]),
        raises("Overcurrent rejects mode 3", "Overcurrent", [3]),
        raises("Overcurrent rejects mode -1", "Overcurrent", [-1]),
    ]  # fmt: skip
    return cases


# ---------------------------------------------------------------- contactor
def ct_vectors() -> list[dict[str, Any]]:
    NO, NC = 1, 2
    return [
        obj_case("N/O: closes within the timeout", "Contactor", [NO], [
            step("update", [0, 0, 0], 0, fault=0, closed=0),
            step("update", [100, 1, 0], 1), step("update", [150, 1, 1], 1, closed=0),
            step("update", [159, 1, 1], 1, closed=0), step("update", [160, 1, 1], 1, closed=1, fault=0),
            step("update", [5000, 1, 1], 1, fault=0),
            step("update", [5001, 0, 1], 0), step("update", [5100, 0, 0], 0, closed=1),
            step("update", [5110, 0, 0], 0, closed=0, fault=0),
        ]),
        obj_case("N/C: inverted input", "Contactor", [NC], [
            step("update", [0, 0, 1], 0, closed=0), step("update", [10, 1, 1], 1),
            step("update", [20, 1, 0], 1, closed=0), step("update", [30, 1, 0], 1, closed=1, fault=0),
        ]),
        obj_case("not closed: just before and at the timeout", "Contactor", [NO], [
            step("update", [0, 0, 0], 0), step("update", [1000, 1, 0], 1),
            step("update", [1249, 1, 0], 1, fault=0), step("update", [1250, 1, 0], 0, fault=2),
            step("update", [1300, 1, 1], 0, fault=2),
        ]),
        obj_case("weld: feedback stays closed after opening; latched until reset", "Contactor", [NO], [
            step("update", [0, 1, 1], 1), step("update", [10, 1, 1], 1, closed=1),
            step("update", [100, 0, 1], 0), step("update", [349, 0, 1], 0, fault=0),
            step("update", [350, 0, 1], 0, fault=1),
            step("update", [400, 1, 1], 0, fault=1), step("update", [10000, 1, 0], 0, fault=1),
            step("reset", [], None, fault=0),
            step("update", [20000, 0, 0], 0, fault=0), step("update", [20001, 1, 0], 1),
        ]),
        obj_case("weld at start-up: feedback closed while never commanded", "Contactor", [NO], [
            step("update", [0, 0, 1], 0), step("update", [9, 0, 1], 0, fault=0, closed=0),
            step("update", [10, 0, 1], 0, fault=1, closed=1), step("update", [11, 1, 1], 0, fault=1),
        ]),
        obj_case("feedback closes unexpectedly while open -> welded", "Contactor", [NO], [
            step("update", [0, 0, 0], 0), step("update", [1000, 0, 1], 0, fault=0),
            step("update", [1009, 0, 1], 0, fault=0), step("update", [1010, 0, 1], 0, fault=1),
        ]),
        obj_case("feedback lost while closed", "Contactor", [NO], [
            step("update", [0, 1, 1], 1), step("update", [10, 1, 1], 1, closed=1),
            step("update", [2000, 1, 0], 1, fault=0), step("update", [2005, 1, 1], 1, fault=0),
            step("update", [2006, 1, 0], 1), step("update", [2016, 1, 0], 0, fault=3),
        ]),
        obj_case("no aux contact: command passes", "Contactor", [0], [
            step("update", [0, 1, 0], 1, closed=1), step("update", [99999, 1, 0], 1, fault=0),
            step("update", [99999, 0, 1], 0, closed=0),
        ]),
        obj_case("custom debounce 0 and timeout 0", "Contactor", [NO, 0, 0], [
            step("update", [0, 0, 0], 0), step("update", [1, 1, 1], 1, closed=1, fault=0),
            step("update", [2, 1, 0], 0, fault=3),
        ]),
        raises("Contactor rejects aux 3", "Contactor", [3]),
        raises("Contactor rejects negative debounce", "Contactor", [1, -1, 250]),
        raises("Contactor rejects negative timeout", "Contactor", [1, 10, -1]),
    ]  # fmt: skip


# ---------------------------------------------------------------- RCM
def rcm_vectors() -> list[dict[str, Any]]:
    OK, TRIP, TEST, FAIL = 0, 1, 2, 3
    return [
        obj_case("trip filter: just before, at; latched until reset", "Rcm", [], [
            step("update", [0, 5999], OK), step("update", [10, 6000], OK),
            step("update", [49, 6000], OK, tripped=0), step("update", [50, 6000], TRIP, tripped=1),
            step("update", [60, 0], TRIP, tripped=1), step("update", [100000, 0], TRIP),
            step("reset", [], None, tripped=0, status=OK), step("update", [100001, 0], OK),
        ]),
        obj_case("a dip restarts the filter", "Rcm", [], [
            step("update", [0, 7000], OK), step("update", [39, 7000], OK), step("update", [40, 100], OK),
            step("update", [41, 7000], OK), step("update", [80, 7000], OK), step("update", [81, 7000], TRIP),
        ]),
        obj_case("self-test passes at the 500 ms edges", "Rcm", [], [
            step("update", [0, 0], OK),
            step("start_test", [1000], TEST, test_pin=1, test_ok=0),
            step("update", [1499, 0], TEST), step("update", [1500, 6000], TEST, test_pin=0),
            step("update", [2000, 6000], TEST), step("update", [2000, 0], OK, test_ok=1, tripped=0),
            step("update", [2001, 0], OK),
        ]),
        obj_case("self-test: no trip within 500 ms fails, latched", "Rcm", [], [
            step("update", [0, 0], OK), step("start_test", [1000], TEST),
            step("update", [1500, 0], TEST), step("update", [1501, 0], FAIL, test_pin=0, test_ok=0),
            step("update", [2000, 0], FAIL), step("start_test", [3000], FAIL),
            step("reset", [], None, status=OK), step("start_test", [4000], TEST),
        ]),
        obj_case("self-test: sensor does not recover", "Rcm", [], [
            step("update", [0, 0], OK), step("start_test", [0], TEST), step("update", [10, 9000], TEST),
            step("update", [510, 9000], TEST), step("update", [511, 9000], FAIL),
        ]),
        obj_case("self-test refused while the sensor already reports", "Rcm", [], [
            step("update", [0, 7000], OK), step("start_test", [10], FAIL, test_pin=0),
        ]),
        obj_case("self-test while tripped keeps the trip", "Rcm", [1000, 0], [
            step("update", [0, 1000], TRIP), step("update", [1, 0], TRIP), step("start_test", [2], TEST),
            step("update", [3, 1000], TEST), step("update", [4, 0], TRIP, test_ok=1, tripped=1),
        ]),
        raises("Rcm rejects trip 0", "Rcm", [0, 40]),
        raises("Rcm rejects negative filter", "Rcm", [6000, -1]),
    ]  # fmt: skip


# ---------------------------------------------------------------- temperature
def temp_vectors() -> list[dict[str, Any]]:
    # IEC 60751 table values (Ohm) -> tenths of a degree; and the exact polynomial at a few points (milliohm).
    pt = [
        ([1000000], 0), ([1097350], 250), ([1385055], 1000), ([842710], -400), ([1573250], 1500),
        ([1758560], 2000), ([1940981], 2500), ([1940982], TEMP_OPEN), ([803063], -500), ([803062], TEMP_SHORT),
        ([0], TEMP_SHORT), ([-1], TEMP_SHORT), ([-2147483648], TEMP_SHORT), ([2147483647], TEMP_OPEN),
        ([1000195], 0), ([1000196], 1), ([999805], 0), ([999804], -1),
    ]  # fmt: skip
    mohm = [([0], 1000000), ([250], 1097347), ([1000], 1385055), ([-500], 803063), ([2500], 1940981),
            ([-2000], 185201), ([-2001], 185201), ([8500], 3904811), ([2147483647], 3904811),
            ([-2147483648], 185201)]  # fmt: skip
    ptc = [([0, 1000], 0), ([999, 1000], 0), ([1000, 1000], 1), ([5000, 1000], 1), ([-1, 1000], 2),
           ([500, 0], 2), ([500, -5], 2)]  # fmt: skip
    lin = [600, 800, 32000, 6000]
    derate = obj_case("linear derating edges", "Derating", [0, *lin], [
        step("update", [599], NO_LIMIT, active=0), step("update", [600], 32000, active=1),
        step("update", [601], 31870), step("update", [700], 19000), step("update", [799], 6130),
        step("update", [800], 0, active=1), step("update", [-32768], NO_LIMIT, active=0),
        step("update", [TEMP_SHORT], 0, fault=1), step("update", [TEMP_OPEN], 0, fault=1),
        step("update", [250], NO_LIMIT, fault=0), step("update", [2147483647], 0, fault=1),
    ])  # fmt: skip
    act = obj_case("activation: hysteresis between start and stop", "Derating", [1, *lin], [
        step("update", [700], NO_LIMIT, active=0), step("update", [799], NO_LIMIT),
        step("update", [800], 6000, active=1), step("update", [600], 6000, active=1),
        step("update", [599], NO_LIMIT, active=0), step("update", [TEMP_OPEN], 0, fault=1),
        step("update", [599], NO_LIMIT, fault=0, active=0),
    ])  # fmt: skip
    return [
        fn_case("pt1000_ddegc: IEC 60751 table and edges", "pt1000_ddegc", pt),
        fn_case("pt1000_mohm: polynomial and clamping", "pt1000_mohm", mohm),
        fn_case("ptc_status", "ptc_status", ptc),
        derate,
        act,
        raises("Derating: start temp = stop temp", "Derating", [0, 800, 800, 32000, 6000]),
        raises("Derating: start temp > stop temp", "Derating", [0, 801, 800, 32000, 6000]),
        raises("Derating: start current = stop current", "Derating", [0, 600, 800, 6000, 6000]),
        raises("Derating: start current < stop current", "Derating", [0, 600, 800, 6000, 6001]),
        raises("Derating: negative stop current", "Derating", [0, 600, 800, 6000, -1]),
        raises("Derating: mode 2", "Derating", [2, 600, 800, 32000, 6000]),
        raises("Derating: start below -200 degC", "Derating", [0, -2001, 800, 32000, 6000]),
        raises("Derating: stop above 850 degC", "Derating", [0, 600, 8501, 32000, 6000]),
        raises("Derating: start current above 1000 A", "Derating", [0, 600, 800, 1000001, 6000]),
    ]


# ---------------------------------------------------------------- fallback
def fb_vectors() -> list[dict[str, Any]]:
    return [
        obj_case("fallback: before, at, after; kick restores", "Fallback", [30000, 6000], [
            step("update", [1000, 16000], 16000, active=0), step("kick", [2000]),
            step("update", [31999, 16000], 16000, active=0), step("update", [32000, 16000], 6000, active=1),
            step("update", [32001, 20000], 6000), step("kick", [40000], None, active=0),
            step("update", [40000, 20000], 20000),
        ]),
        obj_case("fallback: supervision starts at the first update", "Fallback", [1000, 0], [
            step("update", [5000, 16000], 16000), step("update", [5999, 16000], 16000),
            step("update", [6000, 16000], 0, active=1),
        ]),
        obj_case("fallback latched across a tick wrap", "Fallback", [1000, 6000], [
            step("kick", [0x3FFFFFFF - 10]), step("update", [0x3FFFFFFF - 10 + 999, 16000], 16000),
            step("update", [0x3FFFFFFF - 10 + 1000, 16000], 6000),
            step("update", [0x3FFFFFFF - 10 + 1000 + 0x3FFFFFFF, 16000], 6000, active=1),
        ]),
        obj_case("fallback time 0 disables", "Fallback", [0, 6000], [
            step("update", [0, 16000], 16000), step("update", [10**9, 16000], 16000, active=0),
        ]),
        raises("Fallback rejects negative time", "Fallback", [-1, 6000]),
        raises("Fallback rejects negative current", "Fallback", [1000, -1]),
    ]  # fmt: skip


FILES = {
    "cp": cp_vectors,
    "pwm": pwm_vectors,
    "pp": pp_vectors,
    "balance": balance_vectors,
    "overcurrent": oc_vectors,
    "contactor": ct_vectors,
    "rcm": rcm_vectors,
    "temp": temp_vectors,
    "fallback": fb_vectors,
}


def render() -> dict[str, str]:
    out = {
        "constants.json": json.dumps({"ints": CONSTANTS, "tuples": TUPLES}, indent=1, sort_keys=True) + "\n"
    }
    for name, make in FILES.items():
        out[name + ".json"] = json.dumps({"module": name, "cases": make()}, indent=1) + "\n"
    return out


def main() -> int:
    for name, text in render().items():
        (HERE / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
