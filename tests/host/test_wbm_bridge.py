"""The WBM's MQTT Bridge page over a real server and store: the form shows the mqtt_bridge area, a bad port
or a certificate that is no CA is refused beside its field with nothing stored, an uploaded CA is kept, the
bridge's state topic (as the web server's MQTT link hands it over) shows on the page as the manual names it
with the last error text, each row's info pop-up holds its full remote topic, and the roles of the manual."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chargepark import topics
from chargepark.bridge import rules
from chargepark.config.schemas import MQTT_BRIDGE
from chargepark.services.web_server import pages
from chargepark.wbm import bridge
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext
from chargepark.web import bridgeform, i18n

from tests.host.bridgekit import STATION, make_ca, make_server_cert, pem
from tests.host.wbmkit import Server, change_factory_password, logged_in, make_ctx, served

HTMX = {"hx-request": "true"}
AREA = {"broker": "fleet.example.net", "port": 8883, "user": "fleet", "password": "s3cret", "prefix": "CHARX",
        "station_name": "Test station", "location": "Blomberg",
        "topics": [{"local": "charging_controllers/+/data/energy", "remote": "energy", "direction": "out"},
                   {"local": "local/commands", "remote": "commands", "direction": "in"}]}  # fmt: skip


@pytest.fixture
def wbm(tmp_path: Any) -> Iterator[tuple[WbmContext, Server]]:
    ctx = make_ctx(tmp_path)
    app = create_app(ctx)
    pages.install(app)
    with served(app) as base:
        yield ctx, base


def feed(base: Server, ctx: WbmContext, topic: str, msg: dict[str, Any]) -> None:
    """As the web server's MQTT link does: the handler runs on the server's loop."""
    base.call_soon(bridge.take, ctx, topic, json.dumps(msg).encode())


def page_until(c: httpx.Client, text: str) -> str:
    """The page once it shows `text` (the fed message lands on the server's loop), within a deadline."""
    deadline = time.monotonic() + 30
    while True:
        got = html.unescape(c.get("/wbm/bridge").text)
        if text in got:
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.05)


