"""The allocation as a pure function: examples from the manual, then properties over any input."""

from __future__ import annotations

from chargepark.loadmgmt import allocate as al
from chargepark.loadmgmt.allocate import Circuit, Point, allocate
from hypothesis import given, settings
from hypothesis import strategies as st

A = 1000  # mA


def three(i: int) -> tuple[int, int, int]:
    return (i, i, i)


def test_equal_distribution_of_three_phase_vehicles() -> None:
    pts = [Point(u, 6 * A, 32 * A) for u in "abc"]
    out = allocate(Circuit(fuse_ma=40 * A), pts)
    assert {g.ma for g in out.grants.values()} == {13333}
    assert all(g.reason == al.FUSE for g in out.grants.values())
    assert out.limiting
    assert max(out.planned_ma) <= 40 * A


def test_one_phase_vehicles_on_rotated_points_use_the_other_phases() -> None:
    # three 1-phase vehicles, each point wired so its L1 lands on a different grid phase
    pts = [
        Point(u, 6 * A, 32 * A, rotation=rot, measured_ma=(10 * A, 0, 0), setpoint_ma=10 * A)
        for u, rot in (("a", "L1L2L3"), ("b", "L2L3L1"), ("c", "L3L1L2"))
    ]
    out = allocate(Circuit(fuse_ma=20 * A), pts)
    assert [out.grants[u].ma for u in "abc"] == [20 * A] * 3
    assert [out.grants[u].grid for u in "abc"] == [0b001, 0b010, 0b100]


def test_current_left_on_a_phase_goes_to_the_vehicles_on_the_others() -> None:
    # two 1-phase vehicles on L1 and one on L2: L1 is shared, L2's vehicle gets the whole L2
    pts = [
        Point("a", 6 * A, 32 * A, measured_ma=(8 * A, 0, 0), setpoint_ma=8 * A),
        Point("b", 6 * A, 32 * A, measured_ma=(8 * A, 0, 0), setpoint_ma=8 * A),
        Point("c", 6 * A, 32 * A, rotation="L2L3L1", measured_ma=(8 * A, 0, 0), setpoint_ma=8 * A),
    ]
    out = allocate(Circuit(fuse_ma=24 * A), pts)
    assert [out.grants[u].ma for u in "abc"] == [12 * A, 12 * A, 24 * A]


def test_two_phase_vehicle_is_detected() -> None:
    p = Point("a", 6 * A, 32 * A, measured_ma=(9 * A, 9 * A, 200), setpoint_ma=10 * A)
    assert al.vehicle_phases(p) == 0b011
    assert al.vehicle_phases(Point("b", 6 * A, 32 * A)) == al.ALL_PHASES  # nothing drawn yet: all three
    assert al.vehicle_phases(Point("c", 6 * A, 32 * A, measured_ma=None, seen_phases=1)) == 1


def test_current_a_vehicle_does_not_take_is_redistributed() -> None:
    # the manual's threshold example: 16 A offered, 13 A drawn
    slow = Point("slow", 6 * A, 32 * A, measured_ma=three(13 * A), setpoint_ma=16 * A)
    fast = Point("fast", 6 * A, 32 * A, measured_ma=three(16 * A), setpoint_ma=16 * A)
    kept = allocate(Circuit(fuse_ma=32 * A, threshold_ma=4 * A), [slow, fast])
    assert kept.grants["slow"].ma == 16 * A
    reduced = allocate(Circuit(fuse_ma=32 * A, threshold_ma=2 * A), [slow, fast])
    assert reduced.grants["slow"] == al.Grant(15 * A, al.WANTS_LESS, 7, 7)
    assert reduced.grants["fast"].ma == 17 * A


def test_minimums_that_do_not_fit_pause_the_longest_charging_first() -> None:
    pts = [Point("p%d" % i, 10 * A, 32 * A, charging_s=100 * i) for i in range(5)]
    out = allocate(Circuit(fuse_ma=32 * A), pts)
    assert {u for u, g in out.grants.items() if g.reason == al.PAUSED_MINIMUMS} == {"p4", "p3"}
    assert all(out.grants["p%d" % i].ma >= 10 * A for i in range(3))


