"""What the modbus client service declares (services/spec.py)."""

from __future__ import annotations

from chargepark import topics
from chargepark.services.spec import ServiceSpec

SPEC = ServiceSpec(
    name="modbus-client",
    title="Modbus Client",
    summary="reads the load circuits' higher-level Modbus/TCP meters (EEM-EM377, EEM-MA370) every second",
    reads=("loadcircuit",),
    publishes=(topics.MODBUS_CLIENT_METER,),
    subscribes=(topics.CONFIG_VERSION,),
    client_id="charx-modbus-client",
)
