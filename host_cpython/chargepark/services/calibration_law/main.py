"""Calibration Law Agent service (manual: "Ensures that the charging station is operated in compliance with
calibration laws"; started only while the system area's `calibration_law` is on). It judges the settings
(checks.py) at its start and at every change of them, logging what is not compliant (error) or a warning,
and keeps every signed session record of the park, checked against its meter's public key (archive.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.runtime import Runtime
from chargepark.services.base import connect, follow_config, run_service
from chargepark.services.calibration_law import checks
from chargepark.services.calibration_law.archive import Archive
from chargepark.services.calibration_law.spec import SPEC

log = logging.getLogger("chargepark.calibration_law")


def archive_path(data_dir: str) -> Path:
    return Path(data_dir) / "calibration_law" / "records.jsonl"


def review(store: ConfigStore) -> list[checks.Check]:
    found = checks.report(store)
    for c in found:
        if c.level == checks.ERROR:
            log.error("not compliant: %s %s %s=%s: %s", c.scope, c.subject, c.setting, c.value, c.text)
        elif c.level == checks.WARNING:
            log.warning("%s %s %s=%s: %s", c.scope, c.subject, c.setting, c.value, c.text)
    return found


async def serve(runtime: Runtime) -> None:
    link = await connect(runtime, SPEC)
    store = ConfigStore.open(runtime.config_path)
    archive = Archive(archive_path(runtime.data_dir))

    def on_event(topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_EVENT)
        try:
            msg = json.loads(raw)
            name, arg = msg["event"], msg.get("arg")
            if uid is None or name != "meter_signed" or int(arg[2]) != 0:
                return
            session, record = int(arg[0]), str(arg[1])
        except (ValueError, KeyError, TypeError, IndexError):
            return
        module = store.get("module", uid) or {}
        entry = archive.add(uid, session, record, str(module.get("meter_public_key", "")))
        if not entry["verified"]:
            log.error(
                "point %s session %d: its signed record does not verify with its meter's key", uid, session
            )

    def changed(_area: str) -> None:
        review(store)

    try:
        await link.subscribe(topics.subscription(topics.AGENT_EVENT), on_event)
        await follow_config(link, store, SPEC.reads, changed)
        review(store)  # after the subscriptions: its log says the agent listens
        await asyncio.Event().wait()  # until cancelled
    finally:
        store.close()
        await link.close()


def main() -> int:
    return run_service(SPEC, serve)
