"""OCPP 1.6J benchmark: a park of 250 connectors on one charge box against the loopback central system.

    python bench/bench_ocpp.py --out out/bench/bench_ocpp.json [--quick]

The head is a real `chargepark run --services ocpp16` (supervisor, mosquitto, the OCPP service) in its own
process tree; the backend is the tests' central system on the `ocpp` package (tests/host/ocppkit.py). The
250 points run the IO-module firmware (`simboard.runner.SimBoard`) in this process, in release mode "ocpp"
with connector ids 1..250; this process also plays their controller agent: live samples (every 0.5 s and
at once on a change), events, and the commands the service sends (acknowledged once applied). Four in
five points get a vehicle and a RemoteStartTransaction, and charge in a transaction; the others have a
vehicle plugged in and out in turn (a status change every 0.1 s in the park). MeterValues every 10 s per
connector (MeterValueSampleInterval). Measured:

- the OCPP service's CPU (of one core) and RSS while the park runs;
- the delay from a status change on a module (seen by the agent) to its StatusNotification at the backend;
  baseline: a bare `ocpp` ChargePoint's StatusNotification round trip to the same central system;
- the replay of a 10,000-message offline queue (`<data>/ocpp_queue.db`, filled before the service starts:
  250 transactions of StartTransaction, MeterValues and StopTransaction) once the backend accepts the box,
  messages/s at the backend; baseline: a bare `ocpp` ChargePoint sending MeterValues back to back.
Targets (bench/targets.py): status change p99 < 1 s; replay >= 500 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "firmware_mpy"), str(ROOT / "host_cpython")]

import chargedefs  # noqa: E402
import chargeschema  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
import pointconfig  # noqa: E402
import websockets  # noqa: E402
from bench_head import cpu_tree_s, rss_tree_kb  # noqa: E402
from chargepark import topics  # noqa: E402
from chargepark.config.cli import STORE_FILE  # noqa: E402
from chargepark.config.store import ConfigStore  # noqa: E402
from chargepark.ocpp.txqueue import TxQueue  # noqa: E402
from chargepark.services.ocpp16.main import QUEUE_FILE  # noqa: E402
from figures import figure, write  # noqa: E402
from ocpp.v16 import ChargePoint, call  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from simboard.runner import SimBoard  # noqa: E402

from tests.host.ocppkit import CentralSystem  # noqa: E402

POINTS = 250
POLL_S = 0.5  # every point's live state at least this often (the controller agent's rule)
BENCH_TICK_MS = 100  # the plant and firmware step in 100 ms ticks (250 boards share one CPU)
TOGGLE_S = 0.1  # a status change somewhere in the park this often
SAMPLE_S = 10  # MeterValueSampleInterval
TX_PER_REPLAY = 40  # messages per transaction in the replayed queue: start, 38 meter values, stop


def uid_of(i: int) -> str:
    return "OCPP%03d" % (i + 1)


def charging(i: int) -> bool:
    return i % 5 != 4


def service_pid(head_pid: int, name: str) -> int:
    """The pid of the head's service `name` (a descendant of the supervisor)."""
    todo = [head_pid]
    while todo:
        p = todo.pop()
        try:
            argv = Path("/proc/%d/cmdline" % p).read_bytes().decode(errors="replace").split("\0")
            if "chargepark.services" in argv and name in argv:
                return p
            for task in Path("/proc/%d/task" % p).iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    raise RuntimeError("no %s process under the head" % name)


