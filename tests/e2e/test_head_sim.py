"""End to end: `chargepark run --sim 3` with real micropython modules, mosquitto and the services."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pointconfig
import pytest
from chargepark import simctl, topics
from chargepark.broker import mosquitto_binary, render_config
from chargepark.runtime import free_port, runtime_path
from paho.mqtt.enums import CallbackAPIVersion

CHARGEPARK = [sys.executable, "-c", "import sys; from chargepark.cli import main; sys.exit(main())"]


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        try:
            for task in Path("/proc/%d/task" % p).iterdir():
                kids = [int(c) for c in (task / "children").read_text().split()]
                found.update(kids)
                todo += kids
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        return Path("/proc/%d/stat" % pid).read_text().split()[2] != "Z"
    except OSError:
        return False


def until(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, ValueError, KeyError) as e:
            last = e
        time.sleep(0.3)
    raise AssertionError("%s: not within %.0f s (last: %r)" % (what, timeout, last))


def run_sim(data: Path, points: int, *extra: str) -> subprocess.Popen[bytes]:
    """`chargepark run --sim N` on free ports with its state in `data` (its output discarded)."""
    return subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", str(points), *extra, "--data", str(data), "--mqtt-port", "0",
         "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def sim_runtime(data: Path) -> dict[str, Any]:
    """The running head's runtime file (ports), once it is written."""
    rt: dict[str, Any] = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))
    return rt


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHARGEPARK, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_run_sim_3_charges_restarts_a_killed_service_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "3", "--data", str(data), "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        rt = until("runtime.json", lambda: json.loads((runtime_path(data)).read_text()))

        def get(port: int, path: str) -> Any:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
                return json.loads(r.read())

        def charging() -> list[str]:
            ctrls = get(rt["rest_port"], "/api/v1.0/charging-controllers")
            states = [get(rt["rest_port"], "/api/v1.0/charging-controllers/%s/data?param_list=status" % uid)["status"]
                      for uid in ctrls]  # fmt: skip
            return states if states.count("Charging") == 3 else []

        until("three EVs charging", charging, 90)
        # The WBM follows the same state over MQTT; it may be a publish period behind the REST view.
        park = until(
            "the WBM shows three charging",
            lambda: (p := get(rt["web_port"], "/api/park"))["charging"] == 3 and p,
            15,
        )
        assert len(park["points"]) == 3 and park["power_w"] > 0

        out = cli("service", "status", "--data", str(data))
        assert out.returncode == 0, out.stderr
        for name in ("system-monitor", "controller-agent", "jupicore", "web-server"):
            assert any(ln.split()[:2] == [name, "running"] for ln in out.stdout.splitlines()), out.stdout
        # the Calibration Law Agent runs only while calibration law is switched on (off by default)
        assert any(ln.split()[:2] == ["calibration-law", "disabled"] for ln in out.stdout.splitlines()), (
            out.stdout
        )

        def jupicore() -> dict[str, Any]:
            reply = json.loads(cli("service", "status", "--data", str(data), "--json").stdout)
            return next(s for s in reply["services"] if s["name"] == "jupicore")

        before = jupicore()
        os.kill(before["pid"], signal.SIGKILL)
        after = until(
            "jupicore restarted", lambda: (s := jupicore())["state"] == "running" and s["restarts"] == 1 and s
        )
        assert after["pid"] != before["pid"]
        until("REST back after the restart", charging, 30)

        # Point commands over MQTT reach the module through the controller agent; refusals come back.
        results: list[dict[str, Any]] = []
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="e2e-commands")
        client.on_message = lambda c, u, m: results.append(json.loads(m.payload))
        subscribed = threading.Event()  # the results' subscription holds before the commands go out
        client.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()
        client.connect("127.0.0.1", rt["mqtt_port"])
        client.subscribe(topics.fill(topics.AGENT_COMMAND_RESULT, uid="CPSIM0001"))
        client.loop_start()
        assert subscribed.wait(30), "no SUBACK from the head's broker"
        command = topics.fill(topics.AGENT_COMMAND, uid="CPSIM0001")
        client.publish(command, json.dumps({"id": "a", "name": "available", "value": False}))
        client.publish(command, json.dumps({"id": "b", "name": "no_such_command", "value": 1}))
        until("command results", lambda: len(results) == 2)
        client.loop_stop()
        client.disconnect()
        assert results[0] == {"id": "a", "ok": True}
        assert results[1]["id"] == "b" and results[1]["ok"] is False and results[1]["error"]
        until(
            "point 1 unavailable",
            lambda: (
                get(rt["rest_port"], "/api/v1.0/charging-controllers/CPSIM0001/data?param_list=status")[
                    "status"
                ]
                == "Unavailable"
            ),
        )

        # A vehicle leaves: the session is stored with its energy.
        assert cli("sim", "--data", str(data), "--point", "2", "unplug").returncode == 0
        refused = cli("sim", "--data", str(data), "--point", "2", "fault", "no_such_fault", "on")
        assert refused.returncode == 1 and "fault: name: must be one of weld" in refused.stdout
        sessions = until(
            "session of point 2 ended",
            lambda: [s for s in get(rt["rest_port"], "/api/v1.0/sessions?uid=CPSIM0002") if s["ended"]],
        )
        assert sessions[0]["reason"] == "ev_disconnected" and sessions[0]["energy_wh"] >= 0
        # Firmware over the bus through the running controller agent (the sim image the modules run).
        image = Path(__file__).resolve().parents[2] / "out" / "images" / "sim"
        upd = cli("update", "--data", str(data), "--position", "3", "--image", str(image))
        assert upd.returncode == 0 and "position 3" in upd.stdout and "installed" in upd.stdout, (
            upd.stdout + upd.stderr
        )
        bad = cli("update", "--data", str(data), "--position", "9", "--image", str(image))
        assert bad.returncode == 1 and "no module at position 9" in bad.stdout
        version = json.loads((image / "manifest.json").read_text())["image"]["sha256"][:12]
        until(
            "point 3 online on the installed image",
            lambda: (
                get(rt["rest_port"], "/api/v1.0/charging-controllers")["CPSIM0003"]["firmware_version"]
                == version
                and get(
                    rt["rest_port"], "/api/v1.0/charging-controllers/CPSIM0003/data?param_list=bus_state"
                )["bus_state"]
                == "online"
            ),
        )
        children = descendants(head.pid)
        assert len(children) >= 8  # mosquitto, 4 services, 3 micropython modules
    finally:
        head.send_signal(signal.SIGINT)
        out_text, _ = head.communicate(timeout=60)
    assert head.returncode == 0, out_text
    assert "chargepark: stopped" in out_text
    leftovers = [p for p in children if alive(p)]
    assert leftovers == [], "orphans after SIGINT: %s" % leftovers


