"""The binding limit and the bus counters, from the module's live sample to the WBM status page's rows."""

from __future__ import annotations

import chargedefs as cd
from chargepark.bus.agent import BUS_COUNTERS, Counters
from chargepark.datahub.point import PointTracker
from chargepark.web import status


def tracked(**snap: object) -> dict[str, object]:
    p = PointTracker("u1")
    p.update(dict({name: 0 for name, _ in cd.LIVE_FIELDS}, **snap), True, 100.0)
    return p.live(p.params())


def rows(live: dict[str, object]) -> dict[str, status.Value]:
    return {label: value for _, group in status.groups({}, live, None) for label, value in group}


def test_the_module_limit_is_named_beside_the_signalled_current() -> None:
    live = tracked(set_current_ma=13000, limit=cd.LIMIT_CABLE)
    assert live["limit"] == {"current_a": 13.0, "reason": "cable"}
    assert rows(live)["Signalled current limit"] == ("13.0 A:", "cable")
    fallback = tracked(set_current_ma=6000, limit=cd.LIMIT_FALLBACK)
    assert rows(fallback)["Signalled current limit"] == ("6.0 A:", "fallback, head silent")


def test_every_limit_code_has_a_page_text() -> None:
    assert set(status.LIMIT_TEXT) == set(cd.LIMITS)
    assert rows(tracked(limit=len(cd.LIMITS)))["Signalled current limit"] == status.NA  # a newer module


def test_bus_counters_reach_the_status_page() -> None:
    c = Counters(frames_tx=120, frames_rx=118, crc_errors=1, timeouts=2, retries=2, failures=0)
    assert [label for _, label in status.COUNTER_LABELS] and {k for k, _ in status.COUNTER_LABELS} == set(
        BUS_COUNTERS
    )
    r = rows(tracked(bus=c.summary()))
    assert (r["Frames sent"], r["Frames received"], r["CRC errors"], r["Timeouts"]) == (
        "120",
        "118",
        "1",
        "2",
    )
    assert rows(tracked())["Frames sent"] == status.NA  # an agent without counters
