"""The whitelist page and the dashboard's release buttons in a real browser (Playwright driving Debian's
chromium) against `chargepark run --sim 2`: a User adds, edits, deletes entries, imports and exports CSV
(a malformed file names its line and changes nothing), sees a card presented at a reader among the
recently scanned ones and takes it over, teaches a card in at a reader; the dashboard offers release
and withdraw only at the point whose release mode is Via Dashboard."""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_head_sim import cli, run_sim, sim_runtime, until
from tests.e2e.test_wbm_pages import Tab, browser  # noqa: F401 (the browser fixture)
from tests.host.wbmkit import change_factory_password, new_password

CP1, CP2 = "CPSIM0001", "CPSIM0002"
FUTURE = "2099-12-31T23:59:59Z"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("release-wbm") / "data"
    data.mkdir()
    proc = run_sim(data, 2, "--no-traffic")
    try:
        rt = sim_runtime(data)
        base = "http://127.0.0.1:%d" % rt["web_port"]

        def configure(uid: str, mode: str) -> bool:
            req = urllib.request.Request(
                "http://127.0.0.1:%d/api/v1.0/charging-points/%s/config" % (rt["rest_port"], uid),
                json.dumps({"release_charging_mode": mode}).encode(), method="PUT",
                headers={"content-type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status == 200

        until("point 1 in release mode whitelist", lambda: configure(CP1, "whitelist"), 90)
        until("point 2 in release mode dashboard", lambda: configure(CP2, "dashboard"), 30)

        def served() -> bool:
            try:
                return httpx.get(base + "/api/park", timeout=5).status_code == 200
            except httpx.TransportError as e:  # the web server is still starting
                raise OSError(str(e)) from e

        until("the WBM", served, 60)
        with httpx.Client(base_url=base, timeout=30) as c:
            change_factory_password(c, "user")
        yield base, data
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def user_tab(chromium: Any, base: str) -> Tab:
    tab = Tab(chromium, base)
    tab.log_in("user", new_password("user"))
    tab.page.wait_for_url("**/wbm/")
    return tab


def rows(pg: Any) -> dict[str, str]:
    # read in one go: the table is replaced while a save or a delete lands, a row at a time would race it
    found: dict[str, str] = pg.eval_on_selector_all(
        "table.whitelist tbody tr[data-tag]",
        "rs => Object.fromEntries(rs.map(r => [r.dataset.tag, r.innerText]))",
    )
    return found


def test_the_whitelist_page(park: tuple[str, Path], browser: Any, tmp_path: Path) -> None:  # noqa: F811
    base, data = park
    tab = user_tab(browser, base)
    pg = tab.go("/wbm/whitelist")
    assert "Whitelist" in pg.locator("nav").inner_text()
    pg.on("dialog", lambda d: d.accept())

    # add, as a reader renders a UID with separators
    pg.fill("#f-tag", "04:a1:b2:c3")
    pg.fill("#f-name", "Anna")
    pg.fill("#f-expiry-date", "2031-06-30")
    pg.fill("#f-expiry-time", "12:00:00")
    with pg.expect_navigation(url="**/wbm/whitelist"):  # hx-redirect, often to the URL shown: the load
        pg.click("#entry-save")
    pg.locator("tr[data-tag='04A1B2C3']").wait_for()
    assert "Anna" in rows(pg)["04A1B2C3"] and "2031-06-30T12:00:00Z" in rows(pg)["04A1B2C3"]
    pg.fill("#f-tag", "not hex")
    pg.click("#entry-save")
    pg.locator("#entry-result .refused").wait_for()
    assert "hexadecimal" in pg.locator("#entry-result").inner_text()

    # edit: no charging for Anna
    pg.click("tr[data-tag='04A1B2C3'] a.edit")
    assert pg.input_value("#f-name") == "Anna" and pg.locator("#f-tag").get_attribute("readonly") is not None
    pg.uncheck("#f-allow")
    with pg.expect_navigation(url="**/wbm/whitelist"):
        pg.click("#entry-save")
    assert "Not allowed" in rows(pg)["04A1B2C3"]

    # import: a malformed file names its line and changes nothing; a good one is added; export holds both
    bad = tmp_path / "bad.csv"
    bad.write_text("uid,type,label,active,expiry_date_utc\n0A0A,rfid,x,true,%s\n0B0B,rfid,y,perhaps,%s\n"
                   % (FUTURE, FUTURE))  # fmt: skip
    pg.set_input_files("#f-file", str(bad))
    pg.click("#import-add")
    pg.locator("#import-result .refused").wait_for()
    assert "line 3" in pg.locator("#import-result").inner_text()
    assert list(rows(pg)) == ["04A1B2C3"]
    good = tmp_path / "good.csv"
    good.write_text("uid,type,label,active,expiry_date_utc\n0A0A,rfid,x,true,%s\n" % FUTURE)
    pg.set_input_files("#f-file", str(good))
    with pg.expect_navigation(url="**/wbm/whitelist"):
        pg.click("#import-add")
    pg.locator("tr[data-tag='0A0A']").wait_for()
    assert set(rows(pg)) == {"04A1B2C3", "0A0A"}
    with pg.expect_download() as download:
        pg.click("#export-csv")
    exported = Path(download.value.path()).read_text()
    assert (
        exported.splitlines()[0] == "uid,type,label,active,expiry_date_utc" and "0A0A,rfid,x,true" in exported
    )

    # a card at point 1's reader shows among the recently scanned; taken over into the form
    assert cli("sim", "--data", str(data), "--point", "1", "plug").returncode == 0
    assert cli("sim", "--data", str(data), "--point", "1", "rfid", "0BEEF00D").returncode == 0
    pg.locator("#recent tr[data-tag='0BEEF00D']").wait_for(timeout=15000)
    assert "not on the whitelist" in pg.locator("#recent tr[data-tag='0BEEF00D']").inner_text()
    pg.click("#recent tr[data-tag='0BEEF00D'] button.paste")
    assert pg.input_value("#f-tag") == "0BEEF00D"

    # teach-in at point 1's reader: the next card there lands on the whitelist
    pg.select_option("#f-reader", CP1)
    pg.click("#teach-in")
    pg.locator("#teach-result .ok").wait_for()
    pg.locator("#teach-state").wait_for(timeout=10000)
    assert cli("sim", "--data", str(data), "--point", "1", "rfid", "0CAFE100").returncode == 0
    pg.locator("#recent tr[data-tag='0CAFE100']").wait_for(timeout=15000)
    assert "taught in" in pg.locator("#recent tr[data-tag='0CAFE100']").inner_text()
    pg = tab.go("/wbm/whitelist")
    assert "0CAFE100" in rows(pg)

    # delete after the confirmation
    with pg.expect_navigation(url="**/wbm/whitelist"):
        pg.click("tr[data-tag='0A0A'] button.delete")
    until("0A0A deleted", lambda: "0A0A" not in rows(pg), 10)
    tab.close()


def test_the_dashboard_offers_the_release_only_where_the_mode_takes_it(
    park: tuple[str, Path],
    browser: Any,  # noqa: F811
) -> None:
    base, _ = park
    tab = user_tab(browser, base)
    pg = tab.page
    pg.locator("#release-%s" % CP2).wait_for()
    assert pg.locator("#release-%s" % CP1).count() == 0  # whitelist mode: a card releases it
    pg.click("#withdraw-%s" % CP2)
    pg.locator("#dashboard-result .ok").wait_for()
    pg.click("#release-%s" % CP2)
    pg.locator("#dashboard-result .ok").wait_for()
    pg = tab.go("/wbm/stations/%s" % CP1)
    assert pg.locator("#op-charging-allowed-on").count() == 0
    pg = tab.go("/wbm/stations/%s" % CP2)
    pg.click("#op-charging-allowed-off")
    pg.locator("#op-result .ok").wait_for()
    tab.close()
