"""Park model: stations and points from discovery, configured vs unconfigured, Modbus start registers."""

from __future__ import annotations

from pathlib import Path

import pytest
from chargepark.config import ConfigStore
from chargepark.modbus.view import layout, park_ranks
from chargepark.park import forget_module, park_view, record_discovery


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore.open(tmp_path / "config.db")


def test_points_appear_on_discovery_and_are_configured_once_saved(store: ConfigStore) -> None:
    assert park_view(store).points() == []
    assert record_discovery(store, "head1", 1, "uid-a", "CHARX SEC-3150", "1.0", "1.9.0")
    assert record_discovery(store, "head1", 2, "uid-b", "CHARX SEC-3000")
    assert not record_discovery(store, "head1", 2, "uid-b", "CHARX SEC-3000")  # unchanged: no write
    park = park_view(store, online={"uid-a"})
    assert [(p.position, p.uid, p.configured, p.online) for p in park.points()] == [
        (1, "uid-a", False, True),
        (2, "uid-b", False, False),
    ]
    assert park.points()[0].name == "CHARX SEC-3150" and park.dashboard() == []
    store.put("chargepoint", {"name": "Bay 2", "location": "Garage"}, key="uid-b")
    park = park_view(store)
    assert [(p.uid, p.name, p.location) for p in park.dashboard()] == [("uid-b", "Bay 2", "Garage")]
    store.delete("chargepoint", "uid-b")  # back to factory defaults = unconfigured
    assert park_view(store).dashboard() == []


def test_a_module_replaced_at_a_position_takes_its_place(store: ConfigStore) -> None:
    record_discovery(store, "head1", 3, "uid-old")
    store.put("chargepoint", {"name": "Bay 3"}, key="uid-old")
    record_discovery(store, "head1", 3, "uid-new")
    park = park_view(store)
    assert [(p.position, p.uid, p.configured) for p in park.points()] == [(3, "uid-new", False)]
    assert store.get("chargepoint", "uid-old") is not None  # its configuration is kept, keyed by UID
    forget_module(store, "uid-new")
    assert park_view(store).points() == []


def test_stations_server_first_with_their_points(store: ConfigStore) -> None:
    store.put("park", {"name": "Depot"})
    store.put("station", {"name": "North", "role": "client", "address": "192.168.4.12"}, key="head2")
    store.put("station", {"name": "South"}, key="head1")
    record_discovery(store, "head2", 1, "uid-c")
    record_discovery(store, "head1", 2, "uid-b")
    record_discovery(store, "head1", 1, "uid-a")
    park = park_view(store)
    assert park.name == "Depot"
    assert [(st.uid, st.name, st.role, [p.uid for p in st.points]) for st in park.stations] == [
        ("head1", "South", "server", ["uid-a", "uid-b"]),
        ("head2", "North", "client", ["uid-c"]),
    ]
    assert park.point("uid-c") is not None and park.point("uid-z") is None


def test_modbus_start_registers_automatic_in_park_order_and_manual(store: ConfigStore) -> None:
    store.put("station", {"name": "North", "role": "client", "address": "192.168.4.12"}, key="head2")
    for station, pos, uid in (("head1", 1, "uid-a"), ("head1", 3, "uid-c"), ("head2", 1, "uid-x"),
                              ("head2", 2, "uid-y")):  # fmt: skip
        record_discovery(store, station, pos, uid)
    stations = park_view(store).stations
    places = {p.uid: (rank, p.position) for rank, st in enumerate(stations) for p in st.points}
    assert park_ranks([[p.uid for p in st.points] for st in stations]) == {
        u: r for u, (r, _) in places.items()
    }
    # Automatic: the server's points at position x 1000 (a gap stays a gap), a client's after its highest
    assert layout([], places) == {"uid-a": 1000, "uid-c": 3000, "uid-x": 4000, "uid-y": 5000}
    manual = [{"uid": "uid-a", "start": 5000}, {"uid": "uid-y", "start": 7000}, {"uid": "uid-c", "start": -1}]
    assert layout(manual, places) == {"uid-a": 5000, "uid-y": 7000}  # no mixed operation
