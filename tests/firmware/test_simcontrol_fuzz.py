"""Hypothesis sends non-finite, huge and wrongly typed values to every sim-control command of a running
module (real micropython): every line gets a reply, none kills the module, and it still charges after."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simboard.runner import SIM
from simpoint import FULL, SimPoint

# JSON number tokens written as text: 1e999 is valid JSON and reads as infinity.
ODD_NUMBERS = ("1e999", "-1e999", "1e308", "-0.0", "NaN", "Infinity", "9" * 400, "-" + "9" * 400, "2.5")
ODD_VALUES = ('"x"', "true", "null", "[]", "{}", "[1e999]", '{"a": 1e999}', '"' + "z" * 5000 + '"')


def value_text():
    return st.one_of(
        st.sampled_from(ODD_NUMBERS + ODD_VALUES),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
    )


def request_text():
    """One request line: a command of the table, some of its own argument names (and a stranger)."""

    def line(cmd, names, values):
        pairs = ['"cmd": "%s"' % cmd] + ['"%s": %s' % (n, v) for n, v in zip(names, values, strict=True)]
        return "{" + ", ".join(pairs) + "}"

    def for_cmd(cmd):
        names = [f.name for f in SIM.fields(cmd)] + ["stranger"]
        chosen = st.lists(st.sampled_from(names), unique=True, max_size=len(names))
        return chosen.flatmap(lambda ns: st.lists(value_text(), min_size=len(ns), max_size=len(ns)).map(
            lambda vs: line(cmd, ns, vs)))  # fmt: skip

    # `step` with a valid large value is a long (legitimate) run: its odd values have their own test.
    return st.sampled_from([n for n in SIM.names() if n != "step"]).flatmap(for_cmd)


@pytest.fixture(scope="module")
def module_sim(micropython, tmp_path_factory):
    procs = []
    sim = SimPoint(micropython, procs, tmp_path_factory.mktemp("fuzz"), FULL)
    yield sim
    for p in procs:
        p.kill()
        p.wait()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=request_text())
def test_every_command_survives_odd_numbers(module_sim, line):
    module_sim.file.write(line + "\n")
    module_sim.file.flush()
    reply = json.loads(module_sim.file.readline())
    assert reply["ok"] in (True, False), (line, reply)
    if not reply["ok"]:
        assert reply["error"], (line, reply)
    assert module_sim.proc.poll() is None, line


@pytest.mark.parametrize("ms", ODD_NUMBERS + ODD_VALUES + ("-10", "86400001"))
def test_step_refuses_odd_durations(module_sim, ms):
    reply = module_sim.request("step", ms=json.loads(ms) if ms not in ("NaN", "Infinity") else ms)
    assert reply["ok"] is False and reply["error"], (ms, reply)


def test_the_fuzzed_module_still_charges(module_sim):
    s = module_sim
    s.q("link", online=True)
    s.q("fault", name="weld", on=False)
    s.configure(FULL)
    s.command("enable", True)
    s.command("available", True)
    s.q("set", temp_c=25, rcm_ua=0, di=[0, 0, 0, 0], ai_mv=[0, 0], overdraw_pct=125, imbalance_a=0)
    s.q("set", supply_mv=12000, gen_mv=12000)
    s.command("reset_error")
    s.q("unplug")
    s.q(
        "ev",
        max_a=32,
        phases=3,
        battery_wh=50000,
        soc_wh=20000,
        ventilation=False,
        reaction_ms=2000,
        full_pause=False,
        stubborn=False,
        s2_open_ms=1000,
    )  # every vehicle parameter the fuzz may have set
    s.step(1000)
    s.charging_session()
