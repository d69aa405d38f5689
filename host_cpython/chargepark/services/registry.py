"""The head's service table (manual, "System Control/Status"): one row per application.

A service is installed when its module `chargepark.services.<module>` exists and has a `main()`; adding
one of the later interfaces is adding that one module. Until then the row says why it is absent.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    module: str
    pending: str  # why it may be absent: the issue that brings it

    @property
    def installed(self) -> bool:
        return importlib.util.find_spec("chargepark.services." + self.module) is not None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("system-monitor", "System Monitor", "system_monitor", ""),
    ServiceSpec("controller-agent", "Controller Agent", "controller_agent", ""),
    ServiceSpec("ocpp16", "OCPP 1.6J", "ocpp16", "the OCPP 1.6J interface arrives with its own issue"),
    ServiceSpec(
        "modbus-client",
        "Modbus Client",
        "modbus_client",
        "the Modbus/TCP meter client arrives with its own issue",
    ),
    ServiceSpec(
        "modbus-server", "Modbus Server", "modbus_server", "the Modbus/TCP server arrives with its own issue"
    ),
    ServiceSpec("jupicore", "JupiCore", "jupicore", ""),
    ServiceSpec(
        "load-management", "Load Management", "load_management", "load management arrives with its own issue"
    ),
    ServiceSpec("web-server", "Web Server", "web_server", ""),
    ServiceSpec(
        "calibration-law",
        "Calibration Law Agent",
        "calibration_law",
        "the calibration law agent arrives with its own issue",
    ),
)


def by_name(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError("no service %r (known: %s)" % (name, ", ".join(s.name for s in SERVICES)))
