"""The WBM pages in a real browser: Playwright for Python driving Debian's /usr/bin/chromium against a
real `chargepark run --sim 2`. Every role logs in (changing its factory password through the prompt) and
sees what it may do and not the rest; the dashboard is live; a configuration written through the form
shows a wrong value's message beside its field and stores nothing; German and back; no console error on
any page; screenshots of every page in both languages under out/screenshots/."""

from __future__ import annotations

import json
import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright
import pytest
from chargepark import simctl
from chargepark.config.cli import STORE_FILE
from chargepark.config.store import ConfigStore

from tests.e2e.test_head_sim import run_sim, sim_runtime, until
from tests.host.wbmkit import log_in, new_password

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
POINT = "CPSIM0001"
PAGES = {  # screenshot name -> path (every page of the WBM)
    "dashboard": "/wbm/",
    "login": "/wbm/login",
    "profile": "/wbm/profile",
    "stations": "/wbm/stations",
    "status": "/wbm/stations/%s" % POINT,
    "configuration": "/wbm/stations/%s/config" % POINT,
    "event-actions": "/wbm/stations/%s/event-actions" % POINT,
    "system": "/wbm/system",
    "logs": "/wbm/logs",
    "modbus": "/wbm/modbus",
    "whitelist": "/wbm/whitelist",
    "rfid-board": "/wbm/rfid-board",
    "module-switch": "/wbm/module-switch",
    "calibration-law": "/wbm/calibration-law",
}

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


HTTPS_PORT = _free_port()
HEADS: dict[str, Path] = {}  # base URL -> the data directory of the head the `head` fixture runs


def until_both_charge(base: str) -> None:
    """Waits until the WBM's dashboard counts both simulated points charging."""

    def charging() -> bool:
        try:
            return bool(httpx.get(base + "/api/park", timeout=5).json()["charging"] == 2)
        except httpx.TransportError as e:  # the web server is still starting
            raise OSError(str(e)) from e

    until("both points charging", charging, 120)


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("wbm") / "data"
    data.mkdir()
    store = ConfigStore.open(data / STORE_FILE)  # the HTTPS port comes from the configuration
    store.put("system", {"https_port": HTTPS_PORT})
    store.close()
    proc = run_sim(data, 2)
    try:
        rt = sim_runtime(data)
        base = "http://127.0.0.1:%d" % rt["web_port"]
        HEADS[base] = data
        until_both_charge(base)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


class Tab:
    """One browser context (its own cookies) whose console errors are collected."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str) -> Any:
        self.page.goto(path)
        return self.page

    def log_in(self, login: str, password: str) -> None:
        pg = self.go("/wbm/login")
        pg.select_option("#login-name", login)
        pg.fill("#password", password)
        pg.click("#submit-login")

    def close(self) -> None:
        assert self.errors == [], self.errors
        self.context.close()


@pytest.fixture(scope="module")
def passwords(head: str, browser: Any) -> dict[str, str]:
    """Every login changes its factory password through the WBM's prompt (the first test of the file)."""
    for login in ("user", "operator", "manufacturer"):
        tab = Tab(browser, head)
        tab.log_in(login, login)
        pg = tab.page
        pg.wait_for_url("**/wbm/profile")
        assert pg.locator("#change-prompt").is_visible()
        assert pg.locator("#factory-banner").is_visible()
        pg.fill("#old_password", login)
        pg.fill("#new_password", "short")
        pg.fill("#repeat", "short")
        pg.click("#submit-password")
        pg.locator(".refused").wait_for()
        assert "at least 8 characters" in pg.locator("#result").inner_text()
        pg.fill("#new_password", new_password(login))
        pg.fill("#repeat", new_password(login))
        pg.click("#submit-password")
        pg.wait_for_url("**/wbm/")
        banner = pg.locator("#factory-banner")
        if login == "manufacturer":
            assert banner.count() == 0  # no factory password is left
        else:
            assert "manufacturer" in banner.inner_text() and login not in banner.inner_text().split(":")[1]
        tab.close()
    return {login: new_password(login) for login in ("user", "operator", "manufacturer")}


