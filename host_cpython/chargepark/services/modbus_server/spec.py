"""What the modbus server service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="modbus-server",
    title="Modbus Server",
    summary="the CHARX-compatible Modbus/TCP server on the modbus area's `server_port` (docs/modbus-registers.md)",
    reads=("modbus", "chargepoint", "control", "module", "station"),
    publishes=(topics.AGENT_COMMAND, topics.MODBUS_DYNAMIC_CURRENT, topics.MODBUS_POINT_CURRENT),
    subscribes=(
        topics.AGENT_LIVE,
        topics.AGENT_MODULES,
        topics.CHARX_DATA,
        topics.AGENT_COMMAND_RESULT,
        topics.CONFIG_VERSION,
    ),
    client_id="charx-modbus-server",
)
