"""Surplus charging (loadmgmt/surplus.py): start and stop thresholds with their hysteresis, the minimum run
time, the order of stops, one phase where three do not fit; and in the round: the opt-in, the cap as the
`surplus` limit, the phase request sent once, the loss of the higher-level meter."""

from __future__ import annotations

import chargedefs as cd
from chargepark.loadmgmt.manager import Manager
from chargepark.loadmgmt.surplus import Candidate, Settings, decide
from hypothesis import given
from hypothesis import strategies as st

from tests.host.test_loadmgmt_service import CONFIG, live

A = 1000
S = Settings(start_w=200, stop_w=500, min_run_s=300, volts=230)
MIN3_W = 6 * 230 * 3  # 4140 W: three phases at 6 A
MIN1_W = 6 * 230  # 1380 W


def car(uid: str = "a", *, since: float | None = None, draw_w: int = 0, switchable: bool = False,
        one_phase: bool = False, phases: int = 3, wants: bool = True) -> Candidate:  # fmt: skip
    return Candidate(uid, 6 * A, 32 * A, wants, phases, draw_w, switchable, one_phase, since)


def test_a_point_starts_only_above_its_minimum_power_plus_the_start_threshold() -> None:
    assert decide(S, MIN3_W + 199, [car()], 0.0)["a"].ma == 0
    started = decide(S, MIN3_W + 200, [car()], 0.0)["a"]
    assert started.ma == 6 * A + 200 * 1000 // 690 and started.running_since == 0.0  # the spare 200 W too
    more = decide(S, MIN3_W + 690 * 4, [car()], 0.0)["a"]
    assert more.ma == 10 * A  # 4 A more on each of three phases
    assert decide(S, 50000, [car()], 0.0)["a"].ma == 32 * A


def test_the_hysteresis_and_the_minimum_run_time_keep_it_running() -> None:
    running = car(since=0.0, draw_w=MIN3_W)
    # the surplus dropped to 3800 W (its own draw is inside the reading: export 3800 - 4140 = -340 W)
    assert decide(S, 3800 - MIN3_W, [running], 10.0)["a"].ma == 6 * A  # within stop_w: runs on
    # far short, but it started 100 s ago: it runs its 300 s at the minimum
    assert decide(S, -MIN3_W, [running], 100.0)["a"].ma == 6 * A
    stopped = decide(S, -MIN3_W, [running], 300.0)["a"]
    assert stopped.ma == 0 and stopped.running_since is None


def test_the_newest_stops_first_and_a_stopped_vehicle_draws_nothing() -> None:
    old, new = car("old", since=0.0, draw_w=MIN3_W), car("new", since=500.0, draw_w=MIN3_W)
    got = decide(S, MIN3_W - 2 * MIN3_W + 100, [new, old], 1000.0)  # room for one
    assert got["old"].ma == 6 * A + 100 * 1000 // 690 and got["new"].ma == 0
    assert decide(S, 50000, [car(wants=False)], 0.0)["a"].ma == 0


def test_one_phase_where_three_do_not_fit_and_back_with_the_hysteresis() -> None:
    low = decide(S, 2500, [car(switchable=True)], 0.0)["a"]  # 2.5 kW: below 3 x 6 A, above 1 x 6 A
    assert low.phases == 1 and low.ma == 6 * A + (2500 - MIN1_W) * 1000 // 230 // 3  # still at three
    one = car(switchable=True, one_phase=True, since=0.0, draw_w=2500)
    on_one = decide(S, 0, [one], 10.0)["a"]
    assert on_one.phases == 1 and on_one.ma == 6 * A + (2500 - MIN1_W) * 1000 // 230
    assert decide(S, MIN3_W + 199 - 2500, [one], 10.0)["a"].phases == 1  # not yet: start_w short
    assert decide(S, MIN3_W + 200 - 2500, [one], 10.0)["a"].phases == 3
    on_three = car(switchable=True, since=0.0, draw_w=MIN3_W)
    assert decide(S, -499, [on_three], 10.0)["a"].phases == 3  # within stop_w of three phases
    assert decide(S, -501, [on_three], 10.0)["a"].phases == 1
    assert decide(S, 2500, [car(switchable=True, phases=1)], 0.0)["a"].phases == 1  # a 1-phase car
    assert decide(S, 0, [car(switchable=True)], 0.0)["a"].phases is None  # stopped: no switch spent


