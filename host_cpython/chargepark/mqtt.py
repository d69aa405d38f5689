"""A service's link to the local broker: an MQTT 3.1.1 client on an asyncio protocol. Handlers run on the
event loop, `subscribe` returns once the broker acknowledged it, subscriptions survive reconnects.

Everything goes through the topic map (`chargepark.topics`): `publish` takes the retained flag and the QoS
from it, and the link refuses a topic its service's spec does not declare, so the spec's topic lists stay
true. A service whose spec asks for a persistent session gets its QoS 1 messages of the time it was down
when it connects again; one that arrives before its handler is registered waits for it (`_unclaimed`).

Why not aiomqtt (the chosen stack's client; the bridge's remote link uses it): measured 2026-12-02,
`bench/bench_rest.py --quick` alternating this link and an aiomqtt one behind the same interface, 4 pairs
with the park at its 500 samples/s while other work held 0.4-1.1 of the 2 cores. aiomqtt: the data hub
took 18-50 of the 500 samples/s, its points 4.1-5.6 s stale and growing; 733-1975 req/s, p99 57-214 ms.
This link: the hub took every sample, points at most 0.75-1.44 s old (p99 0.63-1.31 s); 160-767 req/s,
p99 0.18-1.15 s, its hub doing ten times the work (no run met the HTTP targets on that machine; a bare
uvicorn route 1817-6234 req/s). In 4 more pairs on a machine loaded fully, the park starved to 44-126
samples/s, aiomqtt's hub took 2-28 of 44-47/s, this link every sample. The link alone
(`bench/bench_link.py`: one sample in, three out): this link 5200-10700 samples/s at 26-32 us CPU per
sample, aiomqtt 480-670 at 775-870 us. Why: paho's `loop_read` takes one packet per readable wakeup at
QoS 0, so intake is bounded by the event loop's rounds per second, which HTTP load makes few; it reads a
packet in several recv calls and sends each with its own write, and aiomqtt adds an awaited confirmation
per publish and a task per received message. Here one read hands every complete packet to the handlers,
and the publishes of one event-loop round leave in one write.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import struct
import time
from collections.abc import Callable
from typing import Any, cast

from paho.mqtt.client import topic_matches_sub

from chargepark import topics
from chargepark.services.spec import ServiceSpec

Handler = Callable[[str, bytes], None]
log = logging.getLogger("chargepark.mqtt")
RECONNECT_S = 1.0
KEEPALIVE_S = 30
CONNECT_TIMEOUT_S = 10.0
INFLIGHT = 100  # QoS 1 publishes awaiting the broker's PUBACK; more wait in the outbox
OUTBOX = 100_000  # messages queued while the broker is away or slow; beyond that new ones are dropped
UNCLAIMED = 10_000  # messages that came before their handler (a persistent session's backlog)
ROUTES = 50_000  # topics whose handlers are remembered (a head has a bounded set: points x params)

# MQTT 3.1.1 control packets (first byte; a PUBLISH adds dup << 3 | qos << 1 | retain)
CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0
DUP = 0x08


class MqttError(Exception):
    pass


def _length(n: int) -> bytes:
    """MQTT's remaining length: 7 bits a byte, low first."""
    out = bytearray()
    while True:
        n, digit = n >> 7, n & 0x7F
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _length(len(body)) + body


def _text(s: bytes) -> bytes:
    return struct.pack("!H", len(s)) + s


def _publish_packet(topic: str, payload: bytes, retain: bool, qos: int, mid: int) -> bytes:
    head = _text(topic.encode()) + (struct.pack("!H", mid) if qos else b"")
    return _packet(PUBLISH | qos << 1 | retain, head + payload)


