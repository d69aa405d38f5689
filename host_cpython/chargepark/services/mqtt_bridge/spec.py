"""What the MQTT bridge service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="mqtt-bridge",
    title="MQTT Bridge",
    summary="forwards topics to and from a remote broker through a bridge mosquitto of its own; "
    "station config, VPN state, the OpenVPN command, which starts or stops the client On Request "
    "(docs/mqtt-bridge.md)",
    reads=("mqtt_bridge", "network"),  # network: the OpenVPN activation mode, read per command
    # BRIDGE_COMMAND reaches the head through the bridge mosquitto's head connection, in the service's name
    publishes=(topics.BRIDGE_STATE, topics.BRIDGE_CONFIG, topics.BRIDGE_VPN_STATE, topics.BRIDGE_COMMAND),
    subscribes=(topics.AGENT_MODULES, topics.CONFIG_VERSION, topics.BRIDGE_COMMAND),
    client_id="chargepark-mqtt-bridge",
)
