"""JupiCore REST (datahub/rest.py) in process: the CHARX paths, validation before anything is stored, 409
for what the point's modes forbid, 504 for an offline module, writes acknowledged by the (fake) module."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chargedefs as cd
import httpx
import pointconfig
import pytest
from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.datahub import pushed, rest
from chargepark.datahub.hub import DataHub
from chargepark.datahub.sessions import SessionStore
from chargepark.pointops import PointOps
from chargepark.services.registry import by_name

Handler = Callable[[str, bytes], None]
API = "http://jupicore/api/v1.0"


def sample(uid: str, position: int, **kw: Any) -> dict[str, Any]:
    s = {"iec_state": cd.IEC_STATES.index("C2"), "status": cd.STATUSES.index("Charging"), "energy_wh": 10,
         "position": position, "online": True, "flags": 0, "config_checksum": 0}  # fmt: skip
    s.update(kw)
    return s


class FakeAgent:
    """The agent and module behind the MQTT link: records commands, answers them, applies configurations
    to the hub's live state the way a module reports them."""

    def __init__(self, hub: DataHub, store: ConfigStore) -> None:
        self.hub = hub
        self.store = store
        self.commands: list[tuple[str, str, Any]] = []
        self.handler: Handler | None = None
        self.answer = True
        store.subscribe(self.on_store)

    async def subscribe(self, subscription: str, handler: Handler) -> None:
        self.handler = handler

    def publish(self, topic: str, payload: str | bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_COMMAND) or ""
        req = json.loads(payload)
        self.commands.append((uid, req["name"], req["value"]))
        if self.answer and self.handler is not None:
            reply = json.dumps({"id": req["id"], "ok": True}).encode()
            asyncio.get_running_loop().call_soon(
                self.handler, topics.fill(topics.AGENT_COMMAND_RESULT, uid=uid), reply
            )

    def on_store(self, areas: set[str]) -> None:
        if not areas & {"chargepoint", "rfidboard"}:
            return
        for uid, p in self.hub.points.items():
            cfg = self.store.get("chargepoint", uid)
            snap = dict(p.snap)
            if cfg is None:
                snap.update(flags=0, config_checksum=0)
            else:  # what the agent sends: the record with its board, OCPP and load circuit fields
                snap.update(flags=cd.FLAG_CONFIGURED, config_checksum=pushed.checksum(self.store, uid))
            if self.answer:
                self.hub.take(uid, snap, time.time())


@pytest.fixture
def park(tmp_path: Path) -> Any:
    store = ConfigStore.open(tmp_path / "config.db")
    hub = DataHub(SessionStore(tmp_path / "sessions.db"), lambda topic, payload: None)
    agent = FakeAgent(hub, store)
    for uid, pos in (("CP1", 1), ("CP2", 2)):
        hub.take(uid, sample(uid, pos), time.time())
    store.put("chargepoint", dict(name="Remote", release_mode="remote",
                                  locking_mode="remote"), "CP1")  # fmt: skip
    store.put("chargepoint", dict(name="Permanent", release_mode="permanent"), "CP2")
    hub.on_modules(topics.AGENT_MODULES, b'[{"uid": "CP1", "position": 1, "firmware_version": "1.2.3"}]')
    yield hub, store, agent
    store.close()


def call(park: Any, *requests: tuple[str, str, Any]) -> list[httpx.Response]:
    hub, store, agent = park

    async def go() -> list[httpx.Response]:
        ops = PointOps(agent, answer_s=0.3)
        await ops.start()
        app = rest.build(hub, store, ops)
        out = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=API) as client:
            for method, path, body in requests:
                kw: dict[str, Any] = {}
                if isinstance(body, bytes):
                    kw = {"content": body, "headers": {"content-type": "application/json"}}
                elif body is not None:
                    kw = {"json": body}
                out.append(await client.request(method, API + path, **kw))
        return out

    return asyncio.run(go())


def one(park: Any, method: str, path: str, body: Any = None) -> httpx.Response:
    return call(park, (method, path, body))[0]


