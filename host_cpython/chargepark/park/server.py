"""A park server's side of its clients (manual "Dashboard": "further clients together with their respective
extension modules will be shown"): each client station's report (topics.AGENT_PARK_STATION, bridged from
the client, park/link.py) becomes a client station record and module records in this head's store, as a
local module's discovery does, and each of those points' configuration goes back to its client, retained
(topics.AGENT_PARK_CONFIG: what this head's own agent would send the module, `null` while unconfigured).
The server's controller agent runs it; the data hub, REST and WBM then see a client's points as its own."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import chargeschema

from chargepark import topics
from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore
from chargepark.datahub import pushed
from chargepark.park.model import record_discovery

log = logging.getLogger("chargepark.park")
Publish = Callable[[str, str | bytes], None]
Record = dict[str, Any]
MODULE_FIELDS = ("position", "device_name", "hardware_version", "firmware_version")  # module area fields
MODULE_KEYS = ("uid", *MODULE_FIELDS, "online")


class Refused(ValueError):
    """A client's report that is not taken (nothing of it is stored)."""


def parse_station(station: str, raw: bytes) -> Record:
    """A client's report, checked whole against the station and module areas (its ETH1 address and every
    module entry); `record` added: its station record as the report has it, role client."""
    try:
        msg = json.loads(raw)
    except ValueError as exc:
        raise Refused("not JSON: %s" % exc) from None
    if not isinstance(msg, dict) or msg.get("station") != station:
        raise Refused("not the report of station %s" % station)
    if not isinstance(msg.get("modules"), list):
        raise Refused("modules: must be a list")
    try:
        record = AREAS["station"].validate(
            {"name": msg.get("name"), "location": msg.get("location"), "role": "client",
             "address": msg.get("address")}
        )  # fmt: skip
        for m in msg["modules"]:
            if not isinstance(m, dict) or any(k not in m for k in MODULE_KEYS):
                raise Refused("modules: each needs %s" % ", ".join(MODULE_KEYS))
            if AREAS["module"].key_problem(m["uid"]):
                raise Refused("modules: %r is not a device UID" % m["uid"])
            AREAS["module"].validate({"station": station, **{k: m[k] for k in MODULE_FIELDS}})
    except chargeschema.Invalid as exc:
        raise Refused(str(exc)) from None
    return dict(msg, record=record)


class ParkServer:
    def __init__(self, store: ConfigStore, publish: Publish, station: str) -> None:
        self.store = store
        self.publish = publish
        self.station = station  # this head's own station: never taken over
        self.reported: dict[str, list[Record]] = {}  # client station -> its modules as last reported
        self._sent: dict[str, str] = {}  # point -> the configuration last published for it

    def on_station(self, topic: str, raw: bytes) -> bool:
        """Takes a client's report over; returns whether it was taken (the park's module list changed)."""
        station = topics.uid_of(topic, topics.AGENT_PARK_STATION) or ""
        if not station or station == self.station:
            return False
        try:
            msg = parse_station(station, raw)
        except Refused as exc:
            log.warning("report of park client %s refused: %s", station, exc)
            return False
        old = self.store.get("station", station)
        # a station this head knows keeps the name and location its WBM gave it; role and address: the client's
        record = dict(old, role="client", address=msg["record"]["address"]) if old else msg["record"]
        if record != old:
            self.store.put("station", record, station)
        for m in msg["modules"]:
            record_discovery(self.store, station, m["position"], str(m["uid"]), str(m["device_name"]),
                             str(m["hardware_version"]), str(m["firmware_version"]))  # fmt: skip
        self.reported[station] = list(msg["modules"])
        self.publish_configs()
        return True

    def clients(self) -> set[str]:
        return {
            uid
            for uid, s in self.store.get("station").items()
            if s["role"] == "client" and uid != self.station
        }

    def uids(self) -> set[str]:
        """The points of this park's clients this head knows (also those whose client is away)."""
        clients = self.clients()
        return {uid for uid, m in self.store.get("module").items() if m["station"] in clients}

    def modules(self) -> list[Record]:
        """The clients' modules in the agent's module list shape (topics.AGENT_MODULES)."""
        return [
            {"uid": m["uid"], "position": m["position"], "online": bool(m["online"]),
             "firmware_version": m["firmware_version"], "hardware_version": m["hardware_version"],
             "parent_device_uid": station}
            for station, mods in sorted(self.reported.items())
            for m in sorted(mods, key=lambda m: int(m["position"]))
        ]  # fmt: skip

    def publish_configs(self) -> None:
        """Each client point's configuration as this head derives it, when it changed since last sent."""
        for uid in sorted(self.uids()):
            text = json.dumps(pushed.module_config(self.store, uid), sort_keys=True)
            if self._sent.get(uid) != text:
                self._sent[uid] = text
                self.publish(topics.fill(topics.AGENT_PARK_CONFIG, uid=uid), text)
