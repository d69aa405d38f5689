"""The data hub: the module's sessions and durations kept and shown, CHARX payloads (REST: test_rest_jupicore)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import chargedefs as cd
from chargepark import topics
from chargepark.datahub.hub import DataHub
from chargepark.datahub.point import PointTracker, error_enum
from chargepark.datahub.sessions import SCHEMA, SessionStore


def snap(iec: str, status: str, **kw: Any) -> dict[str, Any]:
    s = {"iec_state": cd.IEC_STATES.index(iec), "status": cd.STATUSES.index(status), "energy_wh": 0}
    s.update(kw)
    return s


def stop_arg(session: int, meter: int, energy: int, connected: int, charging: int, reason: str) -> list[int]:
    return [session, meter, energy, connected, charging, cd.STOP_REASONS.index(reason)]


def test_durations_and_energy_are_the_modules() -> None:
    """The hub shows the module's plug-in and charging durations and session energy; it counts nothing."""
    p = PointTracker("u1")
    p.update(snap("A1", "Available"), True, 100.0)
    assert p.event("session_start", [1, 1000], 101.0) is not None
    for t in range(102, 160):  # whatever the samples' timing, the durations are what the module says
        p.update(
            snap("C2", "Charging", energy_wh=1250, session_wh=250, connected_s=49, charging_s=30), True, t
        )
    assert (p.connected_s, p.charge_s, p.session_energy()) == (49, 30, 250)
    params = p.params()
    assert params["connected_time_sec"] == 49 and params["charge_time_sec"] == 30
    stop = p.event("session_stop", stop_arg(1, 1250, 250, 49, 30, "ev_disconnected"), 160.0)
    assert stop is not None and (stop.kind, stop.energy_wh, stop.meter_wh, stop.reason) == (
        "stop", 250, 1250, "ev_disconnected")  # fmt: skip
    assert (stop.connected_s, stop.charge_s) == (49, 30) and not p.plugged
    p.update(snap("A1", "Available", energy_wh=1250), True, 161.0)
    assert p.params()["connected_time_sec"] == 0 and p.session_energy() == 0


def test_a_missed_session_is_mended_from_the_live_state() -> None:
    p = PointTracker("u1")
    (start,) = p.update(snap("C2", "Charging", energy_wh=900, session_wh=400, connected_s=30), True, 1000.0)
    assert (
        start.kind == "start" and start.at == 970.0 and start.meter_wh == 500
    )  # back dated, meter at plug-in
    assert p.update(snap("C2", "Charging", energy_wh=900, session_wh=400, connected_s=31), True, 1001.0) == []
    (stop,) = p.update(snap("A1", "Available", energy_wh=950), True, 1002.0)
    assert stop.kind == "stop" and stop.reason == "lost" and not p.plugged


def test_codes_outside_the_chargedefs_tables_are_unknown() -> None:
    p = PointTracker("u1")
    p.update({"iec_state": 99, "status": "Charging", "connected_s": "x"}, True, 13.0)  # a name is no code
    assert (p.iec, p.status) == ("unknown", "unknown") and p.connected_s == 0 and not p.plugged


def test_charx_payloads() -> None:
    p = PointTracker("u1")
    p.update(
        snap("C2", "Charging", u1_mv=230000, i1_ma=16000, power_mw=3680000, energy_wh=5000, duty_permille=267,
             set_current_ma=16000, temp_dc=253, error_bits=cd.ERR_TEMP_DERATING | cd.ERR_RCM_TRIP),
        True,
        10.0,
    )  # fmt: skip
    prm = p.params()
    assert prm["iec_61851_state"] == "C2" and prm["status"] == "Charging"
    assert prm["energy"]["u1"] == {"value": 230.0, "unit": "V"}
    assert prm["energy"]["real_power"] == {"value": 3680.0, "unit": "W"}
    assert prm["energy"]["energy_real_power"]["value"] == 5000
    assert prm["pwm_duty_cycle_percent"] == 26.7 and prm["pwm_current_a"] == 16.0
    assert prm["temperature_c"] == 25.3 and prm["bus_state"] == "online"
    assert prm["error_status_int"] == cd.ERR_TEMP_DERATING | cd.ERR_RCM_TRIP
    assert prm["error_status_enum"] == "ERR_STATE_TEMP_DERATING"
    assert error_enum(0) == "NO_ERRORS"


class Published:
    def __init__(self) -> None:
        self.last: dict[str, str | bytes] = {}
        self.count: dict[str, int] = {}

    def __call__(self, topic: str, payload: str | bytes) -> None:
        self.last[topic] = payload
        self.count[topic] = self.count.get(topic, 0) + 1


def live_msg(uid: str, position: int, s: dict[str, Any]) -> tuple[str, bytes]:
    return topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(
        dict(s, uid=uid, position=position, online=True)
    ).encode()


def event_msg(uid: str, name: str, arg: Any) -> tuple[str, bytes]:
    return topics.fill(topics.AGENT_EVENT, uid=uid), json.dumps({"event": name, "arg": arg}).encode()


