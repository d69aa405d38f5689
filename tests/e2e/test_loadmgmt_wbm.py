"""The WBM "Load Management" page in a real browser (Playwright driving Debian's chromium) against a real
`chargepark run --sim 2` whose two points share a 20 A load circuit: the status per circuit (active,
limiting, monitored points, current, planned current, per phase, why each point is limited), the
configuration and the point selection written through the WBM API (a wrong fuse refused beside its field
and nothing stored), the simulated day's plot shown, German; no console error."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright
import pytest
from chargepark.config.cli import STORE_FILE
from chargepark.config.store import ConfigStore
from chargepark.loadmgmt import plot, simday
from chargepark.wbm.loadmgmt import PLOT

from tests.e2e.test_head_sim import run_sim, sim_runtime, until
from tests.e2e.test_wbm_pages import Tab, browser, until_both_charge  # noqa: F401 - fixture
from tests.host.wbmkit import new_password

POINTS = ("CPSIM0001", "CPSIM0002")
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not PLOT.is_file():  # the bench writes the full day; a shorter one serves the page the same way
        plot.write(simday.run(simday.DayConfig(hours=4)), PLOT)
    data = tmp_path_factory.mktemp("lmwbm") / "data"
    data.mkdir()
    store = ConfigStore.open(data / STORE_FILE)
    store.put(
        "loadcircuit", {"name": "Garage", "fuse_a": 20, "points": [{"uid": u} for u in POINTS]}, key="lc1"
    )
    store.close()
    proc = run_sim(data, 2, "--loadmgmt-port", "0")
    try:
        base = "http://127.0.0.1:%d" % sim_runtime(data)["web_port"]
        until_both_charge(base)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def operator(browser: Any, head: str) -> Tab:  # noqa: F811
    """The operator (the load circuits' writer) logged in, its factory password changed at the prompt."""
    tab = Tab(browser, head)
    tab.log_in("operator", "operator")
    pg = tab.page
    pg.wait_for_url("**/wbm/profile")
    pg.fill("#old_password", "operator")
    pg.fill("#new_password", new_password("operator"))
    pg.fill("#repeat", new_password("operator"))
    pg.click("#submit-password")
    pg.wait_for_url("**/wbm/")
    return tab


def test_the_load_management_page_shows_status_config_selection_and_the_day(head: str, browser: Any) -> None:  # noqa: F811
    tab = operator(browser, head)
    pg = tab.go("/wbm/loadmanagement")
    assert "Load Management" in pg.locator("nav").inner_text()

    def limiting() -> bool:
        pg.reload()
        return (
            pg.locator("#status-lc1 .limiting").count() == 1
            and pg.locator("#status-lc1 .limiting").inner_text() == "yes"
            and pg.locator("#points-lc1 .point").count() == 2
        )

    until("the circuit's status, limiting", limiting, 60)
    assert pg.locator("#status-lc1 .active").inner_text() == "yes"
    assert pg.locator("#status-lc1 .monitored").inner_text() == "2"
    assert float(pg.locator("#status-lc1 .planned").inner_text()) <= 3 * 20
    phases = pg.locator("#phases-lc1 .phase")
    assert phases.count() == 3
    for k in range(3):
        cells = phases.nth(k).locator("td").all_inner_texts()
        assert cells[0] == "L%d" % (k + 1) and float(cells[2]) <= 20.0 and float(cells[3]) <= 20.0
    # a point whose first set-point is on its way still signals its fallback current, and says so
    why = {"load_circuit", "vehicle", "module", "waiting for load management"}
    assert set(pg.locator("#points-lc1 .why").all_inner_texts()) <= why
    assert pg.locator("#day-plot").evaluate("img => img.complete && img.naturalWidth > 0")
    pg.screenshot(path=str(SHOTS / "loadmgmt-en.png"), full_page=True)

    # a fuse below 6 A: refused beside its field, nothing stored
    pg.fill("#lc1-fuse_a", "5")
    pg.click("#save-lc1")
    pg.locator("#result-lc1 .refused").wait_for()
    assert pg.locator("#config-lc1 #error-fuse_a").inner_text() != ""
    stored = pg.request.get(head + "/api/wbm/config/loadcircuit/records/lc1").json()
    assert stored["fuse_a"] == 20 and [e["uid"] for e in stored["points"]] == list(POINTS)

    # 24 A, point 2 out of the circuit, point 1 charging from the surplus... refused: no meter
    pg.fill("#lc1-fuse_a", "24")
    pg.check("#lc1-%s-surplus" % POINTS[0])
    pg.click("#save-lc1")
    playwright.expect(pg.locator("#result-lc1 .refused")).to_contain_text("measuring device")
    pg.uncheck("#lc1-%s-surplus" % POINTS[0])
    pg.uncheck("#lc1-%s-member" % POINTS[1])
    pg.fill("#lc1-%s-phase_switch_output" % POINTS[0], "2")
    with pg.expect_navigation():
        pg.click("#save-lc1")
    stored = pg.request.get(head + "/api/wbm/config/loadcircuit/records/lc1").json()
    assert stored["fuse_a"] == 24 and [e["uid"] for e in stored["points"]] == [POINTS[0]]
    assert stored["points"][0]["phase_switch_output"] == 2
    assert not pg.locator("#lc1-%s-member" % POINTS[1]).is_checked()

    def one_monitored() -> bool:
        pg.reload()
        return bool(pg.locator("#status-lc1 .monitored").inner_text() == "1")

    until("one monitored point", one_monitored, 30)

    # German
    pg.click("#lang-de")
    pg.wait_for_url("**/wbm/loadmanagement")
    assert pg.locator("h1").inner_text() == "Lastmanagement"
    assert "Überschussladen" in pg.locator("#config-lc1").inner_text()
    pg.screenshot(path=str(SHOTS / "loadmgmt-de.png"), full_page=True)
    tab.close()


def test_the_user_sees_the_status_but_no_configuration(head: str, browser: Any) -> None:  # noqa: F811
    tab = Tab(browser, head)
    tab.log_in("user", "user")
    pg = tab.page
    pg.wait_for_url("**/wbm/profile")
    pg.fill("#old_password", "user")
    pg.fill("#new_password", new_password("user"))
    pg.fill("#repeat", new_password("user"))
    pg.click("#submit-password")
    pg.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/loadmanagement")
    assert pg.locator("#circuit-lc1").count() == 1 and pg.locator("#config-lc1").count() == 0
    assert pg.locator("#new-circuit").count() == 0
    tab.close()
