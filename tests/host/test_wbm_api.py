"""WBM API behaviour over a real server: login, sessions, rate limit, configuration through the store,
operations through the command path (504 when offline), history and CSV, logs zip, time, events."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from chargepark import topics
from chargepark.auth.ratelimit import MAX_FAILURES, WINDOW_S, LoginLimiter
from chargepark.datahub.sessions import Op, SessionStore
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext

from tests.host.wbmkit import (
    OFFLINE,
    FakeClock,
    FakeCommands,
    FakeSupervisor,
    Server,
    change_factory_password,
    log_in,
    make_ctx,
    served,
)

UID = "CPSIM0001"


@pytest.fixture
def wbm(tmp_path: Path) -> Iterator[tuple[WbmContext, Server]]:
    ctx = make_ctx(tmp_path)
    with served(create_app(ctx)) as base:
        yield ctx, base


@contextmanager
def manufacturer(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, "manufacturer")
        yield c


def test_login_logout_wrong_password_and_rate_limit(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    now = [0.0]
    ctx.limiter = LoginLimiter(clock=lambda: now[0])
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/api/wbm/auth/session").json()["role"] == "guest"
        assert c.get("/api/wbm/park").json() == {"error": "login required", "field": ""}
        r = c.post("/api/wbm/auth/login", content=b"login=user&password=user",
                   headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert r.status_code in (415, 422)  # a cross-site form cannot log in
        for _ in range(MAX_FAILURES):
            assert (
                c.post("/api/wbm/auth/login", json={"login": "user", "password": "nope"}).status_code == 401
            )
        r = c.post("/api/wbm/auth/login", json={"login": "user", "password": "user"})
        assert (
            r.status_code == 429 and int(r.headers["retry-after"]) == WINDOW_S
        )  # even the right password waits
        now[0] += WINDOW_S  # the failures leave the window
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, "operator")
        assert c.get("/api/wbm/auth/session").json()["role"] == "operator"
        assert c.get("/api/wbm/park").status_code == 200
        assert c.post("/api/wbm/auth/logout").status_code == 200
        assert c.get("/api/wbm/park").status_code == 401
        # the factory password no longer works, the new one does
        r = c.post("/api/wbm/auth/login", json={"login": "operator", "password": "operator"})
        assert r.status_code == 401 and r.json()["field"] == "password"


def test_password_change_rules(wbm: tuple[WbmContext, Server]) -> None:
    _, base = wbm
    with httpx.Client(base_url=base, timeout=30) as c:
        log_in(c, "user", "user")
        r = c.post("/api/wbm/auth/password", json={"old_password": "wrong", "new_password": "long-enough-1"})
        assert r.status_code == 403 and r.json()["field"] == "old_password"
        r = c.post("/api/wbm/auth/password", json={"old_password": "user", "new_password": "short"})
        assert r.status_code == 422 and r.json()["field"] == "new_password"
        r = c.post("/api/wbm/auth/password", json={"old_password": "user", "new_password": "user"})
        assert r.status_code == 422
        r = c.post("/api/wbm/auth/password", json={"old_password": "user", "new_password": "long-enough-1"})
        assert r.status_code == 200
        assert c.get("/api/wbm/auth/session").json()["password_change_required"] is False


def test_config_write_validate_export_import_delete(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    with manufacturer(base) as c:
        r = c.put("/api/wbm/config/ocpp", json={"HeartbeatInterval": 5, "NoSuchField": 1})
        assert r.status_code == 422
        body = r.json()
        assert body["fields"] == {"HeartbeatInterval": "must be >= 10 s", "NoSuchField": "unknown field"}
        assert body["field"] in body["fields"]
        assert ctx.store.get("ocpp")["HeartbeatInterval"] == 300  # nothing stored
        assert c.post("/api/wbm/config/ocpp/validate", json={"HeartbeatInterval": 60}).json() == {
            "valid": True, "errors": {}}  # fmt: skip
        assert ctx.store.get("ocpp")["HeartbeatInterval"] == 300  # validated, not saved
        assert c.put("/api/wbm/config/ocpp", json={"HeartbeatInterval": 60}).json()["HeartbeatInterval"] == 60
        assert ctx.store.get("ocpp")["HeartbeatInterval"] == 60
        exported = c.get("/api/wbm/config/ocpp/export")
        assert "attachment" in exported.headers["content-disposition"]
        doc = exported.json()
        assert c.delete("/api/wbm/config/ocpp").json()["HeartbeatInterval"] == 300  # factory default
        bad = json.loads(json.dumps(doc))
        bad["areas"]["ocpp"]["HeartbeatInterval"] = 1
        r = c.post("/api/wbm/config/ocpp/import", json=bad)
        assert r.status_code == 422 and "ocpp.HeartbeatInterval" in r.json()["fields"]
        assert ctx.store.get("ocpp")["HeartbeatInterval"] == 300  # refused whole
        assert c.post("/api/wbm/config/ocpp/import", json=doc).json()["HeartbeatInterval"] == 60
        other = {**doc, "areas": {**doc["areas"], "network": {}}}
        assert c.post("/api/wbm/config/ocpp/import", json=other).json()["field"] == "areas"
        # malformed JSON and oversized bodies are refused, nothing stored
        r = c.put("/api/wbm/config/ocpp", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]
        r = c.put("/api/wbm/config/ocpp", json={"MeterValuesSampledData": "x" * 100_000})
        assert r.status_code == 413
        assert c.put("/api/wbm/config/ocpp", json=[1, 2]).status_code == 422
        # keyed areas: records, a bad key, a missing record
        r = c.put("/api/wbm/config/whitelist/records/04A1B2", json={"name": "Anna"})
        assert r.status_code == 200 and r.json()["name"] == "Anna"
        assert list(c.get("/api/wbm/config/whitelist").json()) == ["04A1B2"]
        assert c.put("/api/wbm/config/whitelist/records/bad key!", json={}).json()["field"] == "key"
        assert c.get("/api/wbm/config/whitelist/records/NOPE").status_code == 404
        assert c.delete("/api/wbm/config/whitelist/records/04A1B2").status_code == 200
        assert ctx.store.get("whitelist") == {}
        whole = c.get("/api/wbm/config").json()
        assert c.post("/api/wbm/config/validate", json=whole).json()["valid"] is True
        assert c.post("/api/wbm/config/import", json=whole).status_code == 200


def test_copy_and_import_to_several_points_with_suffix(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    with manufacturer(base) as c:
        assert (
            c.put(
                "/api/wbm/config/chargepoint/records/CP1", json={"name": "Garage", "max_current_a": 20}
            ).status_code
            == 200
        )
        r = c.post("/api/wbm/config/chargepoint/records/CP2/copy-from/CP1")
        assert r.status_code == 422 and r.json()["field"] == "name"  # unconfigured: needs a name of its own
        r = c.post("/api/wbm/config/chargepoint/records/CP2/copy-from/CP1", json={"name": "Yard"})
        assert r.status_code == 200 and (r.json()["name"], r.json()["max_current_a"]) == ("Yard", 20)
        doc = c.get("/api/wbm/config/chargepoint/export", params={"key": "CP1"}).json()
        r = c.post(
            "/api/wbm/config/chargepoint/import-to-points", json={"file": doc, "points": ["CP3", "CP4"]}
        )
        assert r.status_code == 422  # the same name twice: refused whole
        assert ctx.store.get("chargepoint", "CP3") is None
        r = c.post("/api/wbm/config/chargepoint/import-to-points",
                   json={"file": doc, "points": ["CP3", "CP4"], "suffix": True})  # fmt: skip
        assert r.status_code == 200, r.text
        assert [ctx.store.get("chargepoint", u)["name"] for u in ("CP3", "CP4")] == ["Garage-1", "Garage-2"]


def test_operations_reach_the_command_path_and_offline_is_504(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    commands = ctx.commands
    assert isinstance(commands, FakeCommands)
    with manufacturer(base) as c:
        assert c.put("/api/wbm/points/%s/enabled" % UID, json={"on": False}).json()["confirmed"] is True
        assert c.put("/api/wbm/points/%s/charging-allowed" % UID, json={"on": True}).status_code == 200
        assert c.put("/api/wbm/points/%s/enforce-unlock" % UID, json={"on": True}).status_code == 200
        assert c.post("/api/wbm/points/%s/reset-error" % UID).status_code == 200
        assert c.put("/api/wbm/points/%s/enabled" % UID, json={"on": "no"}).json()["field"] == "on"
        r = c.put("/api/wbm/points/%s/enabled" % OFFLINE, json={"on": True})
        assert r.status_code == 504 and "offline" in r.json()["error"]
    assert commands.sent == [(UID, "enable", False), (UID, "release", True), (UID, "enforce_unlock", True),
                             (UID, "reset_error", None)]  # fmt: skip


def test_sessions_filter_and_csv(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    store = SessionStore(ctx.sessions_db)
    store.apply([Op("start", "A", 100.0, meter_wh=0), Op("stop", "A", 200.0, energy_wh=500, meter_wh=500,
                 reason="ev_disconnected"), Op("start", "B", 1000.0)])  # fmt: skip
    store.close()
    with manufacturer(base) as c:
        assert [s["uid"] for s in c.get("/api/wbm/sessions").json()] == ["B", "A"]
        assert [s["uid"] for s in c.get("/api/wbm/sessions", params={"uid": "A"}).json()] == ["A"]
        assert [s["uid"] for s in c.get("/api/wbm/sessions", params={"since": 300}).json()] == ["B"]
        assert [s["uid"] for s in c.get("/api/wbm/sessions", params={"until": 150}).json()] == ["A"]
        assert c.get("/api/wbm/sessions", params={"since": 5, "until": 1}).json()["field"] == "until"
        assert c.get("/api/wbm/sessions", params={"limit": 0}).json()["field"] == "limit"
        csv = c.get("/api/wbm/sessions.csv", params={"uid": "A"})
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0].startswith("id,uid,started,ended,energy_wh")
        assert ",A,1970-01-01T00:01:40Z,1970-01-01T00:03:20Z,500," in lines[1]


def test_services_logs_and_time(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    logs = ctx.logs_dir
    logs.mkdir()
    (logs / "jupicore.log").write_text("hub started\n")
    (logs / "mosquitto.log").write_text("broker\n")
    clock, supervisor = ctx.clock, ctx.control
    assert isinstance(clock, FakeClock) and isinstance(supervisor, FakeSupervisor)
    with manufacturer(base) as c:
        assert c.get("/api/wbm/services").json() == [{"name": "jupicore", "state": "running"}]
        assert c.post("/api/wbm/services/jupicore/restart").json() == {
            "restarted": ["jupicore"],
            "confirmed": True,
        }
        assert c.post("/api/wbm/services/nope/restart").status_code == 404
        z = zipfile.ZipFile(io.BytesIO(c.get("/api/wbm/logs.zip").content))
        assert sorted(z.namelist()) == ["jupicore.log", "mosquitto.log"]
        assert z.read("jupicore.log") == b"hub started\n"
        shown = c.get("/api/wbm/time").json()
        assert shown["utc"] == "2023-11-14T22:13:20Z" and shown["ntp_enabled"] is True
        r = c.put("/api/wbm/time", json={"utc": "2030-01-01T00:00:00Z"})
        assert r.status_code == 409 and clock.sets == []  # NTP is on
        assert c.put("/api/wbm/config/system", json={"ntp_enabled": False}).status_code == 200
        assert c.put("/api/wbm/time", json={"utc": "2030-13-01T00:00:00Z"}).json()["field"] == "utc"
        assert (
            c.put("/api/wbm/time", json={"utc": "2030-01-01T00:00:00Z"}).json()["utc"]
            == "2030-01-01T00:00:00Z"
        )
        assert clock.sets == [1893456000.0]
    assert {"cmd": "restart", "name": "jupicore"} in supervisor.requests


def test_live_state_park_tree_and_events(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    point = {"uid": UID, "position": 1, "status": "Available", "bus_state": "online", "configured": False}
    ctx.store.apply([("module", UID, {"station": "HEAD", "position": 1, "device_name": "SEC-3100",
                                       "hardware_version": "", "firmware_version": "1"})])  # fmt: skip
    with manufacturer(base) as c:
        base.call_soon(ctx.view.on_live, topics.charx(UID, "live"), json.dumps(point).encode())
        with c.stream("GET", "/api/wbm/events") as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            lines = events.iter_lines()
            assert next(lines) == "event: live"
            assert next(lines) == "id: %s" % UID
            assert json.loads(next(lines).removeprefix("data: "))["status"] == "Available"
            charging = {**point, "status": "Charging"}
            base.call_soon(ctx.view.on_live, topics.charx(UID, "live"), json.dumps(charging).encode())
            rest = [next(lines) for _ in range(4)]
            assert rest[1:3] == ["event: live", "id: %s" % UID]
            assert json.loads(rest[3].removeprefix("data: "))["status"] == "Charging"
        assert c.get("/api/wbm/live/%s" % UID).json()["status"] == "Charging"
        assert c.get("/api/wbm/live/NOPE").status_code == 404
        assert c.get("/api/wbm/live").json()["points"][0]["uid"] == UID  # unconfigured points too
        tree = c.get("/api/wbm/park").json()
        [station] = tree["stations"]
        assert station["uid"] == "HEAD"
        assert (station["points"][0]["uid"], station["points"][0]["configured"], station["points"][0]["online"]) == (
            UID, False, True)  # fmt: skip
