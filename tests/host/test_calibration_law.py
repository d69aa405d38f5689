"""The Calibration Law Agent: its judgement of the settings (red = not compliant, yellow = warning), its
archive of signed records checked against the meter's key, and the service itself as the supervisor runs
it: only while the system's calibration_law is on, against a real broker, archiving the records the
controller agent publishes and logging what is not compliant."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import paho.mqtt.client as paho
from chargepark import topics
from chargepark.config import ConfigStore
from chargepark.services.calibration_law import checks
from chargepark.services.calibration_law.archive import Archive, verifies
from chargepark.services.calibration_law.main import archive_path
from chargepark.services.registry import SERVICES
from chargepark.simmeter import SigningMeter
from chargepark.supervisor import Supervisor
from chargepark.web import i18n, messages
from headkit import broker_runtime, stop
from iomodule import meters
from iomodule.signing import ocmf_record
from paho.mqtt.enums import CallbackAPIVersion

SIGNING = meters.MAPS["wm3m4"]["signing"]


def record_of(meter: SigningMeter, start_wh: int, stop_wh: int) -> str:
    meter.write(SIGNING["command"], [SIGNING["start"]], start_wh)
    meter.write(SIGNING["command"], [SIGNING["stop"]], stop_wh)
    return ocmf_record(meter.payload.decode(), meter.signature)


def park(store: ConfigStore, meter: SigningMeter, calibration_law: bool = True) -> None:
    store.put("system", {"calibration_law": calibration_law})
    store.put("chargepoint", {"name": "A", "meter_type": "wm3m4", "release_mode": "ocpp", "ocpp_connector_id": 1},
              key="CP1")  # fmt: skip
    store.put("module", {"station": "ST", "position": 1, "meter_public_key": meter.public_key_hex}, key="CP1")
    store.put("chargepoint", {"name": "B", "meter_type": "wm3m4", "release_mode": "permanent"}, key="CP2")
    store.put("chargepoint", {"name": "C", "meter_type": "em24"}, key="CP3")
    store.put(
        "ocpp",
        {"SignedDataFormat": 2, "VendorAtKeyTransfer": "", "EichrechtAdminList": "04A1B2C3, not-a-uid"},
    )


def test_the_settings_are_judged(tmp_path: Path) -> None:
    store = ConfigStore.open(tmp_path / "config.db")
    park(store, SigningMeter(SIGNING, "1", "1"))
    got = {(c.subject or c.scope, c.setting): c.level for c in checks.report(store)}
    assert got == {
        ("system", "calibration_law"): checks.OK,
        ("CP1", "meter_type"): checks.OK,
        ("CP1", "meter_public_key"): checks.OK,
        ("CP1", "release_mode"): checks.OK,
        ("CP2", "meter_type"): checks.OK,
        ("CP2", "meter_public_key"): checks.WARNING,  # its module has not read the key yet
        ("CP2", "release_mode"): checks.WARNING,  # permanent: nobody identified
        ("CP3", "meter_type"): checks.ERROR,  # an EM24 does not sign
        ("CP3", "release_mode"): checks.OK,
        ("ocpp", "SignedDataFormat"): checks.ERROR,  # stored from the WBM: a format we cannot produce
        ("ocpp", "VendorAtKeyTransfer"): checks.WARNING,
        ("ocpp", "EichrechtAdminList"): checks.WARNING,  # "not-a-uid"
    }
    assert not checks.compliant(checks.report(store))
    store.put("chargepoint", {"meter_type": "wm3m4"}, key="CP3")
    store.put("ocpp", {"SignedDataFormat": 0, "EichrechtAdminList": "04A1B2C3"})
    store.put("system", {"calibration_law": False})
    report = checks.report(store)
    assert checks.compliant(report)
    levels = {(c.subject or c.scope, c.setting): c.level for c in report}
    assert (
        levels[("system", "calibration_law")] == checks.WARNING
        and levels[("ocpp", "EichrechtAdminList")] == checks.OK
    )
    store.put("ocpp", {"SignedDataFormat": 1})  # OCMF in the transparency software's XML
    assert checks.compliant(checks.report(store))
    store.close()


def test_the_archive_checks_each_record_against_its_key(tmp_path: Path) -> None:
    meter = SigningMeter(SIGNING, "1", "1")
    good = record_of(meter, 100, 200)
    forged = good.replace('"RV":0.2', '"RV":0.3')
    assert (
        forged != good and verifies(meter.public_key_hex, good) and not verifies(meter.public_key_hex, forged)
    )
    assert not verifies(SigningMeter(SIGNING, "2", "1").public_key_hex, good)  # another meter's key
    assert not verifies(meter.public_key_hex, "OCMF|garbled") and not verifies("zz", good)
    archive = Archive(tmp_path / "a" / "records.jsonl")
    archive.add("CP1", 1, good, meter.public_key_hex)
    archive.add("CP1", 2, forged, meter.public_key_hex)
    assert [(e["session"], e["verified"]) for e in Archive(archive.path).entries()] == [(1, True), (2, False)]


def _publish(port: int, topic: str, payload: str) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-cal-%d" % time.monotonic_ns())
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


async def _until(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


def test_the_agent_runs_only_with_calibration_law_and_archives_the_signed_records(tmp_path: Path) -> None:
    meter = SigningMeter(SIGNING, "1", "1")

    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path)
        store = ConfigStore.open(rt.config_path)
        park(store, meter, calibration_law=False)
        rt.save()
        sup = Supervisor(rt, SERVICES, only={"calibration-law"})
        run = sup.runs["calibration-law"]
        await sup.start()
        try:
            assert run.state == "disabled"  # switched off: the agent does not run (nor show as running)
            store.put("system", {"calibration_law": True})
            assert "calibration-law" in await sup.restart("all")  # the restart after switching it on
            await _until("running", lambda: run.state == "running" and run.proc is not None)
            log = Path(rt.data_dir) / "logs" / "calibration-law.log"
            await _until("the judgement logged", lambda: log.exists() and "not compliant" in log.read_text())
            assert "CP3 meter_type=em24" in log.read_text()
            good = record_of(meter, 1000, 1500)
            event = topics.fill(topics.AGENT_EVENT, uid="CP1")
            path = archive_path(rt.data_dir)
            _publish(rt.mqtt_port, event, json.dumps({"event": "meter_signed", "arg": [7, good, 0]}))
            _publish(
                rt.mqtt_port,
                event,
                json.dumps({"event": "meter_signed", "arg": [8, good.replace('"RV":1.5', '"RV":1.6'), 0]}),
            )
            _publish(rt.mqtt_port, event, json.dumps({"event": "meter_signed", "arg": [9, "", 131]}))  # none
            _publish(rt.mqtt_port, event, json.dumps({"event": "session_stop", "arg": [9, 1, 1, 1, 1, 0]}))
            await _until("two records", lambda: len(Archive(path).entries()) >= 2)
            await asyncio.sleep(0.5)
            entries = Archive(path).entries()
            assert [(e["uid"], e["session"], e["verified"]) for e in entries] == [
                ("CP1", 7, True),
                ("CP1", 8, False),
            ]
            assert entries[0]["record"] == good and entries[0]["public_key"] == meter.public_key_hex
            await _until(
                "the forgery logged",
                lambda: "session 8: its signed record does not verify" in log.read_text(),
            )
        finally:
            await sup.stop()
            store.close()
            await stop(broker)

    asyncio.run(scenario())


def test_every_assessment_is_shown_in_german(tmp_path: Path) -> None:
    """Each text a report gives matches a template of web/messages.py translated in the German catalog."""
    store = ConfigStore.open(tmp_path / "config.db")
    park(store, SigningMeter(SIGNING, "1", "1"))
    texts = {c.text for c in checks.report(store)}
    store.put("ocpp", {"SignedDataFormat": 0, "EichrechtAdminList": "04A1B2C3", "VendorAtKeyTransfer": "V"})
    store.put("system", {"calibration_law": False})
    texts |= {c.text for c in checks.report(store)}
    store.close()
    assert len(texts) == 14  # every assessment of checks.py
    german = i18n.gettext_of("de")
    assert sorted(t for t in texts if messages.translate(t, german) == t) == []
