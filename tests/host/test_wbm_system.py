"""System Control through the WBM API over a real server: the head's status, the reboot, NTP and the time
zone applied below a throwaway root with the tools mapped to a recording fake, the clock set the same
way, the user-app password in a throwaway user database, Import/Export per sub-register (export, import
into a fresh head, the same bytes again; a bad value refused whole), and a signed bundle uploaded,
refused when foreign, installed as a job that rolls back a head that does not come up."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from bundlekit import keys, signed, small_wheel, trusting
from chargepark import __version__, topics
from chargepark.bundle import slots
from chargepark.network import layout
from chargepark.network.host import NetworkHost
from chargepark.runtime import Runtime
from chargepark.wbm import systemhost
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext
from chargepark.wbm.groups import GROUPS
from chargepark.wbm.systemhost import SHADOW, TIMESYNCD, SystemHost, password_matches

from tests.host.wbmkit import Server, change_factory_password, make_ctx, restarted_all, served

# A stand-in for timedatectl, date, hwclock and systemctl: records its argv; exits 1 when told to.
FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "$(dirname "$0")/calls"
[ -e "$(dirname "$0")/fail-$(basename "$0")" ] && { echo "$(basename "$0"): no such thing" >&2; exit 1; }
exit 0
"""
TOOLS = ("timedatectl", "date", "hwclock", "systemctl")


def _tools(where: Path) -> dict[str, str]:
    where.mkdir(parents=True)
    out = {}
    for name in TOOLS:
        path = where / name
        path.write_text(FAKE_TOOL)
        path.chmod(0o755)
        out[name] = str(path)
    return out


def _calls(tools: dict[str, str]) -> list[str]:
    path = Path(tools["date"]).parent / "calls"
    return path.read_text().splitlines() if path.exists() else []


def _shadow(root: Path) -> Path:
    path = root / SHADOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("root:*:19000:0:99999:7:::\n%s:%s:19000:0:99999:7:::\nnobody:*:19000::::::\n"
                    % (systemhost.USER_APP, systemhost.hash_password("user")))  # fmt: skip
    path.chmod(0o640)
    return path


@pytest.fixture
def wbm(tmp_path: Path) -> Iterator[tuple[WbmContext, Server, dict[str, str]]]:
    ctx = make_ctx(tmp_path)
    tools = _tools(tmp_path / "tools")
    ctx.system = SystemHost(tmp_path / "root", system=True, tools=tools)
    with served(create_app(ctx)) as base:
        yield ctx, base, tools


@contextmanager
def logged_in(base: str, login: str = "manufacturer") -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, login)
        yield c


def test_status_and_reboot(wbm: tuple[WbmContext, Server, dict[str, str]]) -> None:
    ctx, base, _ = wbm
    monitor = {"cpu_percent": 12.5, "mem_total_kb": 1000, "mem_available_kb": 400, "disk_total_kb": 9000,
               "disk_free_kb": 3000, "load": [0.1, 0.2, 0.3]}  # fmt: skip
    with logged_in(base, "operator") as c:
        base.call_soon(ctx.view.on_system, topics.SYSTEM_MONITOR, json.dumps(monitor).encode())
        deadline = time.monotonic() + 5
        while (info := c.get("/api/wbm/system").json())["monitor"] != monitor:
            assert time.monotonic() < deadline, info
            time.sleep(0.02)
        assert info["version"] == __version__ and info["active_slot"] is None and info["uptime_s"] > 0
        assert c.post("/api/wbm/system/reboot").json() == {"rebooting": True}  # answered first
    restarted_all(ctx)


