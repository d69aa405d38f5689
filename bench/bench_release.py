"""Benchmark: a card presented at a point's reader -> the contactor closed, on a simulated park, with the
head's decision time apart; and the whitelist lookup with 500 entries.

Usage: bench/bench_release.py --out out/bench/bench_release.json [--quick]. One `chargepark run --sim 1
--no-traffic` with the point in release mode whitelist and 500 entries on the whitelist; the vehicle
waits in state B. Each presentation: the card at the simulated reader (sim-control `rfid`), the module's
driver reads it from the reader's bytes, the agent reports `rfid_read`, jupicore decides and sends `rfid`,
the module releases, the EV closes S2 and the module the contactor. Then the same card ends the session
(the next one needs a new release), the plug goes out and in again. Times are taken from the broker
(event seen -> command seen: the head's decision incl. its MQTT hops) and from the module's sim-control
(presented -> contactor commanded closed). The in-process figures time `whitelist.Index` and the
Decider's whole decision on a real configuration store, beside a linear scan of the 500 entries.
Targets (bench/targets.py): card -> contactor p99 < 1.5 s, head decision p99 < 50 ms, lookup p99 < 20 us.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from figures import figure, write

UID = "CPSIM0001"
CARD = "04A1B2C3"
ENTRIES = 500


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Broker:
    """Times when the agent reports a card and when the head answers it (paho on the park's broker)."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as paho
        from chargepark import topics
        from paho.mqtt.enums import CallbackAPIVersion

        self.read_at: list[float] = []
        self.answer_at: list[float] = []
        self.cond = threading.Condition()
        event, command = topics.fill(topics.AGENT_EVENT, uid=UID), topics.fill(topics.AGENT_COMMAND, uid=UID)

        def on_message(_c: Any, _u: Any, m: Any) -> None:
            now = time.perf_counter()
            msg = json.loads(m.payload)
            with self.cond:
                if m.topic == event and msg.get("event") == "rfid_read":
                    self.read_at.append(now)
                elif m.topic == command and msg.get("name") == "rfid":
                    self.answer_at.append(now)
                self.cond.notify_all()

        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-release")
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(event, 1), (command, 1)])
        self.client.loop_start()


