"""The supervisor: each service its own process, watched, restarted with backoff, reported.

A crash in one service only restarts that service; the IO modules keep their points safe regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from chargepark import eventwait, topics
from chargepark.bundle import slots
from chargepark.config.store import ConfigStore
from chargepark.park import role
from chargepark.procs import start_child, stop_child, tail
from chargepark.runtime import ENV, Runtime
from chargepark.services.spec import ServiceSpec

log = logging.getLogger("chargepark.supervisor")

# The supervisor declares itself like a service: docs/services.md and its MQTT link read this.
SPEC = ServiceSpec(
    name="supervisor",
    title="Supervisor",
    summary="`chargepark run`: starts the broker and the services, restarts, reports",
    reads=("system",),
    publishes=(topics.SERVICES, topics.CONFIG_VERSION),
    subscribes=(topics.CHARX_DATA,),  # the live park table
    client_id="chargepark-supervisor",
    ports=("mqtt_port",),  # the broker it starts
)

# What a client of a client/server park runs (manual "System Control/Module Switch": some services are
# shut down, the server takes over the rest); the station area's role of this head decides.
CLIENT_SERVICES = ("system-monitor", "controller-agent", "web-server")
CALIBRATION_LAW = "calibration-law"  # runs only while the system area's calibration_law is on (manual)
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
STABLE_S = 10.0  # a run this long forgives the earlier failures


def backoff_delay(failures: int) -> float:
    """Delay before the next start after `failures` consecutive quick deaths (1, 2, ...)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, failures - 1)))


@dataclass
class ServiceRun:
    spec: ServiceSpec
    state: str = "stopped"
    proc: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0
    last_error: str = ""
    next_start: float = 0.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def report(self, now: float) -> dict[str, object]:
        running = self.state == "running" and self.proc is not None
        return {
            "name": self.spec.name,
            "title": self.spec.title,
            "state": self.state,
            "version": self.spec.version if self.spec.installed else "-",
            "pid": self.proc.pid if running and self.proc else None,
            "uptime_s": round(now - self.started_at, 1) if running else 0,
            "restarts": self.restarts,
            "last_error": self.last_error if self.spec.installed else self.spec.pending,
        }


