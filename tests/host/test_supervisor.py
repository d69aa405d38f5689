"""The supervisor on real service processes and a real broker: restarts with backoff, isolation, control."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from pathlib import Path

import pytest
from chargepark import control
from chargepark.bundle import slots
from chargepark.config import ConfigStore
from chargepark.runtime import Runtime
from chargepark.services.registry import SERVICES
from chargepark.services.spec import ServiceSpec
from chargepark.supervisor import BACKOFF_MAX_S, CLIENT_SERVICES, Supervisor, backoff_delay
from headkit import broker_runtime, stop


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays)
    assert delays[-1] == BACKOFF_MAX_S


# A service that is not built yet (every one of the registry's is by now): how the supervisor reports it.
FUTURE = ServiceSpec(name="future-interface", title="Future Interface", summary="-", arrives_with="issue 99")
SPECS = (*SERVICES, FUTURE)


def test_absent_interfaces_are_reported_honestly(tmp_path: Path) -> None:
    async def scenario() -> list[dict[str, object]]:
        runtime = Runtime(data_dir=str(tmp_path), mqtt_port=0, rest_port=0, web_port=0)
        sup = Supervisor(runtime, SPECS, only=set())  # status only: start none
        await sup.start()
        return sup.status()

    rows = {r["name"]: r for r in asyncio.run(scenario())}
    absent = [s.name for s in SPECS if s.arrives_with]
    assert absent == ["future-interface"]
    for name in absent:
        assert rows[name]["state"] == "not installed"
        assert "its own issue (issue 99)" in str(rows[name]["last_error"])
    for name in {s.name for s in SPECS} - set(absent):
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
        sup = Supervisor(rt, SPECS, only={"system-monitor", "web-server", "controller-agent"})
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

            # The crash loop backs off: each start comes at least backoff_delay(n) after the one before
            # (a loaded machine only makes the gaps longer; without backoff they would be one process life).
            run = sup.runs["controller-agent"]
            starts: list[float] = []
            deadline = time.monotonic() + 60
            while len(starts) < 4:
                assert time.monotonic() < deadline, starts
                if run.state == "running" and (not starts or run.started_at != starts[-1]):
                    starts.append(run.started_at)
                await asyncio.sleep(0.02)
            gaps = [b - a for a, b in itertools.pairwise(starts)]
            assert all(gap >= backoff_delay(n) for n, gap in enumerate(gaps, 1)), gaps
            assert run.restarts >= 3 and run.failures >= 3
            assert "no backplane bus configured" in str(rows()["controller-agent"]["last_error"])

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
            # The WBM's reboot: every running service stops before any of them starts again.
            before = {n: sup.runs[n].started_at for n in ("system-monitor", "web-server")}  # not the crasher
            stopped_at: dict[str, float] = {}
            for name in before:
                proc = sup.runs[name].proc
                assert proc is not None
                asyncio.create_task(proc.wait()).add_done_callback(
                    lambda _, n=name: stopped_at.setdefault(n, time.monotonic())  # type: ignore[misc]
                )
            reply = await asyncio.to_thread(control.request, tmp_path, {"cmd": "restart", "name": "all"})
            assert set(before) <= set(reply["restarted"])
            await _wait(lambda: all(sup.runs[n].started_at > t for n, t in before.items()))
            assert set(stopped_at) == set(before)
            assert min(sup.runs[n].started_at for n in before) >= max(stopped_at.values())
            bad = await asyncio.to_thread(
                control.request, tmp_path, {"cmd": "restart", "name": "future-interface"}
            )
            assert bad["ok"] is False and "not installed" in bad["error"]
            status = await asyncio.to_thread(control.request, tmp_path, {"cmd": "status"})
            assert {s["name"] for s in status["services"]} == {s.name for s in SPECS}
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


def test_control_channel_refuses_what_its_table_does_not_declare(tmp_path: Path) -> None:
    async def scenario() -> dict[bytes, dict[str, object]]:
        runtime = Runtime(data_dir=str(tmp_path), mqtt_port=0, rest_port=0, web_port=0)
        sup = Supervisor(runtime, SERVICES, only=set())
        await sup.start()
        lines = [b'{"cmd": "nope"}', b'{"cmd": "restart"}', b'{"cmd": "restart", "name": "x", "extra": 1}',
                 b'{"cmd": "status", "x": 1}', b"[1]", b'{"cmd": "status"}']  # fmt: skip
        return {line: await control.answer(sup, line) for line in lines}

    replies = asyncio.run(scenario())
    assert replies[b'{"cmd": "nope"}'] == {"ok": False, "error": "unknown command nope"}
    assert replies[b'{"cmd": "restart"}']["error"] == "restart: name: required"
    assert replies[b'{"cmd": "restart", "name": "x", "extra": 1}']["error"] == "restart: extra: unknown field"
    assert replies[b'{"cmd": "status", "x": 1}']["ok"] is False
    assert replies[b"[1]"]["ok"] is False
    assert replies[b'{"cmd": "status"}']["ok"] is True
    assert set(control.COMMANDS.names()) == {"status", "restart"}


# A slot's head reduced to its service entry point: it records that it ran, then idles like a service.
FAKE_SERVICE = """import os, sys, time
open(os.path.join(os.path.dirname(__file__), "ran-" + sys.argv[1]), "w").close()
time.sleep(3600)
"""


def test_a_restart_of_all_runs_the_services_from_the_active_slot(tmp_path: Path) -> None:
    pkg = slots.site(tmp_path, "a") / "chargepark"
    (pkg / "services").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "services" / "__init__.py").write_text("")
    (pkg / "services" / "__main__.py").write_text(FAKE_SERVICE)
    marker = pkg / "services" / "ran-system-monitor"

    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path)
        sup = Supervisor(rt, SERVICES, only={"system-monitor"})
        run = sup.runs["system-monitor"]
        await sup.start()
        try:
            await _wait(lambda: run.state == "running" and run.proc is not None)
            slots.set_active(tmp_path, "a")  # an update switched the slot
            first = run.proc
            await sup.restart("system-monitor")  # one service (or a crash): still from where the head started
            await _wait(lambda: run.proc is not first and run.state == "running")
            await asyncio.sleep(1.0)
            assert not marker.exists()
            await sup.restart("all")  # the reboot: every service from the active slot
            await _wait(marker.exists)
        finally:
            await sup.stop()
            await stop(broker)

    asyncio.run(scenario())


def test_a_head_switched_to_client_keeps_only_the_clients_services(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path)
        rt.bus = {"station": "HEAD0001"}
        sup = Supervisor(rt, SERVICES, only={"system-monitor", "jupicore"})
        await sup.start()
        rows = lambda: {r["name"]: r for r in sup.status()}  # noqa: E731
        try:
            await _wait(lambda: rows()["jupicore"]["state"] == "running" and rows()["system-monitor"]["pid"])
            jupicore = sup.runs["jupicore"].proc
            store = ConfigStore.open(rt.config_path)
            store.put("station", {"name": "Head", "role": "client", "address": "192.168.4.5"}, "HEAD0001")
            store.close()
            assert await sup.restart("all") == ["system-monitor", "jupicore"]  # the Module Switch's restart
            await _wait(lambda: rows()["jupicore"]["state"] == "disabled")
            assert jupicore is not None and jupicore.returncode is not None
            await _wait(lambda: rows()["system-monitor"]["state"] == "running")
            assert "jupicore" not in CLIENT_SERVICES and "system-monitor" in CLIENT_SERVICES
            with pytest.raises(ValueError, match="disabled"):
                await sup.restart("jupicore")
        finally:
            await sup.stop()
            await stop(broker)
        assert rows()["jupicore"]["state"] == "disabled"

    asyncio.run(scenario())