def park_run(presentations: int) -> dict[str, Any]:
    from chargepark import simctl
    from chargepark.runtime import runtime_path

    data = Path(tempfile.mkdtemp(prefix="bench-release-")) / "data"
    data.mkdir()
    head = subprocess.Popen(
        [sys.executable, "-c", "import sys; from chargepark.cli import main; sys.exit(main())", "run", "--sim", "1", "--no-traffic", "--data", str(data),
         "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240  # a loaded machine: the modules come online late
        while not runtime_path(data).exists():
            if time.monotonic() > deadline or head.poll() is not None:
                raise RuntimeError("the simulated park did not start")
            time.sleep(0.2)
        rt = json.loads(runtime_path(data).read_text())

        def rest(method: str, path: str, body: Any) -> int:
            req = urllib.request.Request("http://127.0.0.1:%d/api/v1.0%s" % (rt["rest_port"], path),
                                         json.dumps(body).encode(), method=method,
                                         headers={"content-type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status

        while True:
            try:
                rest("PUT", "/charging-points/%s/config" % UID, {"release_charging_mode": "whitelist"})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        for n in range(ENTRIES - 1):
            rest("POST", "/rfid-whitelist", {"uid": "%08X" % (0x10000000 + n)})
        rest("POST", "/rfid-whitelist", {"uid": CARD})
        endpoint = simctl.load_endpoints(data)[1]["sim_control"]
        broker = Broker(rt["mqtt_port"])

        def sim(cmd: str, **kw: Any) -> dict[str, Any]:
            return simctl.request(endpoint, {"cmd": cmd, **kw})

        def point() -> dict[str, Any]:
            p: dict[str, Any] = sim("state")["point"]
            return p

        def wait(what: str, done: Any, timeout: float = 20.0) -> float:
            end = time.perf_counter() + timeout
            while time.perf_counter() < end:
                if done(point()):
                    return time.perf_counter()
                time.sleep(0.002)
            raise TimeoutError(what)

        total, decision, to_head, after_head = [], [], [], []
        for _ in range(presentations):
            sim("plug")
            sim("charge")
            wait(
                "the EV waits for its release",
                lambda p: p["status_name"] == "SuspendedEVSE" and not p["release"],
            )
            reads, answers = len(broker.read_at), len(broker.answer_at)
            t0 = time.perf_counter()
            sim("rfid", tag=CARD, hold_ms=300)
            closed = wait("contactor closed", lambda p: p["contactor"] == 1)
            with broker.cond:
                broker.cond.wait_for(lambda n=answers: len(broker.answer_at) > n, 5)
            read, answer = broker.read_at[reads], broker.answer_at[answers]
            total.append(closed - t0)
            to_head.append(read - t0)
            decision.append(answer - read)
            after_head.append(closed - answer)
            time.sleep(0.4)  # the card left the field
            sim("rfid", tag=CARD, hold_ms=300)  # the same card again ends the session
            wait("session ended", lambda p: p["contactor"] == 0 and not p["release"])
            sim("unplug")
            wait("unplugged", lambda p: p["status_name"] == "Available")
        broker.client.loop_stop()
        ms = lambda xs, q: round(_pct(xs, q) * 1000, 1)  # noqa: E731
        return {
            "presentations": presentations,
            "card_to_contactor_p50_ms": ms(total, 0.5), "card_to_contactor_p99_ms": ms(total, 0.99),
            "card_to_event_p50_ms": ms(to_head, 0.5), "head_decision_p50_ms": ms(decision, 0.5),
            "head_decision_p99_ms": ms(decision, 0.99), "answer_to_contactor_p50_ms": ms(after_head, 0.5),
            "answer_to_contactor_p99_ms": ms(after_head, 0.99),
        }  # fmt: skip
    finally:
        head.terminate()
        head.wait(60)


def lookups(rounds: int) -> dict[str, Any]:
    from chargepark.config.store import ConfigStore
    from chargepark.release import rfid, whitelist

    entries = {"%08X" % (0x10000000 + n): {"type": "rfid", "name": "", "allow_charging": True,
                                            "expiry_utc": "2099-12-31T23:59:59Z"} for n in range(ENTRIES)}  # fmt: skip
    tags = list(entries)
    index = whitelist.Index(entries)
    now = time.time()

    def timed(fn: Any) -> list[float]:
        out = []
        for i in range(rounds):
            tag = tags[(i * 7919) % ENTRIES]
            t = time.perf_counter()
            fn(tag)
            out.append(time.perf_counter() - t)
        return out

    indexed = timed(lambda tag: index.refusal(tag, now))
    scanned = timed(
        lambda tag: whitelist.refusal(next(e for k, e in entries.items() if k.upper() == tag), now)
    )

    class Ops:
        async def command(self, uid: str, name: str, value: Any = None) -> None: ...

    with tempfile.TemporaryDirectory() as tmp:
        store = ConfigStore.open(Path(tmp) / "config.db")
        store.put("chargepoint", {"name": "P1", "release_mode": "whitelist"}, UID)
        store.apply([("whitelist", k, v) for k, v in entries.items()])
        d = rfid.Decider(store, Ops(), lambda uid: {})

        async def decide() -> None:
            for i in range(rounds // 10):
                await d.card(UID, tags[(i * 7919) % ENTRIES])

        asyncio.run(decide())
        store.close()
    us = lambda xs, q: round(_pct(xs, q) * 1e6, 2)  # noqa: E731
    return {
        "lookup_p50_us": us(indexed, 0.5), "lookup_p99_us": us(indexed, 0.99),
        "scan_p50_us": us(scanned, 0.5), "scan_p99_us": us(scanned, 0.99),
        "decide_p50_ms": round(_pct(d.decisions_s, 0.5) * 1000, 3),
        "decide_p99_ms": round(_pct(d.decisions_s, 0.99) * 1000, 3), "entries": ENTRIES,
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/bench/bench_release.json")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    look = lookups(2000 if args.quick else 20000)
    park = park_run(10 if args.quick else 100)
    print(json.dumps({**park, **look}, indent=1))
    figures = [
        figure("card_to_contactor_p50_ms", park["card_to_contactor_p50_ms"], "ms",
               park["answer_to_contactor_p50_ms"], "the head's answer -> contactor (the module and the EV)"),
        figure("card_to_contactor_p99_ms", park["card_to_contactor_p99_ms"], "ms",
               park["answer_to_contactor_p99_ms"], "the head's answer -> contactor (the module and the EV)"),
        figure("head_decision_p50_ms", park["head_decision_p50_ms"], "ms",
               look["decide_p50_ms"], "the decision in process (no MQTT)"),
        figure("head_decision_p99_ms", park["head_decision_p99_ms"], "ms",
               look["decide_p99_ms"], "the decision in process (no MQTT)"),
        figure("lookup_p99_us", look["lookup_p99_us"], "us", look["scan_p99_us"],
               "a linear scan of the 500 entries"),
    ]  # fmt: skip
    ok = write(args.out, "bench_release", figures, {**park, **look}, args.quick)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