@given(
    st.integers(-20000, 60000),
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 20000), st.sampled_from((1, 2, 3)), st.booleans()),
        min_size=1,
        max_size=6,
    ),
)
def test_what_is_started_fits_the_surplus_and_nothing_is_assigned_past_its_maximum(
    export_w: int, cars: list[tuple[bool, int, int, bool]]
) -> None:
    points = [car("p%d" % i, since=0.0 if run else None, draw_w=draw if run else 0, phases=n,
                  switchable=sw) for i, (run, draw, n, sw) in enumerate(cars)]  # fmt: skip
    got = decide(S, export_w, points, 1000.0)  # every running one is past its minimum run time
    avail = export_w + sum(p.draw_w for p in points if p.running_since is not None)
    used = 0
    for p in points:
        d = got[p.uid]
        assert d.ma == 0 or 6 * A <= d.ma <= 32 * A
        if d.ma:
            n = d.phases or p.phases
            used += 6 * 230 * n
            if p.running_since is None:
                assert d.running_since == 1000.0
    # the minimums of what runs fit the surplus (less the stop threshold per point that kept running)
    assert used <= max(0, avail) + S.stop_w * sum(1 for p in points if p.running_since is not None)


CIRCUIT = {"name": "PV", "fuse_a": 63, "threshold_a": 3, "meter_connection": "tcp", "upstream_fuse_a": 63,
           "surplus_start_w": 200, "surplus_stop_w": 500, "surplus_min_run_s": 300,
           "points": [{"uid": "sun", "surplus": True, "phase_switch_output": 2}, {"uid": "grid"}]}  # fmt: skip


def meter(power_w: int) -> dict[str, int | bool]:
    return {"online": True, "i1_ma": 0, "i2_ma": 0, "i3_ma": 0, "power_mw": power_w * 1000}


def test_the_round_caps_only_the_opted_in_point_and_asks_for_one_phase_once() -> None:
    m = Manager(circuits={"pv": CIRCUIT}, points={u: dict(CONFIG) for u in ("sun", "grid")})
    for uid in ("sun", "grid"):
        m.on_live(uid, live(0, set_current_ma=0), 0.0)
    m.on_meter("pv", meter(-2500), 0.0)  # 2.5 kW exported
    sent = m.round(0.0)
    assert (
        sent["grid"] == 32 * A and sent["sun"] == 6 * A + 1120 * 1000 // 690
    )  # on three phases until switched
    assert m.why("sun")["reason"] == "surplus" and m.why("grid")["reason"] == "max_current"
    assert m.phase_requests() == {"sun": 1}
    assert m.phase_requests() == {}  # asked once
    m.on_live("sun", live(0, flags=cd.FLAG_PHASE_SWITCHING), 1.0)
    assert m.phase_requests() == {}
    m.on_live("sun", live(0, flags=cd.FLAG_ONE_PHASE), 2.0)
    m.on_meter("pv", meter(-2500), 2.0)
    m.round(2.0)
    assert m.phase_requests() == {}  # it holds one phase
    m.on_meter("pv", {"online": False}, 10.0)  # the meter is lost: surplus charging stops
    m.on_live("sun", live(5 * A, flags=cd.FLAG_ONE_PHASE), 10.0)
    m.on_live("grid", live(16 * A), 10.0)
    m.round(10.0)
    assert "higher-level meter lost: surplus charging stopped" in m.status("pv", 10.0)["notes"]
    assert m.why("sun")["setpoint_ma"] == 0
