"""A small asyncio face on paho-mqtt: handlers run on the event loop, subscriptions survive reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

Handler = Callable[[str, bytes], None]


class MqttLink:
    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handlers: list[tuple[str, Handler]] = []
        self._connected = asyncio.Event()
        self.published = 0
        self.received = 0
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(1000)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    async def connect(self, timeout: float = 10.0) -> None:
        self._loop = asyncio.get_running_loop()
        self._client.reconnect_delay_set(1, 5)
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        await asyncio.wait_for(self._connected.wait(), timeout)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._handlers.append((pattern, handler))
        if self._connected.is_set():
            self._client.subscribe(pattern)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=0, retain=retain)
        self.published += 1

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # paho's network thread below: hand everything to the event loop.
    def _on_connect(
        self, client: paho.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        for pattern, _ in self._handlers:
            client.subscribe(pattern)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._connected.set)

    def _on_disconnect(
        self, client: paho.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._connected.clear)

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._dispatch, msg.topic, bytes(msg.payload))

    def _dispatch(self, topic: str, payload: bytes) -> None:
        self.received += 1
        for pattern, handler in self._handlers:
            if paho.topic_matches_sub(pattern, topic):
                handler(topic, payload)
