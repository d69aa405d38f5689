"""REST benchmark: the head's two HTTP apps under load, 250 simulated points live.

    python bench/bench_rest.py --out out/bench/bench_rest.json [--quick]

The head is a real `chargepark run` (jupicore, web-server, system-monitor); the 250 points are the
in-process simulated modules of bench_head (firmware, plant, sim HAL), their live state delivered as the
controller agents do, every point twice a second. Debian's `wrk` is the load generator (a Python client
saturates first on 2 cores): 32 keep-alive connections, 16 on JupiCore's
`/charging-controllers/{uid}/data?param_list=...` and 16 on the WBM's `/api/wbm/live/{uid}` as a logged-in
user (session cookie and CSRF header), rotating over every point (bench/rest_mix.lua). Reported: req/s of
both together, p50/p99 (the worse of the two apps), and the points' freshness on the WBM side while the load
runs (measured as bench_head does). The baseline, in the same run with the park running, is a bare
uvicorn route (an ASGI callable answering a constant JSON body, same uvicorn settings) driven the same way:
the ratio is the cost of our code (FastAPI, the guard, the data hub's views).
Targets (bench/targets.py): >= 2000 req/s, p99 < 50 ms, every point fresh within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
from bench_head import (
    HEAD_SERVICES,
    PER_STATION,
    POINTS,
    POLL_S,
    Watcher,
    cpu_by_process,
    head_stats,
    make_boards,
    rss_tree_kb,
)
from chargepark import topics
from figures import figure, write
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

HERE = Path(__file__).resolve().parent
LUA = HERE / "rest_mix.lua"
CONNECTIONS = 32  # split evenly over the two apps
TICK_MS = 100  # the boards step as in bench_head


# ---- the baseline: a bare uvicorn route -------------------------------------------------------------


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b'{"energy":{"energy_real_power":{"value":1234,"unit":"Wh"}},"status":"Charging"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def serve_bare() -> None:
    """`--bare`: the baseline server on chargepark.asgi's uvicorn settings; prints its port."""
    from chargepark import asgi

    async def main() -> None:
        served = await asgi.serve(bare_app, "127.0.0.1", 0)
        print(served.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# ---- the park: 250 simulated modules publishing their live state --------------------------------------


class Park(threading.Thread):
    """bench_head's drive loop on a thread: boards follow the wall clock, each point is published every
    POLL_S; while `recording`, the WBM-side ages of every point are sampled."""

    def __init__(self, mqtt_port: int, n: int) -> None:
        super().__init__(daemon=True)
        self.boards = make_boards(n)
        self.uids = [uid for uid, _ in self.boards]
        self.agent = Client(CallbackAPIVersion.VERSION2, client_id="bench-agents")
        self.agent.max_queued_messages_set(0)
        self.agent.connect("127.0.0.1", mqtt_port)
        self.agent.loop_start()
        self.watcher = Watcher(mqtt_port)
        self.recording: list[float] | None = None
        self.late_max = 0.0  # how far the park itself fell behind its poll plan (a starved simulation)
        self.sent = 0  # samples published
        self.stop = threading.Event()

    def run(self) -> None:
        n, start, sim_ms = len(self.boards), time.monotonic(), 0
        next_poll = [start + POLL_S * i / n for i in range(n)]
        while not self.stop.is_set():
            now = time.monotonic()
            while sim_ms < (now - start) * 1000:
                sim_ms += TICK_MS
                for _, sb in self.boards:
                    sb.tick(sim_ms)
            wall = time.time()
            for i, (uid, sb) in enumerate(self.boards):
                if now >= next_poll[i]:
                    if self.recording is not None:
                        self.late_max = max(self.late_max, now - next_poll[i])
                    next_poll[i] += POLL_S
                    msg = dict(
                        sb.point.snapshot(), uid=uid, position=i % PER_STATION + 1, online=True, t=wall
                    )
                    self.agent.publish(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(msg))
                    self.sent += 1
            if self.recording is not None and now - start > 2.0:
                self.recording += self.watcher.ages(time.time(), self.uids)
            time.sleep(0.02)

    def ages(self, seconds: float) -> list[float]:
        self.recording, self.late_max = [], 0.0
        time.sleep(seconds)
        while not self.recording and self.is_alive():  # a starved park records its first round late
            time.sleep(0.05)
        ages, self.recording = self.recording, None
        return sorted(ages)

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        self.agent.loop_stop()
        self.watcher.close()


def cpu_now(head: int) -> dict[str, float]:
    """CPU seconds so far: each process of the head, the park (this process), the load generators (wrk,
    once reaped) and the whole machine (every core busy, not idle or waiting for I/O)."""
    cpu = cpu_by_process(head)
    own, children = os.times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu["park (this process)"] = own.user + own.system
    cpu["wrk"] = children.ru_utime + children.ru_stime
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    cpu["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return cpu


# ---- load ---------------------------------------------------------------------------------------------


def wrk(url: str, seconds: float, connections: int, *args: str) -> subprocess.Popen[str]:
    cmd = ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s", "-s", str(LUA), url,
           "--", *args]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out = proc.communicate(timeout=120)[0]
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError("wrk printed no result:\n%s" % out)
    r: dict[str, Any] = json.loads(line[4:])
    return r


def load(data_url: str, wbm_url: str, seconds: float, uids: str, cookie: str, csrf: str) -> dict[str, Any]:
    """Both apps at once, half the connections each; the total rate and the worse latencies."""
    half = CONNECTIONS // 2
    runs = [
        wrk(data_url, seconds, half, "data", uids),
        wrk(wbm_url, seconds, half, "wbm", uids, cookie, csrf),
    ]
    data, wbm = (result(p) for p in runs)
    both = (data, wbm)
    return {
        "req_per_s": round(sum(r["requests"] / r["seconds"] for r in both), 0),
        "p50_ms": max(r["p50_us"] for r in both) / 1000,
        "p99_ms": max(r["p99_us"] for r in both) / 1000,
        "errors": sum(r["errors"] + r["non2xx"] for r in both),
        "data": data,
        "wbm": wbm,
    }


# ---- the head -----------------------------------------------------------------------------------------


def start_head(data: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    head = subprocess.Popen(
        [sys.executable, "-c", "from chargepark.cli import main; main()", "run", "--data", str(data),
         "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0", "--services", HEAD_SERVICES, "--no-table"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    runtime = data / "run" / "runtime.json"
    deadline = time.monotonic() + 60
    while not runtime.exists():
        if time.monotonic() > deadline or head.poll() is not None:
            raise RuntimeError("the head did not start")
        time.sleep(0.1)
    return head, json.loads(runtime.read_text())


def user_session(web: str) -> tuple[str, str]:
    """The user's session cookie and CSRF token (the factory password changed first)."""
    with httpx.Client(base_url=web, timeout=10) as c:
        for _ in range(100):
            try:
                c.get("/api/park")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        first = c.post("/api/wbm/auth/login", json={"login": "user", "password": "user"})
        c.headers["X-CSRF-Token"] = first.json()["csrf_token"]
        new = {"old_password": "user", "new_password": "user-secret-2030"}
        c.post("/api/wbm/auth/password", json=new).raise_for_status()
        r = c.post("/api/wbm/auth/login", json={"login": "user", "password": "user-secret-2030"})
        r.raise_for_status()
        return c.cookies["chargepark_session"], r.json()["csrf_token"]


def until_live(web: str, cookie: str, uids: list[str]) -> None:
    """Every point is in the WBM's live view and JupiCore's data hub."""
    with httpx.Client(base_url=web, timeout=10, cookies={"chargepark_session": cookie}) as c:
        deadline = time.monotonic() + 60
        while len(c.get("/api/wbm/live").json().get("points", [])) < len(uids):
            if time.monotonic() > deadline:
                raise RuntimeError("not every point reached the WBM's live view")
            time.sleep(0.5)


def run(seconds: float) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        head, rt = start_head(Path(tmp))
        bare = subprocess.Popen([sys.executable, __file__, "--bare"], stdout=subprocess.PIPE, text=True)
        park: Park | None = None
        try:
            assert bare.stdout is not None
            bare_url = "http://127.0.0.1:%s" % bare.stdout.readline().strip()
            rest = "http://127.0.0.1:%d" % rt["rest_port"]
            web = "http://127.0.0.1:%d" % rt["web_port"]
            cookie, csrf = user_session(web)
            park = Park(rt["mqtt_port"], POINTS)
            park.start()
            until_live(web, cookie, park.uids)
            idle0, idle_samples0 = cpu_now(head.pid), head_stats(rt["rest_port"])["samples"]
            idle_ages = park.ages(3.0)
            idle1, idle_samples1 = cpu_now(head.pid), head_stats(rt["rest_port"])["samples"]
            idle_late = park.late_max
            # the cost of the park's MQTT traffic alone: CPU per live sample in each service that takes it
            per_sample = {name: round(1e6 * (idle1[name] - idle0.get(name, 0.0)) / max(1, idle_samples1 - idle_samples0))
                          for name in ("jupicore", "web-server", "mosquitto")}  # fmt: skip
            uids = ",".join(park.uids)
            recorder = threading.Thread(target=lambda: ages.extend(park.ages(seconds - 1)) if park else None)
            ages: list[float] = []
            recorder.start()
            stats0, t0, sent0 = head_stats(rt["rest_port"]), time.monotonic(), park.sent
            cpu0 = cpu_now(head.pid)
            ours = load(rest, web, seconds, uids, cookie, csrf)
            cpu1 = cpu_now(head.pid)
            stats1, t1, sent1 = head_stats(rt["rest_port"]), time.monotonic(), park.sent
            cpu = {name: cpu1[name] - cpu0.get(name, 0.0) for name in cpu1}
            cpu["the rest of the machine"] = cpu.pop("machine") - sum(cpu.values())
            cpu_pct = {
                name: round(100 * s / (t1 - t0)) for name, s in sorted(cpu.items(), key=lambda kv: -kv[1])
            }
            recorder.join()
            late = park.late_max
            rss = rss_tree_kb(head.pid)
            baseline = load(bare_url, bare_url, seconds, uids, cookie, csrf)
            return {
                "points": POINTS,
                "connections": CONNECTIONS,
                "seconds": seconds,
                "ours": ours,
                "bare_uvicorn": baseline,
                "fresh_max_s": round(ages[-1], 3),
                "fresh_p99_s": round(ages[int(len(ages) * 0.99)], 3),
                "idle_fresh_max_s": round(idle_ages[-1], 3),
                # the data hub's intake under the load (the park sends 2 samples/s per point)
                "hub_updates_per_s": round((stats1["samples"] - stats0["samples"]) / (t1 - t0), 1),
                "park_sent_per_s": round((sent1 - sent0) / (t1 - t0), 1),  # of the 500 it should
                "hub_messages_per_sample": round(
                    (stats1["published"] - stats0["published"])
                    / max(1, stats1["samples"] - stats0["samples"]),
                    2,
                ),
                "park_late_max_s": round(late, 3),  # the simulation's own delay, inside fresh_max_s
                "idle_park_late_max_s": round(idle_late, 3),
                "head_rss_mb": round(rss / 1024, 1),
                "cpu_percent_during_load": cpu_pct,
                "idle_cpu_us_per_sample": per_sample,
            }
        finally:
            if park is not None:
                park.close()
            bare.send_signal(signal.SIGTERM)
            bare.wait(10)
            head.send_signal(signal.SIGINT)
            head.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare:
        serve_bare()
        return 0
    if args.out is None:
        ap.error("--out is required")
    if shutil.which("wrk") is None:
        print("bench_rest: wrk is not installed (apt-get install wrk; ./dev.sh setup)", file=sys.stderr)
        return 2
    r = run(5.0 if args.quick else 15.0)
    ours, bare = r["ours"], r["bare_uvicorn"]
    for name, case in (("chargepark (JupiCore + WBM)", ours), ("bare uvicorn route", bare)):
        print("%-28s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  (data %.0f/s, wbm %.0f/s)"
              % (name, case["req_per_s"], case["p50_ms"], case["p99_ms"], case["errors"],
                 case["data"]["requests"] / case["data"]["seconds"],
                 case["wbm"]["requests"] / case["wbm"]["seconds"]))  # fmt: skip
    print("ours vs bare: x%.2f req/s; %d points fresh within %.3f s under load (p99 %.3f s, idle %.3f s); "
          "the simulation itself late by up to %.3f s (idle %.3f s); data hub intake %.0f samples/s of the "
          "%.0f the park sent (%.0f planned)"
          % (ours["req_per_s"] / bare["req_per_s"], r["points"], r["fresh_max_s"], r["fresh_p99_s"],
             r["idle_fresh_max_s"], r["park_late_max_s"], r["idle_park_late_max_s"], r["hub_updates_per_s"],
             r["park_sent_per_s"], r["points"] / POLL_S))  # fmt: skip
    print("CPU during the load, %% of one core (2 cores): %s; without HTTP load, CPU per live sample: %s"
          % (", ".join("%s %d" % kv for kv in r["cpu_percent_during_load"].items()),
             ", ".join("%s %d us" % kv for kv in r["idle_cpu_us_per_sample"].items())))  # fmt: skip
    figures = [
        figure("req_per_s", ours["req_per_s"], "1/s", bare["req_per_s"], "bare uvicorn route"),
        figure("p50_ms", ours["p50_ms"], "ms", bare["p50_ms"], "bare uvicorn route"),
        figure("p99_ms", ours["p99_ms"], "ms", bare["p99_ms"], "bare uvicorn route"),
        figure(
            "ours_vs_bare", round(ours["req_per_s"] / bare["req_per_s"], 3), "x", 1.0, "bare uvicorn route"
        ),
        figure("fresh_max_s", r["fresh_max_s"], "s", r["idle_fresh_max_s"], "without HTTP load"),
        figure("errors", ours["errors"], "", bare["errors"], "bare uvicorn route"),
    ]
    return 0 if write(args.out, "bench_rest", figures, r, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
