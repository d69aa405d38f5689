"""WBM benchmark: the pages in a real browser with 250 charging points (21 stations x 12).

    python bench/bench_wbm.py --out out/bench/wbm.json [--quick]

A real head (`chargepark run`: supervisor, mosquitto, data hub, web server, system monitor) gets the live
state of 250 simulated points the way the controller agents deliver it (the IO-module firmware on
`simboard.runner.SimBoard`, every point twice a second, as bench_head.py). Playwright drives Debian's
chromium, logged in as a user: the first load of the dashboard and of a point's status page (navigation
timing, load event end) and the delay from a point's change (a vehicle plugged in or out on the simulated
board) to the browser showing it on the dashboard. The baseline, in the same run, is a one-station head (12
points). Targets (bench/targets.py): first load < 1 s, change visible < 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "firmware_mpy"), str(ROOT / "host_cpython")]

import chargeschema  # noqa: E402
import httpx  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
import playwright.sync_api as playwright  # noqa: E402
import pointconfig  # noqa: E402
from bench_head import HEAD_SERVICES, PER_STATION, POINTS, POLL_S, make_boards  # noqa: E402
from chargepark import topics  # noqa: E402
from chargepark.auth.guard import COOKIE, CSRF_HEADER  # noqa: E402
from chargepark.config.cli import STORE_FILE  # noqa: E402
from chargepark.config.store import ConfigStore  # noqa: E402
from chargepark.park.model import record_discovery  # noqa: E402
from figures import figure, write  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from simboard.runner import SimBoard  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CONFIG = dict(
    chargeschema.defaults(pointconfig.FIELDS), release_mode="permanent", meter_type="em24", max_current_a=32
)
TICK_MS = 100
PASSWORD = "bench-user-2030"
LOAD_JS = (
    "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"
)


class Feeder(threading.Thread):
    """The controller agents' part: ticks the boards and publishes every point's live state every POLL_S."""

    def __init__(self, mqtt_port: int, boards: list[tuple[str, SimBoard]]) -> None:
        super().__init__(daemon=True)
        self.boards = boards
        self.lock = threading.Lock()  # held while a board changes or is read
        self.stop = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-wbm-agents")
        self.client.connect("127.0.0.1", mqtt_port)
        self.client.loop_start()

    def run(self) -> None:
        start, sim_ms, n = time.monotonic(), 0, len(self.boards)
        next_poll = [start + POLL_S * i / n for i in range(n)]
        while not self.stop.is_set():
            now = time.monotonic()
            with self.lock:
                while sim_ms < (now - start) * 1000:
                    sim_ms += TICK_MS
                    for _, sb in self.boards:
                        sb.tick(sim_ms)
                for i, (uid, sb) in enumerate(self.boards):
                    if now >= next_poll[i]:
                        next_poll[i] += POLL_S
                        msg = dict(sb.point.snapshot(), uid=uid, position=i % PER_STATION + 1, online=True,
                                   t=time.time())  # fmt: skip
                        self.client.publish(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(msg))
            time.sleep(0.01)
        self.client.loop_stop()
        self.client.disconnect()

    def change(self, index: int, cmd: dict[str, Any]) -> None:
        """A vehicle arrives or leaves; the next poll of that point publishes it at once."""
        with self.lock:
            self.boards[index][1].handle(cmd)


def session_cookie(base: str) -> str:
    """A user's session: the factory password changed first, as the WBM requires."""
    with httpx.Client(base_url=base, timeout=10) as c:
        r = c.post("/api/wbm/auth/login", json={"login": "user", "password": "user"})
        r.raise_for_status()
        c.headers[CSRF_HEADER] = r.json()["csrf_token"]
        c.post(
            "/api/wbm/auth/password", json={"old_password": "user", "new_password": PASSWORD}
        ).raise_for_status()
        r = c.post("/api/wbm/auth/login", json={"login": "user", "password": PASSWORD})
        r.raise_for_status()
        return str(r.cookies[COOKIE])


