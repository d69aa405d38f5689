"""The MQTT Bridge page in a real browser (Playwright, Debian's chromium) against a real
`chargepark run --sim 2` and a second real mosquitto as the fleet's remote broker: the User has no such
page; the Operator's bad port is refused beside its field, a wrong password saved through the page shows
"Refused" with the broker's words (the bridge service's state topic, read live by the web server and
refreshed on the page without a reload), the right one "Connected"; a forwarding row added on the page
carries its full remote topic in the info pop-up; Clear configuration turns the bridge off. Against a TLS
remote broker, a foreign CA uploaded on the page shows "TLS error" with the verification failure, the
broker's own CA "Connected"."""

# ruff: noqa: F811 - head, browser and passwords are the fixtures of test_wbm_pages, imported

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_wbm_pages import SHOTS, Tab, browser, head, passwords  # noqa: F401 - fixtures
from tests.host.bridgekit import (
    PASSWORD,
    USER,
    RemoteBroker,
    make_ca,
    make_server_cert,
    pem,
    remote_in_thread,
)

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip
LIVE_MS = 60_000  # the bridge mosquitto restarts on a change, then connects or is refused


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteBroker]:
    broker, loop = remote_in_thread(tmp_path_factory.mktemp("remote"))
    yield broker
    asyncio.run_coroutine_threadsafe(broker.stop(), loop).result(15)
    loop.call_soon_threadsafe(loop.stop)


def _tab(browser: Any, base: str, login: str, passwords: dict[str, str]) -> Tab:
    tab = Tab(browser, base)
    tab.log_in(login, passwords[login])
    tab.page.wait_for_url("**/wbm/")
    return tab


def test_the_user_has_no_bridge_page(head: str, browser: Any, passwords: dict[str, str]) -> None:
    tab = _tab(browser, head, "user", passwords)
    assert tab.page.locator('nav a[href="/wbm/bridge"]').count() == 0
    tab.go("/wbm/bridge")
    assert "/wbm/login" in tab.page.url
    tab.close()


def test_a_wrong_password_shows_refused_the_right_one_connected(
    head: str, browser: Any, passwords: dict[str, str], remote: RemoteBroker
) -> None:
    tab = _tab(browser, head, "operator", passwords)
    pg = tab.page
    pg.click('nav a[href="/wbm/bridge"]')
    pg.wait_for_url("**/wbm/bridge")
    assert pg.locator("#bridge-state").get_attribute("data-state") == "off"
    pg.fill("#f-broker", "127.0.0.1")
    pg.fill("#f-port", "0")
    pg.fill("#f-user", USER)
    pg.fill("#f-password", "wrong-password")
    pg.click("#save-bridge")
    pg.locator("#result-bridge .refused").wait_for()
    assert pg.locator("#error-port").inner_text().strip() != ""
    pg.fill("#f-port", str(remote.port))
    pg.click("#save-bridge")
    pg.wait_for_url("**/wbm/bridge?saved=1")
    pg.locator('#bridge-state[data-state="refused"]').wait_for(timeout=LIVE_MS)  # live, no reload
    assert pg.locator("#bridge-state").inner_text() == "Refused"
    assert "Connection Refused" in pg.locator("#bridge-reason").inner_text()
    pg.fill("#f-password", PASSWORD)
    pg.click("#save-bridge")
    pg.wait_for_url("**/wbm/bridge?saved=1")
    pg.locator('#bridge-state[data-state="connected"]').wait_for(timeout=LIVE_MS)
    assert pg.locator("#bridge-state").inner_text() == "Connected"
    pg.fill("#f-new\\.topics\\.local", "charging_controllers/+/data/status")  # Topic Forwarding's own Save
    pg.fill("#f-new\\.topics\\.remote", "status")
    pg.click("#save-topics")
    pg.wait_for_url("**/wbm/bridge?saved=1")
    assert pg.locator("#f-broker").input_value() == "127.0.0.1"  # the configuration kept
    station = pg.locator("#bridge-station").inner_text()
    assert station and station != "<device id>"  # the station as the bridge publishes it
    pg.locator("#topic-table details.info summary").first.click()
    assert pg.locator("#topic-table code.full-topic").first.inner_text() == "chargepark/ev3000/+/status"
    pg.once("dialog", lambda d: d.accept())
    pg.click("#clear-bridge")
    pg.wait_for_url("**/wbm/bridge?cleared=1")
    assert pg.locator("#f-broker").input_value() == ""
    pg.locator('#bridge-state[data-state="off"]').wait_for(timeout=LIVE_MS)
    tab.close()


def test_a_foreign_ca_shows_tls_error_the_brokers_own_connected(
    head: str, browser: Any, passwords: dict[str, str], tmp_path: Path
) -> None:
    ca, foreign = make_ca("Fleet Root"), make_ca("Somebody Else")
    server = make_server_cert(ca, tmp_path)
    (tmp_path / "ca.pem").write_text(pem(ca[1]))
    (tmp_path / "foreign.pem").write_text(pem(foreign[1]))
    secure, loop = remote_in_thread(tmp_path / "secure", tls=server)
    try:
        tab = _tab(browser, head, "operator", passwords)
        pg = tab.go("/wbm/bridge")
        pg.fill("#f-broker", "127.0.0.1")
        pg.fill("#f-port", str(secure.port))
        pg.fill("#f-user", USER)
        pg.fill("#f-password", PASSWORD)
        pg.set_input_files("#f-certificate", str(tmp_path / "foreign.pem"))
        pg.click("#save-bridge")
        pg.wait_for_url("**/wbm/bridge?saved=1")
        assert "CN=Somebody Else" in pg.locator("#bridge-cert").inner_text()
        pg.locator('#bridge-state[data-state="tls_error"]').wait_for(timeout=LIVE_MS)
        assert pg.locator("#bridge-state").inner_text() == "TLS error"
        assert "certificate verify failed" in pg.locator("#bridge-reason").inner_text()
        pg.set_input_files("#f-certificate", str(tmp_path / "ca.pem"))
        pg.click("#save-bridge")
        pg.wait_for_url("**/wbm/bridge?saved=1")
        pg.locator('#bridge-state[data-state="connected"]').wait_for(timeout=LIVE_MS)
        pg.once("dialog", lambda d: d.accept())
        pg.click("#clear-bridge")
        pg.wait_for_url("**/wbm/bridge?cleared=1")
        tab.close()
    finally:
        asyncio.run_coroutine_threadsafe(secure.stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)


@pytest.mark.parametrize("lang, label", [("en", "Added Prefix"), ("de", "Hinzugefügtes Präfix")])
def test_the_page_in_both_languages_and_its_screenshot(
    head: str, browser: Any, passwords: dict[str, str], lang: str, label: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab = _tab(browser, head, "operator", passwords)
    pg = tab.go("/wbm/lang/%s?next=/wbm/bridge" % lang)
    assert pg.locator("html").get_attribute("lang") == lang
    assert pg.locator('label[for="f-prefix"]').inner_text() == label
    pg.screenshot(path=str(SHOTS / ("mqtt-bridge-%s.png" % lang)), full_page=True)
    tab.close()  # no console error
