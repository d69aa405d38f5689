"""The generated parts of the services' docs, from the specs, the topic map and the system area.

`python -m chargepark.services.docs` rewrites `docs/mqtt-topics.md` and the marked tables of
`docs/services.md`; tests fail when either is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import chargeschema

from chargepark import supervisor, topics
from chargepark.config.areas import AREAS
from chargepark.config.schemas import SYSTEM
from chargepark.services.registry import SERVICES
from chargepark.services.spec import ServiceSpec
from chargepark.systemd import rights

ROOT = Path(__file__).resolve().parents[3]
SERVICES_MD = ROOT / "docs" / "services.md"
TOPICS_MD = ROOT / "docs" / "mqtt-topics.md"
COMMAND = "python -m chargepark.services.docs"
ALL: tuple[ServiceSpec, ...] = (supervisor.SPEC, *SERVICES)
_BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def _who(spec: ServiceSpec) -> str:
    if spec is supervisor.SPEC or spec.installed:
        return "`%s`" % spec.name
    return "`%s` (not installed: %s)" % (spec.name, spec.arrives_with)


def _names(specs: list[ServiceSpec]) -> str:
    return ", ".join(_who(s) for s in specs)


def _port_fields() -> list[chargeschema.Field]:
    return [f for f in SYSTEM if f.name.endswith("_port")]


def service_table() -> str:
    rows = [
        "| name | manual name | package | reads (config areas) | MQTT client id | state today |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in SERVICES:
        state = s.summary if s.installed else "not installed: %s (%s)" % (s.summary, s.arrives_with)
        rows.append(
            "| `%s` | %s | `%s` | %s | %s | %s |"
            % (s.name, s.title, s.package, ", ".join("`%s`" % a for a in s.reads) or "-",
               "`%s`" % s.client_id if s.client_id else "-", state)
        )  # fmt: skip
    return "\n".join(rows) + "\n"


def port_table() -> str:
    defaults = chargeschema.defaults(SYSTEM)
    rows = ["| field (system area) | default | listening | meaning |", "| --- | --- | --- | --- |"]
    for f in _port_fields():
        listening = _names([s for s in ALL if f.name in s.ports])
        rows.append("| `%s` | %d | %s | %s |" % (f.name, defaults[f.name], listening, f.doc))
    return "\n".join(rows) + "\n"


def area_table() -> str:
    rows = ["| area | what | read by |", "| --- | --- | --- |"]
    for a in AREAS.values():
        readers = [s for s in ALL if a.name in s.reads]
        rows.append("| `%s` | %s | %s |" % (a.name, a.title, _names(readers) or "no reader yet"))
    return "\n".join(rows) + "\n"


def rights_table() -> str:
    """The head unit's capabilities: each program the backends run, then the head's own acts."""
    rows = ["| program or act | capability | why |", "| --- | --- | --- |"]
    for name, p in rights.PROGRAMS.items():
        rows.append("| `%s` | %s | %s |" % (name, " ".join("`%s`" % c for c in p.caps) or "-", p.why))
    for cap, why in rights.ACTS.items():
        rows.append("| (the head itself) | `%s` | %s |" % (cap, why))
    return "\n".join(rows) + "\n"


BLOCKS = {"services": service_table, "ports": port_table, "areas": area_table, "rights": rights_table}


def services_md(text: str) -> str:
    """text with each marked block rendered anew."""
    return _BLOCK.sub(lambda m: m.group(1) + BLOCKS[m.group(2)]() + m.group(4), text)


def topics_md() -> str:
    mqtt_port = chargeschema.defaults(SYSTEM)["mqtt_port"]
    lines = [
        "# MQTT topics (local broker)",
        "",
        "Generated from `host_cpython/chargepark/topics.py` (the map) and the service specs",
        "(`services/<name>/spec.py`: who publishes and subscribes) by `%s`;" % COMMAND,
        "a test fails when this file is stale. The broker is mosquitto on 127.0.0.1 (port: the system area's",
        "`mqtt_port`, %d by default), anonymous, QoS 0. `<uid>` is the charging controller UID (REST"
        % mqtt_port,
        "controller key). The manual's `<prefix>/<device type>/<device id>/...` hierarchy is only used by the",
        "bridge to a remote broker.",
        "",
        "| topic | publisher | subscribers | retained | payload | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in topics.TOPICS:
        publishers = [_names([s for s in ALL if t.pattern in s.publishes]), t.outside]
        lines.append(
            "| `%s` | %s | %s | %s | %s | %s |"
            % (t.pattern.replace("{", "<").replace("}", ">"),
               "; ".join(p for p in publishers if p) or "nobody yet",
               _names([s for s in ALL if t.pattern in s.subscribes]) or "-",
               "yes" if t.retained else "no", t.payload, t.doc)
        )  # fmt: skip
    lines += [
        "",
        "## `charging_controllers/<uid>/data/<param>` parameters",
        "",
        "| param | payload | meaning |",
        "| --- | --- | --- |",
    ]
    for name, (payload, doc) in topics.DATA_PARAMS.items():
        lines.append("| `%s` | %s | %s |" % (name, payload, doc))
    return "\n".join(lines) + "\n"


def main() -> int:
    TOPICS_MD.write_text(topics_md())
    SERVICES_MD.write_text(services_md(SERVICES_MD.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