def test_reads_have_the_charx_shapes(park: Any) -> None:
    ctrl = one(park, "GET", "/charging-controllers").json()
    assert list(ctrl) == ["CP1", "CP2"] and ctrl["CP1"]["firmware_version"] == "1.2.3"
    assert ctrl["CP1"]["position"] == 1 and ctrl["CP2"]["device_uid"] == "CP2"
    data = one(park, "GET", "/charging-controllers/CP1/data?param_list=iec_61851_state,charge_time_sec")
    assert data.json() == {"iec_61851_state": "C2", "charge_time_sec": 0}
    everything = one(park, "GET", "/charging-controllers/CP1/data").json()
    assert set(everything) == set(topics.DATA_PARAMS) - {"live"}
    bad = one(park, "GET", "/charging-controllers/CP1/data?param_list=bogus")
    assert bad.status_code == 422 and bad.json()["field"] == "param_list" and "bogus" in bad.json()["error"]
    assert one(park, "GET", "/charging-controllers/nope/data").status_code == 404
    points = one(park, "GET", "/charging-points").json()
    assert [(p["id"], p["charging_controller_uid"], p["charging_point_name"]) for p in points] == [
        ("CP1", "CP1", "Remote"), ("CP2", "CP2", "Permanent")]  # fmt: skip
    cfg = one(park, "GET", "/charging-points/CP1/config").json()
    assert cfg["charging_point_name"] == "Remote" and cfg["release_charging_mode"] == "remote"
    assert cfg["maximum_charge_current"] == 16 and "max_current_a" not in cfg
    control = one(park, "GET", "/charging-controllers/CP1/control?param_list=charge_enable,force_hlc").json()
    assert control == {"charge_enable": True, "force_hlc": False}
    lm = one(park, "GET", "/charging-controllers/CP2/load-management-config").json()
    assert lm == {
        "maximum_current": 16,
        "maximum_current_on_expired_watchdog": 6,
        "watchdog_timer_sec": 65535,
    }
    assert one(park, "GET", "/sessions?uid=CP1").status_code == 200
    assert one(park, "GET", "/nothing").status_code == 404


def test_control_put_is_partial_stored_and_sent_as_point_commands(park: Any) -> None:
    _hub, store, agent = park
    r = one(park, "PUT", "/charging-controllers/CP2/control", {"charge_enable": False})
    assert (
        r.status_code == 200 and r.json()["charge_enable"] is False and r.json()["external_release"] is True
    )
    assert agent.commands == [("CP2", "enable", False)]
    assert store.get("control", "CP2")["charge_enable"] is False
    # Remote release mode: charge_enable is the release too; remote locking takes external_locking.
    r = one(park, "PUT", "/charging-controllers/CP1/control",
            {"charge_enable": True, "external_locking": True, "external_release": False, "force_leds": True})  # fmt: skip
    assert r.status_code == 200, r.text
    assert agent.commands[1:] == [("CP1", "enable", True), ("CP1", "release", True), ("CP1", "available", False),
                                  ("CP1", "lock", None)]  # fmt: skip
    assert (
        one(park, "GET", "/charging-controllers/CP1/control").json()["force_leds"] is True
    )  # stored, reported
    one(
        park, "PUT", "/charging-controllers/CP1/control", {"force_unlocking": True, "external_locking": False}
    )
    assert agent.commands[-2:] == [("CP1", "unlock", None), ("CP1", "enforce_unlock", True)]


