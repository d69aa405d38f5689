"""Applying allocations: lower before raise, so the committed sum never exceeds the budget during a change."""

from __future__ import annotations

from chargepark.loadmgmt.allocate import Circuit, Point, allocate
from chargepark.loadmgmt.apply import REACTION_S, Applier
from hypothesis import given, settings
from hypothesis import strategies as st

A = 1000
ALL = {"a": 0b111, "b": 0b111}


def test_a_raise_waits_for_the_lowering_to_take_effect() -> None:
    ap = Applier()
    assert ap.step(0.0, {"a": 20 * A, "b": 12 * A}, ALL, (32 * A,) * 3) == {"a": 20 * A, "b": 12 * A}
    # swap: a is lowered at once, b may only rise once a's vehicle had its 5 s to follow
    assert ap.step(1.0, {"a": 12 * A, "b": 20 * A}, ALL, (32 * A,) * 3) == {"a": 12 * A}
    assert ap.step(1.0 + REACTION_S - 0.1, {"a": 12 * A, "b": 20 * A}, ALL, (32 * A,) * 3) == {}
    assert ap.step(1.0 + REACTION_S, {"a": 12 * A, "b": 20 * A}, ALL, (32 * A,) * 3) == {"b": 20 * A}


def test_a_raise_takes_what_already_fits() -> None:
    ap = Applier()
    ap.step(0.0, {"a": 20 * A, "b": 10 * A}, ALL, (32 * A,) * 3)
    assert ap.step(1.0, {"a": 14 * A, "b": 18 * A}, ALL, (32 * A,) * 3) == {"a": 14 * A, "b": 12 * A}


def test_an_unplugged_vehicle_frees_its_current_at_once() -> None:
    ap = Applier()
    ap.step(0.0, {"a": 16 * A, "b": 16 * A}, ALL, (32 * A,) * 3)
    ap.forget("a")
    assert ap.step(1.0, {"a": 0, "b": 32 * A}, ALL, (32 * A,) * 3) == {"a": 0, "b": 32 * A}


def test_points_on_other_phases_do_not_wait() -> None:
    ap = Applier()
    grid = {"a": 0b001, "b": 0b010}
    ap.step(0.0, {"a": 32 * A, "b": 10 * A}, grid, (32 * A,) * 3)
    assert ap.step(1.0, {"a": 10 * A, "b": 32 * A}, grid, (32 * A,) * 3) == {"a": 10 * A, "b": 32 * A}


def test_a_seeded_set_point_counts_from_the_start() -> None:
    ap = Applier()
    ap.seed("a", 30 * A, 0.0)
    assert ap.step(0.0, {"a": 2 * A, "b": 30 * A}, ALL, (32 * A,) * 3) == {"a": 2 * A, "b": 2 * A}


def test_a_point_never_sent_to_is_sent_its_set_point_once() -> None:
    ap = Applier()
    ap.seed("a", 0, 0.0)
    assert ap.step(0.0, {"a": 0}, ALL, (32 * A,) * 3) == {"a": 0}
    assert ap.step(1.0, {"a": 0}, ALL, (32 * A,) * 3) == {}


_round = st.lists(
    st.tuples(
        st.integers(6, 32), st.sampled_from([0b001, 0b011, 0b111]), st.integers(0, 20000), st.booleans()
    ),
    min_size=4,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(20, 100), st.lists(st.tuples(st.floats(0.5, 8.0), _round), min_size=1, max_size=12))
def test_committed_set_points_never_exceed_the_budget(fuse_a: int, rounds: list) -> None:  # type: ignore[type-arg]
    """Through any sequence of allocations, what the vehicles may still draw (the highest set-point of the
    last 5 s per point) stays within the fuse on every phase, at every instant."""
    ap, now = Applier(), 0.0
    history: dict[str, list[tuple[float, int]]] = {}
    for gap, spec in rounds:
        now += gap
        pts = [
            Point("p%d" % i, 6 * A, 32 * A, wants=wants, measured_ma=tuple(m * A if ph >> k & 1 else 0 for k in range(3)), charging_s=cs)  # type: ignore[arg-type]
            for i, (m, ph, cs, wants) in enumerate(spec)
        ]  # fmt: skip
        out = allocate(Circuit(fuse_ma=fuse_a * A), pts)
        grid = {u: g.grid for u, g in out.grants.items()}
        for uid, ma in ap.step(now, {u: g.ma for u, g in out.grants.items()}, grid, out.budget_ma).items():
            history.setdefault(uid, []).append((now, ma))
        for probe in (now, now + 0.01, now + REACTION_S - 0.01):
            for k in range(3):
                total = 0
                for uid, sent in history.items():
                    recent = [ma for t, ma in sent if probe - REACTION_S < t <= probe]
                    older = [ma for t, ma in sent if t <= probe - REACTION_S]
                    may_draw = max(recent + older[-1:]) if recent or older else 0
                    total += may_draw if grid[uid] >> k & 1 else 0
                assert total <= fuse_a * A, (k, probe, history)
