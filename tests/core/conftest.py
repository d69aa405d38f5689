"""Core tests: CHARGECORE_BUILD_DIR (set by `scons sanitize`) puts the sanitizer build first on the path."""

import os
import sys

_build = os.environ.get("CHARGECORE_BUILD_DIR")
if _build and _build not in sys.path:
    sys.path.insert(0, _build)
