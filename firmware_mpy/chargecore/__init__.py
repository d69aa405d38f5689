"""chargecore: the safety core facade. Picks the fastest backend present and re-exports its API.

Order on CPython: "cython" (_chargecore_cy), "cffi" (_chargecore_cffi_api over _chargecore_cffi), "twin".
On MicroPython: "micropython-c" (the user C module _chargecore), "twin". BACKEND names the one picked.
The environment variable CHARGECORE_BACKEND forces one (an unavailable forced backend is an ImportError,
never a silent fallback); use(name) returns any backend module for side-by-side tests. API: docs/core-api.md.
"""

import sys

_MODULES = (
    ("cython", "_chargecore_cy"),
    ("cffi", "_chargecore_cffi_api"),
    ("micropython-c", "_chargecore"),
    ("twin", "chargecore.twin"),
)
_ON_MICROPYTHON = sys.implementation.name == "micropython"
_NOT_API = ("BACKEND", "const", "native")


def backends():
    """Names of the backends this interpreter may have, fastest first."""
    if _ON_MICROPYTHON:
        return ("micropython-c", "twin")
    return ("cython", "cffi", "twin")


def use(name):
    """The backend module `name` (ImportError if it is not built or not available here)."""
    for backend, module in _MODULES:
        if backend == name:
            mod = __import__(module)
            for part in module.split(".")[1:]:
                mod = getattr(mod, part)
            return mod
    raise ValueError("unknown chargecore backend: %s" % name)


def _forced():
    try:
        from os import getenv
    except ImportError:  # a board without getenv cannot be forced
        return None
    return getenv("CHARGECORE_BACKEND") or None


def _pick():
    forced = _forced()
    if forced:
        return forced, use(forced)
    for name in backends():
        try:
            return name, use(name)
        except ImportError:
            pass
    raise ImportError("no chargecore backend")  # unreachable: the twin is pure Python


def api(mod):
    """The public API names of a backend module (its submodules and helpers excluded)."""
    names = []
    for name in dir(mod):
        if name[0] != "_" and name not in _NOT_API and type(getattr(mod, name)) is not type(sys):
            names.append(name)
    return names


BACKEND, _backend = _pick()
for _name in api(_backend):
    globals()[_name] = getattr(_backend, _name)
del _name
