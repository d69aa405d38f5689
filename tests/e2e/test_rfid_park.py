"""End to end: `chargepark run --sim` with real micropython modules; `chargepark sim --point 1 rfid TAG`
presents a card at the point's simulated reader (on a pty), the module's driver reads it from the reader's
bytes, and the controller agent publishes the module's rfid_read event on MQTT, for each reader type; the
OCPP keys RFIDByteOrder/RFIDCharacterOrder and the CHARX board's area reach the module."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pointconfig
from chargepark import simctl, topics
from paho.mqtt.enums import CallbackAPIVersion
from test_head_sim import cli, run_sim, sim_runtime, until


def test_a_card_at_each_reader_type_reaches_mqtt_as_the_modules_event(tmp_path: Path) -> None:
    data = tmp_path / "data"
    head = run_sim(data, 1, "--no-traffic", "--services", "controller-agent")
    events: list[dict[str, Any]] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="e2e-rfid")
    try:
        rt = sim_runtime(data)
        endpoint = until("sim endpoints", lambda: simctl.load_endpoints(data))[1]["sim_control"]
        client.on_message = lambda c, u, m: events.append(json.loads(m.payload))
        client.connect("127.0.0.1", rt["mqtt_port"])
        client.subscribe(topics.fill(topics.AGENT_EVENT, uid="CPSIM0001"), qos=1)
        client.loop_start()

        def module() -> dict[str, Any]:
            return simctl.request(endpoint, {"cmd": "state"})

        for n, reader in enumerate(pointconfig.RFID_READER_TYPES):
            out = cli("config", "--data", str(data), "set", "chargepoint",
                      json.dumps({"rfid_reader_type": reader}), "--key", "CPSIM0001")  # fmt: skip
            assert out.returncode == 0, out.stderr
            until(reader + " fitted", lambda reader=reader: module()["rfid"]["type"] == reader)
            tag = "04A1B2C3D4E5%02X" % n
            out = cli("sim", "--data", str(data), "--point", "1", "rfid", tag)
            assert out.returncode == 0, out.stderr
            t0 = time.monotonic()
            until(
                "rfid_read %s from the %s reader on MQTT" % (tag, reader),
                lambda tag=tag: {"event": "rfid_read", "arg": tag} in events,
                15,
            )
            took = time.monotonic() - t0
            state = module()
            assert not state["point"]["error_bits"] & 0x40, state["point"]  # ERR_RFID_READER
            if reader != "uw_xeu1":  # the push reader takes no requests
                assert state["rfid"]["requests"] > 0
            assert took < 5, took

        # The OCPP keys change how the module renders a UID; the board's profiles come from its own area.
        for area, change, key in (
            ("ocpp", {"RFIDByteOrder": "LE", "RFIDCharacterOrder": True}, []),
            ("rfidboard", {"rfid_buzzer_volume": 80}, ["--key", "CPSIM0001"]),
        ):
            out = cli("config", "--data", str(data), "set", area, json.dumps(change), *key)
            assert out.returncode == 0, out.stderr
        until("volume pushed", lambda: module()["rfid"]["display"].get("volume") == 80)
        out = cli("sim", "--data", str(data), "--point", "1", "rfid", "04A1B2C3")
        assert out.returncode == 0, out.stderr
        until("rendered LE, words swapped", lambda: {"event": "rfid_read", "arg": "B2C304A1"} in events, 15)
        until("accepted shown", lambda: module()["rfid"]["display"]["profile"] == "authorization_ongoing")
    finally:
        client.loop_stop()
        client.disconnect()
        head.send_signal(signal.SIGINT)
        head.communicate(timeout=60)
    assert head.returncode == 0
