"""The bridge mosquitto's configuration: a loopback listener for the service, a connection `head` to the
head's broker and a connection `remote` to the remote broker, every route QoS 1 over both."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chargepark.bridge.rules import OUT, Route

QOS = 1
# QoS 1 messages held per connection while its broker is away (mosquitto's default: 1000): a remote outage
# of ~25 s at every data parameter of 250 points a second, more than the head holds for the bridge
# (broker.QUEUE); beyond it drops are counted (bridge/status.py).
QUEUE = 100_000
SYS_INTERVAL_S = 2  # how soon the bridge mosquitto's drop counter ($SYS) reaches the state


@dataclass(frozen=True)
class Endpoints:
    listen_port: int  # the bridge broker's own loopback listener (the service reads the connection state)
    head_host: str
    head_port: int
    client_id: str  # the remote broker sees this client id; the head sees `<client_id>-head`
    cafile: Path | None  # the uploaded CA certificate, written beside the configuration; None = plain MQTT


def state_topic(client_id: str) -> str:
    """Where the bridge broker publishes 1/0 for its remote connection (mosquitto's notification)."""
    return "$SYS/broker/connection/%s/state" % client_id


def _head_line(route: Route) -> str:
    # On the head connection the head is the "remote" side: out routes come in from the head, in go out.
    way = "in" if route.direction == OUT else "out"
    if route.tree:
        return "topic # %s %d %s %s" % (way, QOS, route.remote[:-1], route.local[:-1])
    return 'topic "" %s %d %s %s' % (way, QOS, route.remote, route.local)


def render(cfg: dict[str, Any], routes: list[Route], ends: Endpoints) -> str:
    lines = [
        "user %s" % pwd.getpwuid(os.getuid()).pw_name,
        "per_listener_settings false",
        "listener %d 127.0.0.1" % ends.listen_port,
        "allow_anonymous true",
        "persistence false",
        "log_dest stderr",
        *("log_type " + t for t in ("error", "warning", "notice", "information")),
        "max_queued_messages %d" % QUEUE,
        "sys_interval %d" % SYS_INTERVAL_S,
        "",
        "connection head",
        "address %s:%d" % (ends.head_host, ends.head_port),
        "remote_clientid %s-head" % ends.client_id,
        "cleansession false",  # the head keeps QoS 1 messages for the bridge across its restarts
        "notifications false",
        "restart_timeout 1 5",
        *(_head_line(r) for r in routes),
        "",
        "connection remote",
        "address %s:%d" % (cfg["broker"], cfg["port"]),
        "remote_clientid %s" % ends.client_id,
        "cleansession false",
        "notifications true",
        "notifications_local_only true",
        "restart_timeout 1 10",
        "keepalive_interval 30",
    ]
    if cfg["user"]:
        lines += ["remote_username %s" % cfg["user"], "remote_password %s" % cfg["password"]]
    if ends.cafile is not None:
        lines += ["bridge_cafile %s" % ends.cafile, "bridge_insecure false"]
    lines += ["topic %s %s %d" % (r.remote, r.direction, QOS) for r in routes]
    return "\n".join(lines) + "\n"
