"""The supervisor on real service processes and a real broker: restarts with backoff, isolation, control."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from chargepark import control
from chargepark.runtime import Runtime
from chargepark.services.registry import SERVICES
from chargepark.supervisor import BACKOFF_MAX_S, Supervisor, backoff_delay
from headkit import broker_runtime, stop


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays)
    assert delays[-1] == BACKOFF_MAX_S


def test_absent_interfaces_are_reported_honestly(tmp_path: Path) -> None:
    async def scenario() -> list[dict[str, object]]:
        sup = Supervisor(Runtime(data_dir=str(tmp_path)), SERVICES, only=set())  # status only: start none
        await sup.start()
        return sup.status()

    rows = {r["name"]: r for r in asyncio.run(scenario())}
    for name in ("ocpp16", "modbus-client", "modbus-server", "load-management", "calibration-law"):
        assert rows[name]["state"] == "not installed"
        assert "its own issue" in str(rows[name]["last_error"])
    for name in ("system-monitor", "controller-agent", "jupicore", "web-server"):
        assert rows[name]["state"] == "disabled"
    assert [r["title"] for r in rows.values()][:2] == ["System Monitor", "Controller Agent"]


async def _wait(pred, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_killed_service_restarts_others_keep_running(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path)
        rt.bus = {}  # the controller agent has no bus: it dies at once, again and again
        sup = Supervisor(rt, SERVICES, only={"system-monitor", "web-server", "controller-agent"})
        server, rt.control_port = await control.serve(sup)
        rt.save()
        await sup.start()
        try:
            rows = lambda: {r["name"]: r for r in sup.status()}  # noqa: E731
            await _wait(
                lambda: rows()["web-server"]["state"] == "running" and rows()["system-monitor"]["pid"]
            )
            web_pid, mon_pid = rows()["web-server"]["pid"], rows()["system-monitor"]["pid"]
            os.kill(int(web_pid), signal.SIGKILL)  # type: ignore[arg-type]
            await _wait(
                lambda: rows()["web-server"]["restarts"] == 1 and rows()["web-server"]["state"] == "running"
            )
            assert rows()["web-server"]["pid"] != web_pid
            assert "exit -9" in str(rows()["web-server"]["last_error"])
            assert rows()["system-monitor"]["pid"] == mon_pid and rows()["system-monitor"]["restarts"] == 0

            # The crash loop backs off: 0.5 + 1 + 2 s of waiting allow at most 4 starts in ~3.5 s.
            await asyncio.sleep(3.0)
            agent = rows()["controller-agent"]
            assert 1 <= int(agent["restarts"]) <= 4, agent  # type: ignore[call-overload]
            assert "no backplane bus configured" in str(agent["last_error"])

            # Restart on request through the control channel (as `chargepark service restart`).
            reply = await asyncio.to_thread(
                control.request, tmp_path, {"cmd": "restart", "name": "system-monitor"}
            )
            assert reply == {"ok": True, "restarted": ["system-monitor"]}
            await _wait(
                lambda: (
                    rows()["system-monitor"]["state"] == "running"
                    and rows()["system-monitor"]["pid"] != mon_pid
                )
            )
            bad = await asyncio.to_thread(control.request, tmp_path, {"cmd": "restart", "name": "ocpp16"})
            assert bad["ok"] is False and "not installed" in bad["error"]
            status = await asyncio.to_thread(control.request, tmp_path, {"cmd": "status"})
            assert {s["name"] for s in status["services"]} == {s.name for s in SERVICES}
        finally:
            pids = [r.proc.pid for r in sup.runs.values() if r.proc is not None]
            await sup.stop()
            server.close()
            await stop(broker)
        for pid in pids:
            assert (
                not Path("/proc/%d" % pid).exists()
                or "Z" in Path("/proc/%d/stat" % pid).read_text().split()[2]
            )

    asyncio.run(scenario())