class Head:
    """`chargepark run --services ocpp16` on a data directory configured for the park and `cs`."""

    def __init__(self, data: Path, cs: CentralSystem, n: int) -> None:
        store = ConfigStore.open(data / STORE_FILE)
        store.put("ocpp", {"BackendURL": cs.url, "MeterValueSampleInterval": SAMPLE_S,
                           "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import"})  # fmt: skip
        for i in range(n):
            store.put(
                "chargepoint",
                {"name": uid_of(i), "release_mode": "ocpp", "ocpp_connector_id": i + 1},
                key=uid_of(i),
            )
        store.close()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from chargepark.cli import main; main()", "run", "--data", str(data),
             "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0", "--services", "ocpp16", "--no-table"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        runtime = data / "run" / "runtime.json"
        deadline = time.monotonic() + 30
        while not runtime.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the head did not start")
            time.sleep(0.1)
        self.mqtt_port = int(json.loads(runtime.read_text())["mqtt_port"])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Agent:
    """The controller agent of the in-process boards: live samples and events out, commands in."""

    def __init__(self, port: int, boards: list[SimBoard]) -> None:
        self.boards = {uid_of(i): sb for i, sb in enumerate(boards)}
        self.commands: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-agent")
        self.client.max_queued_messages_set(0)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.subscription(topics.AGENT_COMMAND))
        self.client.on_message = self._on_command
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_command(self, c: paho.Client, u: object, msg: paho.MQTTMessage) -> None:
        """Acknowledged at once (a bus command takes ~100 ms; this process's loop over 250 boards may take
        longer on a loaded machine, and that is not the service's time), applied at the next round."""
        uid = topics.uid_of(msg.topic, topics.AGENT_COMMAND)
        req = json.loads(msg.payload)
        reply: dict[str, Any] = {"id": req.get("id", ""), "ok": uid in self.boards}
        if uid in self.boards:
            self.commands.put((uid, req))
        else:
            reply.update(kind="unknown", error="no such point")
        self.client.publish(topics.fill(topics.AGENT_COMMAND_RESULT, uid=uid or ""), json.dumps(reply))

    def apply_commands(self) -> None:
        """Each command on its board, as the bus delivers it."""
        while not self.commands.empty():
            uid, req = self.commands.get()
            value = req.get("value")
            self.boards[uid].point.command(req["name"], tuple(value) if isinstance(value, list) else value)

    def live(self, uid: str) -> None:
        msg = dict(self.boards[uid].point.snapshot(), uid=uid, online=True, t=time.time())
        self.client.publish(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(msg))

    def events(self, uid: str) -> None:
        while (ev := self.boards[uid].point.pop_event()) is not None:
            body = json.dumps({"event": chargedefs.EVENTS[ev[0]], "arg": ev[1]})
            self.client.publish(topics.fill(topics.AGENT_EVENT, uid=uid), body)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def make_boards(n: int) -> list[SimBoard]:
    board = json.loads((ROOT / "boards" / "sim" / "board.json").read_text())
    boards = []
    for i in range(n):
        cfg = chargeschema.defaults(pointconfig.FIELDS)
        cfg.update(release_mode="ocpp", ocpp_connector_id=i + 1, meter_type="em24", max_current_a=32)
        sb = SimBoard(board, sim_time=True)
        sb.point.configure(pointconfig.module_part(cfg))
        if charging(i):
            sb.handle({"cmd": "ev", "phases": 3 if i % 2 else 1, "max_a": 32, "battery_wh": 80000})
            sb.handle({"cmd": "plug", "cable_a": 32})
            sb.handle({"cmd": "charge"})
        boards.append(sb)
    return boards


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


# ---- baselines: the bare `ocpp` library on loopback --------------------------------------------------


def bare_client(cs: CentralSystem, statuses: int, meter_values: int) -> dict[str, float]:
    """A bare `ocpp` ChargePoint on its own loop: StatusNotification round trips (p99) and MeterValues
    back to back (messages/s) to the central system."""

    async def run() -> dict[str, float]:
        url = cs.url.rsplit("/", 1)[0] + "/BARE"
        async with websockets.connect(url, subprotocols=[websockets.Subprotocol("ocpp1.6")]) as ws:
            cp = ChargePoint("BARE", ws)
            reader = asyncio.ensure_future(cp.start())
            rtt = []
            for k in range(statuses):
                t0 = time.perf_counter()
                await cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                      status="Available" if k % 2 else "Preparing"))  # fmt: skip
                rtt.append(time.perf_counter() - t0)
            mv = [{"timestamp": "2026-01-01T00:00:00Z", "sampled_value": [{"value": "1"}]}]
            t0 = time.perf_counter()
            for _ in range(meter_values):
                await cp.call(call.MeterValues(connector_id=1, meter_value=mv, transaction_id=1))
            rate = meter_values / (time.perf_counter() - t0)
            reader.cancel()
        return {"status_rtt_p99_s": p(rtt, 0.99), "status_rtt_p50_s": p(rtt, 0.5), "messages_per_s": rate}

    return asyncio.run(run())


# ---- the park ----------------------------------------------------------------------------------------


def run_park(n: int, seconds: float) -> dict[str, Any]:
    cs = CentralSystem(interval=300)
    cs.start()
    bare = bare_client(cs, 500, 500)
    ctx = multiprocessing.get_context("spawn")
    go, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    with TemporaryDirectory() as tmp:
        head = Head(Path(tmp), cs, n)
        # The park runs in a process of its own: on one GIL with the central system, 250 boards ticking
        # would delay the backend's side of every message.
        park = ctx.Process(target=park_worker, args=(head.mqtt_port, n, go, stop, out), daemon=True)
        park.start()
        try:
            return measure(cs, head, n, seconds, go, stop, out) | {"bare": bare}
        finally:
            stop.set()
            park.join(30)
            head.stop()
            cs.close()