def test_ntp_and_time_zone_applied_then_saved(wbm: tuple[WbmContext, Server, dict[str, str]]) -> None:
    ctx, base, tools = wbm
    conf = ctx.system.root / TIMESYNCD  # type: ignore[union-attr]
    body = {
        "ntp_enabled": True,
        "ntp_servers": ["ntp1.example.net", "192.0.2.7"],
        "timezone": "Europe/Berlin",
    }
    with logged_in(base, "operator") as c:
        r = c.put("/api/wbm/time/settings", json=body)
        assert r.status_code == 200, r.text
        shown = r.json()
        assert shown["timezone"] == "Europe/Berlin" and shown["local"].endswith("+01:00")  # November
        assert shown["utc"] == "2023-11-14T22:13:20Z" and shown["local"] == "2023-11-14T23:13:20+01:00"
        assert "NTP=ntp1.example.net 192.0.2.7\n" in conf.read_text()
        assert _calls(tools) == [
            "timedatectl set-ntp true",
            "systemctl try-restart systemd-timesyncd.service",
        ]
        assert ctx.store.get("system")["timezone"] == "Europe/Berlin"

        # Refused before anything is applied: the field is named, no command runs, nothing is saved.
        for bad, field in ((dict(body, timezone="Mars/Olympus"), "timezone"),
                           (dict(body, ntp_servers=[]), "ntp_servers")):  # fmt: skip
            r = c.put("/api/wbm/time/settings", json=bad)
            assert r.status_code == 422 and r.json()["field"] == field, r.text
        assert len(_calls(tools)) == 2

        # The system refuses: the earlier settings go back, the store keeps them.
        (Path(tools["timedatectl"]).parent / "fail-timedatectl").touch()
        r = c.put("/api/wbm/time/settings", json=dict(body, ntp_enabled=False, ntp_servers=["other.example"]))
        assert r.status_code == 409 and r.json()["field"] == "ntp_enabled"
        assert "no such thing" in r.json()["error"]
        assert "NTP=ntp1.example.net 192.0.2.7\n" in conf.read_text()
        assert ctx.store.get("system")["ntp_enabled"] is True
        (Path(tools["timedatectl"]).parent / "fail-timedatectl").unlink()

        # The clock: set through `date` (UTC) only while NTP is off.
        ctx.clock = ctx.system  # type: ignore[assignment]
        assert c.put("/api/wbm/time", json={"utc": "2030-01-01T00:00:00Z"}).status_code == 409
        off = dict(body, ntp_enabled=False)
        assert c.put("/api/wbm/time/settings", json=off).status_code == 200
        assert c.put("/api/wbm/time", json={"utc": "2030-01-01T00:00:00Z"}).status_code == 200
        assert _calls(tools)[-2:] == ["date -u --set=@1893456000", "hwclock --systohc --utc"]


def test_a_development_head_lists_the_commands_and_runs_none(tmp_path: Path) -> None:
    tools = _tools(tmp_path / "tools")
    host = systemhost.for_data(tmp_path / "data")
    host.tools = tools
    assert host.system is False and host.root == tmp_path / "data" / systemhost.DEVELOPMENT_ROOT
    assert host.apply_ntp(True, ["pool.ntp.org"]) == [
        "timedatectl set-ntp true", "systemctl try-restart systemd-timesyncd.service"]  # fmt: skip
    host.set(1893456000)
    assert _calls(tools) == []  # listed, not run: this machine's clock and NTP are untouched
    assert (host.root / TIMESYNCD).exists()
    assert host.user_app_state() == {"user": "user-app", "delivery_state": True}  # its own user database


