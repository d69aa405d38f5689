"""The WBM network API over a real server and a real store: apply writes the backend's files (a
development head lists its system commands and runs none), a record breaking the manual's rules is refused
whole and changes nothing, a part that fails puts the previous configuration back (system commands mapped
to `true`/`false`, never the machine's own), runtime routes are checked by the area's own route rules, an
imported OpenVPN file is never readable back, and the roles of the manual."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from chargepark.network import apply, layout
from chargepark.network.host import Listed, NetworkHost
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext

from tests.host.wbmkit import Server, change_factory_password, make_ctx, served

STATIC = {"dhcp": False, "ip_address": "10.20.0.5", "subnet_mask": "255.255.255.0", "gateway": "10.20.0.1"}


@pytest.fixture
def wbm(tmp_path: Path) -> Iterator[tuple[WbmContext, Server]]:
    ctx = make_ctx(tmp_path)
    ctx.network = NetworkHost(tmp_path / "root", system=False)
    with served(create_app(ctx)) as base:
        yield ctx, base


@contextmanager
def client(base: str, login: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, login)
        yield c


def eth0_file(ctx: WbmContext) -> str:
    assert ctx.network is not None
    return (ctx.network.root / layout.ETH0_NETWORK).read_text()


def test_apply_writes_the_files_and_lists_the_commands_on_a_development_head(
    wbm: tuple[WbmContext, Server],
) -> None:
    ctx, base = wbm
    with client(base, "operator") as c:
        r = c.post("/api/wbm/network/apply", json=dict(STATIC, hostname="park-7"))
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["ok"] and done["system"] is False
        assert "/" + layout.ETH0_NETWORK in done["changed"]
        assert any(cmd.startswith("nft -f") for cmd in done["commands"])  # listed, not run
        assert "Address=10.20.0.5/24" in eth0_file(ctx)
        assert ctx.store.get("network")["ip_address"] == "10.20.0.5"
        shown = c.get("/api/wbm/network/status").json()
        assert shown["last_apply"]["ok"] and shown["system"] is False
        assert set(shown["applied"]) >= {"eth0", "wlan", "modem", "openvpn", "routes"}
        assert shown["applied"]["modem"]["imei"] == layout.NOT_AVAILABLE


def test_the_manuals_rules_refuse_the_whole_apply(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    with client(base, "operator") as c:
        assert c.post("/api/wbm/network/apply", json=STATIC).status_code == 200
        before = eth0_file(ctx)
        r = c.post("/api/wbm/network/apply", json=dict(STATIC, ip_address="192.168.4.20", gateway="192.168.4.1",
                                                        hostname="new-name"))  # fmt: skip
        assert r.status_code == 422
        assert "ip_address" in r.json()["fields"] and "gateway" in r.json()["fields"]
        dns = [{"address": "10.0.0.%d" % n} for n in range(1, 5)]
        assert "dns" in c.post("/api/wbm/network/apply", json={"dns": dns}).json()["fields"]
        assert eth0_file(ctx) == before
        assert ctx.store.get("network")["hostname"] == "ev3000"


def test_a_failing_part_puts_the_previous_configuration_back(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    # Every program the plan runs, mapped to `true` (the machine's own network is never touched).
    plan = Listed()
    apply.apply(dict(ctx.store.get("network"), **STATIC), tmp_path / "plan", plan)
    tools = {argv[0]: "true" for argv in plan.record}
    assert {"nft", "systemctl", "networkctl"} <= set(tools)
    ctx.network = NetworkHost(tmp_path / "root", system=True, tools=tools)
    with served(create_app(ctx)) as base, client(base, "operator") as c:
        assert c.post("/api/wbm/network/apply", json=STATIC).status_code == 200
        before = eth0_file(ctx)
        tools["nft"] = "false"  # the firewall cannot be loaded
        r = c.post("/api/wbm/network/apply", json=dict(STATIC, ip_address="10.20.0.9"))
        assert r.status_code == 409
        assert r.json()["field"] == "firewall" and "previous configuration" in r.json()["error"]
        assert eth0_file(ctx) == before  # ETH0 was written, then put back
        assert ctx.store.get("network")["ip_address"] == "10.20.0.5"
        last = c.get("/api/wbm/network/status").json()["last_apply"]
        assert last["ok"] is False and "firewall" in last["errors"]


def test_runtime_routes_are_checked_by_the_areas_route_rules(wbm: tuple[WbmContext, Server]) -> None:
    _, base = wbm
    with client(base, "operator") as c:
        r = c.post("/api/wbm/network/routes/add", json={"network": "10.9.0.0/16", "gateway": "10.9.0.300"})
        assert r.status_code == 422 and "gateway" in r.json()["fields"]
        r = c.post("/api/wbm/network/routes/add",
                   json={"network": "10.9.0.0/16", "gateway": "10.20.0.1", "metric": 5})  # fmt: skip
        assert r.json()["commands"] == ["ip route replace 10.9.0.0/16 via 10.20.0.1 dev eth0 metric 5"]
        route = {"network": "10.9.0.0/16", "gateway": "10.20.0.1", "interface": "eth0", "metric": 5}
        assert c.post("/api/wbm/network/routes/remove", json=route).status_code == 200
        assert c.get("/api/wbm/network/status").json()["applied"]["removed_routes"] == [route]
        assert c.post("/api/wbm/network/routes/restore", json=route).status_code == 200
        assert c.get("/api/wbm/network/status").json()["applied"]["removed_routes"] == []
        assert c.post("/api/wbm/network/routes/drop", json=route).status_code in (404, 405)


def test_an_imported_vpn_file_is_never_readable_back(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    secret = "client\nremote 10.1.2.3 1194\n<key>\nSECRET-KEY\n</key>\n"
    with client(base, "operator") as c:
        assert (
            c.post("/api/wbm/network/vpn-import", json={"name": "site.ovpn", "text": secret}).status_code
            == 200
        )
        assert ctx.store.get("network")["openvpn_imported"] == "site.ovpn"
        for path in ("/api/wbm/config/network", "/api/wbm/network/status", "/api/wbm/config/network/export"):
            assert "SECRET-KEY" not in c.get(path).text
        assert c.get("/api/wbm/network/status").json()["applied"]["openvpn"]["server_ip"] == "10.1.2.3"
        # a pasted configuration takes precedence: importing over it is refused
        c.put("/api/wbm/config/network", json={"openvpn_config": "client\nremote 10.4.4.4\n"})
        r = c.post("/api/wbm/network/vpn-import", json={"name": "b.ovpn", "text": secret})
        assert r.status_code == 409 and r.json()["field"] == "openvpn_config"
        # a development head runs no OpenVPN client
        assert c.post("/api/wbm/network/vpn/test").status_code == 409
        assert c.post("/api/wbm/network/vpn/up").status_code == 409  # only "On Request"


def test_delete_configuration_removes_the_pasted_text_and_the_imported_file(
    wbm: tuple[WbmContext, Server],
) -> None:
    ctx, base = wbm
    assert ctx.network is not None
    with client(base, "operator") as c:
        c.post("/api/wbm/network/vpn-import", json={"name": "site.ovpn", "text": "client\nremote 10.1.2.3\n"})
        assert c.post("/api/wbm/network/apply", json={"openvpn_mode": "on"}).status_code == 200
        assert (ctx.network.root / layout.OPENVPN).exists() and (
            ctx.network.root / layout.OPENVPN_IMPORTED
        ).exists()
        r = c.post("/api/wbm/network/vpn-delete")
        assert r.status_code == 200, r.text
        assert "systemctl disable --now " + layout.OPENVPN_SERVICE in r.json()["commands"]
        stored = ctx.store.get("network")
        assert (stored["openvpn_mode"], stored["openvpn_config"], stored["openvpn_imported"]) == (
            "off",
            "",
            "",
        )
        for gone in (layout.OPENVPN, layout.OPENVPN_IMPORTED, layout.RUNTIME_TMPFILES):
            assert not (ctx.network.root / gone).exists()
        assert c.get("/api/wbm/network/status").json()["applied"]["openvpn"]["server_ip"] == ""
    with client(base, "user") as c:
        assert c.post("/api/wbm/network/vpn-delete").status_code == 403


def test_roles(wbm: tuple[WbmContext, Server]) -> None:
    _, base = wbm
    with client(base, "user") as c:
        assert c.get("/api/wbm/network/status").status_code == 403
        assert c.post("/api/wbm/network/apply", json={}).status_code == 403
        head = c.get("/api/wbm/network/head")  # the point status page shows the head's address
        assert head.status_code == 200 and set(head.json()) == {"ip", "mac"}
