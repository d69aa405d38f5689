"""The MQTT Bridge page's form, generated from the mqtt_bridge area's schema (`config.schemas.MQTT_BRIDGE`):
its fields in the schema's order under the manual's labels, the forwarding rows as list rows
(`netform.parse_fields`). The CA certificate is not typed in: the page shows the stored one and takes an
uploaded file in its place (the area's checks decide, `ocpp.cacert`)."""

from __future__ import annotations

from typing import Any

from chargepark.bridge import status
from chargepark.config.schemas import MQTT_BRIDGE
from chargepark.web import forms, netform

BY_NAME = {f.name: f for f in MQTT_BRIDGE}
CERTIFICATE = "certificate"  # set by its upload, not in the form's fields
TOPICS = "topics"
# The manual's two sections, each a form with its own Save: Configuration, MQTT Topic Forwarding.
SECTIONS = {"config": tuple(n for n in BY_NAME if n not in (CERTIFICATE, TOPICS)), "topics": (TOPICS,)}
TITLE = "MQTT Bridge"
# The manual's labels ("MQTT Bridge/Configuration", "MQTT Topic Forwarding"); a test holds them to the schema.
LABELS = {
    "broker": "Broker", "port": "Broker Port", "user": "User", "password": "Password",
    "prefix": "Added Prefix", "station_name": "Station Name", "location": "Location",
    "certificate": "Certificate", "topics": "MQTT Topic Forwarding", "topics[].local": "Local Topic",
    "topics[].remote": "Remote Topic", "topics[].direction": "Forwarding direction",
}  # fmt: skip
# The bridge's connection states (bridge.status) as the page names them.
STATES = {
    status.OFF: "Bridge off", status.CONNECTING: "Connecting", status.CONNECTED: "Connected",
    status.REFUSED: "Refused", status.TLS_ERROR: "TLS error", status.UNREACHABLE: "Unreachable",
    status.ERROR: "Error",
}  # fmt: skip


def label(path: str) -> str:
    return LABELS[path]


def layout(record: dict[str, Any]) -> dict[str, list[forms.FormField]]:
    """Each section's fields."""
    return dict(
        zip(
            SECTIONS,
            (f for _, f in forms.layout(record, tuple(SECTIONS.items()), BY_NAME, {}, ())),
            strict=True,
        )
    )


def parse(form: dict[str, str], section: str) -> dict[str, Any]:
    """One section's fields from its form (the PUT keeps the other section's)."""
    return netform.parse_fields(form, SECTIONS[section], BY_NAME)


def msgids() -> set[str]:
    return {TITLE} | set(LABELS.values()) | set(STATES.values())
