"""The bridge's connection state for the WBM: up/down from mosquitto's notification topic, the reason it is
down from the bridge mosquitto's log (its lines do not always name the connection; the head connection is
anonymous on loopback, so a refusal is the remote broker's), and the QoS 1 messages dropped at a queue bound
on the way: the head's and the bridge mosquitto's `$SYS/broker/publish/messages/dropped`, counted from the
bridge's start (the head's counter also counts drops for other subscribers of the head)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

OFF, CONNECTING, CONNECTED = "off", "connecting", "connected"
REFUSED, TLS_ERROR, UNREACHABLE, ERROR = "refused", "tls_error", "unreachable", "error"

# (text in a log line, state it means); the first match wins
_LOG_STATES = (
    ("Connection Refused:", REFUSED),  # CONNACK refusal: "not authorised", "bad user name or password", ...
    ("OpenSSL Error", TLS_ERROR),  # certificate verify failed, wrong CA, handshake failure
    ("Unable to load CA", TLS_ERROR),
    ("Error creating bridge", UNREACHABLE),  # connection refused, unknown host, ...
    ("Unable to connect", UNREACHABLE),
)


@dataclass
class BridgeState:
    broker: str = ""
    state: str = OFF
    reason: str = ""
    since: float = field(default_factory=time.time)
    dropped: dict[str, int] = field(default_factory=dict)  # broker ("head", "bridge") -> drops seen
    _last: dict[str, int] = field(default_factory=dict)  # each broker's counter as last seen

    def fresh_counter(self, broker: str) -> None:
        """The broker starts (again) from 0: every drop it counts from now on is the bridge's."""
        self._last[broker] = 0

    def on_dropped(self, broker: str, payload: bytes) -> bool:
        """Takes a broker's cumulative drop counter; True when the count changed. The first value of a
        broker not marked fresh is the base (drops before the bridge started are not counted); a counter
        that went down means its broker restarted and counts from 0 again."""
        try:
            total = int(payload)
        except ValueError:
            return False
        last = self._last.setdefault(broker, total)
        self._last[broker] = total
        more = total - last if total >= last else total
        if more == 0:
            return False
        self.dropped[broker] = self.dropped.get(broker, 0) + more
        return True

    def _set(self, state: str, reason: str) -> bool:
        if (state, reason) == (self.state, self.reason):
            return False
        self.state, self.reason, self.since = state, reason, time.time()
        return True

    def off(self, reason: str = "") -> bool:
        self.broker = ""
        return self._set(OFF, reason)

    def starting(self, broker: str) -> bool:
        self.broker = broker
        return self._set(CONNECTING, "")

    def on_log(self, line: str) -> bool:
        """Takes one log line of the bridge mosquitto; True when the state changed."""
        for text, state in _LOG_STATES:
            if text in line:
                return self._set(state, line.split(": ", 1)[-1].strip())
        return False

    def on_notification(self, payload: bytes) -> bool:
        if payload == b"1":
            return self._set(CONNECTED, "")
        return self._set(self.state if self.state != CONNECTED else CONNECTING, self.reason)

    def died(self, why: str) -> bool:
        return self._set(ERROR, why)

    def report(self) -> dict[str, object]:
        return {
            "state": self.state,
            "reason": self.reason,
            "broker": self.broker,
            "t": round(self.since, 3),
            "dropped": sum(self.dropped.values()),
            "dropped_at": dict(sorted(self.dropped.items())),
        }
