"""NewBackendURL with two Central Systems (tests/host/ocppkit.py, the `ocpp` package's): set by the backend
with ChangeConfiguration, the connection moves to the new URL, which becomes BackendURL once it accepts the
charge box; a new backend that does not accept within the time (it answers Pending, or nothing listens)
leaves the charge box on the old one. NewBackendURL is emptied either way."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chargepark.ocpp import journal
from chargepark.runtime import free_port
from ocpp.v16 import call

from tests.host.ocppkit import CentralSystem
from tests.host.test_ocpp_backend import Rig, run, running


def test_new_backend_url_moves_and_falls_back_to_the_old_one(tmp_path: Path) -> None:
    old, new, pending = CentralSystem(interval=1), CentralSystem(interval=300), CentralSystem(interval=1)
    pending.boot = ["Pending"] * 1000  # it never accepts
    for cs in (old, new, pending):
        cs.start()

    async def scenario() -> None:
        r = Rig(tmp_path, old, {})
        r.backend.switch.within_s = 5  # the test's: the move under way is given 5 s
        async with running(r):
            await r.until("booted at the old backend", lambda: old.actions("StatusNotification"))

            async def change(cs: CentralSystem, url: str) -> str:
                answer = await asyncio.to_thread(
                    cs.call, call.ChangeConfiguration(key="NewBackendURL", value=url)
                )
                return str(answer.status)

            assert await change(old, new.url) == "Accepted"
            await r.until("booted at the new backend", lambda: new.actions("StatusNotification"), 30)
            s = r.station.settings()
            assert s["BackendURL"] == new.url and s["NewBackendURL"] == ""
            beats = len(old.actions("Heartbeat"))
            # the new backend moves it to one that never accepts: back to the new (now old) one
            assert await change(new, pending.url) == "Accepted"
            await r.until("Pending at the third", lambda: pending.actions("BootNotification"), 30)
            await r.until("back at the second", lambda: len(new.actions("BootNotification")) >= 2, 30)
            s = r.station.settings()
            assert s["BackendURL"] == new.url and s["NewBackendURL"] == ""
            assert not pending.actions("StatusNotification")  # nothing but BootNotification while Pending
            page = lambda: journal.read(tmp_path / journal.FILE)["link"]  # noqa: E731 - what the OCPP page shows
            link = await r.until("online again", lambda: page()["online"] and page())
            assert link["url"] == new.url and "did not accept within 5 s" in link["error"]
            # nothing listens at the new URL: the same
            gone = "ws://127.0.0.1:%d/ocpp/CB0001" % free_port()
            n = len(new.actions("BootNotification"))
            assert await change(new, gone) == "Accepted"
            await r.until("back again", lambda: len(new.actions("BootNotification")) > n, 30)
            assert r.station.settings()["BackendURL"] == new.url
            assert "did not accept within 5 s" in r.backend.switch.failed
            assert len(old.actions("Heartbeat")) == beats  # the first backend heard no more of it

    try:
        run(scenario())
    finally:
        for cs in (old, new, pending):
            cs.close()
