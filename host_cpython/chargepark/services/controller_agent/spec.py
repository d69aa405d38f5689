"""What the controller agent service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="controller-agent",
    title="Controller Agent",
    summary="backplane bus master (`chargepark.bus.ControllerAgent`) bridged to MQTT, see below",
    reads=("chargepoint", "loadcircuit", "control", "module", "ocpp", "rfidboard", "parkpoint", "station"),
    publishes=(
        topics.AGENT_LIVE,
        topics.AGENT_MODULES,
        topics.AGENT_EVENT,
        topics.AGENT_COMMAND_RESULT,
        topics.AGENT_UPDATE_PROGRESS,
        topics.MODBUS_CLIENT_METER,
        topics.AGENT_PARK_STATION,
        topics.AGENT_PARK_CONFIG,
    ),
    subscribes=(
        topics.AGENT_COMMAND,
        topics.AGENT_UPDATE,
        topics.CONFIG_VERSION,
        topics.AGENT_PARK_STATION,
        topics.AGENT_PARK_CONFIG,
        topics.AGENT_PARK_UPDATE,
    ),
    client_id="charx-controller-agent",
)