def test_a_paused_vehicle_resumes_when_another_leaves() -> None:
    pts = [Point("p%d" % i, 10 * A, 32 * A, charging_s=100 * i) for i in range(4)]
    assert allocate(Circuit(fuse_ma=32 * A), pts).grants["p3"].ma == 0
    pts[0] = Point("p0", 10 * A, 32 * A, wants=False)
    assert allocate(Circuit(fuse_ma=32 * A), pts).grants["p3"].ma >= 10 * A


def test_point_limits_and_circuit_limits_are_respected_and_named() -> None:
    pts = [
        Point("cable", 6 * A, 32 * A, limits=(("cable", 13 * A),)),
        Point("ea", 6 * A, 32 * A, limits=(("event_action", 0),)),
        Point("free", 6 * A, 32 * A),
    ]
    out = allocate(Circuit(fuse_ma=63 * A, limits=(("modbus_167", 30 * A),)), pts)
    assert out.grants["cable"] == al.Grant(13 * A, "cable", 7, 7)
    assert out.grants["ea"].ma == 0 and out.grants["ea"].reason == "event_action"
    assert out.grants["free"] == al.Grant(17 * A, "modbus_167", 7, 7)
    assert out.budget_reason == ("modbus_167",) * 3


def test_higher_level_fuse_takes_the_building_load_from_the_meter() -> None:
    # building draws 30 A on L1 beside the park's own 10 A: 63 - 30 = 33 A left for the park on L1
    pts = [Point("a", 6 * A, 32 * A, measured_ma=three(10 * A), setpoint_ma=10 * A)]
    circuit = Circuit(fuse_ma=40 * A, upstream_fuse_ma=63 * A, upstream_ma=(40 * A, 10 * A, 10 * A))
    out = allocate(circuit, pts)
    assert out.budget_ma == (33 * A, 40 * A, 40 * A)
    assert out.grants["a"] == al.Grant(32 * A, al.MAXIMUM, 7, 7)
    lost = allocate(Circuit(fuse_ma=40 * A, upstream_fuse_ma=35 * A, upstream_ma=None), pts)
    assert lost.budget_ma == three(35 * A)
    assert lost.notes == ["higher-level meter lost: the higher-level fuse alone"]


def test_a_lost_meter_counts_the_set_point_as_draw() -> None:
    p = Point("a", 6 * A, 32 * A, measured_ma=None, setpoint_ma=20 * A)
    assert al.draw_ma(p) == three(20 * A)
    out = allocate(Circuit(fuse_ma=40 * A, upstream_fuse_ma=63 * A, upstream_ma=three(50 * A)), [p])
    assert out.budget_ma == three(33 * A)  # building = 50 - 20
    assert out.notes == ["meter of a lost: its set-point counted as its draw"]


def test_points_out_of_reach_keep_their_fallback_reserved() -> None:
    out = allocate(Circuit(fuse_ma=32 * A, reserved_ma=12 * A), [Point("a", 6 * A, 32 * A)])
    assert out.budget_ma == three(20 * A)
    assert out.grants["a"].ma == 20 * A


# ---- properties ------------------------------------------------------------------------------------

_rotations = st.sampled_from(sorted(al.ROTATIONS))
_ma = st.integers(0, 40 * A)


