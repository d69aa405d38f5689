"""Writes the WBM API's OpenAPI document: `python -m chargepark.wbm.openapi docs/openapi/wbm.json`
(tests/host/test_wbm_openapi.py fails when the committed one is stale)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chargepark.wbm.app import create_app


def document() -> dict[str, Any]:
    doc: dict[str, Any] = create_app().openapi()
    return doc


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    Path(argv[0]).write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
