"""The Network page in a real browser (Playwright, Debian's chromium) against a real `chargepark run --sim 2`,
a development head: its network files go below the data directory and no system command runs. Only the
Operator and the Manufacturer see the page; a field breaking the manual's rules shows its message beside
the field and nothing is applied; a good one is applied after the confirmation (the file written, the
command plan listed) and shown beside the form; Port Sharing opens a port; DELETE CONFIGURATION removes an
imported OpenVPN file after the confirmation; a point's status page shows the
head's address; screenshots in both languages under out/screenshots/."""

# ruff: noqa: F811 - head, browser and passwords are the fixtures of test_wbm_pages, imported

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_wbm_pages import POINT, SHOTS, Tab, browser, head, passwords  # noqa: F401 - fixtures
from tests.host.wbmkit import log_in

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip


def _operator(browser: Any, base: str, passwords: dict[str, str]) -> Tab:
    tab = Tab(browser, base)
    tab.log_in("operator", passwords["operator"])
    tab.page.wait_for_url("**/wbm/")
    return tab


@contextmanager
def _api(base: str, passwords: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        log_in(c, "operator", passwords["operator"])
        yield c


def test_only_operator_and_manufacturer_see_the_network_page(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    for login, sees in (("user", False), ("operator", True), ("manufacturer", True)):
        tab = Tab(browser, head)
        tab.log_in(login, passwords[login])
        tab.page.wait_for_url("**/wbm/")
        assert ("Network" in tab.page.locator("nav a").all_inner_texts()) == sees, tab.page.content()[:3000]
        tab.go("/wbm/network")
        assert (tab.page.locator("#form-ethernet").count() == 1) == sees
        tab.close()


def test_ethernet_refused_beside_the_field_then_applied(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = _operator(browser, head, passwords)
    pg = tab.go("/wbm/network")
    assert "Development head" in pg.locator("#network-target").inner_text()
    assert pg.locator("#applied-ethernet").is_visible()
    assert not pg.locator("[data-field=ip_address]").is_visible()  # DHCP: no static address fields
    pg.uncheck("#f-dhcp")
    assert (
        pg.locator("[data-field=ip_address]").is_visible()
        and not pg.locator("[data-field=no_gateway]").is_visible()
    )
    pg.fill("#f-ip_address", "192.168.4.20")  # reserved for the USB-C link (the manual)
    pg.fill("#f-gateway", "192.168.4.1")
    pg.once("dialog", lambda d: d.dismiss())
    pg.click("#save-ethernet")
    assert pg.locator("#result-ethernet").inner_text() == ""  # dismissed: nothing sent
    pg.once("dialog", lambda d: d.accept())
    pg.click("#save-ethernet")
    pg.locator("#result-ethernet .refused").wait_for()
    assert pg.locator("#error-ip_address").inner_text() != ""
    with _api(head, passwords) as api:
        assert api.get("/api/wbm/config/network").json()["dhcp"] is True  # nothing stored
        pg.fill("#f-ip_address", "10.20.0.5")
        pg.fill("#f-gateway", "10.20.0.1")
        pg.fill("#f-dns\\.0\\.address", "10.20.0.1")
        pg.once("dialog", lambda d: d.accept())
        pg.click("#save-ethernet")
        pg.wait_for_url("**/wbm/network?changed=ethernet#ethernet")
        assert pg.locator("#last-apply .ok").count() == 1, pg.locator("#last-apply").inner_text()
        assert pg.locator("#f-ip_address").input_value() == "10.20.0.5"
        stored = api.get("/api/wbm/config/network").json()
        assert stored["dhcp"] is False and stored["dns"] == [{"address": "10.20.0.1"}]
        state = api.get("/api/wbm/network/status").json()
    written = Path(state["root"], "etc/systemd/network/10-chargepark-eth0.network").read_text()
    assert "Address=10.20.0.5/24" in written and "DNS=10.20.0.1" in written
    assert any(c.startswith("networkctl") for c in state["last_apply"]["commands"])  # listed, not run
    tab.close()


def test_port_sharing_opens_a_port(head: str, browser: Any, passwords: dict[str, str]) -> None:
    tab = _operator(browser, head, passwords)
    pg = tab.go("/wbm/network#ports")
    with _api(head, passwords) as api:
        ports = api.get("/api/wbm/config/network").json()["ports"]
        row = next(i for i, p in enumerate(ports) if p["port"] == 5555)
        assert ports[row]["open"] is False  # JupiCore REST closed by default
        pg.check("#f-ports\\.%d\\.open" % row)
        pg.fill("#f-new\\.ports\\.port", "8443")
        pg.once("dialog", lambda d: d.accept())
        pg.click("#save-ports")
        pg.wait_for_url("**/wbm/network?changed=ports#ports")
        assert pg.locator("#last-apply .ok").count() == 1, pg.locator("#last-apply").inner_text()
        now = {p["port"]: p["open"] for p in api.get("/api/wbm/config/network").json()["ports"]}
        assert now[5555] is True and now[8443] is True and now[1883] is False
        root = api.get("/api/wbm/network/status").json()["root"]
    ruleset = Path(root, "etc/chargepark/firewall.nft").read_text()
    accepted = next(line for line in ruleset.splitlines() if "th dport" in line and "accept" in line)
    assert "5555" in accepted and "8443" in accepted and "1883" not in accepted
    tab.close()


def test_delete_configuration_after_the_confirmation(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = _operator(browser, head, passwords)
    with _api(head, passwords) as api:
        text = "client\nremote 10.1.2.3 1194\n"
        assert (
            api.post("/api/wbm/network/vpn-import", json={"name": "site.ovpn", "text": text}).status_code
            == 200
        )
        root = api.get("/api/wbm/network/status").json()["root"]
        assert Path(root, "etc/chargepark/openvpn-imported.conf").exists()
        pg = tab.go("/wbm/network#openvpn")
        pg.once("dialog", lambda d: d.dismiss())
        pg.click("#vpn-delete")
        assert api.get("/api/wbm/config/network").json()["openvpn_imported"] == "site.ovpn"  # dismissed
        pg.once("dialog", lambda d: d.accept())
        pg.click("#vpn-delete")
        pg.wait_for_url("**/wbm/network?changed=openvpn#openvpn")
        assert pg.locator("#vpn-imported").inner_text() == "-"
        stored = api.get("/api/wbm/config/network").json()
    assert (stored["openvpn_imported"], stored["openvpn_mode"]) == ("", "off")
    assert not Path(root, "etc/chargepark/openvpn-imported.conf").exists()
    tab.close()


def test_the_point_status_page_shows_the_heads_address(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = Tab(browser, head)
    tab.log_in("user", passwords["user"])
    tab.page.wait_for_url("**/wbm/")
    with httpx.Client(base_url=head, timeout=30) as api:
        log_in(api, "user", passwords["user"])
        eth0 = api.get("/api/wbm/network/head").json()
    pg = tab.go("/wbm/stations/%s" % POINT)
    text = pg.locator("main").inner_text()
    assert "Head Module IP Address" in text and "Head Module MAC Address" in text
    assert (eth0["mac"] or "Not Available") in text
    tab.close()


@pytest.mark.parametrize("lang", ["en", "de"])
def test_network_page_screenshots(head: str, browser: Any, passwords: dict[str, str], lang: str) -> None:
    tab = _operator(browser, head, passwords)
    tab.go("/wbm/lang/%s?next=/wbm/network" % lang)
    pg = tab.page
    pg.locator("#form-wlan").wait_for()
    assert ("Netzwerk" in pg.locator("h1").inner_text()) == (lang == "de")
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / ("network-%s.png" % lang)), full_page=True)
    tab.close()