def measure(
    cs: CentralSystem, head: Head, n: int, seconds: float, go: Any, stop: Any, out: Any
) -> dict[str, Any]:
    """Every vehicle's transaction started, then `seconds` of the steady state: the service's CPU and
    RSS, the MeterValues rate, and the delay of each status change the park reports."""
    cs.wait("BootNotification", lambda: cs.box is not None and cs.actions("BootNotification"), 120)
    remote_starts(cs, n)
    pid = service_pid(head.proc.pid, "ocpp16")
    cpu0, mv0, t0 = cpu_tree_s(pid), len(cs.actions("MeterValues")), time.monotonic()
    go.set()
    rss_max = 0
    while time.monotonic() < t0 + seconds:
        rss_max = max(rss_max, rss_tree_kb(pid))
        time.sleep(0.5)
    dt = time.monotonic() - t0
    cpu, mv1 = cpu_tree_s(pid) - cpu0, len(cs.actions("MeterValues"))
    time.sleep(2)  # the last changes' notifications in flight
    stop.set()
    changes, ticks_per_s = out.get(timeout=60)
    delays = status_delays(cs, [c for c in changes if c[1] < t0 + seconds])
    return {
        "connectors": n,
        "transactions": len(cs.actions("StartTransaction")),
        "seconds": round(dt, 1),
        "service_cpu_percent": round(100 * cpu / dt, 1),
        "service_rss_mb": round(rss_max / 1024, 1),
        "meter_values_per_s": round((mv1 - mv0) / dt, 1),
        "status_changes": len(changes),
        "status_delays_measured": len(delays),
        "status_p50_s": round(p(delays, 0.5), 3),
        "status_p99_s": round(p(delays, 0.99), 3),
        "status_max_s": round(max(delays), 3) if delays else float("nan"),
        "firmware_ticks_per_s": ticks_per_s,
    }


def park_worker(port: int, n: int, go: Any, stop: Any, out: Any) -> None:
    """The boards and their agent until `stop`; once `go` is set, a vehicle plugged in or out every
    TOGGLE_S. Puts ([(connector, when the agent saw its status change)], firmware ticks/s) on `out`."""
    boards = make_boards(n)
    agent = Agent(port, boards)
    uids = [uid_of(i) for i in range(n)]
    status = [sb.point.snapshot()["status"] for sb in boards]
    changes: list[tuple[int, float]] = []
    sim_ms, ticks = 0, 0
    start = time.monotonic()
    next_poll = [start + POLL_S * i / n for i in range(n)]
    toggles = [i for i in range(n) if not charging(i)]
    next_toggle, k = 0.0, 0
    while not stop.is_set():
        now = time.monotonic()
        agent.apply_commands()
        while sim_ms < (now - start) * 1000:
            sim_ms += BENCH_TICK_MS
            for sb in boards:
                sb.tick(sim_ms)
            ticks += n
        seen = time.monotonic()
        for i, uid in enumerate(uids):
            agent.events(uid)
            s = boards[i].point.snapshot()["status"]
            if s != status[i]:
                status[i] = s
                if go.is_set():
                    changes.append((i + 1, seen))
                next_poll[i] = seen  # the agent publishes a change at once
            if seen >= next_poll[i]:
                next_poll[i] = seen + POLL_S
                agent.live(uid)
        if go.is_set():
            next_toggle = next_toggle or now
            while now >= next_toggle:  # catch up after a slow round
                next_toggle += TOGGLE_S
                sb = boards[toggles[k % len(toggles)]]
                k += 1
                sb.handle({"cmd": "unplug"} if sb.plant.ev_connected else {"cmd": "plug", "cable_a": 32})
        time.sleep(0.01)
    agent.close()
    out.put((changes, round(ticks / (time.monotonic() - start))))


def remote_starts(cs: CentralSystem, n: int) -> None:
    """A RemoteStartTransaction for each vehicle, once the backend has seen it wait (Preparing)."""

    def latest() -> dict[int, str]:
        return {int(r.payload["connectorId"]): r.payload["status"] for r in cs.actions("StatusNotification")}

    waiting = [i + 1 for i in range(n) if charging(i)]
    cs.wait("every vehicle Preparing", lambda: all(latest().get(c) == "Preparing" for c in waiting), 300)
    for c in waiting:
        assert (
            cs.call(call.RemoteStartTransaction(id_tag="BENCH%03d" % c, connector_id=c)).status == "Accepted"
        )
    cs.wait("every StartTransaction", lambda: len(cs.actions("StartTransaction")) >= len(waiting), 300)


def status_delays(cs: CentralSystem, changes: list[tuple[int, float]]) -> list[float]:
    """For each status change, the time to the first StatusNotification of its connector after it (the
    status a module passes through in one tick of the agent's view is one change)."""
    by_connector: dict[int, list[float]] = {}
    for r in cs.actions("StatusNotification"):
        by_connector.setdefault(int(r.payload["connectorId"]), []).append(r.at)
    out = []
    for connector, at in changes:
        got = next((t for t in by_connector.get(connector, []) if t >= at), None)
        if got is not None:
            out.append(got - at)
    return out