def test_a_change_the_modes_forbid_is_a_409_and_nothing_is_stored_or_sent(park: Any) -> None:
    _hub, store, agent = park
    for body, field in (({"charge_enable": False, "external_release": False}, "external_release"),
                        ({"external_locking": True}, "external_locking")):  # fmt: skip
        r = one(park, "PUT", "/charging-controllers/CP2/control", body)
        assert r.status_code == 409 and r.json()["field"] == field and "mode" in r.json()["error"], r.text
    assert agent.commands == [] and store.get("control", "CP2") is None
    # The unchanged value is no change: a CHARX client's whole "start" body passes in permanent mode.
    start = {
        "external_release": True,
        "external_locking": False,
        "force_unlocking": False,
        "charge_enable": True,
    }
    assert one(park, "PUT", "/charging-controllers/CP2/control", start).status_code == 200
    assert ("CP2", "available", True) not in agent.commands and ("CP2", "enable", True) in agent.commands


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [(b"{nope", 400, ""), (b"[true]", 422, "body"), ({"charge_enable": "no"}, 422, "charge_enable"),
     ({"charge_enable": 0}, 422, "charge_enable"), ({"colour": True}, 422, "colour"),
     ({"watchdog_timer_s": 5}, 422, "watchdog_timer_s"), (b'{"charge_enable": false' + b" " * 70000 + b"}", 413, "")],
)  # fmt: skip
def test_bad_control_bodies_are_refused_and_nothing_is_stored(
    park: Any, body: Any, status: int, field: str
) -> None:
    _hub, store, agent = park
    r = one(park, "PUT", "/charging-controllers/CP2/control", body)
    assert r.status_code == status and r.json()["field"] == field, r.text
    assert agent.commands == [] and store.get("control", "CP2") is None


def test_an_offline_module_is_a_504_and_nothing_is_stored(park: Any) -> None:
    hub, store, agent = park
    hub.take("CP2", sample("CP2", 2, online=False), time.time())
    for method, path, body in (("PUT", "/charging-controllers/CP2/control", {"charge_enable": False}),
                               ("PUT", "/charging-points/CP2/config", {"maximum_charge_current": 20}),
                               ("POST", "/charging-controllers/CP2/restart", None)):  # fmt: skip
        r = one(park, method, path, body)
        assert r.status_code == 504 and "offline" in r.json()["error"], r.text
    assert store.get("control", "CP2") is None and store.get("chargepoint", "CP2")["max_current_a"] == 16
    assert agent.commands == []


def test_an_agent_that_does_not_answer_is_a_504(park: Any) -> None:
    park[2].answer = False
    r = one(park, "PUT", "/charging-controllers/CP2/control", {"charge_enable": False})
    assert r.status_code == 504 and "did not answer" in r.json()["error"]


def test_watchdog_pair_is_stored_once_for_the_modbus_watchdog(park: Any) -> None:
    """The pair is the energy manager's keep-alive watchdog: stored in the control area (Modbus X306/X307
    read and write the same fields, the Modbus server runs the timer); nothing is sent to the module."""
    _hub, store, agent = park
    r = one(park, "PUT", "/charging-controllers/CP2/load-management-config",
            {"maximum_current_on_expired_watchdog": 8, "watchdog_timer_sec": 30, "maximum_current": 16})  # fmt: skip
    assert r.json() == {
        "maximum_current": 16,
        "maximum_current_on_expired_watchdog": 8,
        "watchdog_timer_sec": 30,
    }
    assert store.get("control", "CP2")["watchdog_current_a"] == 8
    assert store.get("control", "CP2")["watchdog_timer_s"] == 30
    r = one(park, "PUT", "/charging-controllers/CP2/load-management-config", {"watchdog_timer_sec": 65535})
    assert r.json()["watchdog_timer_sec"] == 65535
    r = one(park, "PUT", "/charging-controllers/CP2/load-management-config", {"maximum_current": 32})
    assert r.status_code == 422 and r.json() == {"error": "read-only", "field": "maximum_current"}
    r = one(park, "PUT", "/charging-controllers/CP2/load-management-config", {"watchdog_timer_sec": 70000})
    assert r.status_code == 422 and r.json()["field"] == "watchdog_timer_s"
    assert agent.commands == []


