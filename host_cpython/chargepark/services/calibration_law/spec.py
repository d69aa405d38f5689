"""What the calibration law service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="calibration-law",
    title="Calibration Law Agent",
    summary="judges the calibration-law settings (logs what is not compliant) and keeps every signed session "
    "record, checked against its meter's public key (runs while the system's calibration_law is on)",
    reads=("system", "chargepoint", "module", "ocpp"),
    subscribes=(topics.AGENT_EVENT, topics.CONFIG_VERSION),
    client_id="charx-calibration-law",
)
