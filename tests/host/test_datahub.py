"""The data hub: durations as the manual defines them, session edges, CHARX payloads, REST reads."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import chargedefs as cd
import pytest
from chargepark import httpd, topics
from chargepark.datahub.hub import DataHub
from chargepark.datahub.point import PointTracker, error_enum
from chargepark.datahub.rest import router
from chargepark.datahub.sessions import SessionStore
from chargepark.runtime import free_port


def snap(iec: str, status: str, **kw: Any) -> dict[str, Any]:
    s = {"iec_state": cd.IEC_STATES.index(iec), "status": cd.STATUSES.index(status), "energy_wh": 0}
    s.update(kw)
    return s


def feed(p: PointTracker, seq: list[tuple[float, dict[str, Any]]]) -> list[str]:
    kinds = []
    for t, s in seq:
        kinds += [e.kind for e in p.update(s, True, t)]
    return kinds


def every_second(start: float, end: float, s: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    return [(float(t), s) for t in range(int(start), int(end))]


def test_plug_in_duration_counts_occupied_charging_error_and_resets_on_unplug() -> None:
    p = PointTracker("u1")
    kinds = feed(
        p,
        [
            (100.0, snap("A1", "Available")),
            *every_second(101, 111, snap("B1", "Preparing", energy_wh=1000)),  # plugged: 10 s occupied
            *every_second(111, 141, snap("C2", "Charging", energy_wh=1000)),  # 30 s charging
            *every_second(141, 146, snap("B2", "SuspendedEV", energy_wh=1250)),  # 5 s occupied
            *every_second(146, 150, snap("F", "Faulted", energy_wh=1250)),  # 4 s error counts as plugged
            (150.0, snap("B1", "Preparing", energy_wh=1250)),
        ],
    )
    assert kinds == ["start"]
    assert p.connected_s == pytest.approx(49.0)
    assert p.charge_s == pytest.approx(30.0)
    assert p.session_energy() == 250
    params = p.params()
    assert params["connected_time_sec"] == 49 and params["charge_time_sec"] == 30
    assert feed(p, [(151.0, snap("A1", "Available", energy_wh=1250))]) == ["stop"]
    assert p.params()["connected_time_sec"] == 0 and p.params()["charge_time_sec"] == 0


def test_silence_is_not_counted_as_time_in_a_state() -> None:
    p = PointTracker("u1")
    feed(p, [(0.0, snap("B1", "Preparing")), (1.0, snap("C2", "Charging")), (61.0, snap("C2", "Charging"))])
    assert p.charge_s == 0.0  # 60 s without samples (head restart) is not charging time
    feed(p, [(62.0, snap("C2", "Charging"))])
    assert p.charge_s == pytest.approx(1.0)


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
        self.last: dict[str, str] = {}
        self.count: dict[str, int] = {}

    def __call__(self, topic: str, payload: str, retain: bool) -> None:
        self.last[topic] = payload
        self.count[topic] = self.count.get(topic, 0) + 1


def live_msg(uid: str, position: int, s: dict[str, Any]) -> tuple[str, bytes]:
    return topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(
        dict(s, uid=uid, position=position, online=True)
    ).encode()


def test_hub_publishes_changes_and_keeps_sessions_across_restart(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    pub = Published()
    hub = DataHub(store, pub)
    hub.on_live(*live_msg("u1", 1, snap("B1", "Preparing", energy_wh=100)))
    hub.on_event(topics.fill(topics.AGENT_EVENT, uid="u1"), b'{"event": "rfid_read", "arg": "04A1B2"}')
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=100)))
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=100)))
    hub.flush()
    state = topics.charx("u1", "iec_61851_state")
    assert pub.last[state] == "C2" and pub.count[state] == 2  # published on change only
    assert json.loads(pub.last[topics.charx("u1", "rfid")])["tag"] == "04A1B2"
    assert pub.count[topics.charx("u1", "live")] == 4  # 3 samples + the RFID read
    hub.on_live(topics.fill(topics.AGENT_LIVE, uid="u1"), b"not json")
    assert hub.rejected == 1
    open_rows = store.open_sessions()
    assert open_rows["u1"]["id_tag"] == "04A1B2" and open_rows["u1"]["start_meter_wh"] == 100
    store.close()

    # The data hub restarts mid-session: the open session continues, and ends with the energy since plug-in.
    store = SessionStore(tmp_path / "sessions.db")
    hub = DataHub(store, Published())
    hub.on_live(*live_msg("u1", 1, snap("C2", "Charging", energy_wh=900)))
    hub.on_live(*live_msg("u1", 1, snap("A1", "Available", energy_wh=900)))
    hub.flush()
    (row,) = store.recent("u1")
    assert row["ended"] is not None and row["energy_wh"] == 800 and row["reason"] == "EVDisconnected"
    assert row["id_tag"] == "04A1B2"
    assert store.open_sessions() == {}
    store.close()


def test_rest_reads(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    hub = DataHub(store, Published())
    hub.on_live(*live_msg("u1", 2, snap("C2", "Charging", energy_wh=100)))
    hub.on_modules(topics.AGENT_MODULES, b'[{"uid": "u1", "position": 2, "firmware_version": "1.2.3"}]')

    async def scenario() -> dict[str, Any]:
        port = free_port()
        server = await httpd.serve(router(hub), "127.0.0.1", port)
        base = "http://127.0.0.1:%d/api/v1.0" % port

        def get(path: str) -> tuple[int, Any]:
            try:
                with urllib.request.urlopen(base + path, timeout=5) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        out = {}
        for path in ("/charging-controllers", "/charging-controllers/u1/data?param_list=iec_61851_state,charge_time_sec",
                     "/charging-controllers/u1/data?param_list=bogus", "/charging-controllers/nope/data",
                     "/charging-controllers/u1/data", "/sessions?uid=u1", "/nothing"):  # fmt: skip
            out[path] = await asyncio.to_thread(get, path)
        server.close()
        return out

    out = asyncio.run(scenario())
    ctrl = out["/charging-controllers"]
    assert ctrl[0] == 200 and ctrl[1]["u1"]["position"] == 2 and ctrl[1]["u1"]["firmware_version"] == "1.2.3"
    assert out["/charging-controllers/u1/data?param_list=iec_61851_state,charge_time_sec"] == (
        200, {"iec_61851_state": "C2", "charge_time_sec": 0})  # fmt: skip
    bad = out["/charging-controllers/u1/data?param_list=bogus"]
    assert bad[0] == 400 and "bogus" in bad[1]["error"]
    assert out["/charging-controllers/nope/data"][0] == 404
    assert set(out["/charging-controllers/u1/data"][1]) == set(topics.DATA_PARAMS) - {"live"}
    assert out["/sessions?uid=u1"][0] == 200
    assert out["/nothing"][0] == 404
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
