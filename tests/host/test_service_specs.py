"""The service specs: every service package is in the registry, its declarations name real areas, topics
and ports, and docs/services.md's generated tables are current."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import chargepark.services as services_pkg
from chargepark import supervisor, topics
from chargepark.config.areas import AREAS
from chargepark.config.schemas import SYSTEM
from chargepark.runtime import Runtime
from chargepark.services import docs
from chargepark.services.registry import SERVICES, by_name

ALL = (supervisor.SPEC, *SERVICES)


def test_every_service_package_is_in_the_registry() -> None:
    root = Path(services_pkg.__file__).parent
    packages = {m.name for m in pkgutil.iter_modules([str(root)]) if m.ispkg}
    assert packages == {s.package.rsplit(".", 1)[1] for s in SERVICES}
    for name in packages:
        assert (root / name / "spec.py").exists(), name
    assert by_name("jupicore").title == "JupiCore"


def test_a_service_is_installed_exactly_when_no_issue_is_pending() -> None:
    for s in SERVICES:
        assert s.installed == (not s.arrives_with), s.name
        assert ("its own issue" in s.pending) == (not s.installed), s.name
    assert {s.name for s in SERVICES if s.installed} == {
        "system-monitor",
        "controller-agent",
        "jupicore",
        "web-server",
        "modbus-server",
        "modbus-client",
        "mqtt-bridge",
        "ocpp16",
        "load-management",
        "calibration-law",
    }


def test_declarations_name_real_areas_topics_and_ports() -> None:
    patterns = {t.pattern for t in topics.TOPICS}
    port_fields = {f.name for f in SYSTEM if f.name.endswith("_port")}
    ids = [s.client_id for s in ALL if s.client_id]
    assert len(ids) == len(set(ids))
    for s in ALL:
        assert set(s.reads) <= set(AREAS), s.name
        assert set(s.publishes) <= patterns and set(s.subscribes) <= patterns, s.name
        assert set(s.ports) <= port_fields and set(s.ports) <= set(Runtime.__dataclass_fields__), s.name
        if s.installed or s is supervisor.SPEC:
            assert s.client_id, s.name


def test_the_configuration_version_topic_reaches_a_reader() -> None:
    agent = by_name("controller-agent")
    assert "chargepoint" in agent.reads and topics.CONFIG_VERSION in agent.subscribes


def test_services_doc_tables_are_current() -> None:
    text = docs.SERVICES_MD.read_text()
    for block in docs.BLOCKS:
        assert "<!-- generated: %s -->" % block in text
    assert docs.services_md(text) == text, "docs/services.md is stale: python -m chargepark.services.docs"


def test_areas_without_a_reader_are_marked() -> None:
    table = docs.area_table()
    # the park (park/client.py), the Modbus layout in park order
    assert "| `station` | Charging stations | `controller-agent`, `modbus-server` |" in table
    # network: ModemRestartTimeout (ocpp16), OpenVPN On Request (mqtt-bridge)
    assert "| `network` | Network | `ocpp16`, `mqtt-bridge` |" in table
    assert (
        "| `loadcircuit` | Load management circuits | `controller-agent`, `modbus-client`, `load-management` |"
        in table
    )
    (chargepoint,) = [row for row in table.splitlines() if row.startswith("| `chargepoint` |")]
    assert chargepoint.endswith(
        "| `controller-agent`, `ocpp16`, `modbus-server`, `jupicore`, `load-management`, `calibration-law` |"
    )
