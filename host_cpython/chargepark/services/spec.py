"""What a service declares about itself, in one place beside its `main()` (EVerest's module manifest shape).

Each service is a package `chargepark/services/<package>/` with a `spec.py` holding `SPEC` and, once it is
built, a `main.py` with `main()`. The registry, the supervisor, `chargepark service status`, the WBM's
service list, `docs/services.md` and the publisher/subscriber columns of `docs/mqtt-topics.md` all read
the specs; the service's MQTT link refuses topics its spec does not declare.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from chargepark import __version__


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # process and log name, `chargepark service restart NAME`
    title: str  # the manual's name ("System Control/Status")
    summary: str  # what it does today (docs/services.md)
    arrives_with: str = ""  # not built yet: the issue that brings it; empty once `main.py` exists
    version: str = __version__
    reads: tuple[str, ...] = ()  # configuration areas it reads (it follows their version topics)
    publishes: tuple[str, ...] = ()  # topic patterns of chargepark.topics
    subscribes: tuple[str, ...] = ()
    client_id: str = ""  # its MQTT client id
    # The broker keeps its QoS 1 subscriptions' messages while it is down (MQTT clean_session off).
    persistent_session: bool = False
    ports: tuple[str, ...] = ()  # the system-area port fields it listens on (Runtime attributes)

    @property
    def package(self) -> str:
        return "chargepark.services." + self.name.replace("-", "_")

    @property
    def installed(self) -> bool:
        try:
            return importlib.util.find_spec(self.package + ".main") is not None
        except ModuleNotFoundError:  # no package at all (the supervisor's own spec)
            return False

    @property
    def pending(self) -> str:
        """Why it is absent (the supervisor's note for a service that is not installed)."""
        return (
            "%s arrives with its own issue (%s)" % (self.title, self.arrives_with)
            if self.arrives_with
            else ""
        )
