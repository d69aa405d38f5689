"""Head scale benchmark: a head with 250 charging points (21 stations x 12) stays responsive.

    python bench/bench_head.py --out out/bench/head.json [--quick]

The head is a real `chargepark run` (supervisor, mosquitto, data hub, web server, system monitor) in its
own process tree. The 250 points run the IO-module firmware (`simboard.runner.SimBoard`: plant model,
sim HAL and the real `ChargePoint`) in this one CPython process, and their live state reaches the head
the way the controller agents deliver it: one message per point and poll, every point at least once a
second. Measured: the data hub's update rate (samples/s), its MQTT publish rate (messages/s), the RSS of
the whole head process tree, and the freshness of every point as a WBM-side subscriber sees it (age of
the newest live message, measured from the moment the module state was read); then the data hub's
capacity on a burst of 20000 samples (the headroom above the park's load). The baseline, in the same
run, is a one-station head (12 points): ratios show how the head scales.
Targets (bench/targets.py): every point fresh on the WBM side, and the head's RSS, with 250 points.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "firmware_mpy"), str(ROOT / "host_cpython")]

import chargeschema  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
import pointconfig  # noqa: E402
from chargepark import topics  # noqa: E402
from figures import figure, write  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from simboard.runner import SimBoard  # noqa: E402

STATIONS, PER_STATION = 21, 12
POINTS = 250
POLL_S = 0.5  # every point's state is delivered twice a second (the agent publishes at least every 0.5 s)
BENCH_TICK_MS = 100  # the plant and firmware step in 100 ms ticks here (250 boards share one CPU)
HEAD_SERVICES = "jupicore,web-server,system-monitor"


def rss_tree_kb(pid: int) -> int:
    """VmRSS of pid and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path("/proc/%d/status" % p).read_text()
            total += next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:"))
            for task in Path("/proc/%d/task" % p).iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total


def cpu_tree_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by pid and its descendants."""
    ticks, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path("/proc/%d/stat" % p).read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            for task in Path("/proc/%d/task" % p).iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds so far of pid and each descendant, by name: a service's name, else the program's."""
    out: dict[str, float] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path("/proc/%d/stat" % p).read_text().rsplit(")", 1)[1].split()
            argv = Path("/proc/%d/cmdline" % p).read_bytes().decode(errors="replace").split("\0")
            name = argv[-2] if "chargepark.services" in argv else "head" if p == pid else Path(argv[0]).name
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path("/proc/%d/task" % p).iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError):
            continue
    return out