def test_user_app_password_in_a_throwaway_user_database(
    wbm: tuple[WbmContext, Server, dict[str, str]],
) -> None:
    ctx, base, _ = wbm
    shadow = _shadow(ctx.system.root)  # type: ignore[union-attr]
    before = shadow.read_text().splitlines()
    with logged_in(base, "operator") as c:
        assert c.get("/api/wbm/developer").status_code == 403  # Developer Mode is the Manufacturer's
    with logged_in(base) as c:
        assert c.get("/api/wbm/developer").json() == {"user": "user-app", "delivery_state": True}
        r = c.post(
            "/api/wbm/developer/password", json={"old_password": "wrong", "new_password": "n3w-secret"}
        )
        assert r.status_code == 409 and r.json()["field"] == "old_password"
        assert shadow.read_text().splitlines() == before
        r = c.post("/api/wbm/developer/password", json={"old_password": "user", "new_password": "a:b:c:d:e"})
        assert r.status_code == 422
        r = c.post("/api/wbm/developer/password", json={"old_password": "user", "new_password": "n3w-secret"})
        assert r.status_code == 200 and r.json()["delivery_state"] is False
        after = shadow.read_text().splitlines()
        assert after[0] == before[0] and after[2] == before[2]  # the other users untouched
        hashed = after[1].split(":")[1]
        assert hashed.startswith("$y$") and password_matches("n3w-secret", hashed)
        assert not password_matches("user", hashed)
        assert after[1].split(":")[2] == str(int(time.time() // 86400))
        assert stat.S_IMODE(os.stat(shadow).st_mode) == 0o640
        assert c.post("/api/wbm/developer/password/reset").json()["delivery_state"] is True
        assert password_matches("user", shadow.read_text().splitlines()[1].split(":")[1])
        shadow.write_text("root:*:19000:0:99999:7:::\n")
        r = c.post("/api/wbm/developer/password/reset")
        assert r.status_code == 409 and "no user user-app" in r.json()["error"]


def _configure(c: httpx.Client) -> None:
    """Something other than the defaults in every area of every group."""
    puts = [
        ("/api/wbm/config/park", {"name": "Depot Nord", "parallel_lockings": 2}),
        ("/api/wbm/config/station/records/HEAD", {"name": "Head", "location": "Hall 2"}),
        ("/api/wbm/config/chargepoint/records/CPSIM0001", {"name": "Bay 1", "location": "Hall 2"}),
        ("/api/wbm/config/whitelist/records/04A1B2C3", {"name": "Fleet card"}),
        ("/api/wbm/config/loadcircuit/records/main", {"name": "Main", "fuse_a": 63,
                                                       "points": [{"uid": "CPSIM0001"}]}),
        ("/api/wbm/config/ocpp", {"HeartbeatInterval": 120}),
        ("/api/wbm/config/network", {"hostname": "depot-nord", "openvpn_mode": "on_request",
                                     "openvpn_config": "client\nremote vpn.example 1194\n"}),
        ("/api/wbm/config/system", {"name": "Depot", "timezone": "Europe/Berlin"}),
        ("/api/wbm/config/modbus", {"server_port": 5020}),
        ("/api/wbm/config/mqtt_bridge", {"broker": "fleet.example", "prefix": "fleet"}),
    ]  # fmt: skip
    for path, body in puts:
        r = c.put(path, json=body)
        assert r.status_code == 200, (path, r.text)


def test_every_group_exported_and_imported_into_a_fresh_head_gives_the_same_bytes(tmp_path: Path) -> None:
    for d in ("first", "fresh"):
        (tmp_path / d).mkdir()
    first, fresh = make_ctx(tmp_path / "first"), make_ctx(tmp_path / "fresh")
    with served(create_app(first)) as a, served(create_app(fresh)) as b:
        with logged_in(a) as ca, logged_in(b) as cb:
            _configure(ca)
            for group in GROUPS:
                exported = ca.get("/api/wbm/backup/%s/export" % group)
                assert exported.status_code == 200
                assert 'filename="%s.json"' % group in exported.headers["content-disposition"]
                r = cb.post("/api/wbm/backup/%s/import" % group, content=exported.content,
                            headers={"content-type": "application/json"})  # fmt: skip
                assert r.status_code == 200, (group, r.text)
                again = cb.get("/api/wbm/backup/%s/export" % group)
                assert again.content == exported.content, group
            assert fresh.store.get("network")["hostname"] == "depot-nord"
            assert fresh.store.get("system")["timezone"] == "Europe/Berlin"


def test_an_import_is_refused_whole_with_the_field(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    with served(create_app(ctx)) as base, logged_in(base) as c:
        _configure(c)
        before = ctx.store.export()
        doc = c.get("/api/wbm/backup/system/export").json()
        doc["areas"]["system"]["name"] = "Renamed"  # good
        doc["areas"]["modbus"]["server_port"] = 70000  # bad: nothing of the document may land
        r = c.post("/api/wbm/backup/system/import", json=doc)
        assert r.status_code == 422 and r.json()["field"] == "modbus.server_port", r.text
        assert ctx.store.export() == before
        vpn = c.get("/api/wbm/backup/openvpn/export").json()
        vpn["areas"]["network"]["hostname"] = "sneaked-in"  # not OpenVPN's field
        r = c.post("/api/wbm/backup/openvpn/import", json=vpn)
        assert r.status_code == 422 and r.json()["field"] == "areas.network.hostname"
        park = c.get("/api/wbm/backup/charging_park/export").json()
        park["areas"]["ocpp"] = {}
        r = c.post("/api/wbm/backup/charging_park/import", json=park)
        assert r.status_code == 422 and r.json()["field"] == "areas.ocpp"
        assert c.post("/api/wbm/backup/ocpp/import", json={"format": "x"}).json()["field"] == "format"
        assert ctx.store.export() == before
    with served(create_app(ctx)) as base, logged_in(base, "operator") as c:
        assert c.post("/api/wbm/backup/charging_park/import", json=park).status_code == 403  # Manufacturer's
        assert c.get("/api/wbm/backup/charging_park/export").status_code == 200


def _upload(c: httpx.Client, bundle: Path) -> httpx.Response:
    return c.put("/api/wbm/software/bundle", content=bundle.read_bytes(),
                 headers={"content-type": "application/octet-stream"})  # fmt: skip


def test_a_bundle_uploaded_verified_and_a_broken_head_rolled_back(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    other, _ = keys(tmp_path / "keys", "other")
    data = trusting(tmp_path / "data", public)
    ctx = make_ctx(data)
    broken = small_wheel(tmp_path / "w", "9.9.9", "raise ImportError('this head is broken')\n")
    with served(create_app(ctx)) as base, logged_in(base, "operator") as c:
        r = _upload(c, signed(tmp_path, broken, other, "foreign.cpb"))
        assert r.status_code == 422 and "signed with another key" in r.json()["error"], r.text
        assert c.get("/api/wbm/software").json()["uploaded"] is False
        assert c.post("/api/wbm/software/install").status_code == 409  # nothing to install
        r = _upload(c, signed(tmp_path, broken, private))
        assert r.status_code == 200, r.text
        assert r.json()["version"] == "9.9.9" and {p["kind"] for p in r.json()["parts"]} == {"head", "image"}
        assert c.post("/api/wbm/software/install").json() == {"installing": "9.9.9"}
        assert c.post("/api/wbm/software/install").status_code == 409  # one job at a time
        deadline = time.monotonic() + 120
        while (status := c.get("/api/wbm/software").json())["job"]["state"] == "running":
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["job"]["state"] == "failed", status
        assert any("rolled back" in line for line in status["job"]["output"]), status
        assert status["active_slot"] is None and slots.active(data) is None
        assert status["version"] == __version__


def test_the_park_password_is_stored_on_the_server_and_never_answered(
    wbm: tuple[WbmContext, Server, dict[str, str]],
) -> None:
    ctx, base, _ = wbm
    with logged_in(base) as c:
        assert c.get("/api/wbm/system").json()["park_password_set"] is False
        r = c.post("/api/wbm/system/park-password", json={"park_password": "bad\nline"})
        assert r.status_code == 422 and r.json()["field"] == "park_password", r.text
        assert ctx.store.get("system")["park_password"] == ""
        r = c.post("/api/wbm/system/park-password", json={"park_password": "cabinet-7"})
        assert r.status_code == 200 and r.json() == {"stored": True}
        assert ctx.store.get("system")["park_password"] == "cabinet-7"
        info = c.get("/api/wbm/system").json()
        assert info["park_password_set"] is True and "cabinet-7" not in json.dumps(info)


def test_module_switch_makes_this_head_a_client_and_restarts(
    wbm: tuple[WbmContext, Server, dict[str, str]],
) -> None:
    ctx, base, _ = wbm
    ctx.network = NetworkHost(ctx.data_dir / "network-root", system=False)  # files written, commands listed
    eth1_file = ctx.network.root / layout.ETH1_NETWORK
    with logged_in(base) as c:
        secret = "cabinet-7"
        r = c.post("/api/wbm/system/module-switch", json={"address": "192.168.4.5", "park_password": secret})
        assert r.status_code == 409 and r.json()["field"] == "station"  # no bus: no station of its own
        assert c.get("/api/wbm/system").json()["role"] == "server"
        Runtime(
            data_dir=str(ctx.data_dir), mqtt_port=1883, rest_port=0, web_port=0, bus={"station": "HEAD1"}
        ).save()
        for wrong in ("999.1.1.1", "192.168.10.5", "192.168.4.1", "192.168.4.255"):  # not a client's ETH1
            r = c.post("/api/wbm/system/module-switch", json={"address": wrong, "park_password": secret})
            assert r.status_code == 422 and r.json()["field"] == "address", r.text
        for bad in ({"address": "192.168.4.5"}, {"address": "192.168.4.5", "park_password": " padded "}):
            r = c.post("/api/wbm/system/module-switch", json=bad)  # none, or one mosquitto cannot hold
            assert r.status_code == 422 and r.json()["field"] == "park_password", r.text
        assert ctx.store.get("station", "HEAD1") is None and not eth1_file.exists()  # refused: nothing done
        assert ctx.store.get("system")["park_password"] == ""
        r = c.post("/api/wbm/system/module-switch", json={"address": "192.168.4.5", "park_password": secret})
        assert r.status_code == 200, r.text
        assert "ocpp16" in r.json()["stopped"] and "controller-agent" not in r.json()["stopped"]
        assert r.json()["eth1"]["commands"] == ["networkctl reload", "networkctl reconfigure eth1"]
        assert r.json()["wbm_address"] == "192.168.5.1"
        assert "Address=192.168.4.5/24" in eth1_file.read_text().splitlines()
        assert ctx.store.get("station", "HEAD1")["role"] == "client"
        assert ctx.store.get("system")["park_password"] == secret
        info = c.get("/api/wbm/system").json()
        assert (
            info["role"] == "client" and info["park_password_set"] is True and secret not in json.dumps(info)
        )
    with logged_in(base, "operator") as c:
        body = {"address": "192.168.4.6", "park_password": "x"}
        assert c.post("/api/wbm/system/module-switch", json=body).status_code == 403
        assert c.post("/api/wbm/system/park-password", json={"park_password": "x"}).status_code == 403
    restarted_all(ctx)
