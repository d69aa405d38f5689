"""Fuzz target over the sample-window and classification entry points: any bytes, any configuration.

Under `scons sanitize` the same target runs against the ASan+UBSan build. CHARGECORE_FUZZ_EXAMPLES sets the
effort (default: a brief run for CI).
"""

from __future__ import annotations

import os
from array import array

import pytest
from backends import C_BACKENDS, backend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("CHARGECORE_FUZZ_EXAMPLES", "300"))
I32 = st.integers(-(2**31), 2**31 - 1)
twin = backend("twin")
c_mods = [backend(name) for name in C_BACKENDS]


def window_of(data: bytes) -> memoryview:
    """A window in a buffer of exactly its size (an immutable bytes object): with PYTHONMALLOC=malloc under
    the sanitizer, reading one sample too many is an AddressSanitizer report."""
    return memoryview(bytes(data[: len(data) // 2 * 2])).cast("H")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=4000), st.tuples(I32, I32, I32, I32, I32, I32, I32), st.booleans(), st.integers(0, 3)
)
def test_window_and_classify_never_misbehave(
    data: bytes, config: tuple[int, ...], pwm_on: bool, repeat: int
) -> None:
    samples = window_of(data)
    try:
        objs = [mod.Cp(*config) for mod in c_mods]
    except ValueError:
        return
    for _ in range(repeat + 1):
        results = [(o.window(samples), o.classify(pwm_on)) for o in objs]
        assert results[0] == results[1]
        o = objs[0]
        assert o.status in (twin.WIN_OK, twin.WIN_NOISY, twin.WIN_EMPTY)
        assert twin.STATE_NONE <= o.state <= twin.STATE_PILOT_FAULT
        assert 0 <= o.duty <= 1000 and o.freq_hz >= 0 and 0 <= o.noisy <= o.noisy_limit
        assert 0 <= o.high_n + o.low_n <= len(samples)
        assert o.faults & ~(twin.CP_FAULT_DIODE | twin.CP_FAULT_NOISY) == 0
        if o.status == twin.WIN_OK:
            assert o.high_n > 0 or o.low_n > 0
        else:
            assert o.high_n == o.low_n == 0


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(min_size=2, max_size=70000))
def test_oversized_and_odd_windows(data: bytes) -> None:
    samples = window_of(data)
    for mod in c_mods:
        cp = mod.Cp(2048, 15000, 2048)
        status = cp.window(samples)
        if len(samples) == 0 or len(samples) > twin.CP_MAX_SAMPLES:
            assert status == twin.WIN_EMPTY
        assert cp.window(array("H", samples)) == status  # any buffer of format H, read in place


def test_windows_of_another_type_are_refused() -> None:
    for mod in [*c_mods, twin]:
        cp = mod.Cp(2048, 15000, 2048)
        for wrong in (
            b"\x00\x01",
            bytearray(4),
            array("h", [1, 2]),
            array("I", [1]),
            memoryview(bytes(8))[::2],
            [1, 2, 3],
        ):
            with pytest.raises(TypeError):
                cp.window(wrong)
            with pytest.raises(TypeError):
                cp.update(wrong, True)
        assert cp.status == twin.WIN_EMPTY  # nothing was half-applied


@settings(max_examples=EXAMPLES, deadline=None)
@given(I32, I32, I32, I32, I32)
def test_pure_functions_on_any_int32(a: int, b: int, c: int, d: int, e: int) -> None:
    for mod in c_mods:
        assert mod.cp_state(a, b, c, d, e) in range(8)
        assert mod.pp_capacity(a) in (-1, 0, 13000, 20000, 32000, 63000)
        assert mod.pp_accept(a, b) in (0, 1)
        assert 0 <= mod.duty_from_current(a) <= 1000
        assert -2 <= mod.current_from_duty(a) <= 80000
        assert 0 <= mod.balance_limit(a, b, c, d) <= max(a, 0)
        assert mod.phase_of(a, b) in (-1, 0, 1, 2)
        t = mod.pt1000_ddegc(a)
        assert t in (twin.TEMP_SHORT, twin.TEMP_OPEN) or twin.PT1000_MIN_DDEGC <= t <= twin.PT1000_MAX_DDEGC
        assert 185201 <= mod.pt1000_mohm(e) <= 3904811
        assert mod.ptc_status(a, b) in (0, 1, 2)


METHODS = {
    "Overcurrent": (1, {"update": 3, "reset": 0}),
    "Contactor": (3, {"update": 3, "reset": 0}),
    "Rcm": (2, {"update": 2, "start_test": 1, "reset": 0}),
    "Derating": (5, {"update": 1, "reset": 0}),
    "Fallback": (2, {"update": 2, "kick": 1, "reset": 0}),
}


@st.composite
def object_run(draw: st.DrawFn) -> tuple[str, list[int], list[tuple[str, list[int]]]]:
    cls = draw(st.sampled_from(sorted(METHODS)))
    n_init, methods = METHODS[cls]
    init = draw(st.lists(st.one_of(I32, st.integers(-3, 3)), min_size=n_init, max_size=n_init))
    calls = []
    for _ in range(draw(st.integers(0, 30))):
        name = draw(st.sampled_from(sorted(methods)))
        calls.append((name, draw(st.lists(I32, min_size=methods[name], max_size=methods[name]))))
    return cls, init, calls


@settings(max_examples=EXAMPLES, deadline=None)
@given(object_run())
def test_stateful_objects_on_any_int32(run: tuple[str, list[int], list[tuple[str, list[int]]]]) -> None:
    cls, init, calls = run
    try:
        objs = [getattr(mod, cls)(*init) for mod in c_mods]
    except ValueError:
        return
    for name, args in calls:
        results = [getattr(o, name)(*args) for o in objs]
        assert results[0] == results[1]
        assert results[0] is None or -(2**31) <= results[0] < 2**31