class _Wire(asyncio.Protocol):
    """One connection to the broker: every complete packet of a read goes to the link at once; what is
    written in one event-loop round leaves in one write."""

    def __init__(self, link: MqttLink) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.paused = False  # the transport's buffer is full: publishes wait in the link's outbox
        self.heard = time.monotonic()
        self._in = bytearray()
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.heard = time.monotonic()
        buf = self._in
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= 2:
            length, shift, i = 0, 0, pos + 1
            while i < end and buf[i] & 0x80:
                length |= (buf[i] & 0x7F) << shift
                shift, i = shift + 7, i + 1
            if i >= end:
                break  # the length itself is incomplete
            if shift > 21:
                raise MqttError("malformed remaining length from the broker")
            length |= buf[i] << shift
            if i + 1 + length > end:
                break
            self.link._received(self, buf[pos], bytes(buf[i + 1 : i + 1 + length]))
            pos = i + 1 + length
        del buf[:pos]

    def write(self, packet: bytes) -> None:
        if not self._out:
            asyncio.get_running_loop().call_soon(self.flush)
        self._out.append(packet)

    def flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self._out))
        self._out.clear()

    def pending(self) -> int:
        """Bytes written but not yet handed to the socket."""
        size = self.transport.get_write_buffer_size() if self.transport is not None else 0
        return size + sum(map(len, self._out))

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.link._drain()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class MqttLink:
    def __init__(self, host: str, port: int, spec: ServiceSpec) -> None:
        self.host = host
        self.port = port
        self.spec = spec
        self.published = 0
        self.received = 0
        self.dropped = 0
        self._handlers: list[tuple[str, Handler]] = []
        self._routes: dict[str, list[tuple[str, Handler]]] = {}
        self._unclaimed: collections.deque[tuple[str, bytes]] = collections.deque(maxlen=UNCLAIMED)
        self._outbox: collections.deque[tuple[str, bytes, bool, int]] = collections.deque()
        self._inflight: dict[int, bytes] = {}  # QoS 1 packets until their PUBACK, resent after a reconnect
        self._mid = 0
        self._subacks: dict[int, asyncio.Future[None]] = {}
        self._connack: asyncio.Future[int] | None = None
        self._wire: _Wire | None = None  # set once the broker accepted the connection
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def connect(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="mqtt-" + self.spec.name)
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    async def close(self, flush_s: float = 1.0) -> None:
        """Sends what is queued (up to flush_s; QoS 1 until acknowledged), then disconnects."""
        deadline = time.monotonic() + flush_s
        while self._wire is not None and (self._outbox or self._inflight or self._wire.pending()):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def subscribe(self, subscription: str, handler: Handler) -> None:
        """Subscribes (returns after the broker's SUBACK when connected; else, or when the connection drops
        meanwhile, the subscription is made at the next connect)."""
        entry = topics.entry_of_subscription(subscription)
        if entry.pattern not in self.spec.subscribes:
            raise ValueError("%s does not declare a subscription to %s" % (self.spec.name, entry.pattern))
        self._handlers.append((subscription, handler))
        self._routes.clear()
        if self._wire is not None:
            await self._subscribe(self._wire, subscription)
        waiting = [m for m in self._unclaimed if topic_matches_sub(subscription, m[0])]
        for message in waiting:
            self._unclaimed.remove(message)
            self._dispatch(*message)

    def publish(self, topic: str, payload: str | bytes) -> None:
        """Queues one message, retained and at the QoS the topic map says; never blocks."""
        entry = topics.entry(topic)
        if entry.pattern not in self.spec.publishes:
            raise ValueError("%s does not declare publishing %s" % (self.spec.name, entry.pattern))
        data = payload.encode() if isinstance(payload, str) else payload
        wire = self._wire if self._connected.is_set() else None
        if wire is not None and not wire.paused and not self._outbox and self._room(entry.qos):
            self._send(wire, topic, data, entry.retained, entry.qos)
        elif len(self._outbox) < OUTBOX:
            self._outbox.append((topic, data, entry.retained, entry.qos))
        else:
            self.dropped += 1
            return
        self.published += 1

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # the connection

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except (OSError, TimeoutError, MqttError) as exc:
                log.warning("broker %s:%d: %s; reconnecting", self.host, self.port, exc)
            finally:
                self._wire = None
                self._connected.clear()
                for fut in self._subacks.values():
                    if not fut.done():
                        fut.set_result(None)  # subscribed again at the next connect
                self._subacks.clear()
            await asyncio.sleep(RECONNECT_S)

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            _, wire = await loop.create_connection(lambda: _Wire(self), self.host, self.port)
        try:
            self._connack = loop.create_future()
            clean = not self.spec.persistent_session
            ident = self.spec.client_id.encode()
            body = _text(b"MQTT") + struct.pack("!BBH", 4, 0x02 if clean else 0, KEEPALIVE_S) + _text(ident)
            wire.write(_packet(CONNECT, body))
            either: list[asyncio.Future[Any]] = [self._connack, wire.lost]
            await asyncio.wait(either, timeout=CONNECT_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
            if not self._connack.done():
                raise MqttError("no CONNACK from the broker")
            if self._connack.result() != 0:
                raise MqttError("connection refused (CONNACK code %d)" % self._connack.result())
            self._wire = wire  # from here subscribe() sends its own SUBSCRIBE; publishes wait for the set
            for subscription in dict.fromkeys(s for s, _ in self._handlers):
                await self._subscribe(wire, subscription)
            for packet in self._inflight.values():  # first what was sent before and not acknowledged
                wire.write(bytes((packet[0] | DUP,)) + packet[1:])
            self._connected.set()
            self._drain()
            while not wire.lost.done():
                await asyncio.wait([wire.lost], timeout=KEEPALIVE_S / 2)
                if time.monotonic() - wire.heard > KEEPALIVE_S:
                    raise MqttError("the broker went silent")
                wire.write(_packet(PINGREQ, b""))
            raise MqttError("connection lost")
        finally:
            wire.write(_packet(DISCONNECT, b""))  # a closing link's goodbye (a persistent session stays)
            wire.flush()
            if wire.transport is not None:
                wire.transport.close()

    async def _subscribe(self, wire: _Wire, subscription: str) -> None:
        mid = self._next_mid()
        fut = self._subacks[mid] = asyncio.get_running_loop().create_future()
        qos = topics.entry_of_subscription(subscription).qos
        wire.write(_packet(SUBSCRIBE, struct.pack("!H", mid) + _text(subscription.encode()) + bytes((qos,))))
        await fut

    def _next_mid(self) -> int:
        while True:
            self._mid = self._mid % 0xFFFF + 1
            if self._mid not in self._inflight and self._mid not in self._subacks:
                return self._mid

    def _room(self, qos: int) -> bool:
        return qos == 0 or len(self._inflight) < INFLIGHT

    def _send(self, wire: _Wire, topic: str, payload: bytes, retain: bool, qos: int) -> None:
        mid = self._next_mid() if qos else 0
        packet = _publish_packet(topic, payload, retain, qos, mid)
        if qos:
            self._inflight[mid] = packet
        wire.write(packet)

    def _drain(self) -> None:
        """Sends the outbox in order while the connection takes it."""
        wire, box = self._wire if self._connected.is_set() else None, self._outbox
        while wire is not None and box and not wire.paused and self._room(box[0][3]):
            self._send(wire, *box.popleft())

    # what the broker sends

    def _received(self, wire: _Wire, first: int, body: bytes) -> None:
        kind = first & 0xF0
        if kind == PUBLISH:
            qos = first >> 1 & 3
            n = struct.unpack_from("!H", body)[0]
            topic = body[2 : 2 + n].decode()
            start = 2 + n + (2 if qos else 0)
            self._dispatch(topic, body[start:])
            if qos:
                wire.write(_packet(PUBACK, body[2 + n : start]))
        elif kind == PUBACK:
            self._inflight.pop(struct.unpack_from("!H", body)[0], None)
            self._drain()
        elif kind == SUBACK:
            mid = struct.unpack_from("!H", body)[0]
            if 0x80 in body[2:]:
                log.error("the broker refused a subscription of %s", self.spec.name)
            fut = self._subacks.pop(mid, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        elif kind == CONNACK:
            if self._connack is not None and not self._connack.done():
                self._connack.set_result(body[1])

    def _dispatch(self, topic: str, payload: bytes) -> None:
        self.received += 1
        route = self._routes.get(topic)
        if route is None:
            if len(self._routes) >= ROUTES:
                self._routes.clear()
            route = self._routes[topic] = [(s, h) for s, h in self._handlers if topic_matches_sub(s, topic)]
        for subscription, handler in route:
            try:
                handler(topic, payload)
            except Exception:  # one bad message must not end the link
                log.exception("handler for %s failed on %s", subscription, topic)
        if not route:
            self._unclaimed.append((topic, payload))  # a persistent session's backlog, before its handler