class Supervisor:
    def __init__(
        self,
        runtime: Runtime,
        specs: tuple[ServiceSpec, ...],
        only: set[str] | None = None,
        on_restart_all: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.runtime = runtime
        self.on_restart_all = on_restart_all  # between stopping and starting every service (the broker)
        self.runs = {s.name: ServiceRun(s) for s in specs}
        self.only = only
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.env = self._slot_env()
        self.client = self._is_client()
        self.calibration_law = self._calibration_law()

    def _is_client(self) -> bool:
        """This head's station is a client (the role in its station record, read like the slot)."""
        return role.station_role(self.runtime) == role.CLIENT

    def _calibration_law(self) -> bool:
        """The system area's calibration_law as at this start (switching it on restarts the head)."""
        path = self.runtime.config_path
        if not path.exists():
            return False
        store = ConfigStore.open(path)
        try:
            return bool((store.get("system") or {}).get("calibration_law", False))
        finally:
            store.close()

    def _runs_here(self, run: ServiceRun) -> bool:
        if run.spec.name == CALIBRATION_LAW and not self.calibration_law:
            return False
        return not self.client or run.spec.name in CLIENT_SERVICES

    def _slot_env(self) -> dict[str, str]:
        """The services run from the active A/B slot as the head's start or the last restart of all found
        it (the WBM's reboot after an update runs the new head; a crash restart meanwhile does not)."""
        data = Path(self.runtime.data_dir)
        slot = slots.active(data)
        if slot is not None and slots.site(data, slot).is_dir():
            return slots.slot_env(data, slot)
        return dict(os.environ)

    def _log_path(self, name: str) -> Path:
        return Path(self.runtime.data_dir) / "logs" / (name + ".log")

    async def start(self) -> None:
        for run in self.runs.values():
            if not run.spec.installed:
                run.state = "not installed"
            else:
                self._start_watch(run)

    def _start_watch(self, run: ServiceRun) -> None:
        if (self.only is not None and run.spec.name not in self.only) or not self._runs_here(run):
            run.state = "disabled"
        else:
            run.state = "starting"
            self._tasks.append(asyncio.create_task(self._watch(run), name="watch-" + run.spec.name))

    async def _spawn(self, run: ServiceRun) -> asyncio.subprocess.Process:
        env = dict(self.env)
        env[ENV] = str(self.runtime.path)
        env["PYTHONUNBUFFERED"] = "1"
        run.state = "starting"
        proc = await start_child(
            [sys.executable, "-m", "chargepark.services", run.spec.name], self._log_path(run.spec.name), env
        )
        run.proc = proc
        run.started_at = time.monotonic()
        run.state = "running"
        log.info("%s started (pid %d)", run.spec.name, proc.pid)
        return proc

    async def _watch(self, run: ServiceRun) -> None:
        """Keeps one service alive until the supervisor stops."""
        first = True
        while not self._stopping and self._runs_here(run):  # a head that became a client: this one stays off
            if not first:
                run.restarts += 1
            first = False
            proc = await self._spawn(run)
            code = await proc.wait()
            if self._stopping:
                break
            ran = time.monotonic() - run.started_at
            if run.state == "restarting":  # asked for: no failure, no delay once the others stopped too
                await run.wake.wait()
                continue
            run.failures = 1 if ran >= STABLE_S else run.failures + 1
            last = tail(self._log_path(run.spec.name))
            run.last_error = "exit %d after %.1f s%s" % (code, ran, (": " + last) if last else "")
            delay = backoff_delay(run.failures)
            run.state = "backoff"
            run.next_start = time.monotonic() + delay
            log.warning("%s died (%s); restart in %.1f s", run.spec.name, run.last_error, delay)
            run.wake.clear()
            with contextlib.suppress(TimeoutError):
                await eventwait.within(run.wake, delay)  # a restart request cuts the wait short
        run.state = "stopped" if self._runs_here(run) else "disabled"

    async def restart(self, name: str) -> list[str]:
        """Restarts one service ("all" for every running one: the WBM's reboot); returns the names
        restarted. All of them stop together before any starts again, so no service sees the others
        half restarted."""
        names = [
            n
            for n, r in self.runs.items()
            if r.spec.installed and r.state not in ("disabled", "not installed")
        ]
        if name != "all":
            if name not in self.runs:
                raise KeyError("no service %r" % name)
            if name not in names:
                raise ValueError("service %r is %s" % (name, self.runs[name].state))
            names = [name]
        if name == "all":
            self.env, self.client = self._slot_env(), self._is_client()
            self.calibration_law = self._calibration_law()
        stopping = []
        for n in names:
            run = self.runs[n]
            if run.state == "backoff":
                run.wake.set()
            elif run.proc is not None and run.proc.returncode is None:
                run.state = "restarting"
                run.wake.clear()
                stopping.append(run)
        await asyncio.gather(*(stop_child(r.proc) for r in stopping if r.proc is not None))
        if name == "all" and self.on_restart_all is not None:
            try:
                await self.on_restart_all()
            except (OSError, RuntimeError) as exc:  # the services start again regardless
                log.error("restart of every service: the broker did not start again: %s", exc)
        for r in stopping:
            r.wake.set()
        if name == "all":  # switched on since the start (the Calibration Law Agent): it starts now
            for r in self.runs.values():
                if r.spec.installed and r.state == "disabled":
                    self._start_watch(r)
                    if r.state != "disabled":
                        names.append(r.spec.name)
        return names

    def status(self) -> list[dict[str, object]]:
        now = time.monotonic()
        return [r.report(now) for r in self.runs.values()]

    async def stop(self) -> None:
        self._stopping = True
        procs = [r.proc for r in self.runs.values() if r.proc is not None]
        for r in self.runs.values():
            r.wake.set()
        await asyncio.gather(*(stop_child(p) for p in procs))
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for r in self.runs.values():
            if r.state not in ("not installed", "disabled"):
                r.state = "stopped"
