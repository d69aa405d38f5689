"""The WBM's System Control/Calibration Law over a real server and store: the overview judges each setting
as the Calibration Law Agent does (not compliant red, warnings yellow), per point and for OCPP; switching
calibration law on (the Operator's) stores it and restarts every service, answered first; a User sees the
overview without the switch."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from chargepark.services.web_server import pages
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext

from tests.host.wbmkit import Server, logged_in, make_ctx, restarted_all, served

HTMX = {"hx-request": "true"}


@pytest.fixture
def wbm(tmp_path: Any) -> Iterator[tuple[WbmContext, Server]]:
    ctx = make_ctx(tmp_path)
    ctx.store.put("chargepoint", {"name": "A", "meter_type": "wm3m4", "release_mode": "ocpp", "ocpp_connector_id": 1},
                  key="CP1")  # fmt: skip
    ctx.store.put("chargepoint", {"name": "B", "meter_type": "em24"}, key="CP2")
    ctx.store.put("ocpp", {"SignedDataFormat": 2})
    app = create_app(ctx)
    pages.install(app)
    with served(app) as base:
        yield ctx, base


def rows(page: str) -> dict[tuple[str, str], str]:
    """(charging point or area, setting) -> the row's level class."""
    found = re.findall(r'<tr class="law-(\w+)"><td>(\w+)</td><td>([^<]*)</td><td>(\w+)</td>', page)
    return {(subject or scope, setting): level for level, scope, subject, setting in found}


def test_the_overview_marks_what_is_not_compliant_and_the_switch_turns_it_on(
    wbm: tuple[WbmContext, Server],
) -> None:
    ctx, base = wbm
    with logged_in(base, "operator") as c:
        law = c.get("/api/wbm/calibration-law").json()
        assert law["on"] is False and law["compliant"] is False
        page = html.unescape(c.get("/wbm/calibration-law").text)
        got = rows(page)
        assert got[("CP2", "meter_type")] == "error" and got[("CP1", "meter_type")] == "ok"
        assert got[("CP1", "meter_public_key")] == "warning"  # no key read yet
        assert (
            got[("ocpp", "SignedDataFormat")] == "error" and got[("ocpp", "VendorAtKeyTransfer")] == "warning"
        )
        assert got[("system", "calibration_law")] == "warning"
        assert 'id="law-on"' in page and "settings not compliant with calibration law (red)" in page
        done = c.post("/wbm/calibration-law/switch-on", headers=HTMX)
        assert done.status_code == 200 and "the system restarts" in done.text
        assert ctx.store.get("system")["calibration_law"] is True
        restarted_all(ctx)
        assert 'id="law-on"' not in c.get("/wbm/calibration-law").text  # on: no switch any more
    with logged_in(base, "user") as c:
        ctx.store.put("system", {"calibration_law": False})
        page = c.get("/wbm/calibration-law").text
        assert "law-checks" in page and 'id="law-on"' not in page  # the User sees, does not switch
        assert c.post("/api/wbm/calibration-law/switch-on").status_code == 403
    with logged_in(base, "manufacturer") as c:
        c.get("/wbm/lang/de", params={"next": "/wbm/calibration-law"})
        page = html.unescape(c.get("/wbm/calibration-law").text)
        assert "Systemsteuerung/Eichrecht" in page and "EICHRECHT EINSCHALTEN" in page