def test_the_guest_sees_the_dashboard_only(head: str, browser: Any) -> None:
    tab = Tab(browser, head)
    pg = tab.go("/")  # the head's address leads to the WBM's dashboard, no login needed
    assert pg.url == head + "/wbm/"
    assert pg.locator("#fig-charging").inner_text() == "2"
    assert pg.locator("nav a").all_inner_texts() == ["Dashboard"]
    tab.go("/wbm/stations")
    assert pg.url.endswith("/wbm/login?next=/wbm/stations")
    tab.close()


@pytest.mark.parametrize(
    "login, sees, not_sees",
    [
        # Point 1 is in release mode permanent: no role sees Allow/Prohibit Charging (manual: its release
        # cannot be withdrawn from the WBM; test_wbm_release.py shows the buttons of a dashboard point).
        ("user", ["#live-plot"], ["#op-charging-allowed-on", "#op-enabled-on", "#op-enforce-unlock-on", "#delete",
                                 "#restart-jupicore"]),
        ("operator", ["#restart-jupicore"], ["#op-charging-allowed-on", "#op-enabled-on", "#op-enforce-unlock-on",
                                                                        "#delete"]),
        ("manufacturer", ["#op-enabled-on", "#op-enforce-unlock-on", "#op-reset-error", "#delete",
                          "#restart-jupicore"], []),
    ],
)  # fmt: skip
def test_each_role_sees_what_it_may_do(
    head: str, browser: Any, passwords: dict[str, str], login: str, sees: list[str], not_sees: list[str]
) -> None:
    tab = Tab(browser, head)
    tab.log_in(login, passwords[login])
    tab.page.wait_for_url("**/wbm/")
    found: dict[str, bool] = {}
    for path in ("/wbm/stations/%s" % POINT, "/wbm/system"):
        pg = tab.go(path)
        found.update({sel: found.get(sel, False) or pg.locator(sel).count() > 0 for sel in sees + not_sees})
    assert [s for s in sees if not found[s]] == [] and [s for s in not_sees if found[s]] == []
    pg = tab.go("/wbm/stations")
    assert (pg.locator("a.button").count() > 0) == (login == "manufacturer")  # (create) configuration
    tab.close()


def test_an_operation_is_confirmed_by_the_point(head: str, browser: Any, passwords: dict[str, str]) -> None:
    tab = Tab(browser, head)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/%s" % POINT)
    pg.click("#op-reset-error")
    pg.locator("#op-result .ok").wait_for()
    tab.close()


