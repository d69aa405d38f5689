"""The data hub's core: live samples in, CHARX topics and durable sessions out, REST views."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from chargepark import topics
from chargepark.datahub.plotstore import PlotStore
from chargepark.datahub.point import PointTracker, SessionEdge, payload
from chargepark.datahub.sessions import Op, SessionStore

log = logging.getLogger("chargepark.datahub")

Publish = Callable[[str, str | bytes], None]  # retained or not: the topic map says (MqttLink.publish)
SESSION_UPDATE_S = 10.0
STALE_S = 3.0  # the agents deliver every point at least every 0.5 s  # how often an open session's energy and durations are written


class DataHub:
    def __init__(self, store: SessionStore, publish: Publish, plot: PlotStore | None = None) -> None:
        self.store = store
        self.publish = publish
        self.plot = plot
        self.points: dict[str, PointTracker] = {}
        self.modules: dict[str, dict[str, Any]] = {}
        self._sent: dict[tuple[str, str], str] = {}
        self._params: dict[str, dict[str, Any]] = {}  # per point, as last published
        self._pending: list[Op] = []
        self._last_write: dict[str, float] = {}
        self._open = store.open_sessions()
        self.samples = 0
        self.rejected = 0
        self.published = 0

    def point(self, uid: str) -> PointTracker:
        p = self.points.get(uid)
        if p is None:
            p = self.points[uid] = PointTracker(uid)
            row = self._open.pop(uid, None)
            if row is not None:
                p.resume(row["started"], row["id_tag"])
        return p

    # MQTT handlers
    def on_live(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_LIVE)
        try:
            snap = json.loads(raw)
            if uid is None or not isinstance(snap, dict):
                raise ValueError("not a live sample")
            self.take(uid, snap, time.time())
        except (ValueError, TypeError, KeyError) as e:
            self.rejected += 1
            log.warning("bad live sample on %s: %s", topic, e)

    def on_event(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_EVENT)
        try:
            ev = json.loads(raw)
            if uid is None or not isinstance(ev, dict):
                raise ValueError("not an event")
        except ValueError as e:
            self.rejected += 1
            log.warning("bad event on %s: %s", topic, e)
            return
        p = self.point(uid)
        edge = p.event(str(ev.get("event", "")), ev.get("arg"), time.time())
        if edge is not None:
            self._params.pop(uid, None)  # the session's part of the parameters changed: REST reads it anew
            self._queue(edge)
        if ev.get("event") == "rfid_read":
            self._publish_point(p)

    def on_modules(self, topic: str, raw: bytes) -> None:
        try:
            mods = json.loads(raw)
            self.modules = {str(m["uid"]): m for m in mods}
        except (ValueError, TypeError, KeyError) as e:
            self.rejected += 1
            log.warning("bad module list: %s", e)

    def take(self, uid: str, snap: dict[str, Any], now: float) -> None:
        p = self.point(uid)
        p.position = int(snap.get("position", p.position) or 0)
        p.name = str(snap.get("name") or p.name or "Charge Point %d" % p.position)
        for edge in p.update(snap, bool(snap.get("online", True)), now):
            self._queue(edge)
        if p.plugged and now - self._last_write.get(uid, 0.0) >= SESSION_UPDATE_S:
            self._queue(p.edge("update", now))
        self.samples += 1
        if self.plot is not None and p.online:
            self.plot.add(uid, now, int(snap.get("power_mw", 0)) / 1000,
                          *(int(snap.get("i%d_ma" % n, 0)) / 1000 for n in (1, 2, 3)))  # fmt: skip
        self._publish_point(p)

    def set_meter_infos(self, infos: dict[str, dict[str, Any] | None]) -> None:
        """Each point's energy_meter_info (from the configuration); a point whose info changed is published."""
        for uid, p in self.points.items():
            info = infos.get(uid)
            if info != p.meter_info:
                p.meter_info = info
                self._publish_point(p)

    def check_stale(self, now: float) -> None:
        """A point whose agent went silent is shown offline (its last values stay, marked as such)."""
        for p in self.points.values():
            if p.online and now - p.updated > STALE_S:
                p.online = False
                self._publish_point(p)

    def _queue(self, edge: SessionEdge) -> None:
        self._last_write[edge.uid] = edge.at
        self._pending.append(
            Op(edge.kind, edge.uid, edge.at, edge.energy_wh, edge.meter_wh, edge.id_tag, edge.reason,
               edge.connected_s, edge.charge_s)
        )  # fmt: skip

    def params(self, uid: str) -> dict[str, Any]:
        """A point's CHARX data parameters as last published (every change is published at once)."""
        params = self._params.get(uid)
        return params if params is not None else self.points[uid].params()

    def _publish_point(self, p: PointTracker) -> None:
        params = self._params[p.uid] = p.params()
        for name, value in params.items():
            text = payload(value)
            key = (p.uid, name)
            if self._sent.get(key) != text:
                self._sent[key] = text
                self.publish(topics.charx(p.uid, name), text)
                self.published += 1
        self.publish(topics.charx(p.uid, "live"), orjson.dumps(p.live(params)))
        self.published += 1

    def flush(self) -> None:
        """Makes the queued session writes durable, then announces them."""
        ops, self._pending = self._pending, []
        self.store.apply(ops)
        for op in ops:
            record = {
                "kind": op.kind,
                "uid": op.uid,
                "at": op.at,
                "energy_wh": op.energy_wh,
                "id_tag": op.id_tag,
                "meter_wh": op.meter_wh,
                "reason": op.reason,
                "connected_s": round(op.connected_s),
                "charge_s": round(op.charge_s),
            }
            self.publish(topics.fill(topics.SESSION_EVENT, uid=op.uid), json.dumps(record))
            self.published += 1

    # REST views (JupiCore)
    def controllers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for uid, p in sorted(self.points.items(), key=lambda kv: kv[1].position):
            mod = self.modules.get(uid, {})
            out[uid] = {
                "device_uid": uid,
                "device_name": p.name,
                "device_type": "chargepark-io",
                "firmware_version": str(mod.get("firmware_version", "")),
                "hardware_version": str(mod.get("hardware_version", "")),
                "parent_device_uid": str(mod.get("parent_device_uid", "")),
                "position": p.position,
            }
        return out

    def stats(self) -> dict[str, Any]:
        return {"points": len(self.points), "samples": self.samples, "rejected": self.rejected,
                "published": self.published}  # fmt: skip
