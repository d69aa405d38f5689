"""docs/openapi/jupicore.json is the app's own document (regenerate: python -m chargepark.datahub.openapi)."""

from __future__ import annotations

import json

from chargepark.datahub import openapi

# The JupiCore paths of charx-interfaces.md 2.2 that a single head serves.
CHARX_PATHS = {
    ("get", "/charging-controllers"), ("get", "/charging-controllers/{uid}/data"),
    ("get", "/charging-controllers/{uid}/control"), ("put", "/charging-controllers/{uid}/control"),
    ("get", "/charging-controllers/{uid}/load-management-config"),
    ("put", "/charging-controllers/{uid}/load-management-config"),
    ("post", "/charging-controllers/{uid}/restart"), ("get", "/charging-points"),
    ("get", "/charging-points/{uid}/config"), ("put", "/charging-points/{uid}/config"),
    ("delete", "/charging-points/{uid}/config"), ("get", "/rfid-whitelist"), ("post", "/rfid-whitelist"),
    ("get", "/rfid-whitelist/{tag}"), ("put", "/rfid-whitelist/{tag}"), ("delete", "/rfid-whitelist/{tag}"),
    ("get", "/applications/{name}/config"), ("put", "/applications/{name}/config"),
    ("get", "/charging-controllers/{uid}/event-action-config"),
    ("put", "/charging-controllers/{uid}/event-action-config"),
    ("get", "/charging-controllers/{uid}/function-config"), ("put", "/charging-controllers/{uid}/function-config"),
    ("get", "/charging-controllers/{uid}/hmi-config"), ("put", "/charging-controllers/{uid}/hmi-config"),
    ("get", "/charging-controllers/{uid}/hmi-data"), ("get", "/coupled-clients"),
}  # fmt: skip


def test_the_committed_document_is_current() -> None:
    assert openapi.DOC.read_text() == openapi.text(), "stale: python -m chargepark.datahub.openapi"


def test_it_has_every_charx_path_and_every_refusal_is_the_error_shape() -> None:
    doc = json.loads(openapi.text())
    served = {(m, p.removeprefix("/api/v1.0")) for p, ops in doc["paths"].items() for m in ops}
    assert served >= CHARX_PATHS
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                if status.startswith("4") or status.startswith("5"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
    puts = doc["paths"]["/api/v1.0/charging-controllers/{uid}/control"]["put"]
    body = puts["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False and len(body["properties"]) == 9
