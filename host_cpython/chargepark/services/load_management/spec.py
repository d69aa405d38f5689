"""What the load management service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="load-management",
    title="Load Management",
    summary="shares each load circuit's fuse among its charging points every few seconds (docs/load-management.md)",
    reads=("loadcircuit", "chargepoint", "park"),
    publishes=(topics.AGENT_COMMAND, topics.LM_CIRCUIT, topics.LM_POINT_LIMIT),
    subscribes=(
        topics.AGENT_LIVE,
        topics.AGENT_COMMAND_RESULT,
        topics.MODBUS_CLIENT_METER,
        topics.MODBUS_DYNAMIC_CURRENT,
        topics.MODBUS_POINT_CURRENT,
        topics.OCPP_LIMIT,
        topics.CONFIG_VERSION,
    ),
    client_id="charx-loadmanagement",
    ports=("loadmgmt_port",),
)
