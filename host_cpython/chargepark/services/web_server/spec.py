"""What the web server service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="web-server",
    title="Web Server",
    summary="WBM: the dashboard (`/`, `/api/park`) and the WBM API (`/api/wbm/...`, docs/wbm-api.md)",
    publishes=(topics.AGENT_COMMAND, topics.RFID_TEACH),  # the point operations, through chargepark.pointops
    subscribes=(
        topics.CHARX_DATA,
        topics.SERVICES,
        topics.SYSTEM_MONITOR,
        topics.AGENT_COMMAND_RESULT,
        topics.MODBUS_CLIENT_METER,  # the Modbus page shows the higher-level meters
        topics.RFID_RECENT,
        topics.LM_CIRCUIT,
        topics.BRIDGE_STATE,  # the MQTT Bridge page shows the connection
        topics.BRIDGE_CONFIG,  # and the station id in the full topics
    ),
    client_id="charx-website",
    ports=("web_port",),
)
