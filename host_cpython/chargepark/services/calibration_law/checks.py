"""The settings that matter for calibration law (manual, "System Control/Calibration Law"), each judged:
ERROR (not compliant: shown red), WARNING (yellow) or OK. A pure function of the configuration store, read
by the Calibration Law Agent (which logs what is not OK) and by the WBM overview.

Per point: its energy meter must sign (a type whose register map has `signing` registers: docs/meters.md),
and its module must have read the meter's public key; a point without user identification (Permanent
Charging Release) signs records that name nobody. For OCPP, when a point uses it: SignedDataFormat must be
a format produced here (OCMF, or OCMF in the transparency software's XML), and without VendorAtKeyTransfer the backend gets no public keys
(docs/ocpp.md). EichrechtAdminList (the CHARX display's admin cards; no display here) is checked for card
UIDs (hex). The system area's `calibration_law` says whether the agent runs at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from iomodule import meters

from chargepark.config.store import ConfigStore
from chargepark.ocpp import eichrecht

OK = "ok"
WARNING = "warning"
ERROR = "error"


@dataclass(frozen=True)
class Check:
    scope: str  # "system", "point" or "ocpp"
    subject: str  # the point's uid, else ""
    setting: str  # the field judged
    value: str
    level: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def signing_types() -> list[str]:
    return sorted(name for name, mp in meters.MAPS.items() if mp.get("signing"))


def _point(uid: str, cfg: dict[str, Any], module: dict[str, Any] | None) -> list[Check]:
    out = []
    meter = str(cfg.get("meter_type", "none"))
    signs = bool(meters.MAPS.get(meter, {}).get("signing"))
    out.append(Check("point", uid, "meter_type", meter, OK if signs else ERROR,
                     "a signing energy meter" if signs else
                     "no signing energy meter (calibration law needs one: %s)" % ", ".join(signing_types())))  # fmt: skip
    if signs:
        key = str((module or {}).get("meter_public_key", ""))
        out.append(Check("point", uid, "meter_public_key", key[-16:], OK if key else WARNING,
                         "the meter's public key was read" if key else
                         "the meter's public key was not read yet (has the meter answered?)"))  # fmt: skip
    mode = str(cfg.get("release_mode", ""))
    out.append(Check("point", uid, "release_mode", mode, WARNING if mode == "permanent" else OK,
                     "no user identification: the signed records name nobody" if mode == "permanent" else
                     "the release identifies the user"))  # fmt: skip
    return out


def _admin_uids(text: str) -> list[str]:
    return [u.strip() for u in text.split(",") if u.strip()]


def _ocpp(settings: dict[str, Any]) -> list[Check]:
    fmt = int(settings["SignedDataFormat"])
    vendor = str(settings["VendorAtKeyTransfer"])
    admins = _admin_uids(str(settings["EichrechtAdminList"]))
    bad = [u for u in admins if not all(c in "0123456789ABCDEFabcdef" for c in u)]
    return [
        Check("ocpp", "", "SignedDataFormat", str(fmt), OK if fmt in eichrecht.PRODUCED else ERROR,
              "OCMF records in StopTransaction" if fmt == eichrecht.OCMF else
              "OCMF records in the transparency software's XML in StopTransaction"
              if fmt == eichrecht.TRANSPARENCY_XML else
              "format %s cannot be produced: StopTransaction carries no signed data" % fmt),
        Check("ocpp", "", "VendorAtKeyTransfer", vendor, OK if vendor else WARNING,
              "the public keys go to the backend (DataTransfer)" if vendor else
              "empty: the backend does not get the meters' public keys"),
        Check("ocpp", "", "EichrechtAdminList", ",".join(admins), WARNING if bad else OK,
              "not card UIDs (hex): %s" % ", ".join(bad) if bad else
              "%s admin card(s) (for the CHARX display; no display here)" % len(admins)),
    ]  # fmt: skip


def report(store: ConfigStore) -> list[Check]:
    system = store.get("system") or {}
    on = bool(system.get("calibration_law", False))
    out = [Check("system", "", "calibration_law", "on" if on else "off", OK if on else WARNING,
                 "the Calibration Law Agent runs" if on else "switched off: the Calibration Law Agent does not run")]  # fmt: skip
    points = store.get("chargepoint")
    for uid, cfg in sorted(points.items()):
        out += _point(uid, cfg, store.get("module", uid))
    if any(cfg.get("release_mode") == "ocpp" for cfg in points.values()):
        out += _ocpp(dict(store.get("ocpp")))
    return out


def compliant(checks: list[Check]) -> bool:
    return all(c.level != ERROR for c in checks)