def test_the_form_shows_the_area_and_a_bad_port_is_refused_beside_it(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    ctx.store.put("mqtt_bridge", AREA)
    with logged_in(base, "operator") as c:
        got = c.get("/wbm/bridge").text
        for name in ("broker", "user", "prefix", "station_name", "location"):
            assert 'name="%s" value="%s"' % (name, AREA[name]) in got
        assert 'name="port" value="8883"' in got
        assert 'name="topics.0.local" value="charging_controllers/+/data/energy"' in got
        assert 'type="file" id="f-certificate"' in got
        form = {"broker": "other.example.net", "port": "70000", "prefix": "CHARX"}
        r = c.post("/wbm/bridge/save/config", headers=HTMX, data=form)
        assert 'data-field-error="port"' in r.text and "65535" in r.text
        assert ctx.store.get("mqtt_bridge")["broker"] == "fleet.example.net"  # nothing stored
        assert c.post("/wbm/bridge/save/config", data=form).status_code == 403  # writes come from htmx only
        form["port"] = "1883"
        r = c.post("/wbm/bridge/save/config", headers=HTMX, data=form)
        assert r.headers["hx-redirect"] == "/wbm/bridge?saved=1"
        stored = ctx.store.get("mqtt_bridge")
        assert (stored["broker"], stored["port"]) == ("other.example.net", 1883)
        assert stored["topics"] == AREA["topics"]  # the other section's Save keeps the rows
        rows = {"topics.0.local": "a/+/b", "topics.0.remote": "b", "topics.0.direction": "out",
                "topics.1.local": "x", "topics.1.remote": "y", "topics.1.direction": "in", "topics.1.remove": "on",
                "new.topics.local": "", "new.topics.remote": "", "new.topics.direction": "out"}  # fmt: skip
        r = c.post("/wbm/bridge/save/topics", headers=HTMX, data=rows)
        assert r.headers["hx-redirect"] == "/wbm/bridge?saved=1"
        stored = ctx.store.get("mqtt_bridge")
        assert stored["topics"] == [{"local": "a/+/b", "remote": "b", "direction": "out"}]
        assert stored["broker"] == "other.example.net"  # and this one the configuration
        r = c.post("/wbm/bridge/save/topics", headers=HTMX, data=dict(rows, **{"topics.0.local": "a/#/b"}))
        assert 'data-field-error="topics' in r.text  # "#" not last: the area's checks
        assert ctx.store.get("mqtt_bridge")["topics"][0]["local"] == "a/+/b"  # nothing stored
        r = c.post("/wbm/bridge/save/topics", headers=HTMX, data=dict(rows, **{"topics.0.local": "a/+/+/b"}))
        assert r.headers["hx-redirect"] == "/wbm/bridge?saved=1"  # the area takes it, the bridge cannot:
        c.cookies.set(i18n.COOKIE, "de")
        assert "Nicht weitergeleitet: höchstens ein '+'" in html.unescape(c.get("/wbm/bridge").text)
        c.cookies.set(i18n.COOKIE, "en")
        r = c.post("/wbm/bridge/clear", headers=HTMX)
        assert r.headers["hx-redirect"] == "/wbm/bridge?cleared=1"
        assert ctx.store.get("mqtt_bridge") == {f.name: f.default for f in MQTT_BRIDGE}


def test_a_ca_upload_is_kept_a_non_ca_refused_whole_in_the_callers_language(
    wbm: tuple[WbmContext, Server], tmp_path: Any
) -> None:
    ctx, base = wbm
    ctx.store.put("mqtt_bridge", AREA)
    ca = make_ca("Fleet Root")
    server_cert, _ = make_server_cert(ca, tmp_path)
    with logged_in(base, "operator") as c:
        form = {k: str(AREA[k]) for k in ("broker", "port", "user", "password", "prefix")}
        c.cookies.set(i18n.COOKIE, "de")
        r = c.post("/wbm/bridge/save/config", headers=HTMX, data=dict(form, broker="x.example.net"),
                   files={"certificate": ("server.pem", server_cert.read_bytes(), "application/x-pem-file")})  # fmt: skip
        assert 'data-field-error="certificate"' in r.text and "ist kein CA-Zertifikat" in r.text
        assert ctx.store.get("mqtt_bridge")["broker"] == "fleet.example.net"  # refused whole
        r = c.post("/wbm/bridge/save/config", headers=HTMX, data=form,
                   files={"certificate": ("junk.pem", b"\xff\xfe not a certificate", "text/plain")})  # fmt: skip
        assert 'data-field-error="certificate"' in r.text
        r = c.put("/api/wbm/config/mqtt_bridge", content='{"certificate": "-----BEGIN CERTIFICATE-----\\ud800"}',
                  headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 422 and r.json()["field"] == "certificate"  # a lone surrogate: refused
        c.cookies.set(i18n.COOKIE, "en")
        r = c.post("/wbm/bridge/save/config", headers=HTMX, data=form,
                   files={"certificate": ("ca.pem", pem(ca[1]).encode(), "application/x-pem-file")})  # fmt: skip
        assert r.headers["hx-redirect"] == "/wbm/bridge?saved=1"
        assert ctx.store.get("mqtt_bridge")["certificate"] == pem(ca[1])
        assert "CN=Fleet Root, valid until" in c.get("/wbm/bridge").text
        r = c.post(
            "/wbm/bridge/save/config", headers=HTMX, data=dict(form, location="Detmold")
        )  # no file: the CA stays
        assert r.headers["hx-redirect"] == "/wbm/bridge?saved=1"
        assert ctx.store.get("mqtt_bridge")["certificate"] == pem(ca[1])


def test_the_state_topic_shows_on_the_page_with_the_last_error(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    ctx.store.put("mqtt_bridge", AREA)
    with logged_in(base, "operator") as c:
        assert 'data-state="off"' in c.get("/wbm/bridge").text  # no word from the bridge yet
        feed(base, ctx, topics.BRIDGE_STATE, {"state": "refused", "reason": "Connection Refused: not authorised.",
                                         "broker": "fleet.example.net:8883", "t": 1.0, "dropped": 0})  # fmt: skip
        got = page_until(c, 'data-state="refused"')
        assert ">Refused<" in got and "Connection Refused: not authorised." in got
        feed(base, ctx, topics.BRIDGE_STATE, {"state": "tls_error", "broker": "fleet.example.net:8883", "t": 2.0,
                                         "reason": "OpenSSL Error[0]: certificate verify failed", "dropped": 3})  # fmt: skip
        got = page_until(c, 'data-state="tls_error"')
        assert ">TLS error<" in got and "certificate verify failed" in got
        assert '<td id="bridge-dropped">3</td>' in got
        base.call_soon(bridge.take, ctx, topics.BRIDGE_STATE, b"not json")  # ignored, the last state stays
        c.cookies.set(i18n.COOKIE, "de")
        assert ">TLS-Fehler<" in page_until(c, 'data-state="tls_error"')
        c.cookies.set(i18n.COOKIE, "en")
        feed(base, ctx, topics.BRIDGE_STATE, {"state": "connected", "reason": "", "broker": "b", "t": 3.0})
        assert ">Connected<" in page_until(c, 'data-state="connected"')


def test_the_info_pop_up_holds_each_rows_full_remote_topic(wbm: tuple[WbmContext, Server]) -> None:
    ctx, base = wbm
    ctx.store.put("mqtt_bridge", AREA)
    with logged_in(base, "operator") as c:
        feed(base, ctx, topics.BRIDGE_CONFIG, {"device-type": rules.DEVICE_TYPE, "id": STATION,
                                          "name": "Test station", "location": "Blomberg"})  # fmt: skip
        got = page_until(c, '<td id="bridge-station">%s</td>' % STATION)
        status = c.get("/api/wbm/bridge/status").json()
    cfg = ctx.store.get("mqtt_bridge")
    want = [rules.info_topic(cfg, row, STATION) for row in cfg["topics"]]
    assert want == ["CHARX/ev3000/+/energy", "CHARX/ev3000/%s/commands" % STATION]
    assert [r["topic"] for r in status["rows"]] == want
    for topic in want:
        assert '<code class="full-topic">%s</code>' % topic in got and 'data-copy="%s"' % topic in got


def test_the_page_and_its_writes_are_the_operators(wbm: tuple[WbmContext, Server]) -> None:
    _, base = wbm
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/api/wbm/bridge/status").status_code == 401
        change_factory_password(c, "user")
        assert c.get("/api/wbm/bridge/status").status_code == 403
        assert c.get("/wbm/bridge").status_code in (303, 307)  # no page for a User
        assert 'href="/wbm/bridge"' not in c.get("/wbm/").text
    with logged_in(base, "operator") as c:
        assert 'href="/wbm/bridge"' in c.get("/wbm/").text
        assert c.get("/api/wbm/bridge/status").json()["connection"]["state"] == "off"


def test_every_field_and_state_has_the_manuals_label() -> None:
    fields = {f.name for f in MQTT_BRIDGE} | {"topics[].%s" % i.name for i in MQTT_BRIDGE[-1].item or ()}
    assert set(bridgeform.LABELS) == fields
    from chargepark.bridge import status

    states = {
        v for k, v in vars(status).items() if k.isupper() and isinstance(v, str) and not k.startswith("_")
    }
    assert set(bridgeform.STATES) == states
