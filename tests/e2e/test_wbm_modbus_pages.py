"""The Modbus page in a real browser (Playwright, Debian's chromium) against a real `chargepark run --sim 2`:
the User reads, the Operator writes; every point is listed with its start address; one that is no
multiple of 1000 is refused beside its field, a manual one beside an automatic one is refused (no mixed
operation, the manual); a new server port and manual start addresses, saved through the page and applied
by restarting the Modbus Server from it, are what a real Modbus/TCP client (pymodbus) then reads; the
register map page is the one table."""

# ruff: noqa: F811 - head, browser and passwords are the fixtures of test_wbm_pages, imported

from __future__ import annotations

import time
from typing import Any

import pytest
from chargepark.modbus import registers
from chargepark.runtime import free_port
from pymodbus.client import ModbusTcpClient

from tests.e2e.test_wbm_pages import Tab, browser, head, passwords  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow  # ./dev.sh installs Debian's chromium: without it these fail, never skip
SECOND = "CPSIM0002"
POSITION = next(r.at for r in registers.POINT if r.name == "position")


def _tab(browser: Any, base: str, login: str, passwords: dict[str, str]) -> Tab:
    tab = Tab(browser, base)
    tab.log_in(login, passwords[login])
    tab.page.wait_for_url("**/wbm/")
    return tab


def test_the_user_reads_and_the_register_map_is_the_table(
    head: str, browser: Any, passwords: dict[str, str]
) -> None:
    tab = _tab(browser, head, "user", passwords)
    pg = tab.go("/wbm/modbus")
    assert pg.locator("#save-modbus").count() == 0 and pg.locator("#restart-server").count() == 0
    starts = pg.locator("#start-table td.start").all_inner_texts()
    assert starts == ["1000", "2000"]  # automatic: bus position x 1000
    pg.click("#register-map")
    pg.wait_for_url("**/wbm/modbus/registers")
    assert pg.locator("table.registers").nth(0).locator("tr").count() == len(registers.GROUP) + 1
    assert pg.locator("table.registers").nth(1).locator("tr").count() == len(registers.POINT) + 1
    tab.close()


def _read(port: int, address: int) -> int | None:
    """One holding register, None when the server answers with an exception."""
    with ModbusTcpClient("127.0.0.1", port=port, timeout=2) as c:
        answer = c.read_holding_registers(address, count=1, device_id=1)
        return None if answer.isError() else int(answer.registers[0])


def _until_read(port: int, address: int, want: int, deadline: float) -> None:
    """The restarted server answers `want` at `address` before `deadline`."""
    got: int | str | None = "no answer"
    while got != want:
        assert time.monotonic() < deadline, "port %d, register %d: %r, not %d" % (port, address, got, want)
        try:
            got = _read(port, address)
        except Exception:  # the restarted server is not listening yet
            pass
        time.sleep(0.2)


def test_settings_saved_and_applied_are_what_a_client_reads(head: str, browser: Any,
                                                             passwords: dict[str, str]) -> None:  # fmt: skip
    tab = _tab(browser, head, "operator", passwords)
    pg = tab.go("/wbm/modbus")
    first, second = ("#f-start_addresses\\.%d\\.start" % i for i in (0, 1))  # every point is listed
    assert pg.locator(first).input_value() == "-1" and pg.locator(second).input_value() == "-1"
    pg.fill(second, "7500")
    pg.click("#save-modbus")
    pg.locator("#result-modbus .refused").wait_for()
    assert "multiple of 1000" in pg.locator("#error-start_addresses").inner_text()
    pg.fill(second, "7000")  # the first one still automatic: no mixed operation (the manual)
    pg.click("#save-modbus")
    pg.locator("#result-modbus .refused", has_text="cannot be mixed").wait_for()
    pg.fill(first, "5000")
    port = free_port()
    pg.fill("#f-server_port", str(port))
    pg.click("#save-modbus")
    pg.wait_for_url("**/wbm/modbus?saved=1")
    assert pg.locator("#start-table td.start").all_inner_texts() == ["5000", "7000"]
    pg.once("dialog", lambda d: d.accept())
    pg.click("#restart-server")
    pg.locator("#restart-result .ok").wait_for()
    deadline = time.monotonic() + 30
    _until_read(port, 7000 + POSITION, 2, deadline)  # CPSIM0002 at its manual start
    _until_read(port, 5000 + POSITION, 1, deadline)  # CPSIM0001 at its manual start
    assert _read(port, 2000 + POSITION) is None  # its automatic start is gone
    tab.close()
