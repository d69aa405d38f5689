# ruff: noqa: F811 - head, browser and passwords are the fixtures of test_wbm_pages, imported
"""The WBM page "OCPP" in a real browser (Playwright, Debian's chromium) against a real `chargepark run
--sim 2` whose point 2 is an OCPP point on the loopback Central System (tests/host/ocppkit.py): the
connection green, then red when the backend goes; the OCPP point with the status the backend got; the last
messages; a server variable saved from the page is what the backend reads, one the backend changes is what
the page shows, a wrong value is refused beside nothing stored; read-only keys displayed; the User sees
no save; German."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from tests.e2e.test_head_sim import until
from tests.e2e.test_wbm_pages import SHOTS, Tab, browser, head, passwords  # noqa: F401 - fixtures
from tests.host.ocppkit import CentralSystem
from tests.host.wbmkit import log_in

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip
OCPP_POINT = "CPSIM0002"


def _tab(browser: Any, base: str, passwords: dict[str, str], login: str) -> Tab:
    tab = Tab(browser, base)
    tab.log_in(login, passwords[login])
    tab.page.wait_for_url("**/wbm/")
    return tab


def test_the_ocpp_page(head: str, browser: Any, passwords: dict[str, str]) -> None:
    cs = CentralSystem(interval=300)
    cs.start()
    api = httpx.Client(base_url=head, timeout=20)
    log_in(api, "manufacturer", passwords["manufacturer"])
    try:
        point = api.get("/api/wbm/config/chargepoint/records/%s" % OCPP_POINT).json()
        point.update(release_mode="ocpp", ocpp_connector_id=1)
        assert api.put("/api/wbm/config/chargepoint/records/%s" % OCPP_POINT, json=point).status_code == 200
        assert api.put("/api/wbm/config/ocpp", json={"BackendURL": cs.url}).status_code == 200
        cs.wait("BootNotification", lambda: cs.actions("BootNotification"), 90)
        cs.wait(
            "connector 1",
            lambda: [s for s in cs.actions("StatusNotification") if s.payload["connectorId"] == 1],
            60,
        )

        tab = _tab(browser, head, passwords, "operator")
        pg = tab.go("/wbm/ocpp")
        until(
            "connected",
            lambda: "ok" in (tab.go("/wbm/ocpp").locator("#ocpp-link").get_attribute("class") or ""),
            30,
        )
        pg = tab.page
        assert (
            pg.locator("#ocpp-link").inner_text() == "Connected"
            and pg.locator("#ocpp-url").inner_text() == cs.url
        )
        row = pg.locator("#ocpp-points tr[data-connector='1']")
        assert OCPP_POINT in row.inner_text() and row.locator(".status").inner_text() != "-"
        actions = pg.locator("#ocpp-messages td.action").all_inner_texts()
        assert "StatusNotification" in actions and len(actions) <= 50
        assert "NumberOfConnectors" in pg.locator("#ocpp-read-only").inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "ocpp-en.png"), full_page=True)

        # a server variable from the page: a wrong value is refused and nothing stored, a right one is what
        # the backend reads
        pg.fill("#f-HeartbeatInterval", "5")
        pg.click("#save-variables")
        pg.locator("#result-variables .refused").wait_for()
        assert (
            cs.call(call.GetConfiguration(key=["HeartbeatInterval"])).configuration_key[0]["value"] == "300"
        )
        pg.fill("#f-HeartbeatInterval", "120")
        pg.click("#save-variables")
        pg.wait_for_url("**/wbm/ocpp?saved=1")
        assert (
            cs.call(call.GetConfiguration(key=["HeartbeatInterval"])).configuration_key[0]["value"] == "120"
        )
        # one the backend changes is what the page shows; the backend's call is among the messages
        assert cs.call(call.ChangeConfiguration(key="MaxCurrent", value="20")).status == "Accepted"
        pg = tab.go("/wbm/ocpp")
        assert pg.locator("#f-MaxCurrent").input_value() == "20"
        until(  # the journal writes its frames journal.FLUSH_S after the first
            "the backend's call among the page's messages",
            lambda: (
                "ChangeConfiguration"
                in tab.go("/wbm/ocpp").locator("#ocpp-messages td.action").all_inner_texts()
            ),
            5,
        )
        assert pg.locator("#restart-ocpp").count() == 1
        tab.close()

        # the User reads, without save or restart; in German
        tab = _tab(browser, head, passwords, "user")
        pg = tab.go("/wbm/ocpp")
        assert pg.locator("#save-variables").count() == 0 and pg.locator("#restart-ocpp").count() == 0
        assert pg.locator("#f-MaxCurrent").is_disabled()
        pg = tab.go("/wbm/lang/de?next=/wbm/ocpp")
        assert pg.locator("#messages h2").inner_text() == "Letzte 50 Nachrichten"
        pg.screenshot(path=str(SHOTS / "ocpp-de.png"), full_page=True)
        tab.go("/wbm/lang/en?next=/wbm/ocpp")
        tab.close()

        # the backend goes: red
        cs.stop()
        tab = _tab(browser, head, passwords, "operator")
        until(
            "not connected",
            lambda: "offline" in (tab.go("/wbm/ocpp").locator("#ocpp-link").get_attribute("class") or ""),
            60,
        )
        assert tab.page.locator("#ocpp-link").inner_text() == "Not connected"
        tab.close()
    finally:
        api.put("/api/wbm/config/ocpp", json={"BackendURL": ""})
        api.close()
        cs.close()