def test_hub_publishes_changes_and_keeps_sessions_across_restart(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    pub = Published()
    hub = DataHub(store, pub)
    hub.on_event(*event_msg("u1", "session_start", [7, 100]))
    hub.on_live(*live_msg("u1", 1, snap("B1", "Preparing", energy_wh=100)))
    hub.on_event(*event_msg("u1", "rfid_read", "04A1B2"))
    hub.on_event(*event_msg("u1", "session_release", [7, 100]))
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=100, connected_s=1)))
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=100, connected_s=1)))
    hub.flush()
    state = topics.charx("u1", "iec_61851_state")
    assert pub.last[state] == "C2" and pub.count[state] == 2  # published on change only
    assert json.loads(pub.last[topics.charx("u1", "rfid")])["tag"] == "04A1B2"
    assert pub.count[topics.charx("u1", "live")] == 4  # 3 samples + the RFID read
    hub.on_live(topics.fill(topics.AGENT_LIVE, uid="u1"), b"not json")
    assert hub.rejected == 1
    row = store.open_sessions()["u1"]
    assert row["id_tag"] == "04A1B2" and row["start_meter_wh"] == 100 and row["release_meter_wh"] == 100
    store.close()

    # The data hub restarts mid-session: the open session continues and ends as the module reports it.
    store = SessionStore(tmp_path / "sessions.db")
    hub = DataHub(store, Published())
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=900, session_wh=800, connected_s=90)))
    hub.on_event(*event_msg("u1", "session_stop", stop_arg(7, 900, 800, 95, 80, "ev_disconnected")))
    hub.on_live(*live_msg("u1", 1, snap("A1", "Available", energy_wh=900)))
    hub.flush()
    (row,) = store.recent("u1")
    assert row["ended"] is not None and row["energy_wh"] == 800 and row["reason"] == "ev_disconnected"
    assert (row["connected_s"], row["charge_s"], row["stop_meter_wh"]) == (95, 80, 900)
    assert row["id_tag"] == "04A1B2"
    assert store.open_sessions() == {}
    store.close()


def test_a_store_from_before_the_release_columns_opens(tmp_path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(tmp_path / "old.db")
    old_schema = SCHEMA.split("seq INTEGER NOT NULL DEFAULT 0,")[0] + "seq INTEGER NOT NULL DEFAULT 0);"
    db.executescript(old_schema)
    db.execute("INSERT INTO sessions (uid, started, start_meter_wh, updated) VALUES ('u1', 1, 5, 1)")
    db.commit()
    db.close()
    store = SessionStore(tmp_path / "old.db")
    assert store.open_sessions()["u1"]["released"] is None
    store.close()


def test_silent_agent_marks_the_point_offline() -> None:
    pub = Published()
    hub = DataHub(SessionStore(Path(":memory:")), pub)
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging")))
    hub.check_stale(time.time() + 1.0)
    assert pub.last[topics.charx("u1", "bus_state")] == "online"
    hub.check_stale(time.time() + 10.0)
    assert pub.last[topics.charx("u1", "bus_state")] == "offline"
    assert json.loads(pub.last[topics.charx("u1", "live")])["bus_state"] == "offline"


def test_a_write_whose_start_the_store_missed_is_kept(tmp_path: Path) -> None:
    from chargepark.datahub.sessions import Op

    store = SessionStore(tmp_path / "sessions.db")
    store.apply(
        [Op("stop", "u1", 100.0, energy_wh=50, meter_wh=150, reason="ev_disconnected", connected_s=30)]
    )
    store.apply([Op("update", "u2", 200.0, energy_wh=5, meter_wh=-1, connected_s=20)])
    (stopped,) = store.recent("u1")
    assert (stopped["started"], stopped["ended"], stopped["start_meter_wh"], stopped["stop_meter_wh"]) == (
        70.0, 100.0, 100, 150)  # fmt: skip
    assert (
        store.open_sessions()["u2"]["started"] == 180.0
        and store.open_sessions()["u2"]["start_meter_wh"] == -1
    )
    store.close()


def test_rest_reads_the_parameters_as_the_last_sample_and_event_left_them() -> None:
    """The REST view is the parameters as last published, computed again after a session edge."""
    hub = DataHub(SessionStore(Path(":memory:")), Published())
    hub.on_live(*live_msg("u1", 1, snap("B1", "Preparing", energy_wh=100)))
    assert hub.params("u1")["status"] == "Preparing"
    hub.on_event(*event_msg("u1", "session_start", [7, 100]))
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=150, session_wh=50, connected_s=3)))
    assert hub.params("u1")["energy"]["part_energy_real_power"]["value"] == 50
    hub.on_event(*event_msg("u1", "session_stop", stop_arg(7, 150, 50, 4, 3, "ev_disconnected")))
    assert hub.params("u1")["energy"]["part_energy_real_power"]["value"] == 0  # not plugged any more
    hub.check_stale(time.time() + 10.0)
    assert hub.params("u1")["bus_state"] == "offline"
    assert hub.params("u1") == hub.points["u1"].params()
