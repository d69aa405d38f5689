"""What the jupicore service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="jupicore",
    title="JupiCore",
    summary="the data hub: CHARX topics, sessions, REST, the RFID decision (release/rfid.py), see below",
    reads=("park", "chargepoint", "control", "module", "whitelist", "ocpp"),
    publishes=(topics.CHARX_DATA, topics.SESSION_EVENT, topics.AGENT_COMMAND, topics.RFID_RECENT),
    subscribes=(
        topics.AGENT_LIVE,
        topics.AGENT_EVENT,
        topics.AGENT_MODULES,
        topics.AGENT_COMMAND_RESULT,
        topics.RFID_TEACH,
    ),
    client_id="charx-jupicore",
    persistent_session=True,  # session events of the time it was down arrive when it is back
    ports=("rest_port",),
)