@pytest.mark.slow
def test_a_config_set_reaches_the_module_within_half_a_second(tmp_path: Path) -> None:
    """Pushed, not polled: the store's writer announces the change and the agent sends it at once. Four
    changes in a row each within 0.5 s; a 2 s poll would pass all four with a chance of 1/256."""
    data = tmp_path / "data"
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "1", "--no-traffic", "--data", str(data), "--services", "controller-agent",
         "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        until("runtime.json", lambda: (runtime_path(data)).exists())
        endpoint = until("sim endpoints", lambda: simctl.load_endpoints(data))[1]["sim_control"]

        def module_checksum() -> int:
            return int(simctl.request(endpoint, {"cmd": "state"})["point"]["config_checksum"])

        until("point 1 configured", lambda: module_checksum() != 0 and module_checksum())
        delays = []
        for amps in (20, 24, 28, 30):
            out = cli("config", "--data", str(data), "set", "chargepoint", '{"max_current_a": %d}' % amps,
                      "--key", "CPSIM0001")  # fmt: skip
            assert out.returncode == 0, out.stderr
            saved = pointconfig.checksum(json.loads(out.stdout))
            t0 = time.monotonic()
            while module_checksum() != saved:
                assert time.monotonic() - t0 < 5.0, "configuration did not reach the module within 5 s"
                time.sleep(0.01)
            delays.append(time.monotonic() - t0)
        assert max(delays) < 0.5, "config set -> module: %s s" % ["%.3f" % d for d in delays]
    finally:
        head.send_signal(signal.SIGINT)
        head.communicate(timeout=60)
    assert head.returncode == 0


@pytest.mark.slow
def test_kill_9_of_the_supervisor_leaves_no_orphan(tmp_path: Path) -> None:
    data = tmp_path / "data"
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "1", "--data", str(data), "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        until("runtime.json", lambda: (runtime_path(data)).exists())

        def all_running() -> bool:
            reply = json.loads(cli("service", "status", "--data", str(data), "--json").stdout)
            return all(s["state"] in ("running", "not installed") or (s["name"], s["state"]) == ("calibration-law", "disabled")
                       for s in reply["services"])  # fmt: skip

        until("services running", all_running)
        again = cli("run", "--data", str(data), "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0")
        assert again.returncode == 1 and "already runs" in again.stderr
        children = descendants(head.pid)
        assert len(children) >= 6  # mosquitto, 4 services, 1 micropython module
    finally:
        head.kill()
        head.wait()
    until("children gone", lambda: not [p for p in children if alive(p)], 15)


def test_run_uses_a_configured_system_broker(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "system-mosquitto.conf"
    conf.write_text(render_config("127.0.0.1", port))
    system = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stderr=subprocess.DEVNULL)
    data = tmp_path / "data"
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--data", str(data), "--broker", "127.0.0.1:%d" % port, "--services", "system-monitor",
         "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        until("runtime.json", lambda: (runtime_path(data)).exists())
        rt = json.loads((runtime_path(data)).read_text())
        assert rt["mqtt_port"] == port
        assert not (data / "run" / "mosquitto.conf").exists()  # no broker of our own
        seen: list[bytes] = []
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="e2e-system-broker")
        client.on_message = lambda c, u, m: seen.append(m.payload)
        client.connect("127.0.0.1", port)
        client.subscribe(topics.SERVICES)
        client.loop_start()
        table = lambda: {s["name"]: s["state"] for s in json.loads(seen[-1])} if seen else {}  # noqa: E731
        until("service table on the system broker", lambda: table().get("system-monitor") == "running")
        client.loop_stop()
        client.disconnect()
        assert table()["jupicore"] == "disabled"
    finally:
        head.send_signal(signal.SIGINT)
        head.communicate(timeout=60)
        system.terminate()
        system.wait()
    assert head.returncode == 0