def test_config_put_is_validated_merged_and_confirmed_by_the_module(park: Any) -> None:
    hub, store, _agent = park
    r = one(
        park,
        "PUT",
        "/charging-points/CP2/config",
        {"maximum_charge_current": 20, "charging_point_name": "Bay 2"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["maximum_charge_current"] == 20 and r.json()["release_charging_mode"] == "permanent"
    saved = store.get("chargepoint", "CP2")
    assert (saved["max_current_a"], saved["name"]) == (20, "Bay 2")
    assert hub.points["CP2"].snap["config_checksum"] == pointconfig.checksum(saved)
    whole = r.json()  # a client's GET-edit-PUT of the whole document, read-only fields included
    whole["minimum_charge_current"] = 8
    assert one(park, "PUT", "/charging-points/CP2/config", whole).status_code == 200
    for body, field in (({"maximum_charge_current": 99}, "maximum_charge_current"),
                        ({"minimum_charge_current": 30}, "minimum_charge_current"),
                        ({"no_such_field": 1}, "no_such_field"), ({"firmware_version": "9"}, "firmware_version"),
                        ({"maximum_charge_current": 20.5}, "maximum_charge_current")):  # fmt: skip
        r = one(park, "PUT", "/charging-points/CP2/config", body)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    assert store.get("chargepoint", "CP2")["min_current_a"] == 8


def test_config_put_of_a_load_managed_point_is_confirmed(park: Any) -> None:
    """The module runs the record with the fields the agent derives from other areas (here load_managed and
    the phase contactor of the point's load circuit entry): the answer waits for that checksum."""
    _hub, store, _agent = park
    store.put("loadcircuit", {"name": "Garage", "points": [{"uid": "CP2"}]}, "LC1")
    r = one(park, "PUT", "/charging-points/CP2/config", {"maximum_charge_current": 20})
    assert r.status_code == 200, r.text


def test_config_delete_is_the_factory_default(park: Any) -> None:
    _hub, store, _agent = park
    r = one(park, "DELETE", "/charging-points/CP2/config")
    assert r.status_code == 200 and store.get("chargepoint", "CP2") is None
    assert r.json()["release_charging_mode"] == "dashboard"  # the defaults again


def test_restart_is_the_bus_reset(park: Any) -> None:
    assert one(park, "POST", "/charging-controllers/CP1/restart").json() == {"restarted": "CP1"}
    assert park[2].commands == [("CP1", "reset", None)]


def test_whitelist_crud(park: Any) -> None:
    _hub, store, _agent = park
    r = one(park, "POST", "/rfid-whitelist", {"uid": "04A1B2", "label": "Anna", "active": True})
    assert r.status_code == 201 and r.json()["label"] == "Anna"
    assert one(park, "POST", "/rfid-whitelist", {"uid": "04A1B2"}).status_code == 409
    assert one(park, "PUT", "/rfid-whitelist/04A1B2", {"active": False}).json()["active"] is False
    assert store.get("whitelist", "04A1B2")["allow_charging"] is False
    listed = one(park, "GET", "/rfid-whitelist").json()
    assert [e["uid"] for e in listed] == ["04A1B2"] and listed[0]["expiry_date_utc"] == "2099-12-31T23:59:59Z"
    bad = one(park, "PUT", "/rfid-whitelist/04A1B2", {"expiry_date_utc": "tomorrow"})
    assert bad.status_code == 422 and bad.json()["field"] == "expiry_date_utc"
    assert one(park, "PUT", "/rfid-whitelist/bad%20tag", {}).status_code == 422
    assert one(park, "DELETE", "/rfid-whitelist/04A1B2").json() == {"deleted": "04A1B2"}
    assert one(park, "GET", "/rfid-whitelist/04A1B2").status_code == 404
    assert one(park, "DELETE", "/rfid-whitelist/04A1B2").status_code == 404


def test_application_config_of_the_areas_a_service_reads(park: Any) -> None:
    _hub, _store, _agent = park
    ocpp = one(park, "GET", "/applications/ocpp16/config")
    assert ocpp.status_code == 200 and set(ocpp.json()) == set(by_name("ocpp16").reads)
    r = one(park, "PUT", "/applications/modbus-server/config", {"modbus": {"no_such": 1}})
    assert r.status_code == 422 and r.json()["field"] == "modbus.no_such"
    r = one(park, "PUT", "/applications/modbus-server/config", {"modbus": [1]})
    assert r.status_code == 422 and r.json() == {"error": "must be an object", "field": "modbus"}
    r = one(park, "PUT", "/applications/modbus-server/config", {"park": {}})
    assert r.status_code == 422 and r.json()["field"] == "park"
    assert one(park, "GET", "/applications/system-monitor/config").status_code == 404
    agent_cfg = one(park, "GET", "/applications/charx-controller-agent/config").json()
    assert set(agent_cfg) == set(by_name("controller-agent").reads) >= {"chargepoint", "rfidboard"}