# ---- the replay --------------------------------------------------------------------------------------


def run_replay(messages: int, n: int) -> dict[str, Any]:
    cs = CentralSystem(interval=300)
    cs.start()
    bare = bare_client(cs, 0, 2000)
    with TemporaryDirectory() as tmp:
        data = Path(tmp)
        fill_queue(data / QUEUE_FILE, messages, n)
        baseline = len(cs.received)  # the bare client's messages are no part of the replay
        head = Head(data, cs, n)
        try:
            tx = ("StartTransaction", "MeterValues", "StopTransaction")

            def replayed() -> list[Any]:
                return [r for r in cs.received[baseline:] if r.action in tx]

            cs.wait("the replay begun", replayed, 120)
            pid = service_pid(head.proc.pid, "ocpp16")
            cpu0 = cpu_tree_s(pid)
            cs.wait("the queue replayed", lambda: len(replayed()) >= messages, 600)
            cpu = cpu_tree_s(pid) - cpu0
            got = replayed()
            span = got[messages - 1].at - got[0].at
            unique = {r.unique_id for r in got}
            stops = [r for r in got if r.action == "StopTransaction"]
            assert all(s.payload["transactionId"] for s in stops), "a StopTransaction without its id"
            assert len(unique) == messages, "%d of %d messages arrived" % (len(unique), messages)
        finally:
            head.stop()
            cs.close()
    return {"messages": messages, "seconds": round(span, 2), "messages_per_s": round(messages / span, 1),
            # the service's own CPU per message: what it could replay with a core to itself
            "service_cpu_ms_per_message": round(1000 * cpu / messages, 3), "bare": bare,
            "sent_again": len(got) - len(unique)}  # fmt: skip


def fill_queue(path: Path, messages: int, n: int) -> None:
    """The queue an outage leaves: whole transactions (start, meter values, stop) in the service's file."""
    q = TxQueue(path)
    q.db.execute("PRAGMA synchronous=OFF")  # filling only; the service opens it as it always does
    for t in range(messages // TX_PER_REPLAY):
        c = t % n + 1
        ref = q.start(uid_of(c - 1), t + 1, c, "REPLAY", 1000 * t, "2026-01-01T00:00:00.000Z")
        for m in range(TX_PER_REPLAY - 2):
            sv = [{"value": str(1000 * t + m), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
            q.meter_values(
                ref, c, [{"timestamp": "2026-01-01T00:%02d:00.000Z" % (m % 60), "sampledValue": sv}]
            )
        q.stop(ref, 1000 * t + TX_PER_REPLAY, "2026-01-01T01:00:00.000Z", "EVDisconnected")
    q.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    park = run_park(POINTS, 25.0 if args.quick else 60.0)
    replay = run_replay(2000 if args.quick else 10_000, POINTS)
    print("park of %d connectors, %d transactions, %.0f s: OCPP service CPU %.1f%% RSS %.1f MB, %.1f MeterValues/s"
          % (park["connectors"], park["transactions"], park["seconds"], park["service_cpu_percent"],
             park["service_rss_mb"], park["meter_values_per_s"]))  # fmt: skip
    print("status change -> StatusNotification: p50 %.3f s p99 %.3f s max %.3f s (%d changes); bare ocpp round trip p99 %.4f s"
          % (park["status_p50_s"], park["status_p99_s"], park["status_max_s"], park["status_delays_measured"],
             park["bare"]["status_rtt_p99_s"]))  # fmt: skip
    print("replay of %d queued messages: %.0f messages/s (service CPU %.2f ms a message); bare ocpp MeterValues back to back %.0f messages/s"
          % (replay["messages"], replay["messages_per_s"], replay["service_cpu_ms_per_message"],
             replay["bare"]["messages_per_s"]))  # fmt: skip
    figures = [
        figure("status_p99_s", park["status_p99_s"], "s", round(park["bare"]["status_rtt_p99_s"], 4),
               "bare ocpp StatusNotification round trip p99"),
        figure("replay_messages_per_s", replay["messages_per_s"], "1/s", round(replay["bare"]["messages_per_s"], 1),
               "bare ocpp MeterValues back to back"),
        figure("replay_service_cpu_ms_per_message", replay["service_cpu_ms_per_message"], "ms"),
        figure("service_cpu_percent", park["service_cpu_percent"], "%"),
        figure("service_rss_mb", park["service_rss_mb"], "MB"),
    ]  # fmt: skip
    return 0 if write(args.out, "bench_ocpp", figures, {"park": park, "replay": replay}, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
