"""`python -m chargepark.services <name>`: how the supervisor starts one service process."""

from __future__ import annotations

import importlib
import sys

from chargepark.services.registry import by_name


def main() -> int:
    spec = by_name(sys.argv[1])
    module = importlib.import_module(spec.package + ".main")
    result = module.main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