def first_load(page: Any, url: str, ready: str, times: int) -> float:
    """Median load-event time (ms) of `times` fresh navigations that show `ready`."""
    ms = []
    for _ in range(times):
        page.goto(url)
        page.wait_for_selector(ready)
        ms.append(float(page.evaluate(LOAD_JS)))
    ms.sort()
    return ms[len(ms) // 2]


def change_delays(page: Any, base: str, feeder: Feeder, index: int, times: int) -> list[float]:
    """Seconds from a vehicle plugged in (or out) on the board to the dashboard row showing it."""
    uid = feeder.boards[index][0]
    page.goto(base + "/wbm/")
    cell = "tr[data-uid='%s'] td.status" % uid
    page.wait_for_selector(cell)
    delays = []
    for k in range(times):
        plug = k % 2 == 0
        want = "Preparing" if plug else "Available"
        t0 = time.time()
        feeder.change(index, {"cmd": "plug", "cable_a": 32} if plug else {"cmd": "unplug"})
        page.wait_for_function(
            "([sel, want]) => document.querySelector(sel).classList.contains(want)",
            arg=[cell, want],
            timeout=15000,
        )
        delays.append(time.time() - t0)
        time.sleep(0.3)
    return delays


def discovered(data: Path, boards: list[tuple[str, SimBoard]]) -> None:
    """The park model as the controller agents would have recorded it: stations, positions, configurations."""
    store = ConfigStore.open(data / STORE_FILE)
    try:
        for i, (uid, _) in enumerate(boards):
            station = "BENCH%02d" % (i // PER_STATION + 1)
            record_discovery(store, station, i % PER_STATION + 1, uid, "CHARX SEC-3100", "1.0", "bench")
        store.apply([("chargepoint", uid, dict(CONFIG, name=uid)) for uid, _ in boards])
    finally:
        store.close()


def run_case(n: int, loads: int, changes: int) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        data = Path(tmp)
        boards = make_boards(n)
        discovered(data, boards)
        head = subprocess.Popen(
            [sys.executable, "-c", "from chargepark.cli import main; main()", "run", "--data", str(data),
             "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0", "--services", HEAD_SERVICES, "--no-table"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        feeder = None
        try:
            runtime = data / "run" / "runtime.json"
            deadline = time.monotonic() + 30
            while not runtime.exists():
                if time.monotonic() > deadline or head.poll() is not None:
                    raise RuntimeError("the head did not start")
                time.sleep(0.1)
            rt = json.loads(runtime.read_text())
            base = "http://127.0.0.1:%d" % rt["web_port"]
            feeder = Feeder(rt["mqtt_port"], boards)
            feeder.start()
            while True:  # every point known to the web server
                try:
                    if len(httpx.get(base + "/api/park", timeout=5).json().get("points", [])) >= n:
                        break
                except (httpx.TransportError, ValueError):
                    pass
                if time.monotonic() > deadline + 60:
                    raise RuntimeError("the web server never showed every point")
                time.sleep(0.5)
            cookie = session_cookie(base)
            idle = next(i for i in range(n) if i % 5 == 4)  # a point without a vehicle (make_boards)
            with playwright.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                context = browser.new_context()
                context.add_cookies([{"name": COOKIE, "value": cookie, "url": base}])
                page = context.new_page()
                dashboard = first_load(page, base + "/wbm/", "tr[data-uid='%s']" % boards[-1][0], loads)
                status = first_load(page, base + "/wbm/stations/%s" % boards[0][0], "#status-groups", loads)
                delays = sorted(change_delays(page, base, feeder, idle, changes))
                browser.close()
            return {
                "points": n,
                "dashboard_load_ms": round(dashboard, 1),
                "status_load_ms": round(status, 1),
                "change_visible_max_s": round(delays[-1], 3),
                "change_visible_median_s": round(delays[len(delays) // 2], 3),
            }
        finally:
            if feeder is not None:
                feeder.stop.set()
                feeder.join(10)
            head.send_signal(signal.SIGINT)
            head.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    loads, changes = (3, 4) if args.quick else (7, 10)
    base = run_case(PER_STATION, loads, changes)
    full = run_case(POINTS, loads, changes)
    for name, case in (("12 points (1 station)", base), ("250 points (21 stations)", full)):
        print("%-26s dashboard first load %6.1f ms  status page %6.1f ms  change visible median %.3f s, max %.3f s"
              % (name, case["dashboard_load_ms"], case["status_load_ms"], case["change_visible_median_s"],
                 case["change_visible_max_s"]))  # fmt: skip
    figures = [
        figure(name, full[name], unit, base[name], "one station")
        for name, unit in (
            ("dashboard_load_ms", "ms"),
            ("status_load_ms", "ms"),
            ("change_visible_max_s", "s"),
            ("change_visible_median_s", "s"),
        )
    ]
    result = {"baseline_one_station": base, "park_250": full}
    return 0 if write(args.out, "bench_wbm", figures, result, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
