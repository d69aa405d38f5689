"""What the system monitor service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="system-monitor",
    title="System Monitor",
    summary="CPU, memory, disk, load and the service summary every 5 s",
    publishes=(topics.SYSTEM_MONITOR,),
    subscribes=(topics.SERVICES,),
    client_id="charx-system-monitor",
)
