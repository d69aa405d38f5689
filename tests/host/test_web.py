"""The WBM dashboard: configured points only, the summary the manual lists, served over real HTTP to a guest;
`/` leads a guest to the WBM's dashboard page. In chromium: the numbers of the dashboard and of the status page
in the page's language, first rendered and live."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright
from chargepark import topics
from chargepark.config.areas import AREAS
from chargepark.park.model import record_discovery
from chargepark.services.web_server import pages
from chargepark.wbm.app import create_app
from chargepark.wbm.live import ParkView
from chargepark.web import i18n, numbers

from tests.e2e.test_wbm_pages import CHROMIUM
from tests.host.wbmkit import Server, change_factory_password, make_ctx, new_password, served

POINT = "CP1"


def live(uid: str, position: int, status: str, power_w: float, configured: bool = True) -> bytes:
    return json.dumps({"uid": uid, "position": position, "status": status, "configured": configured,
                       "energy": {"real_power": {"value": power_w, "unit": "W"}}}).encode()  # fmt: skip


def test_dashboard_summary_and_page(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    view = ctx.view
    view.on_live(topics.charx("a", "live"), live("a", 2, "Charging", 7360.0))
    view.on_live(topics.charx("b", "live"), live("b", 1, "Available", 0.0))
    view.on_live(topics.charx("c", "live"), live("c", 3, "SuspendedEV", 0.0))
    view.on_live(topics.charx("d", "live"), live("d", 4, "Charging", 3000.0, configured=False))
    view.on_live(topics.charx("e", "live"), b"garbage")
    view.on_services(topics.SERVICES, b'[{"name": "jupicore", "state": "running"}]')

    with served(create_app(ctx)) as base, httpx.Client(base_url=base, timeout=30) as guest:
        park = guest.get("/api/park").json()
        root = guest.get("/")
        missing = guest.get("/nope")

    assert [p["uid"] for p in park["points"]] == ["b", "a", "c"]  # by position, unconfigured hidden
    assert (park["available"], park["occupied"], park["charging"], park["power_w"]) == (1, 1, 1, 7360.0)
    assert park["services"] == [{"name": "jupicore", "state": "running"}]
    assert root.status_code == 307 and root.headers["location"] == "/wbm/"
    assert missing.status_code == 404 and missing.json()["error"]


def point_live(power_w: float, energy_wh: int, pwm_a: float, u1_v: float, ai1_mv: int) -> bytes:
    """A metered point's live message as the data hub sends it."""
    return json.dumps({"uid": POINT, "position": 1, "status": "Charging", "configured": True, "bus_state": "online",
                       "pwm_current_a": pwm_a, "session": {"energy_wh": energy_wh},
                       "io": {"inputs": [False] * 4, "outputs": ["low"] * 4, "analog_mv": [ai1_mv, 0]},
                       "energy": {"real_power": {"value": power_w, "unit": "W"}, "u1": {"value": u1_v, "unit": "V"}}}
                      ).encode()  # fmt: skip


def shown_live(server: Server, view: ParkView, pg: Any, message: bytes, shown: str) -> None:
    """Sends `message` as the point's live state until the page's JS condition `shown` holds (its event
    stream connects after the page loaded); 15 s, well before the dashboard's 30 s fragment refresh."""
    deadline = time.monotonic() + 15
    while True:
        server.call_soon(view.on_live, topics.charx(POINT, "live"), message)
        try:
            pg.wait_for_function(shown, timeout=1000)
            return
        except playwright.TimeoutError:
            assert time.monotonic() < deadline, "not shown: %s" % shown


def texts(html: str, cells: tuple[str, ...]) -> list[str]:
    return [m.group(1) if (m := re.search(r"%s>([^<]*)<" % re.escape(c), html)) else "" for c in cells]


def fed(server: Server, view: ParkView, context: Any, message: bytes) -> None:
    """The point's live state set to `message` on the server's loop, and seen by the WBM API."""
    server.call_soon(view.on_live, topics.charx(POINT, "live"), message)
    want = json.loads(message)["pwm_current_a"]
    deadline = time.monotonic() + 10
    while context.request.get("/api/wbm/live/%s" % POINT).json().get("pwm_current_a") != want:
        assert time.monotonic() < deadline, "the live state did not arrive"
        time.sleep(0.05)