@st.composite
def points(draw: st.DrawFn) -> list[Point]:
    out = []
    for i in range(draw(st.integers(0, 30))):
        lo = draw(st.integers(6, 16)) * A
        phases = draw(st.sampled_from([0b001, 0b011, 0b111, 0]))
        lost = draw(st.booleans()) and draw(st.booleans())
        take = draw(_ma)
        measured = None if lost else tuple(take if phases >> k & 1 else 0 for k in range(3))
        limits = draw(
            st.lists(st.tuples(st.sampled_from(["cable", "ocpp", "event_action"]), _ma), max_size=2)
        )
        out.append(
            Point(
                "p%d" % i,
                lo,
                draw(st.integers(lo // A, 80)) * A,
                wants=draw(st.booleans()) or draw(st.booleans()),
                rotation=draw(_rotations),
                measured_ma=measured,  # type: ignore[arg-type]
                setpoint_ma=draw(_ma),
                charging_s=draw(st.integers(0, 36000)),
                limits=tuple(limits),
            )
        )
    return out


circuits = st.builds(
    Circuit,
    fuse_ma=st.integers(6, 400).map(lambda a: a * A),
    threshold_ma=st.integers(1, 10).map(lambda a: a * A),
    upstream_fuse_ma=st.one_of(st.none(), st.integers(6, 600).map(lambda a: a * A)),
    upstream_ma=st.one_of(st.none(), st.tuples(_ma, _ma, _ma)),
    limits=st.lists(
        st.tuples(st.sampled_from(["modbus_167", "ocpp_global"]), st.integers(0, 400 * A)), max_size=2
    ).map(tuple),
    reserved_ma=st.integers(0, 50).map(lambda a: a * A),
)


@settings(max_examples=200, deadline=None)
@given(circuits, points())
def test_no_phase_exceeds_any_fuse_or_limit(circuit: Circuit, pts: list[Point]) -> None:
    out = allocate(circuit, pts)
    caps = [circuit.fuse_ma] + [ma for _, ma in circuit.limits]
    if circuit.upstream_fuse_ma is not None:
        caps.append(circuit.upstream_fuse_ma)
    for k in range(3):
        assert out.planned_ma[k] <= max(0, min(caps) - circuit.reserved_ma)
        assert out.planned_ma[k] <= out.budget_ma[k]
    if circuit.upstream_fuse_ma is not None and circuit.upstream_ma is not None:
        own = [sum(al.draw_ma(p)[k] for p in pts) for k in range(3)]
        for k in range(3):
            building = max(0, circuit.upstream_ma[k] - own[k])
            assert out.planned_ma[k] <= max(0, circuit.upstream_fuse_ma - building - circuit.reserved_ma)


@settings(max_examples=200, deadline=None)
@given(circuits, points())
def test_minimums_honoured_or_paused_and_point_limits_kept(circuit: Circuit, pts: list[Point]) -> None:
    out = allocate(circuit, pts)
    assert set(out.grants) == {p.uid for p in pts}
    for p in pts:
        g = out.grants[p.uid]
        assert g.ma == 0 or p.min_ma <= g.ma <= p.max_ma
        assert all(g.ma <= ma for _, ma in p.limits)
        if not p.wants:
            assert g.ma == 0


@settings(max_examples=200, deadline=None)
@given(circuits, points())
def test_nothing_left_while_a_vehicle_wants_more(circuit: Circuit, pts: list[Point]) -> None:
    """A point below its ceiling has a full phase (within 1 mA per point of integer rounding)."""
    out = allocate(circuit, pts)
    n = len(pts)
    slack = [out.budget_ma[k] - out.planned_ma[k] for k in range(3)]
    for p in pts:
        g = out.grants[p.uid]
        top, _ = al.ceiling(p, circuit.threshold_ma)
        if g.ma == 0 or g.ma >= top:
            continue
        assert g.reason in out.budget_reason
        assert any(slack[k] <= n for k in range(3) if g.grid >> k & 1), (p, g, slack)


@settings(max_examples=200, deadline=None)
@given(circuits, points())
def test_a_paused_point_could_not_have_fitted_its_minimum(circuit: Circuit, pts: list[Point]) -> None:
    out = allocate(circuit, pts)
    mins = {p.uid: p.min_ma for p in pts}
    for uid, g in out.grants.items():
        if g.reason == al.PAUSED_MINIMUMS:
            # the running points' minimums leave no room for this one's on one of its phases
            need = [0, 0, 0]
            for other, og in out.grants.items():
                if og.ma > 0:
                    for k in range(3):
                        if og.grid >> k & 1:
                            need[k] += mins[other]
            assert any(need[k] + mins[uid] > out.budget_ma[k] for k in range(3) if g.grid >> k & 1)
