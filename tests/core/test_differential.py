"""Differential tests: random inputs give identical outputs on the C core (Cython and cffi) and on the twin."""

from __future__ import annotations

from array import array
from types import ModuleType
from typing import Any

from backends import CPYTHON_BACKENDS, backend
from hypothesis import given, settings
from hypothesis import strategies as st

I32 = st.integers(-(2**31), 2**31 - 1)
SMALL = st.integers(-100000, 100000)
MODS: list[ModuleType] = [backend(name) for name in CPYTHON_BACKENDS]
ATTRS = {
    "Cp": ("status", "high_mv", "low_mv", "high_n", "low_n", "duty", "freq_hz", "state", "faults", "diode_ok",
           "noisy"),
    "Overcurrent": ("state", "trips", "stage"),
    "Contactor": ("fault", "closed"),
    "Rcm": ("status", "tripped", "test_ok", "test_pin"),
    "Derating": ("active", "fault"),
    "Fallback": ("active",),
}  # fmt: skip


def same(results: list[Any]) -> None:
    assert all(r == results[0] for r in results[1:]), dict(zip(CPYTHON_BACKENDS, results, strict=True))


def construct(cls: str, args: list[int]) -> list[Any] | None:
    """The object on every backend, or None when all of them reject the configuration alike."""
    objs: list[Any] = []
    errors = 0
    for mod in MODS:
        try:
            objs.append(getattr(mod, cls)(*args))
        except ValueError:
            errors += 1
    assert errors in (0, len(MODS)), "%s%r accepted by some backends only" % (cls, args)
    return objs or None


def snapshot(cls: str, obj: Any) -> tuple[int, ...]:
    return tuple(getattr(obj, a) for a in ATTRS[cls])


def run_steps(cls: str, args: list[int], steps: list[tuple[str, list[Any]]]) -> None:
    objs = construct(cls, args)
    if objs is None:
        return
    for method, margs in steps:
        same([(getattr(o, method)(*margs), snapshot(cls, o)) for o in objs])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["cp_state"]), st.integers(-1, 8), I32, I32, I32, I32)
def test_cp_state(fn: str, prev: int, hn: int, hmv: int, ln: int, lmv: int) -> None:
    same([getattr(m, fn)(prev, hn, hmv, ln, lmv) for m in MODS])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["duty_from_current", "current_from_duty", "pp_capacity", "pt1000_mohm", "pt1000_ddegc"]),
       st.one_of(I32, SMALL, st.integers(800000, 4000000)))  # fmt: skip
def test_one_argument_functions(fn: str, x: int) -> None:
    same([getattr(m, fn)(x) for m in MODS])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["pp_accept", "phase_of", "ptc_status"]), st.one_of(I32, st.integers(-2, 70000)),
       st.one_of(I32, st.integers(-2, 7)))  # fmt: skip
def test_two_argument_functions(fn: str, a: int, b: int) -> None:
    same([getattr(m, fn)(a, b) for m in MODS])


@settings(max_examples=300, deadline=None)
@given(I32, I32, I32, I32)
def test_balance_limit(s: int, a: int, b: int, c: int) -> None:
    same([m.balance_limit(s, a, b, c) for m in MODS])


@st.composite
def pwm_window(draw: st.DrawFn) -> array[int]:
    """A pilot window as a board sees it: two plateaus, any duty and period, some noise and glitches."""
    n = draw(st.integers(1, 3000))
    high = draw(st.integers(0, 4095))
    low = draw(st.integers(0, 4095))
    period = draw(st.integers(2, 1200))
    on = draw(st.integers(0, period))
    noise = draw(st.integers(0, 60))
    phase = draw(st.integers(0, period))
    seed = draw(st.integers(0, 2**31))
    glitches = draw(st.lists(st.integers(0, n - 1), max_size=3))
    out = array("H")
    for i in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        level = high if (i + phase) % period < on else low
        out.append(max(0, min(65535, level + seed % (2 * noise + 1) - noise)))
    for g in glitches:
        out[g] = 65535 - out[g]
    return out


