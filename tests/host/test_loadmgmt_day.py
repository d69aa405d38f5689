"""A simulated day of 12 points with mixed 1-, 2- and 3-phase vehicles on an accelerated clock: the allocation and
the applier drive the plant model (the service killed for half an hour at 13:00), beside the naive split."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from chargepark.loadmgmt import plot, simday


@pytest.fixture(scope="module")
def day() -> simday.DayResult:
    return simday.run(simday.DayConfig(seed=17))


def test_the_fuse_is_never_exceeded_at_any_sample(day: simday.DayResult) -> None:
    assert day.exceeded == 0
    assert day.max_phase_a <= day.fuse_a
    assert all(max(s["planned"]) <= day.fuse_a * 1000 for s in day.samples)


def test_the_day_had_mixed_vehicles_and_a_limited_fuse(day: simday.DayResult) -> None:
    kinds = {bin(v.phases).count("1") for _, v in simday.vehicles(simday.DayConfig(seed=17))}
    assert kinds == {1, 2, 3}
    assert any(max(s["planned"]) >= day.fuse_a * 1000 * 0.95 for s in day.samples)  # it really limited


def test_utilisation_beats_the_naive_split_on_the_same_day(day: simday.DayResult) -> None:
    assert day.utilisation > day.naive_utilisation + 0.2
    assert day.energy_kwh > day.naive_energy_kwh


def test_the_dead_service_falls_back_within_the_fuse(day: simday.DayResult) -> None:
    dead = [s for s in day.samples if not s["alive"]]
    assert len(dead) == 30
    assert all(max(s["draw"]) <= day.fuse_a * 1000 for s in dead)


def test_the_higher_level_fuse_holds_with_a_building_load() -> None:
    cfg = simday.DayConfig(seed=17, upstream_fuse_a=70, hours=12)  # the building peaks at 55 A on L1
    day = simday.run(cfg)
    assert max(simday.building_ma(t, cfg)[0] for t in range(0, 12 * 3600, 600)) >= 50 * 1000
    assert day.exceeded == 0
    # only by what the building adds between two rounds (a few mA), never by a vehicle's current
    assert day.upstream_excess_ma < 500
    assert day.utilisation > day.naive_utilisation


def test_the_plot_is_an_svg_of_three_phases(day: simday.DayResult, tmp_path: Path) -> None:
    path = plot.write(day, tmp_path / "day.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 3 * len(plot.SERIES)
