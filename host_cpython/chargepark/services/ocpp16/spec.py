"""What the ocpp16 service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="ocpp16",
    title="OCPP 1.6J",
    summary="OCPP 1.6J charge point towards a backend: the OCPP points are the connectors of one charge box (docs/ocpp.md)",
    reads=("ocpp", "chargepoint", "network"),  # network: modem_enabled (ModemRestartTimeout)
    publishes=(topics.AGENT_COMMAND, topics.OCPP_LIMIT, topics.AGENT_UPDATE),
    subscribes=(
        topics.AGENT_LIVE,
        topics.AGENT_EVENT,
        topics.AGENT_COMMAND_RESULT,
        topics.AGENT_UPDATE_PROGRESS,
        topics.CONFIG_VERSION,
    ),
    client_id="charx-ocpp16",
    persistent_session=True,  # transaction events of the time it was down arrive when it is back
)
