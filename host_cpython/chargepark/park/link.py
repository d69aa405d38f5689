"""The park's traffic over ETH1 (manual "System Control/Module Switch": the server takes over what a
client's services no longer do): a client's own mosquitto bridges its controller agent's point topics to
the server's broker, which listens on the park address beside loopback (for clients that log in with the
park's secret only, park/auth.py).

One MQTT connection per client, made by mosquitto itself (a `connection` block in the client broker's
configuration, headrun.py): its QoS 1 events wait in the client's broker while the server is away, and the
server's retained configuration of each point comes back at every reconnect. The topics are the agent's
own (park-unique device UIDs): the server's data hub reads a client's points as it reads its own.
"""

from __future__ import annotations

import socket
from typing import Any

from chargepark import topics
from chargepark.config.checks import PARK_SERVER, split_host_port

PARK_PORT = 1883  # the server's broker on the park link, the same on every head of a park
CONNECTION = "park"
RESTART_S = (1, 5)  # mosquitto's reconnect backoff towards the server: from 1 s up to 5 s
KEEPALIVE_S = 10  # a lost server is noticed within 1.5 keepalives
USER = "chargepark-park"  # every client of a park logs in as it: the secret, not the name, is shared

# (topic pattern, direction, QoS): out = the client's agent to the server, in = the server to the client.
ROUTES: tuple[tuple[str, str, int], ...] = (
    (topics.AGENT_LIVE, "out", 0),
    (topics.AGENT_EVENT, "out", 1),  # sessions: kept while the server is away
    (topics.AGENT_COMMAND_RESULT, "out", 0),
    (topics.AGENT_PARK_STATION, "out", 1),
    (topics.AGENT_UPDATE_PROGRESS, "out", 0),  # a client's update, for the server's installer
    (topics.AGENT_COMMAND, "in", 0),  # a command the server could not deliver now is not run later
    (topics.AGENT_PARK_CONFIG, "in", 1),
    (topics.AGENT_PARK_UPDATE, "in", 1),  # a client that is away misses it: the installer times out
)


def password_of(system: dict[str, Any]) -> str:
    """The park's shared secret (system `park_password`; empty = the server refuses every client)."""
    return str(system.get("park_password", ""))


def server_of(system: dict[str, Any]) -> tuple[str, int]:
    """The park server's broker (host, port) from the system area (`park_broker`; empty = 192.168.4.1)."""
    text = str(system.get("park_broker", ""))
    return split_host_port(text) if text else (str(PARK_SERVER), PARK_PORT)


def bridge(host: str, port: int, station: str, password: str) -> str:
    """The client broker's connection to the server (appended to its configuration). The server's side
    is clean (a command the client missed is not run late); the client's side keeps its QoS 1 events.
    It logs in with the park's secret (park/auth.py); without one it stays anonymous, and the server
    refuses it."""
    login = ["remote_username %s" % USER, "remote_password %s" % password] if password else []
    lines = [
        "connection %s" % CONNECTION,
        "address %s:%d" % (host, port),
        "remote_clientid chargepark-park-%s" % station,
        *login,
        "bridge_protocol_version mqttv311",
        "cleansession true",
        "local_cleansession false",
        "notifications false",
        "restart_timeout %d %d" % RESTART_S,
        "keepalive_interval %d" % KEEPALIVE_S,
    ]
    for pattern, way, qos in ROUTES:
        # its own station's report and update only; the point topics of every point (the agents tell
        # theirs apart)
        own = pattern in (topics.AGENT_PARK_STATION, topics.AGENT_PARK_UPDATE)
        topic = topics.fill(pattern, uid=station) if own else topics.subscription(pattern)
        lines.append("topic %s %s %d" % (topic, way, qos))
    return "\n".join(lines) + "\n"


def bindable(host: str, port: int) -> bool:
    """Whether this machine has `host` (the server's ETH1 address once networkd set it) and `port` free."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as mosquitto binds
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
