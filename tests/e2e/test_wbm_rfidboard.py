"""The WBM page "Charging Stations | CHARX RFID/NFC Board" in chromium on `chargepark run --sim 1`: hidden
until a point uses the CHARX RFID/NFC reader, then its board with the firmware version its module reported;
a profile and the buzzer volume saved on the page reach the simulated board through the module."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright
import pytest
from chargepark import simctl

from tests.e2e.test_head_sim import cli, run_sim, sim_runtime, until
from tests.e2e.test_wbm_pages import CHROMIUM, Tab
from tests.host.wbmkit import change_factory_password, new_password

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("rfidboard") / "data"
    proc = run_sim(data, 1, "--no-traffic")
    try:
        base = "http://127.0.0.1:%d" % sim_runtime(data)["web_port"]

        def up() -> bool:
            try:
                return httpx.get(base + "/api/park", timeout=5).status_code == 200
            except httpx.TransportError as e:
                raise OSError(str(e)) from e

        until("web server", up, 60)
        with httpx.Client(base_url=base, timeout=30) as client:
            change_factory_password(client, "manufacturer")
        yield base, data
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def test_the_board_page_shows_once_a_point_uses_the_board_and_its_settings_reach_it(
    park: tuple[str, Path],
) -> None:
    base, data = park
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        tab = Tab(browser, base)
        tab.log_in("manufacturer", new_password("manufacturer"))
        pg = tab.page
        pg.wait_for_url("**/wbm/")  # logged in: the dashboard
        assert pg.locator("nav a[href='/wbm/rfid-board']").count() == 0  # no point uses the board yet
        out = cli("config", "--data", str(data), "set", "chargepoint", json.dumps({"rfid_reader_type": "charx"}),
                  "--key", "CPSIM0001")  # fmt: skip
        assert out.returncode == 0, out.stderr

        def firmware_shown() -> bool:
            tab.go("/wbm/rfid-board")
            firmware = pg.locator("#fw-CPSIM0001")  # the module reports it once its board answered
            return firmware.count() == 1 and firmware.inner_text() == "1.4"

        until("the board's firmware version on the page", firmware_shown, 30)
        assert pg.locator("nav a[href='/wbm/rfid-board']").count() == 1
        assert pg.locator("#board-CPSIM0001 tr.profile").count() == 17
        pg.fill("#f-CPSIM0001-volume", "75")
        ready = 1  # iomodule.rfid.board.PROFILES
        pg.select_option("#f-CPSIM0001-%d-mode" % ready, "flashing")
        pg.select_option("#f-CPSIM0001-%d-colour" % ready, "blue")
        pg.fill("#f-CPSIM0001-%d-period_ms" % ready, "1500")
        pg.click("#save-CPSIM0001")
        pg.locator("#result-CPSIM0001 .ok").wait_for()
        endpoint = simctl.load_endpoints(data)[1]["sim_control"]

        def shown() -> dict[str, Any]:
            return dict(simctl.request(endpoint, {"cmd": "state"})["rfid"]["display"])

        look = until("the board shows the saved profile", lambda: (s := shown())["volume"] == 75 and s, 15)
        assert (look["profile"], look["mode"], look["colour"], look["period_ms"]) == (
            "ready",
            "flashing",
            "blue",
            1500,
        )
        pg.fill("#f-CPSIM0001-%d-min_brightness" % ready, "90")
        pg.fill("#f-CPSIM0001-%d-max_brightness" % ready, "10")
        pg.click("#save-CPSIM0001")
        pg.locator("#result-CPSIM0001 .refused").wait_for()  # the area refuses it with a reason
        assert "maximum brightness" in pg.locator("#result-CPSIM0001").inner_text()
        tab.close()
        browser.close()
