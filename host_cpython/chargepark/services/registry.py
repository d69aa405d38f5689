"""The head's service table (manual, "System Control/Status"): the services' specs in the manual's order.

A service is installed when its package has a `main.py`; until then its spec says which issue brings it.
Adding one of the later interfaces is adding its `main.py` (and clearing `arrives_with`); a new service is
a new package with a `spec.py`, listed here (a test checks that every package is).
"""

from __future__ import annotations

from chargepark.services.calibration_law.spec import SPEC as CALIBRATION_LAW
from chargepark.services.controller_agent.spec import SPEC as CONTROLLER_AGENT
from chargepark.services.jupicore.spec import SPEC as JUPICORE
from chargepark.services.load_management.spec import SPEC as LOAD_MANAGEMENT
from chargepark.services.modbus_client.spec import SPEC as MODBUS_CLIENT
from chargepark.services.modbus_server.spec import SPEC as MODBUS_SERVER
from chargepark.services.mqtt_bridge.spec import SPEC as MQTT_BRIDGE
from chargepark.services.ocpp16.spec import SPEC as OCPP16
from chargepark.services.spec import ServiceSpec
from chargepark.services.system_monitor.spec import SPEC as SYSTEM_MONITOR
from chargepark.services.web_server.spec import SPEC as WEB_SERVER

SERVICES: tuple[ServiceSpec, ...] = (
    SYSTEM_MONITOR,
    CONTROLLER_AGENT,
    OCPP16,
    MODBUS_CLIENT,
    MODBUS_SERVER,
    JUPICORE,
    LOAD_MANAGEMENT,
    WEB_SERVER,
    MQTT_BRIDGE,
    CALIBRATION_LAW,
)


def by_name(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError("no service %r (known: %s)" % (name, ", ".join(s.name for s in SERVICES)))
