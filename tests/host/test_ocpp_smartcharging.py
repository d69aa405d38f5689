"""chargepark.ocpp.smartcharging: profile rules, stacking, kinds, validity, the composite schedule (cases from
OCPP 1.6 section 3.13.4, and with hypothesis: the composite schedule says at every second what `limit`
says)."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from chargepark.ocpp import smartcharging as sc
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ISO0 = "2027-01-15T08:00:00Z"


def profile(connector: int = 1, **kw: Any) -> sc.Profile:
    base: dict[str, Any] = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "startSchedule": ISO0,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
    }
    sched = kw.pop("schedule", {})
    base.update(kw)
    base["chargingSchedule"] = {**base["chargingSchedule"], **sched}
    return sc.parse(connector, base)


def periods(*pairs: tuple[int, float]) -> dict[str, Any]:
    return {"chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in pairs]}


def test_refusals() -> None:
    cases = [
        (1, {"chargingProfilePurpose": "ChargePointMaxProfile"}, "connector 0"),
        (0, {"chargingProfilePurpose": "TxProfile"}, "on a connector"),
        (1, {"schedule": periods((10, 16))}, "start at 0"),
        (1, {"schedule": periods((0, 16), (0, 10))}, "increasing"),
        (1, {"stackLevel": 11}, "stackLevel"),
        (1, {"chargingProfileKind": "Recurring"}, "recurrencyKind"),
        (1, {"schedule": {"startSchedule": None}}, "startSchedule"),
        (1, {"validFrom": ISO0, "validTo": ISO0}, "validTo"),
        (1, {"validFrom": "yesterday"}, "bad date"),
    ]
    for connector, kw, why in cases:
        with pytest.raises(sc.Refused, match=why):
            profile(connector, **kw)


def test_stack_levels_purposes_and_the_charge_point_cap() -> None:
    low = profile(0, schedule=periods((0, 20)))
    high = profile(0, chargingProfileId=2, stackLevel=3, schedule=periods((0, 10), (600, 13)))
    own = profile(1, chargingProfileId=3, schedule=periods((0, 25)))  # connector 1 overrides connector 0
    installed = [low, high, own]
    assert sc.limit(installed, 2, T0 + 10, None, None) == (10, "TxDefaultProfile")
    assert sc.limit(installed, 2, T0 + 700, None, None) == (13, "TxDefaultProfile")
    assert sc.limit(installed, 1, T0 + 10, None, None) == (25, "TxDefaultProfile")
    tx = profile(1, chargingProfileId=4, chargingProfilePurpose="TxProfile", transactionId=7,
                 schedule=periods((0, 30)))  # fmt: skip
    cap = profile(
        0, chargingProfileId=5, chargingProfilePurpose="ChargePointMaxProfile", schedule=periods((0, 28))
    )
    installed += [tx, cap]
    assert sc.limit(installed, 1, T0 + 10, 7, T0) == (28, "ChargePointMaxProfile")  # the cap is lower
    assert sc.limit(installed, 1, T0 + 10, 8, T0) == (25, "TxDefaultProfile")  # another transaction
    assert sc.limit(installed, 1, T0 + 10, None, None) == (25, "TxDefaultProfile")  # no transaction
    assert sc.limit(installed, 0, T0 + 10, None, None) == (28, "ChargePointMaxProfile")
    assert sc.limit([], 1, T0, None, None) == (None, None)


def test_kinds_validity_units() -> None:
    daily = profile(kind := 1, chargingProfileKind="Recurring", recurrencyKind="Daily",
                    schedule={**periods((0, 6), (3600, 32)), "duration": 7200})  # fmt: skip
    assert kind == 1
    for day in range(3):
        at = T0 + day * sc.DAY
        assert [daily.limit_at(at + s, None) for s in (0, 3599, 3600, 7199, 7200)] == [6, 6, 32, 32, None]
    assert daily.limit_at(T0 - 1, None) is None
    relative = profile(
        chargingProfileKind="Relative", schedule={**periods((0, 10), (60, 20)), "startSchedule": None}
    )
    assert relative.limit_at(T0 + 30, T0) == 10 and relative.limit_at(T0 + 61, T0) == 20
    assert relative.limit_at(T0 + 61, None) == 10  # without a transaction: its first period
    valid = profile(validFrom="2027-01-15T09:00:00Z", validTo="2027-01-15T10:00:00+00:00")
    assert [valid.limit_at(T0 + s, None) for s in (3599, 3600, 7199, 7200)] == [None, 16, 16, None]
    watts = profile(schedule={"chargingRateUnit": "W", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 11040}, {"startPeriod": 60, "limit": 3680, "numberPhases": 1}]})  # fmt: skip
    assert watts.limit_at(T0, None) == 16 and watts.limit_at(T0 + 60, None) == 16


def test_install_replaces_by_id_and_by_level_and_purpose_and_clear_matches() -> None:
    a = profile(chargingProfileId=1, stackLevel=1)
    b = profile(chargingProfileId=2, stackLevel=2)
    c = profile(chargingProfileId=3, stackLevel=1)  # same connector, level and purpose as a
    assert sc.install(sc.install([a], b), c) == [b, c]
    d = profile(chargingProfileId=2, stackLevel=5)
    assert sc.install([a, b], d) == [a, d]
    assert [p.id for p in (a, b, c) if sc.matches(p, None, 1, None, 1)] == [1, 3]
    assert [p.id for p in (a, b, c) if sc.matches(p, 2, 9, None, None)] == [2]  # an id decides alone
    assert all(sc.matches(p, None, None, None, None) for p in (a, b, c))


def test_composite_schedule_merges_and_fills_with_the_ceiling() -> None:
    step = profile(schedule={**periods((0, 10), (300, 10), (600, 20)), "duration": 900})
    assert sc.composite([step], 1, T0, 1200, None, None, 32) == [(0, 10), (600, 20), (900, 32)]
    assert sc.composite([], 1, T0, 60, None, None, 32) == [(0, 32)]


limits = st.integers(min_value=0, max_value=40)


@st.composite
def profiles(draw: st.DrawFn) -> list[sc.Profile]:
    out = []
    for n in range(draw(st.integers(1, 4))):
        starts = sorted(draw(st.sets(st.integers(1, 3000), max_size=4)))
        kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
        purpose = draw(st.sampled_from(["TxDefaultProfile", "TxProfile", "ChargePointMaxProfile"]))
        offset = draw(st.integers(-4000, 4000))
        sched: dict[str, Any] = {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": draw(limits)} for s in [0, *starts]],
            "startSchedule": None if kind == "Relative" else datetime.datetime.fromtimestamp(T0 + offset, datetime.UTC).isoformat(),
        }  # fmt: skip
        if draw(st.booleans()):
            sched["duration"] = draw(st.integers(1, 5000))
        p: dict[str, Any] = {"chargingProfileId": n, "stackLevel": draw(st.integers(0, 3)),
                             "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
                             "chargingSchedule": sched}  # fmt: skip
        if kind == "Recurring":
            p["recurrencyKind"] = "Daily"
        out.append(sc.parse(0 if purpose == "ChargePointMaxProfile" else 1, p))
    return out


@settings(max_examples=60, deadline=None)
@given(profiles(), st.integers(0, 200), st.booleans())
def test_composite_agrees_with_the_limit_at_every_second(
    installed: list[sc.Profile], at: int, in_tx: bool
) -> None:
    t0, duration = T0 + at, 4000
    tx_start = T0 if in_tx else None
    schedule = sc.composite(installed, 1, t0, duration, 1 if in_tx else None, tx_start, 32)
    assert schedule[0][0] == 0 and all(a[0] < b[0] and a[1] != b[1] for a, b in itertools.pairwise(schedule))
    for s in range(0, duration, 7):
        expect, _ = sc.limit(installed, 1, t0 + s, 1 if in_tx else None, tx_start)
        got = [v for start, v in schedule if start <= s][-1]
        assert got == (32 if expect is None else min(expect, 32)), s