DASHBOARD = ('class="num power"', 'class="num energy"', 'id="fig-power"')
CELLS = "document.querySelector(\"tr[data-uid='%s'] td.%s\").innerText === %s"
# lang -> the dashboard's power, session energy and total power, first rendered and after a live update; the
# status page's PWM current, voltage L1 and charged energy, then the live PWM current and voltage. German with
# the decimal comma and its thousands grouping (12.345 Wh), English with the dot.
SHOWN = {
    "en": (["7.36 kW", "12.35 kWh", "7.4 kW"], ["11.05 kW", "1,234.57 kWh", "11.0 kW"],
           ["13.0 A", "230.0 V", "12,345 Wh"], ["16.5 A", "231.5 V"]),
    "de": (["7,36 kW", "12,35 kWh", "7,4 kW"], ["11,05 kW", "1.234,57 kWh", "11,0 kW"],
           ["13,0 A", "230,0 V", "12.345 Wh"], ["16,5 A", "231,5 V"]),
}  # fmt: skip


def test_numbers_follow_the_page_language_first_rendered_and_live(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    record_discovery(ctx.store, "ST", 1, POINT, "CHARX", "1", "1.0")
    ctx.store.put(
        "chargepoint", dict(AREAS["chargepoint"].defaults(), name="P1", meter_type="em24"), key=POINT
    )
    app = create_app(ctx)
    pages.install(app)
    with served(app) as base, playwright.sync_playwright() as p:
        with httpx.Client(base_url=base, timeout=30) as api:
            change_factory_password(api, "user")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        first = point_live(7360.0, 12345, 13.0, 230.0, 5000)
        live = point_live(11045.0, 1234567, 16.5, 231.5, 7512)
        errors: list[str] = []  # the page scripts' exceptions
        for lang, (dash, dash_live, status, status_live) in SHOWN.items():
            context = browser.new_context(base_url=base)
            context.add_cookies([{"name": i18n.COOKIE, "value": lang, "url": base}])
            login = {"login": "user", "password": new_password("user")}
            assert context.request.post("/api/wbm/auth/login", data=login).ok
            pg = context.new_page()
            pg.on("pageerror", lambda e: errors.append(str(e)))
            # the first render (the server's page, before any script ran), then the dashboard script's
            fed(base, ctx.view, context, first)
            assert texts(context.request.get("/wbm/").text(), DASHBOARD) == dash
            pg.goto("/wbm/")
            shown_live(base, ctx.view, pg, live,
                       " && ".join(CELLS % (POINT, cell, json.dumps(text)) for cell, text in
                                   zip(("power", "energy"), dash_live[:2], strict=True)))  # fmt: skip
            assert pg.locator("#fig-power").inner_text() == dash_live[2]
            # one formatter on each side: the page scripts' (Intl) prints what the server's (Babel) printed
            values = [0, 7.36, 12.345, 2.675, -1.25, 1234.5, 1234567.891]
            assert pg.evaluate("vs => [0, 1, 2].flatMap(d => vs.map(v => formatNumber(v, d)))", values) == [
                numbers.number(lang, v, d) for d in (0, 1, 2) for v in values]  # fmt: skip
            # the status page: rendered by the server, first and on each live event (htmx)
            fed(base, ctx.view, context, first)
            pg.goto("/wbm/stations/%s" % POINT)
            groups = pg.locator("#status-groups")
            assert all(t in groups.inner_text() for t in status), (status, groups.inner_text())
            in_groups = "document.getElementById('status-groups').innerText.includes(%s)"
            shown_live(base, ctx.view, pg, live, in_groups % json.dumps(status_live[0]))
            assert all(t in groups.inner_text() for t in status_live), (status_live, groups.inner_text())
            # the live plot's kW axis (11.045 kW: ticks a tenth apart) labelled by Chart.js in the page's language
            sep, other = (",", ".") if lang == "de" else (".", ",")
            ticks = "Chart.getChart(document.getElementById('live-plot')).scales.w.ticks.map(t => t.label)"
            shown_live(base, ctx.view, pg, live, "%s.some(l => l.includes(%s))" % (ticks, json.dumps(sep)))
            assert not any(other in label for label in pg.evaluate(ticks))
            # the Event Actions page's analog input: rendered by the server, then by its script
            fed(base, ctx.view, context, first)
            pg.goto("/wbm/stations/%s/event-actions" % POINT)
            assert pg.locator("#io-ai-1").inner_text() == "5%s00 V" % sep
            shown_live(
                base, ctx.view, pg, live, "document.getElementById('io-ai-1').innerText === '7%s51 V'" % sep
            )
            assert errors == []
            context.close()
        browser.close()
