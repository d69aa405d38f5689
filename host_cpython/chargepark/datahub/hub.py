"""The data hub's core: live samples in, CHARX topics and durable sessions out, REST views."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from chargepark import topics
from chargepark.datahub.point import PointTracker, SessionEdge, payload
from chargepark.datahub.sessions import Op, SessionStore

log = logging.getLogger("chargepark.datahub")

Publish = Callable[[str, str, bool], None]
SESSION_UPDATE_S = 10.0
STALE_S = 3.0  # the agents deliver every point at least every 0.5 s  # how often an open session's energy and durations are written


class DataHub:
    def __init__(self, store: SessionStore, publish: Publish) -> None:
        self.store = store
        self.publish = publish
        self.points: dict[str, PointTracker] = {}
        self.modules: dict[str, dict[str, Any]] = {}
        self._sent: dict[tuple[str, str], str] = {}
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
                p.resume(
                    row["started"], row["start_meter_wh"], row["id_tag"], row["connected_s"], row["charge_s"]
                )
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
        if ev.get("event") == "rfid_read":
            edge = self.point(uid).rfid(str(ev.get("arg", "")), time.time())
            self._publish_point(self.point(uid))
            if edge is not None:
                self._queue(edge)

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
            self._queue(
                SessionEdge("update", uid, now, p.session_energy(), int(snap.get("energy_wh", 0)), p.rfid_tag)
            )
        self.samples += 1
        self._publish_point(p)

    def check_stale(self, now: float) -> None:
        """A point whose agent went silent is shown offline (its last values stay, marked as such)."""
        for p in self.points.values():
            if p.online and now - p.updated > STALE_S:
                p.online = False
                self._publish_point(p)

    def _queue(self, edge: SessionEdge) -> None:
        p = self.points[edge.uid]
        self._last_write[edge.uid] = edge.at
        self._pending.append(
            Op(edge.kind, edge.uid, edge.at, edge.energy_wh, edge.meter_wh, edge.id_tag, edge.reason,
               p.connected_s, p.charge_s)
        )  # fmt: skip

    def _publish_point(self, p: PointTracker) -> None:
        params = p.params()
        for name, value in params.items():
            text = payload(value)
            key = (p.uid, name)
            if self._sent.get(key) != text:
                self._sent[key] = text
                self.publish(topics.charx(p.uid, name), text, True)
                self.published += 1
        self.publish(topics.charx(p.uid, "live"), json.dumps(p.live(params)), True)
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
                "reason": op.reason,
                "connected_s": round(op.connected_s),
                "charge_s": round(op.charge_s),
            }
            self.publish(topics.fill(topics.SESSION_EVENT, uid=op.uid), json.dumps(record), False)
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

    def data(self, uid: str, names: list[str] | None) -> dict[str, Any]:
        p = self.points[uid]
        params = p.params()
        if not names:
            return params
        unknown = [n for n in names if n not in params]
        if unknown:
            raise ValueError("unknown parameter(s): %s (known: %s)" % (", ".join(unknown), ", ".join(params)))
        return {n: params[n] for n in names}

    def stats(self) -> dict[str, Any]:
        return {"points": len(self.points), "samples": self.samples, "rejected": self.rejected,
                "published": self.published}  # fmt: skip
