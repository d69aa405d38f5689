"""The one gate of a charging release: which path may issue or withdraw it, per release mode (manual,
"Allow Charging | Release Mode").

Every head path that sends a point the `release` command (or a positive `rfid` verdict, which releases
too) goes through `GatedOps`, named by its source; a release the point's mode does not allow is refused
with the reason before anything reaches the bus. The module stays the last line: in permanent mode it
is released whatever it is told (`iomodule/point.py`).

| source | the path |
| --- | --- |
| `dashboard` | the WBM's dashboard and a point's status page (the operation `point_release`) |
| `whitelist` | a card or EVCC ID the park's whitelist allows (the RFID decision, `release/rfid.py`) |
| `remote` | the JupiCore REST `control` (`charge_enable`), Event Actions on the module |
| `ocpp` | the OCPP backend (RemoteStart/Stop, Authorize, its withdrawals) |
| `modbus` | the Modbus register 300 of the point |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chargedefs as cd

from chargepark import pointops

# Release mode -> the one source that may issue and withdraw the release; None: none (permanent).
PATH: dict[str, str | None] = {
    "dashboard": "dashboard",
    "whitelist": "whitelist",
    "remote": "remote",
    "permanent": None,
    "ocpp": "ocpp",
    "modbus": "modbus",
}
SOURCES = ("dashboard", "whitelist", "remote", "ocpp", "modbus")
NAMES = {  # the manual's names, for the reasons
    "dashboard": "Via Dashboard",
    "whitelist": "By Local Whitelist",
    "remote": "Via Remote Control",
    "permanent": "Permanent Charging Release",
    "ocpp": "By OCPP",
    "modbus": "Via Modbus",
}
WHAT = {
    "dashboard": "the WBM dashboard and status page",
    "whitelist": "a card or EVCC ID on the whitelist",
    "remote": "the REST control or Event Actions",
    "ocpp": "the OCPP backend",
    "modbus": "the Modbus registers",
}
assert set(PATH) == set(cd.RELEASE_MODES) and set(WHAT) == set(SOURCES)


class ReleaseRefused(pointops.CommandError):
    """The point's release mode does not take a release from this path (nothing was sent)."""

    http_status = 409


def allows(mode: str, source: str) -> bool:
    return PATH.get(mode) == source


def modes_for(source: str) -> tuple[str, ...]:
    """The release modes in which `source` is the release path."""
    return tuple(m for m in cd.RELEASE_MODES if PATH[m] == source)


def refusal(mode: str, source: str) -> str:
    """Why `source` may not issue or withdraw the release of a point in `mode`; empty if it may."""
    if allows(mode, source):
        return ""
    if mode not in PATH:
        return "the point has no release mode (not configured): nothing releases it"
    if PATH[mode] is None:
        return (
            "release mode %s: the point is always released and the release cannot be withdrawn "
            "(lock or unlock the point instead)" % NAMES[mode]
        )
    return "release mode %s: only %s release%s this point, not %s" % (
        NAMES[mode],
        WHAT[str(PATH[mode])],
        "" if PATH[mode] == "whitelist" else "s",
        WHAT[source],
    )


def check(mode: str, source: str) -> None:
    why = refusal(mode, source)
    if why:
        raise ReleaseRefused(why, "release")


def releases(name: str, value: Any) -> bool:
    """Whether a point command issues or withdraws the charging release."""
    if name == "release":
        return True
    if name != "rfid":
        return False
    if isinstance(value, dict):
        return bool(value.get("ok"))
    return isinstance(value, list | tuple) and len(value) > 1 and bool(value[1])  # [tag, ok]


class GatedOps(pointops.PointOps):
    """The one command path (`pointops.PointOps`) of a service whose release commands pass the gate for
    its source; every other command goes through unchanged. `mode_of(uid)` reads the point's release
    mode."""

    def __init__(
        self,
        link: pointops.Link,
        source: str,
        mode_of: Callable[[str], str],
        answer_s: float = pointops.ANSWER_S,
    ) -> None:
        assert source in SOURCES
        super().__init__(link, answer_s)
        self.source = source
        self.mode_of = mode_of

    async def command(self, uid: str, name: str, value: Any = None) -> None:
        if releases(name, value):
            check(self.mode_of(uid), self.source)
        await super().command(uid, name, value)


def mode_in(store: Any) -> Callable[[str], str]:
    """mode_of for a configuration store: a point without a configuration has none."""

    def mode_of(uid: str) -> str:
        cfg = store.get("chargepoint", uid)
        return str(cfg["release_mode"]) if cfg else ""

    return mode_of
