"""A park client's side (manual "System Control/Module Switch": the server takes the configuration over):
its station and modules reported to the server (topics.AGENT_PARK_STATION), and the server's configuration
of each of its points (topics.AGENT_PARK_CONFIG) checked whole against the point schema and stored in this
head's store, the chargepoint record and the fields the server derived ("parkpoint") in one transaction, so
that the agent sends the module exactly what the server's REST waits to see confirmed. A refused one
changes nothing; the module keeps what it runs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import chargeschema
import pointconfig

from chargepark import topics
from chargepark.config.areas import AREAS
from chargepark.config.store import Change, ConfigStore
from chargepark.datahub import pushed

log = logging.getLogger("chargepark.park")
Publish = Callable[[str, str | bytes], None]
Record = dict[str, Any]
FIELDS = pointconfig.FIELDS + pointconfig.DERIVED
CHECKS = tuple(pointconfig.CHECKS) + AREAS["parkpoint"].checks
DERIVED = tuple(f.name for f in pointconfig.DERIVED)


class Refused(ValueError):
    """The server's configuration of a point that is not taken (nothing of it is stored)."""


def parse_config(raw: bytes) -> Record | None:
    """The server's word on a point: its whole module configuration, or None (not configured there)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Refused("not JSON: %s" % exc) from None
    if data is None:
        return None
    try:
        clean: Record = chargeschema.validate(FIELDS, data, CHECKS)
    except chargeschema.Invalid as exc:
        raise Refused(str(exc)) from None
    return clean


def module_config(store: ConfigStore, uid: str) -> Record | None:
    """What a client's agent sends the module of `uid`: the server's configuration once it gave one, else
    (a point the server has not spoken about yet) what this head's own areas derive."""
    derived = store.get("parkpoint", uid)
    cfg = store.get("chargepoint", uid)
    if derived is None or cfg is None:
        return pushed.module_config(store, uid)
    return dict(cfg, **derived)


class ParkClient:
    def __init__(self, store: ConfigStore, publish: Publish, station: str) -> None:
        self.store = store
        self.publish = publish
        self.station = station
        self.offered: dict[str, Record | None] = {}  # the server's word on points not (yet) found here

    def publish_station(self, modules: list[Record]) -> None:
        """This station and its modules, for the server (retained; bridged over ETH1)."""
        st = self.store.get("station", self.station) or AREAS["station"].defaults()
        msg = {"station": self.station, "name": st["name"], "location": st["location"],
               "address": st["address"], "modules": modules}  # fmt: skip
        self.publish(topics.fill(topics.AGENT_PARK_STATION, uid=self.station), json.dumps(msg))

    def on_config(self, topic: str, raw: bytes, ours: Callable[[str], bool]) -> None:
        """The server's configuration of a point: stored when the point is on this bus, else kept until it
        is found (the bridge brings every client's points)."""
        uid = topics.uid_of(topic, topics.AGENT_PARK_CONFIG) or ""
        try:
            record = parse_config(raw)
        except Refused as exc:
            log.warning("configuration of %s from the park server refused: %s", uid, exc)
            return
        if ours(uid):
            self.take(uid, record)
        else:
            self.offered[uid] = record

    def found(self, uid: str) -> None:
        """A module appeared on this bus: the server's word on it, if it came first."""
        if uid in self.offered:
            self.take(uid, self.offered.pop(uid))

    def take(self, uid: str, record: Record | None) -> None:
        if record is None:
            changes: list[Change] = [
                ("chargepoint", uid, None),
                ("parkpoint", uid, None),
            ]
        else:
            derived = {k: record[k] for k in DERIVED}
            cfg = {k: v for k, v in record.items() if k not in derived}
            changes = [("chargepoint", uid, cfg), ("parkpoint", uid, derived)]
        if all(self.store.get(area, key) == rec for area, key, rec in changes):
            return  # the same again (each reconnect brings it): no write, no push
        try:
            self.store.apply(changes)  # this head's park-wide rules may refuse it: then nothing changes
        except chargeschema.Invalid as exc:
            log.warning("configuration of %s from the park server refused here: %s", uid, exc)
            return
        log.info("configuration of %s taken from the park server (%s)", uid, "set" if record else "deleted")
