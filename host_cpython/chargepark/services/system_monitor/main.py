"""System Monitor service: CPU, memory, disk and load of the head, plus the service health summary."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from chargepark import topics
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service
from chargepark.services.system_monitor.spec import SPEC

PERIOD_S = 5.0


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies since boot from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                out[key] = int(rest.split()[0])
    return out


def sample(
    data_dir: str, prev: tuple[int, int], services: list[dict[str, Any]]
) -> tuple[dict[str, Any], tuple[int, int]]:
    now = cpu_times()
    busy, total = now[0] - prev[0], now[1] - prev[1]
    mem = meminfo()
    disk = os.statvfs(data_dir)
    running = sum(1 for s in services if s.get("state") == "running")
    installed = sum(1 for s in services if s.get("state") != "not installed")
    return {
        "cpu_percent": round(100.0 * busy / total, 1) if total > 0 else 0.0,
        "load": list(os.getloadavg()),
        "mem_total_kb": mem.get("MemTotal", 0),
        "mem_available_kb": mem.get("MemAvailable", 0),
        "disk_total_kb": disk.f_blocks * disk.f_frsize // 1024,
        "disk_free_kb": disk.f_bavail * disk.f_frsize // 1024,
        "services": {"running": running, "installed": installed, "total": len(services)},
    }, now


async def serve(runtime: Runtime) -> None:
    link = await connect(runtime, SPEC)
    services: list[dict[str, Any]] = []

    def on_services(topic: str, raw: bytes) -> None:
        nonlocal services
        try:
            services = list(json.loads(raw))
        except (ValueError, TypeError):
            return

    await link.subscribe(topics.SERVICES, on_services)
    prev = cpu_times()
    try:
        while True:
            await asyncio.sleep(PERIOD_S)
            data, prev = sample(runtime.data_dir, prev, services)
            link.publish(topics.SYSTEM_MONITOR, json.dumps(data))
    finally:
        await link.close()


def main() -> int:
    return run_service(SPEC, serve)
