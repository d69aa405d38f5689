"""docs/openapi/wbm.json is the WBM API's generated OpenAPI document; regenerate it with
`python -m chargepark.wbm.openapi docs/openapi/wbm.json`."""

from __future__ import annotations

from pathlib import Path

from chargepark.wbm.openapi import render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "wbm.json"


def test_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text() == render(), "stale: python -m chargepark.wbm.openapi docs/openapi/wbm.json"
