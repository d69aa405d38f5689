"""Benchmark: register reads/s and latency of the Modbus server for the block reads existing clients use,
beside a bare pymodbus server with a plain datastore of the same size, measured in the same run.

Usage: bench/bench_modbus.py --out out/bench/bench_modbus.json [--quick]. Each server runs in its own
process (ours: the map over a 3-point live image, the real datastore and write judge; bare: one
`SimData` block of as many registers, no action); one client process runs 16 concurrent pymodbus clients,
each reading in turn the group block (100, 68 registers), a point's configuration block (x100, 24) and its
status and control block (x232, 77), back to back. Both servers run at once and take the load in turns
(4 or 8 slices each, alternating which goes first), so a drifting machine load falls on both alike; each
server's CPU time per request is measured too (less sensitive to other processes than wall time).
Targets (bench/targets.py): ours >= 0.7x the bare server's reads/s, p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chargepark.runtime import free_port
from figures import figure, write

CLIENTS = 16
WINDOWS = ((100, 68), (1100, 24), (1232, 77), (2100, 24), (2232, 77), (3232, 77))


async def _serve(kind: str, port: int) -> None:
    from chargepark.modbus import server as modbus_server
    from chargepark.modbus.control import Control
    from chargepark.modbus.datastore import MapStore, declared
    from chargepark.modbus.view import ParkView
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    size = max(d.address + d.count for d in declared())
    if kind == "bare":
        bare = ModbusTcpServer(
            [SimDevice(1, simdata=[SimData(0, count=size, datatype=DataType.REGISTERS)])],
            address=("127.0.0.1", port),
        )
        await bare.serve_forever()
        return
    view = ParkView()
    view.take_config({}, {"start_addresses": [], "write_clients": []})
    for n in (1, 2, 3):
        view.take_live("CP%d" % n, {"position": n, "iec_state": 5, "u1_mv": 230000, "i1_ma": 16000})

    class NoOps:
        async def command(self, uid: str, name: str, value: Any = None) -> None: ...

        async def restart(self, uid: str) -> None: ...

    async def no_restart() -> None: ...

    await modbus_server.start(MapStore(view, Control(view, NoOps(), no_restart)), "127.0.0.1", port)
    await asyncio.Event().wait()


async def _load(port: int, seconds: float) -> dict[str, Any]:
    """16 clients reading the windows back to back for `seconds`: their latencies and register count."""
    from pymodbus.client import AsyncModbusTcpClient

    latencies: list[float] = []
    registers = 0

    async def one(n: int) -> None:
        nonlocal registers
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
        await client.connect()
        end = time.perf_counter() + seconds
        i = n
        while time.perf_counter() < end:
            address, count = WINDOWS[i % len(WINDOWS)]
            t = time.perf_counter()
            r = await client.read_holding_registers(address, count=count, device_id=1)
            latencies.append(time.perf_counter() - t)
            assert not r.isError(), r
            registers += count
            i += 1
        client.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(CLIENTS)))
    return {"latencies": latencies, "registers": registers, "elapsed": time.perf_counter() - t0}


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(kind: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.1)


def measure(seconds: float, rounds: int) -> dict[str, dict[str, Any]]:
    """Both servers up at once and loaded in turns, `rounds` slices of seconds / rounds each, in the order
    bare, ours, ours, bare, ...: on a shared machine whose load drifts, each gets the same share of it."""
    servers = {kind: _start(kind) for kind in ("bare", "ours")}
    acc: dict[str, dict[str, Any]] = {
        k: {"latencies": [], "registers": 0, "elapsed": 0.0, "cpu_s": 0.0} for k in servers
    }
    try:
        for r in range(rounds):
            for kind in ("bare", "ours") if r % 2 == 0 else ("ours", "bare"):
                server, port = servers[kind]
                cpu0 = _cpu_s(server.pid)
                got = asyncio.run(_load(port, seconds / rounds))
                a = acc[kind]
                a["cpu_s"] += _cpu_s(server.pid) - cpu0
                a["latencies"] += got["latencies"]
                a["registers"] += got["registers"]
                a["elapsed"] += got["elapsed"]
    finally:
        for server, _port in servers.values():
            server.terminate()
            server.wait(10)
    out = {}
    for kind, a in acc.items():
        lat = sorted(a["latencies"])

        def p(q: float, lat: list[float] = lat) -> float:
            return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

        out[kind] = {
            "requests": len(lat),
            "registers_per_s": a["registers"] / a["elapsed"],
            "requests_per_s": len(lat) / a["elapsed"],
            "p50_ms": p(0.50),
            "p99_ms": p(0.99),
            "max_ms": lat[-1] * 1000,
            "server_cpu_us_per_request": a["cpu_s"] * 1e6 / len(lat),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--serve", choices=("ours", "bare"))
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.port))
        return 0
    seconds, rounds = (4.0, 4) if args.quick else (16.0, 8)
    both = measure(seconds, rounds)
    bare, ours = both["bare"], both["ours"]
    for name, r in (("bare", bare), ("ours", ours)):
        print(
            "%-4s %8.0f registers/s %6.0f requests/s p50 %5.2f ms p99 %5.2f ms max %6.2f ms, server CPU %4.0f us"
            " a request (%d clients)"
            % (
                name,
                r["registers_per_s"],
                r["requests_per_s"],
                r["p50_ms"],
                r["p99_ms"],
                r["max_ms"],
                r["server_cpu_us_per_request"],
                CLIENTS,
            )
        )
    ratio = ours["registers_per_s"] / bare["registers_per_s"]
    figures = [
        figure("ours_registers_per_s", round(ours["registers_per_s"]), "registers/s",
               round(bare["registers_per_s"]), "bare pymodbus server, same size"),
        figure("ours_vs_bare_reads", round(ratio, 3), "x", 1.0, "bare pymodbus server"),
        figure("ours_p99_ms", round(ours["p99_ms"], 2), "ms", round(bare["p99_ms"], 2), "bare pymodbus server"),
    ]  # fmt: skip
    figures.append(
        figure("ours_server_cpu_us_per_request", round(ours["server_cpu_us_per_request"], 1), "us",
               round(bare["server_cpu_us_per_request"], 1), "bare pymodbus server")
    )  # fmt: skip
    ok = write(args.out, "bench_modbus", figures, {"ours": ours, "bare": bare, "clients": CLIENTS,
                                                   "seconds": seconds, "rounds": rounds}, args.quick)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