def make_boards(n: int) -> list[tuple[str, SimBoard]]:
    board = json.loads((ROOT / "boards" / "sim" / "board.json").read_text())
    cfg = chargeschema.defaults(pointconfig.FIELDS)
    cfg.update(release_mode="permanent", meter_type="em24", max_current_a=32)
    boards = []
    for i in range(n):
        sb = SimBoard(board, sim_time=True)
        sb.point.configure(pointconfig.module_part(cfg))
        if i % 5 != 4:  # four in five points have a vehicle, which charges
            sb.handle({"cmd": "plug", "cable_a": 32})
            sb.handle({"cmd": "ev", "phases": 3 if i % 2 else 1, "max_a": 32, "battery_wh": 80000})
            sb.handle({"cmd": "charge"})
        boards.append(("BENCH%02d%02d" % (i // PER_STATION + 1, i % PER_STATION + 1), sb))
    return boards


class Watcher:
    """The WBM's view: the newest live message per point."""

    def __init__(self, port: int) -> None:
        self.measured: dict[str, float] = {}
        self.messages = 0
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-watcher")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.charx("+", "live"))
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, c: paho.Client, u: object, msg: paho.MQTTMessage) -> None:
        live = json.loads(msg.payload)
        with self.lock:
            self.messages += 1
            if live.get("measured"):
                self.measured[live["uid"]] = float(live["measured"])

    def ages(self, now: float, uids: list[str]) -> list[float]:
        with self.lock:
            return [now - self.measured.get(uid, 0.0) for uid in uids]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def rest_get(rest_port: int, path: str) -> Any:
    with urllib.request.urlopen("http://127.0.0.1:%d/api/v1.0%s" % (rest_port, path), timeout=5) as r:
        return json.loads(r.read())


def head_stats(rest_port: int) -> dict[str, Any]:
    stats: dict[str, Any] = rest_get(rest_port, "/jupicore/stats")
    return stats


def run_case(n: int, seconds: float) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        data = Path(tmp)
        head = subprocess.Popen(
            [sys.executable, "-c", "from chargepark.cli import main; main()", "run", "--data", str(data),
             "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0", "--services", HEAD_SERVICES, "--no-table"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            runtime_path = data / "run" / "runtime.json"
            deadline = time.monotonic() + 30
            while not runtime_path.exists():
                if time.monotonic() > deadline or head.poll() is not None:
                    raise RuntimeError("the head did not start")
                time.sleep(0.1)
            rt = json.loads(runtime_path.read_text())
            for _ in range(100):  # the data hub's REST port answers once its service runs
                try:
                    head_stats(rt["rest_port"])
                    break
                except OSError:
                    time.sleep(0.1)
            return drive(n, seconds, rt, head.pid)
        finally:
            head.send_signal(signal.SIGINT)
            head.wait(30)


def drive(n: int, seconds: float, rt: dict[str, Any], head_pid: int) -> dict[str, Any]:
    boards = make_boards(n)
    uids = [uid for uid, _ in boards]
    agent = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-agents")
    agent.max_queued_messages_set(0)
    agent.connect("127.0.0.1", rt["mqtt_port"])
    agent.loop_start()
    watcher = Watcher(rt["mqtt_port"])
    sim_ms = 0
    start = time.monotonic()
    warm = start + min(3.0, seconds / 3)
    stats0: dict[str, Any] | None = None
    t0 = cpu0 = 0.0
    ages: list[float] = []
    lat: list[float] = []  # REST read latency while the park runs (is the head responsive?)
    rss_max = 0
    ticks = 0
    next_poll = [start + POLL_S * i / n for i in range(n)]  # spread over the poll period, as a bus cycle
    while time.monotonic() < start + seconds:
        now = time.monotonic()
        while sim_ms < (now - start) * 1000:  # the firmware and plants keep up with the wall clock
            sim_ms += BENCH_TICK_MS
            for _, sb in boards:
                sb.tick(sim_ms)
            ticks += n
        wall = time.time()
        for i, (uid, sb) in enumerate(boards):
            if now >= next_poll[i]:
                next_poll[i] += POLL_S
                msg = dict(sb.point.snapshot(), uid=uid, position=i % PER_STATION + 1, online=True, t=wall)
                agent.publish(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(msg))
        if now >= warm:
            if stats0 is None:
                stats0, t0 = head_stats(rt["rest_port"]), now
                cpu0 = cpu_tree_s(head_pid)
            ages += watcher.ages(time.time(), uids)
            q0 = time.perf_counter()
            rest_get(
                rt["rest_port"], "/charging-controllers/%s/data?param_list=energy,status" % uids[len(lat) % n]
            )
            lat.append(time.perf_counter() - q0)
            rss_max = max(rss_max, rss_tree_kb(head_pid))
        time.sleep(0.02)
    stats1, t1 = head_stats(rt["rest_port"]), time.monotonic()
    cpu1 = cpu_tree_s(head_pid)
    capacity = saturate(agent, rt["rest_port"], boards)
    agent.loop_stop()
    watcher.close()
    assert stats0 is not None
    dt = t1 - t0
    ages.sort()
    lat.sort()
    charging = sum(1 for _, sb in boards if sb.point.snapshot()["status"] == 2)
    return {
        "points": n,
        "charging": charging,
        "seconds": round(dt, 1),
        "hub_updates_per_s": round((stats1["samples"] - stats0["samples"]) / dt, 1),
        "mqtt_publish_per_s": round((stats1["published"] - stats0["published"]) / dt, 1),
        "head_rss_mb": round(rss_max / 1024, 1),
        "head_cpu_percent": round(100 * (cpu1 - cpu0) / dt, 1),  # of one core
        "fresh_max_s": round(ages[-1], 3),
        "fresh_p99_s": round(ages[int(len(ages) * 0.99)], 3),
        "rest_p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 1),
        "firmware_ticks_per_s": round(ticks / (time.monotonic() - start), 0),
        "rejected": stats1["rejected"],
        "hub_capacity": capacity,
    }


def saturate(
    agent: paho.Client, rest_port: int, boards: list[tuple[str, SimBoard]], burst: int = 20000
) -> float:
    """Headroom: the data hub's rate on a burst of samples sent as fast as possible."""
    msgs = []
    wall = time.time()
    for i, (uid, sb) in enumerate(boards):
        body = json.dumps(
            dict(sb.point.snapshot(), uid=uid, position=i % PER_STATION + 1, online=True, t=wall)
        )
        msgs.append((topics.fill(topics.AGENT_LIVE, uid=uid), body))
    before = head_stats(rest_port)["samples"]
    start = time.monotonic()
    for k in range(burst):
        agent.publish(*msgs[k % len(msgs)])
    # QoS 0: the broker may drop part of a burst; measure until the hub's count stops growing.
    # The first samples may take a while (a link behind on its queue): up to 5 s for them, then 1 s of quiet.
    seen, changed = before, start
    while time.monotonic() - changed < (1.0 if seen > before else 5.0) and seen < before + burst:
        time.sleep(0.05)
        now_seen = head_stats(rest_port)["samples"]
        if now_seen != seen:
            seen, changed = now_seen, time.monotonic()
    return {
        "sent": burst,
        "received": seen - before,
        "updates_per_s": round((seen - before) / max(changed - start, 1e-3), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seconds = 8.0 if args.quick else 20.0
    base = run_case(PER_STATION, seconds / 2)
    full = run_case(POINTS, seconds)
    result = {
        "baseline_one_station": base,
        "park_250": full,
        "ratios": {
            "updates_per_point": round(
                (full["hub_updates_per_s"] / full["points"]) / (base["hub_updates_per_s"] / base["points"]), 2
            ),
            "rss": round(full["head_rss_mb"] / base["head_rss_mb"], 2),
        },
    }
    for name, case in (("12 points (1 station)", base), ("250 points (21 stations)", full)):
        print("%-26s hub %7.1f updates/s  MQTT %7.1f msg/s  head RSS %6.1f MB  CPU %5.1f%%  fresh max %.3f s (p99 %.3f s)  REST p99 %.1f ms"
              % (name, case["hub_updates_per_s"], case["mqtt_publish_per_s"], case["head_rss_mb"],
                 case["head_cpu_percent"], case["fresh_max_s"], case["fresh_p99_s"], case["rest_p99_ms"]))  # fmt: skip
    cap = full["hub_capacity"]
    print("data hub capacity (burst of %d samples, %d arrived): %.0f updates/s = %.1fx the 250-point load"
          % (cap["sent"], cap["received"], cap["updates_per_s"], cap["updates_per_s"] / full["hub_updates_per_s"]))  # fmt: skip
    print(
        "ratios vs one station: updates per point x%.2f, RSS x%.2f"
        % (result["ratios"]["updates_per_point"], result["ratios"]["rss"])
    )
    figures = [
        figure(name, full[name], unit, base[name], "one station")
        for name, unit in (
            ("fresh_max_s", "s"),
            ("head_rss_mb", "MB"),
            ("hub_updates_per_s", "1/s"),
            ("head_cpu_percent", "%"),
            ("rest_p99_ms", "ms"),
        )
    ]
    return 0 if write(args.out, "bench_head", figures, result, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