def test_the_dashboard_is_live(head: str, browser: Any, passwords: dict[str, str]) -> None:
    tab = Tab(browser, head)
    tab.log_in("user", passwords["user"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.page
    row = pg.locator("tr[data-uid='%s']" % POINT)
    assert "Sim Point 1" in row.inner_text()
    until(
        "point 1 shown charging", lambda: "Charging" in row.inner_text(), 30
    )  # a moment SuspendedEV seen in CI
    assert pg.locator("#fig-power").inner_text().endswith("kW")
    before = row.locator("td").nth(5).inner_text()
    pg.wait_for_function(
        "([uid, was]) => document.querySelector(`tr[data-uid='${uid}'] td:nth-child(6)`).innerText !== was",
        arg=[POINT, before], timeout=10000,
    )  # fmt: skip
    tab.close()


def test_the_status_page_plots_live(head: str, browser: Any, passwords: dict[str, str]) -> None:
    tab = Tab(browser, head)
    tab.log_in("user", passwords["user"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/%s" % POINT)
    pg.wait_for_function("Number(document.getElementById('live-plot').dataset.samples || 0) >= 3",
                         timeout=20000)  # fmt: skip
    # opened again, the plot starts from the data hub's stored buckets; another window loads its own
    pg = tab.go("/wbm/stations/%s" % POINT)
    pg.wait_for_function(
        "Number(document.getElementById('live-plot').dataset.stored || 0) >= 1", timeout=20000
    )
    pg.click("button[data-window='24h']")
    pg.wait_for_function("document.getElementById('live-plot').dataset.window === '24h'", timeout=10000)
    pg = tab.go("/wbm/")
    pg.wait_for_function(
        "Number(document.getElementById('park-plot').dataset.samples || 0) >= 2", timeout=20000
    )
    tab.close()


def test_a_configuration_through_the_form(head: str, browser: Any, passwords: dict[str, str]) -> None:
    api = httpx.Client(base_url=head, timeout=10)
    log_in(api, "manufacturer", passwords["manufacturer"])
    stored = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()
    tab = Tab(browser, head)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/%s/config" % POINT)
    # the manual's visibility rules: PTC vs Pt1000 fields, RFID fields only with an RFID release
    pg.select_option("#f-temp_sensor", "ptc")
    assert (
        pg.locator("#f-ptc_trip_ohm").is_visible() and not pg.locator("#f-derating_start_temp_c").is_visible()
    )
    pg.select_option("#f-temp_sensor", "pt1000")
    assert (
        not pg.locator("#f-ptc_trip_ohm").is_visible() and pg.locator("#f-derating_start_temp_c").is_visible()
    )
    assert pg.locator("label[for='f-derating_start_temp_c']").inner_text().endswith("[°C]")
    assert "em24: Carlo Gavazzi EM24" in pg.locator("#f-meter_type option").all_inner_texts()  # the products
    pg.select_option("#f-release_mode", "permanent")
    assert not pg.locator("#f-ocpp_connector_id").is_visible()
    pg.select_option("#f-release_mode", "ocpp")
    assert pg.locator("#f-ocpp_connector_id").is_visible()
    pg.select_option("#f-release_mode", stored["release_mode"])
    pg.fill("#f-location", "")
    pg.click("#save")  # the manual: name and location are required (the browser refuses to send)
    assert pg.locator("#f-location").evaluate("e => !e.validity.valid")
    pg.fill("#f-location", "Hof Nord")
    pg.fill("#f-max_current_a", "500")
    pg.click("#save")
    pg.locator("#error-max_current_a:not(:empty)").wait_for()
    assert pg.locator("#error-max_current_a").inner_text() == "must be <= 80 A"
    assert api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json() == stored  # nothing stored
    pg.click("#lang-de")
    pg.wait_for_url("**/config")
    assert pg.locator("#save").inner_text() == "Speichern"
    pg.fill("#f-location", "Hof Nord")
    pg.fill("#f-max_current_a", "abc")
    pg.click("#save")
    pg.locator("#error-max_current_a:not(:empty)").wait_for()
    assert pg.locator("#error-max_current_a").inner_text() == "muss eine ganze Zahl sein"
    pg.fill("#f-max_current_a", "20")
    pg.click("#save")
    pg.wait_for_url("**/wbm/stations/%s" % POINT)
    saved = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()
    assert saved["max_current_a"] == 20 and saved["location"] == "Hof Nord"
    pg.click("#lang-en")
    assert pg.locator("h2").first.inner_text() == "Current status"
    pg = tab.go("/wbm/")
    assert (
        "Hof Nord" in pg.locator("tr[data-uid='%s']" % POINT).inner_text()
    )  # the location, on the dashboard
    tab.close()


def test_edit_event_actions(head: str, browser: Any, passwords: dict[str, str]) -> None:
    api = httpx.Client(base_url=head, timeout=10)
    log_in(api, "manufacturer", passwords["manufacturer"])
    tab = Tab(browser, head)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/%s/event-actions" % POINT)
    before = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()["event_actions"]
    n = len(before)
    pg.click("#ea-add")
    pg.locator("#f-ea-%d-event" % n).wait_for()
    assert not pg.locator("#f-ea-%d-event_input" % n).is_visible()
    pg.select_option("#f-ea-%d-event" % n, "di_rising")
    assert pg.locator("#f-ea-%d-event_input" % n).is_visible()  # the extra setting of this event
    pg.select_option("#f-ea-%d-action" % n, "reduce_current")
    pg.fill("#f-ea-%d-action_value" % n, "500")
    pg.click("#ea-save")
    pg.locator("#ea-result.refused").wait_for()
    assert pg.locator("[id='error-event_actions[%d].action_value']" % n).inner_text() == "must be <= 100"
    stored = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()["event_actions"]
    assert len(stored) == n + 1  # "add" saved a default entry; the wrong value was not stored
    pg.fill("#f-ea-%d-action_value" % n, "10")
    pg.click("#ea-save")
    pg.locator("#ea-result.ok").wait_for()
    saved = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()["event_actions"]
    assert saved[n]["event"] == "di_rising" and saved[n]["action"] == "reduce_current"
    assert saved[n]["action_value"] == 10
    pg.click("#ea-add")
    pg.locator("#f-ea-%d-event" % (n + 1)).wait_for()
    pg.click("#ea-up-%d" % (n + 1))  # the new default entry moves above

    def entries() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()[
            "event_actions"
        ]
        return found

    # the last save's result still shows ok: wait for the stored order instead
    moved = until("the entry moved up", lambda: (e := entries())[n]["event"] == "never" and e, 15)
    assert moved[n + 1]["action"] == "reduce_current"
    until("the page shows the move", lambda: pg.locator("#f-ea-%d-event" % n).input_value() == "never", 15)
    pg.click("#ea-delete-%d" % n)
    pg.locator("#f-ea-%d-event" % (n + 1)).wait_for(state="detached")
    assert api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()["event_actions"] == saved
    tab.close()


def test_event_actions_show_the_live_inputs_and_load_a_manual_example(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    api = httpx.Client(base_url=head, timeout=30)
    log_in(api, "manufacturer", passwords["manufacturer"])
    before = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()["event_actions"]
    sim = simctl.load_endpoints(HEADS[head])[1]["sim_control"]  # point 1's simulated board
    tab = Tab(browser, head)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/%s/event-actions" % POINT)
    assert pg.locator("#io-di-2").inner_text() == "Low"
    assert pg.locator("#io-do-1").inner_text() != "Not Available"
    try:
        simctl.request(sim, {"cmd": "set", "di": [0, 1, 0, 0], "ai_mv": [0, 5000]})
        pg.wait_for_function("document.getElementById('io-di-2').innerText === 'High'", timeout=20000)
        pg.wait_for_function("document.getElementById('io-ai-2').innerText === '5.00 V'", timeout=20000)
        pg.click("#ea-preset-emergency-stop")  # the manual's table, appended and saved
        pg.locator("#ea-result.ok").wait_for()
        saved = api.get("/api/wbm/config/chargepoint/records/%s" % POINT).json()["event_actions"]
        assert [(e["event"], e["event_input"], e["switch"]) for e in saved[len(before) :]] == [
            ("di_rising", 4, "disable"), ("di_falling", 4, "enable")]  # fmt: skip
        assert saved[len(before)]["description"] == "EmergencyStop"
        simctl.request(sim, {"cmd": "set", "di": [0, 0, 0, 0]})  # still live after the editor's answer
        pg.wait_for_function("document.getElementById('io-di-2').innerText === 'Low'", timeout=20000)
    finally:
        simctl.request(sim, {"cmd": "set", "di": [0, 0, 0, 0], "ai_mv": [0, 0]})
        api.put("/api/wbm/config/chargepoint/records/%s" % POINT, json={"event_actions": before})
    tab.close()


def test_export_and_import_a_configuration(head: str, browser: Any, passwords: dict[str, str],
                                           tmp_path: Path) -> None:  # fmt: skip
    tab = Tab(browser, head)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/%s" % POINT)
    with pg.expect_download() as download:
        pg.click("#export")
    exported = tmp_path / "point.json"
    download.value.save_as(exported)
    assert json.loads(exported.read_text())["areas"]["chargepoint"]
    pg = tab.go("/wbm/stations")
    pg.set_input_files("#import-file", str(exported))
    pg.check("input[name=points][value=CPSIM0001]")
    pg.check("input[name=points][value=CPSIM0002]")
    pg.check("#import-suffix")
    pg.click("#import-submit")
    pg.locator(".tree a:has-text('Sim Point 1-2'), #import-result .result").first.wait_for()
    assert pg.locator("#import-result .result").count() == 0, pg.locator("#import-result").inner_text()
    assert pg.locator(".tree a", has_text="Sim Point 1-1").count() == 1
    tab.close()


def test_delete_a_configuration_after_the_confirmation(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    api = httpx.Client(base_url=head, timeout=10)
    log_in(api, "manufacturer", passwords["manufacturer"])

    def configured() -> bool:
        tree = api.get("/api/wbm/park").json()
        return bool(
            next(p for st in tree["stations"] for p in st["points"] if p["uid"] == "CPSIM0002")["configured"]
        )

    tab = Tab(browser, head)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/stations/CPSIM0002")
    pg.once("dialog", lambda d: d.dismiss())
    pg.click("#delete")
    pg.wait_for_timeout(500)
    assert configured()  # dismissed: nothing deleted
    pg.once("dialog", lambda d: d.accept())
    pg.click("#delete")
    pg.wait_for_url("**/wbm/stations")
    assert not configured()
    assert pg.locator("li[data-uid=CPSIM0002] a.button").inner_text() == "Create configuration"
    tab.close()


def test_https_with_the_self_signed_certificate(head: str, browser: Any, passwords: dict[str, str]) -> None:
    secure = "https://127.0.0.1:%d" % HTTPS_PORT
    context = browser.new_context(base_url=secure, ignore_https_errors=True)
    pg = context.new_page()
    pg.goto("/wbm/login")
    pg.select_option("#login-name", "user")
    pg.fill("#password", passwords["user"])
    pg.click("#submit-login")
    pg.wait_for_url("**/wbm/")
    session = next(c for c in context.cookies() if c["name"] == "chargepark_session")
    assert session["secure"] and session["httpOnly"]
    assert pg.locator("tr[data-uid='%s']" % POINT).count() == 1
    context.close()
    with pytest.raises(httpx.ConnectError):  # the certificate is self-signed
        httpx.get(secure + "/wbm/")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_page_without_console_errors_and_its_screenshot(
    head: str, browser: Any, passwords: dict[str, str], lang: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    api = httpx.Client(base_url=head, timeout=10)
    log_in(api, "manufacturer", passwords["manufacturer"])
    record = "/api/wbm/config/chargepoint/records/%s" % POINT
    before = api.get(record).json()["event_actions"]
    tab = Tab(browser, head)
    tab.go("/wbm/lang/%s?next=/wbm/login" % lang)
    tab.page.screenshot(path=str(SHOTS / ("login-%s.png" % lang)), full_page=True)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    for name, path in PAGES.items():
        if name == "login":
            continue
        pg = tab.go(path)
        if name == "event-actions":  # a list to show: the manual's emergency-stop table (put back below)
            pg.click("#ea-preset-emergency-stop")
            pg.locator("#ea-result.ok").wait_for()
        assert pg.locator("html").get_attribute("lang") == lang
        pg.wait_for_timeout(1500)  # a live update or two arrive
        if name == "status":  # the plot's time axis in the page's language: 13:02:10 / 1:02:10 PM
            labels = "Chart.getChart(document.getElementById('live-plot')).data.labels"
            first = pg.wait_for_function(
                "%s.length > 0 && %s[0]" % (labels, labels), timeout=20000
            ).json_value()
            assert re.fullmatch(
                r"\d{2}:\d{2}:\d{2}" if lang == "de" else r"\d{1,2}:\d{2}:\d{2}\s[AP]M", first
            ), first
        pg.screenshot(path=str(SHOTS / ("%s-%s.png" % (name, lang))), full_page=True)
    tab.close()
    assert api.put(record, json={"event_actions": before}).status_code == 200
