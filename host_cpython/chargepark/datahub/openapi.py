"""Writes JupiCore's OpenAPI document: `python -m chargepark.datahub.openapi` (docs/openapi/jupicore.json;
a test fails when it is stale)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from chargepark.asgi import openapi_text
from chargepark.datahub import rest

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "jupicore.json"


def text() -> str:
    nothing: Any = None  # the routes only: no handler runs while the document is generated
    return openapi_text(rest.build(nothing, nothing, nothing))


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DOC
    path.write_text(text())
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
