"""The simulated surplus day (loadmgmt/surplusday.py: the real round and the firmware's phase switch on a
plant with PV, clouds and a building): one phase lets a surplus below 3 x 6 A charge, the hysteresis and the
minimum run time keep starts few, the surplus point takes little from the grid, no phase exceeds the fuse."""

from __future__ import annotations

from chargepark.loadmgmt import surplusday as sd


def test_a_surplus_day_with_and_without_the_phase_contactor_and_the_naive_thresholds() -> None:
    switched = sd.run(sd.SurplusDay(switchable=True))
    fixed = sd.run(sd.SurplusDay(switchable=False))
    naive = sd.run(sd.SurplusDay(switchable=True, start_w=0, stop_w=0, min_run_s=0))
    for day in (switched, fixed, naive):
        assert day.exceeded == 0 and day.max_phase_a <= 40
        assert day.sun_from_surplus_kwh <= day.surplus_kwh
    # one phase where three do not fit: the same sun charges more of the surplus into the car
    assert switched.one_phase_kwh > 1.0 and fixed.one_phase_kwh == 0
    assert switched.sun_from_surplus_kwh > fixed.sun_from_surplus_kwh * 1.2
    assert 0 < switched.phase_switches <= 6  # phase_switch_max of the session
    # the hysteresis and the minimum run time: fewer starts than without them on the same sky
    assert switched.starts < naive.starts
    # what the surplus point charged came mostly from the surplus
    assert switched.sun_import_kwh < 0.25 * switched.sun_kwh
    assert fixed.sun_import_kwh < 0.05 * fixed.sun_kwh
