# ruff: noqa: F811 - head, browser and passwords are the fixtures of test_wbm_pages, imported
"""The System Control pages in a real browser (Playwright, Debian's chromium) against a real
`chargepark run --sim 2`, a development head: its system root is below the data directory and no system
command runs. Status shows the head and the System Monitor's figures; Time takes the browser's clock and
refuses it while NTP is on, saves NTP and the time zone (the commands listed); Import/Export downloads a
sub-register and refuses a wrong file whole; Developer Mode changes and resets user-app's password;
Software refuses a foreign bundle and a charging park's update; Reboot restarts every service after the
confirmation; every page in both languages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_head_sim import until
from tests.e2e.test_wbm_pages import HEADS, SHOTS, Tab, browser, head, passwords  # noqa: F401 - fixtures
from tests.host.bundlekit import keys, signed, small_wheel
from tests.host.wbmkit import log_in

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip
PAGES = {"system-time": "/wbm/time", "system-backup": "/wbm/backup", "system-developer": "/wbm/developer",
         "system-software": "/wbm/software"}  # fmt: skip


def _tab(browser: Any, base: str, passwords: dict[str, str], login: str = "manufacturer") -> Tab:
    tab = Tab(browser, base)
    tab.log_in(login, passwords[login])
    tab.page.wait_for_url("**/wbm/")
    return tab


@contextmanager
def _api(base: str, passwords: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        log_in(c, "manufacturer", passwords["manufacturer"])
        yield c


def test_status_shows_the_head_and_the_system_monitor(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = _tab(browser, head, passwords, "user")
    pg = tab.go("/wbm/system")
    assert pg.locator("#head-version").inner_text().startswith("0.")
    assert pg.locator("#reboot").count() == 0  # the User may not reboot
    until("the monitor's figures", lambda: tab.go("/wbm/system").locator("#head-cpu").count() == 1, 30)
    assert pg.locator("#head-memory").inner_text().endswith(" MB")
    assert "Reboot" not in " ".join(pg.locator("nav a").all_inner_texts())
    assert "System Control/Developer Mode" not in pg.locator("nav a").all_inner_texts()
    tab.close()


def test_time_from_the_browser_ntp_and_time_zone(head: str, browser: Any, passwords: dict[str, str]) -> None:
    tab = _tab(browser, head, passwords, "operator")
    pg = tab.go("/wbm/time")
    assert pg.locator("#time-ntp").inner_text() == "on"
    pg.fill("#utc", "")
    pg.click("#from-browser")
    taken = pg.locator("#utc").input_value()
    assert len(taken) == 20 and taken.endswith("Z") and taken[:4] >= "2024"
    pg.click("#submit-time")
    pg.locator("#set-result .refused").wait_for()  # NTP is on: the clock is NTP's
    assert "NTP" in pg.locator("#set-result").inner_text()
    pg.fill("#ntp_server_0", "")
    pg.click("#save-ntp")
    pg.locator("#ntp-result .refused").wait_for()  # NTP on and no server: refused, nothing saved
    pg.fill("#ntp_server_0", "ntp.example.net")
    pg.fill("#ntp_server_1", "192.0.2.123")
    pg.select_option("#timezone", "Europe/Berlin")
    pg.click("#save-ntp")
    pg.locator("#ntp-result .ok").wait_for()
    assert "development head" in pg.locator("#ntp-result").inner_text()
    assert pg.locator("#ntp-commands").inner_text().splitlines()[0] == "timedatectl set-ntp true"
    with _api(head, passwords) as api:
        shown = api.get("/api/wbm/time").json()
        assert shown["timezone"] == "Europe/Berlin" and shown["ntp_servers"] == [
            "ntp.example.net",
            "192.0.2.123",
        ]
        assert shown["local"][-6:] in ("+01:00", "+02:00")
    pg = tab.go("/wbm/time")
    assert "(Europe/Berlin)" in pg.locator("table.applied").inner_text()
    pg.uncheck("#ntp_enabled")
    pg.click("#save-ntp")
    pg.locator("#ntp-result .ok").wait_for()
    assert pg.locator("#ntp-commands").inner_text().splitlines()[0] == "timedatectl set-ntp false"
    pg.click("#from-browser")
    pg.click("#submit-time")
    pg.locator("#set-result .ok").wait_for()  # set, but on a development head only listed
    assert "clock is unchanged" in pg.locator("#set-result").inner_text()
    tab.close()


def test_import_export_per_sub_register(
    head: str, browser: Any, passwords: dict[str, str], tmp_path: Path
) -> None:
    tab = _tab(browser, head, passwords, "operator")
    pg = tab.go("/wbm/backup")
    assert pg.locator("#import-ocpp").count() == 1 and pg.locator("#import-charging_park").count() == 0
    with pg.expect_download() as got:
        pg.click("#export-ocpp")
    exported = json.loads(Path(got.value.path()).read_text())
    assert set(exported["areas"]) == {"ocpp"}
    exported["areas"]["ocpp"]["HeartbeatInterval"] = 5  # below the minimum: the whole file is refused
    bad = tmp_path / "ocpp.json"
    bad.write_text(json.dumps(exported))
    pg.set_input_files("#file-ocpp", str(bad))
    pg.once("dialog", lambda d: d.accept())
    pg.click("#import-ocpp")
    pg.locator("#result-ocpp .refused").wait_for()
    with _api(head, passwords) as api:
        assert api.get("/api/wbm/config/ocpp").json()["HeartbeatInterval"] != 5
        exported["areas"]["ocpp"]["HeartbeatInterval"] = 240
        bad.write_text(json.dumps(exported))
        pg.set_input_files("#file-ocpp", str(bad))
        pg.once("dialog", lambda d: d.accept())
        pg.click("#import-ocpp")
        pg.locator("#result-ocpp .ok").wait_for()
        assert api.get("/api/wbm/config/ocpp").json()["HeartbeatInterval"] == 240
    tab.close()


def test_developer_mode_changes_and_resets_user_app(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = _tab(browser, head, passwords)
    pg = tab.go("/wbm/developer")
    assert "delivery state" in pg.locator("#user-app-state").inner_text()
    pg.fill("#old_password", "wrong")
    pg.fill("#new_password", "dev-secret-1")
    pg.fill("#repeat", "dev-secret-1")
    pg.click("#change-user-app")
    pg.locator("#password-result .refused").wait_for()
    pg.fill("#old_password", "user")
    pg.click("#change-user-app")
    pg.locator("#password-result .ok").wait_for()
    assert "password changed" in tab.go("/wbm/developer").locator("#user-app-state").inner_text()
    pg.once("dialog", lambda d: d.accept())
    pg.click("#reset-user-app")
    pg.locator("#reset-result .ok").wait_for()
    assert "delivery state" in tab.go("/wbm/developer").locator("#user-app-state").inner_text()
    tab.close()


def test_software_refuses_a_foreign_bundle_and_an_update_while_charging(
    head: str, browser: Any, passwords: dict[str, str], tmp_path: Path
) -> None:
    private, public = keys(tmp_path / "keys")
    other, _ = keys(tmp_path / "keys", "other")
    wheel = small_wheel(tmp_path / "w", "9.9.9")
    with _api(head, passwords) as api:
        assert api.put("/api/wbm/config/system", json={"update_public_key": public}).status_code == 200
    tab = _tab(browser, head, passwords, "operator")
    pg = tab.go("/wbm/software")
    pg.set_input_files("#bundle-file", str(signed(tmp_path, wheel, other, "foreign.cpb")))
    pg.click("#upload-bundle")
    pg.locator("#verified .refused").wait_for()
    assert "another key" in pg.locator("#verified").inner_text()
    pg.set_input_files("#bundle-file", str(signed(tmp_path, wheel, private)))
    pg.click("#upload-bundle")
    pg.locator("#bundle-ok").wait_for()
    assert "9.9.9" in pg.locator("#bundle-ok").inner_text()
    pg.once("dialog", lambda d: d.accept())
    pg.click("#install-update")
    pg.wait_for_url("**/wbm/software")
    pg.locator("#job-failed").wait_for(timeout=60_000)  # both points charge and ForceUpdate is off
    assert "ForceUpdate is off" in pg.locator("#job-output").inner_text()
    assert pg.locator("#active-slot").inner_text() == "system install"
    tab.close()


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_system_page_in_both_languages(
    head: str, browser: Any, passwords: dict[str, str], lang: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab = Tab(browser, head)
    tab.go("/wbm/lang/%s?next=/wbm/login" % lang)
    tab.log_in("manufacturer", passwords["manufacturer"])
    tab.page.wait_for_url("**/wbm/")
    for name, path in PAGES.items():
        pg = tab.go(path)
        assert pg.locator("html").get_attribute("lang") == lang
        pg.screenshot(path=str(SHOTS / ("%s-%s.png" % (name, lang))), full_page=True)
    tab.close()


def test_reboot_restarts_every_service_after_the_confirmation(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    with _api(head, passwords) as api:
        before = {
            s["name"]: s["restarts"] for s in api.get("/api/wbm/services").json() if s["state"] == "running"
        }
    tab = _tab(browser, head, passwords, "operator")
    pg = tab.go("/wbm/system")
    pg.once("dialog", lambda d: d.dismiss())
    pg.click("#reboot")
    pg.wait_for_timeout(500)
    assert pg.locator("#reboot-result").inner_text() == ""  # dismissed: nothing happened
    pg.once("dialog", lambda d: d.accept())
    pg.click("#reboot")
    pg.locator("#reboot-result .ok").wait_for()
    tab.context.close()  # the web server restarts under the page

    def all_restarted() -> bool:
        try:
            with _api(head, passwords) as api:
                now = {s["name"]: s for s in api.get("/api/wbm/services").json()}
        except (httpx.TransportError, AssertionError):  # the web server is restarting
            return False
        return all(now[n]["restarts"] > r and now[n]["state"] == "running" for n, r in before.items())

    until("every service restarted and running", all_restarted, 90)


def test_module_switch_keeps_only_the_clients_services(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = _tab(browser, head, passwords, "operator")
    assert "System Control/Module Switch" not in tab.page.locator("nav a").all_inner_texts()  # Manufacturer's
    tab.close()
    tab = _tab(browser, head, passwords)
    pg = tab.go("/wbm/module-switch")
    assert "server" in pg.locator("#head-role").inner_text()
    # the server's park password: stored, never shown back
    assert "No park password" in pg.locator("#park-password-state").inner_text()
    pg.fill("#server-park-password", "cabinet-7")
    pg.click("#store-park-password")
    pg.locator("#password-result .ok").wait_for()
    pg = tab.go("/wbm/module-switch")
    assert "No park password" not in pg.locator("#park-password-state").inner_text()
    assert "cabinet-7" not in pg.content()
    pg.fill("#address", "192.168.10.5")  # not in the park's 192.168.4.0/24
    pg.fill("#park-password", "cabinet-7")
    pg.once("dialog", lambda d: d.accept())
    pg.click("#switch-module")
    pg.locator("#switch-result .refused").wait_for()  # nothing switched
    assert pg.locator("#usb-address").inner_text() == "192.168.5.1"  # where the client's WBM answers
    pg.fill("#address", "192.168.4.5")
    pg.once("dialog", lambda d: d.accept())
    pg.click("#switch-module")
    pg.locator("#switch-result .ok").wait_for()
    tab.context.close()

    def client_services_only() -> bool:
        try:
            with _api(head, passwords) as api:
                rows = {s["name"]: s["state"] for s in api.get("/api/wbm/services").json()}
        except (httpx.TransportError, AssertionError):  # the web server is restarting
            return False
        return rows["ocpp16"] == rows["jupicore"] == "disabled" and rows["controller-agent"] == "running"

    until("the server's services off", client_services_only, 90)
    # the broker started again with the client's bridge to the server, logging in with the park password
    conf = (HEADS[head] / "run" / "mosquitto.conf").read_text().splitlines()
    assert "connection park" in conf and "remote_password cabinet-7" in conf
    with _api(head, passwords) as api:
        assert api.get("/api/wbm/system").json()["role"] == "client"
