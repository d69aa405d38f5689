"""End to end on `chargepark run --sim 2` (point 2 = connector 1) against the loopback Central System:
a reservation shows Reserved at the backend and on the module (its Event Action condition "Reserved"
drives an output); UpdateFirmware installs a new image on every module over the bus through the
controller agent; GetDiagnostics uploads the log archive with the OCPP message log by FTP; a
TxDefaultProfile reaches the limit topic."""

from __future__ import annotations

import json
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import chargedefs
import paho.mqtt.client as paho
import pytest
from chargepark import topics
from chargepark.runtime import of_data
from ocpp.v16 import call
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.test_bus_update_image import new_sim_image
from tests.e2e.test_head_sim import until
from tests.e2e.test_ocpp_sim import UID, ocpp_head
from tests.host.ocppkit import CentralSystem, FileServer

ROOT = Path(__file__).resolve().parents[2]
RESERVED_OUTPUT = {
    "event": "always",
    "condition": "reserved",
    "action": "do_high",
    "action_output": 1,
    "timer_ms": 10,
}


def output_mode(live: dict[str, Any], number: int) -> str:
    return chargedefs.OUTPUT_MODES[(int(live["outputs"]) >> (4 * (number - 1))) & 0xF]


class Watch:
    """The broker's retained and live messages on a few topics, newest per topic."""

    def __init__(self, data: Path, *patterns: str) -> None:
        rt = of_data(data)
        assert rt is not None
        self.last: dict[str, Any] = {}
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-ocpp-watch")
        self.client.on_message = lambda c, u, m: self.last.__setitem__(m.topic, json.loads(m.payload))
        self.client.connect(rt.mqtt_host, rt.mqtt_port)
        for p in patterns:
            self.client.subscribe(topics.subscription(p))
        self.client.loop_start()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def new_image(work: Path) -> tuple[Path, str]:
    """The sim board image repacked with one marker file (another version), as a firmware package."""
    sha = new_sim_image(work / "pkg" / "sim", work)
    out = work / "served" / "fw.tar.gz"
    out.parent.mkdir()
    subprocess.run(["tar", "-czf", str(out), "-C", str(work / "pkg"), "sim"], check=True)
    return out.parent, sha[:12]


@pytest.mark.slow
def test_reservation_firmware_diagnostics_and_the_limit_on_the_sim_park(tmp_path: Path) -> None:
    served, version = new_image(tmp_path)
    files = FileServer(served)
    cs = CentralSystem(user="CB0001", key="k3y", interval=30)
    try:
        with ocpp_head(
            tmp_path, cs, {"PreUnavailabilityForUpdate": 0}, {"event_actions": [RESERVED_OUTPUT]}
        ) as data:
            live_topic = topics.fill(topics.AGENT_LIVE, uid=UID)
            limit_topic = topics.fill(topics.OCPP_LIMIT, uid=UID)
            watch = Watch(data, topics.AGENT_LIVE, topics.OCPP_LIMIT)
            try:
                until("live", lambda: live_topic in watch.last, 30)
                assert output_mode(watch.last[live_topic], 1) == "low"
                later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                got = cs.call(
                    call.ReserveNow(connector_id=1, expiry_date=later, id_tag="RES", reservation_id=7)
                )
                assert got.status == "Accepted"
                cs.wait(
                    "Reserved",
                    lambda: cs.actions("StatusNotification")[-1].payload["status"] == "Reserved",
                    30,
                )
                until(
                    "the Event Action condition Reserved holds",
                    lambda: output_mode(watch.last[live_topic], 1) == "high",
                    30,
                )
                assert cs.call(call.CancelReservation(reservation_id=7)).status == "Accepted"
                cs.wait(
                    "Available",
                    lambda: cs.actions("StatusNotification")[-1].payload["status"] == "Available",
                    30,
                )
                until("output low again", lambda: output_mode(watch.last[live_topic], 1) == "low", 30)

                # the limit topic: MaxCurrent, then a TxDefaultProfile
                until(
                    "limit", lambda: watch.last.get(limit_topic) == {"ma": 80000, "reason": "max_current"}, 30
                )
                profile = {"charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                           "charging_profile_kind": "Relative", "charging_schedule": {"charging_rate_unit": "A",
                           "charging_schedule_period": [{"start_period": 0, "limit": 10}]}}  # fmt: skip
                assert (
                    cs.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile)).status
                    == "Accepted"
                )
                until(
                    "10 A",
                    lambda: watch.last.get(limit_topic) == {"ma": 10000, "reason": "tx_default_profile"},
                    30,
                )

                # firmware over the bus on every module
                cs.call(
                    call.UpdateFirmware(
                        location=files.url("fw.tar.gz"),
                        retrieve_date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        retries=3,  # a module the loaded bus lost mid-install is tried again
                        retry_interval=1,
                    )
                )
                got_statuses = cs.wait("Installed", lambda: (s := [m.payload["status"] for m in cs.actions("FirmwareStatusNotification")])
                                       and s[-1] in ("Installed", "InstallationFailed", "DownloadFailed") and s, 240)  # fmt: skip
                assert got_statuses == ["Downloading", "Downloaded", "Installing", "Installed"]
                until("every module on the new image", lambda: all(
                    m.get("firmware_version") == version for m in rest(data, "/api/v1.0/charging-controllers").values()), 60)  # fmt: skip

                # diagnostics by FTP: the log archive holds the OCPP message log
                (served / "diag").mkdir()
                name = cs.call(call.GetDiagnostics(location=files.ftp_url("diag"))).file_name
                cs.wait(
                    "Uploaded",
                    lambda: (
                        [m.payload["status"] for m in cs.actions("DiagnosticsStatusNotification")]
                        == ["Uploading", "Uploaded"]
                    ),
                    60,
                )
                with zipfile.ZipFile(served / "diag" / name) as z:
                    assert "ReserveNow" in z.read("ocpp16.log").decode()
            finally:
                watch.close()
    finally:
        files.close()


def rest(data: Path, path: str) -> Any:
    import urllib.request

    rt = of_data(data)
    assert rt is not None
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (rt.rest_port, path), timeout=10) as r:
        return json.loads(r.read())