CP_CONFIG = st.tuples(
    st.integers(-10, 70000), st.one_of(st.integers(-5, 40000), I32), st.one_of(st.integers(-5, 5000), I32),
    st.integers(-1, 2000000), st.integers(-1, 12), st.integers(-1, 3000), st.integers(-1, 10),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(CP_CONFIG, st.lists(st.tuples(pwm_window(), st.booleans()), min_size=1, max_size=6))
def test_cp_windows(config: tuple[int, ...], windows: list[tuple[array[int], bool]]) -> None:
    steps: list[tuple[str, list[Any]]] = []
    for samples, pwm_on in windows:
        steps += [("window", [samples]), ("classify", [pwm_on])]
    steps += [("update", [windows[0][0], True]), ("reset", [])]
    run_steps("Cp", list(config), steps)


def timed(
    actions: st.SearchStrategy[tuple[str, list[Any]]],
) -> st.SearchStrategy[list[tuple[str, list[Any]]]]:
    """A sequence of calls whose first argument is a rising tick (it may cross 2**30 and 2**32)."""

    @st.composite
    def build(draw: st.DrawFn) -> list[tuple[str, list[Any]]]:
        now = draw(st.integers(0, 2**32 - 1))
        out = []
        for method, args in draw(st.lists(actions, max_size=60)):
            now += draw(
                st.sampled_from([0, 1, 9, 10, 11, 499, 500, 501, 6999, 7000, 9999, 10000, 60000, 100000])
            )
            out.append((method, [now, *args]) if method != "reset" else (method, []))
        return out

    return build()


CURRENT = st.integers(-1000, 100000)


@settings(max_examples=200, deadline=None)
@given(st.integers(-1, 3), timed(st.tuples(st.just("update"), st.lists(CURRENT, min_size=2, max_size=2))
                                 | st.tuples(st.just("reset"), st.just([]))))  # fmt: skip
def test_overcurrent(mode: int, steps: list[tuple[str, list[Any]]]) -> None:
    run_steps("Overcurrent", [mode], steps)


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(-1, 3), st.integers(-1, 300), st.integers(-1, 300)),
       timed(st.tuples(st.just("update"), st.lists(st.integers(0, 1), min_size=2, max_size=2))
             | st.tuples(st.just("reset"), st.just([]))))  # fmt: skip
def test_contactor(config: tuple[int, int, int], steps: list[tuple[str, list[Any]]]) -> None:
    run_steps("Contactor", list(config), steps)


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(-1, 10000), st.integers(-1, 100)),
       timed(st.tuples(st.just("update"), st.lists(st.integers(-10, 12000), min_size=1, max_size=1))
             | st.tuples(st.just("start_test"), st.just([])) | st.tuples(st.just("reset"), st.just([]))))  # fmt: skip
def test_rcm(config: tuple[int, int], steps: list[tuple[str, list[Any]]]) -> None:
    run_steps("Rcm", list(config), steps)


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(-1, 200000), st.integers(-1, 32000)),
       timed(st.tuples(st.just("update"), st.lists(CURRENT, min_size=1, max_size=1))
             | st.tuples(st.just("kick"), st.just([])) | st.tuples(st.just("reset"), st.just([]))))  # fmt: skip
def test_fallback(config: tuple[int, int], steps: list[tuple[str, list[Any]]]) -> None:
    run_steps("Fallback", list(config), steps)


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(-1, 2), st.integers(-2100, 9000), st.integers(-2100, 9000), st.integers(-1, 1100000),
                 st.integers(-1, 1100000)),
       st.lists(st.one_of(st.integers(-3000, 10000), I32, st.sampled_from([32766, 32767]))))  # fmt: skip
def test_derating(config: tuple[int, ...], temps: list[int]) -> None:
    run_steps("Derating", list(config), [("update", [t]) for t in temps] + [("reset", [])])
