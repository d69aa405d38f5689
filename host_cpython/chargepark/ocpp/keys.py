"""The OCPP configuration keys: the store's `ocpp` area (field name = key name, `wbm_only` fields are no
keys) plus the read-only keys that describe this implementation. GetConfiguration reads them and
ChangeConfiguration writes them through the store (so the WBM page and the backend edit the same record,
with the same validation)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chargeschema import BOOL, ENUM, INT, Field
from ocpp.v16.enums import ConfigurationStatus

from chargepark.config.schemas import OCPP, OCPP_KEYS
from chargepark.config.store import ConfigStore
from chargepark.ocpp import authlist, eichrecht, vocab
from chargepark.ocpp import smartcharging as sc

log = logging.getLogger("chargepark.ocpp")
HIDDEN = "****"  # what GetConfiguration answers for a secret
SECRET = ("AuthorizationUser", "AuthorizationKey")  # the manual: never readable from the backend
MAX_KEYS = 100
MEASURAND_LISTS = (
    "MeterValuesSampledData",
    "MeterValuesAlignedData",
    "StopTxnSampledData",
    "StopTxnAlignedData",
)
PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,Reservation,RemoteTrigger,SmartCharging"  # the feature profiles built so far (docs/ocpp.md)
FIELDS: dict[str, Field] = {f.name: f for f in OCPP if not f.wbm_only}


@dataclass(frozen=True)
class ReadOnly:
    key: str
    value: Callable[[int], str]  # number of connectors -> value


# Read-only keys: facts of this implementation, not settings (the manual lists the three signature keys as
# unused). The IO module, the session authority, ends the session at unplug: a transaction kept across
# unplugs would let the next vehicle charge on it (StopTransactionOnEVSideDisconnect).
READ_ONLY = (
    ReadOnly("StopTransactionOnEVSideDisconnect", lambda _n: "true"),
    ReadOnly("NumberOfConnectors", str),
    ReadOnly("SupportedFeatureProfiles", lambda _n: PROFILES),
    ReadOnly("GetConfigurationMaxKeys", lambda _n: str(MAX_KEYS)),
    *(ReadOnly(k + "MaxLength", lambda _n: str(len(vocab.MEASURANDS))) for k in MEASURAND_LISTS),
    ReadOnly("LocalAuthListMaxLength", lambda _n: str(authlist.LIST_MAX)),
    ReadOnly("SendLocalListMaxLength", lambda _n: str(authlist.SEND_MAX)),
    ReadOnly("ReserveConnectorZeroSupported", lambda _n: "false"),
    ReadOnly("ChargeProfileMaxStackLevel", lambda _n: str(sc.MAX_STACK_LEVEL)),
    ReadOnly("ChargingScheduleAllowedChargeRateUnit", lambda _n: "Current,Power"),
    ReadOnly("ChargingScheduleMaxPeriods", lambda _n: str(sc.MAX_PERIODS)),
    ReadOnly("MaxChargingProfilesInstalled", lambda _n: str(sc.MAX_PROFILES)),
    ReadOnly("ConnectorSwitch3to1PhaseSupported", lambda _n: "false"),
    ReadOnly("MeterValuesSignatureContexts", lambda _n: ""),
    ReadOnly("StopTransactionSignatureContexts", lambda _n: ""),
    ReadOnly("StopTransactionSignatureFormat", lambda _n: ""),
)
READ_ONLY_KEYS = {r.key: r for r in READ_ONLY}


def text(value: object) -> str:
    """A stored value as OCPP writes it (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse(field: Field, raw: str) -> object:
    """A ChangeConfiguration value in the field's type; ValueError when it is not one."""
    if field.kind == BOOL:
        if raw.lower() not in ("true", "false"):
            raise ValueError("not a boolean")
        return raw.lower() == "true"
    if field.kind == INT:
        if not raw.strip().lstrip("-").isdigit():
            raise ValueError("not an integer")
        return int(raw)
    if field.kind == ENUM and raw not in (field.choices or ()):
        raise ValueError("not one of %s" % ", ".join(field.choices or ()))
    if field.name in MEASURAND_LISTS:
        vocab.measurands(raw)
    return raw


def get(
    store: ConfigStore, connectors: int, wanted: list[str] | None
) -> tuple[list[dict[str, object]], list[str]]:
    """GetConfiguration: (configurationKey entries, unknownKey names)."""
    record = store.get("ocpp")
    names = list(OCPP_KEYS) + [r.key for r in READ_ONLY] if not wanted else wanted
    found, unknown = [], []
    for key in names:
        if key in FIELDS:
            value = HIDDEN if key in SECRET else text(record[key])
            found.append({"key": key, "readonly": False, "value": value})
        elif key in READ_ONLY_KEYS:
            found.append({"key": key, "readonly": True, "value": READ_ONLY_KEYS[key].value(connectors)})
        else:
            unknown.append(key)
    return found, unknown


def change(store: ConfigStore, key: str, raw: str) -> ConfigurationStatus:
    """ChangeConfiguration: Accepted when stored, Rejected for a read-only key, a bad value or a value this
    implementation cannot honour (logged: a SignedDataFormat other than OCMF), NotSupported for a key we do
    not know (OCPP 1.6, 5.3: NotSupported is for the key, not for one of its values)."""
    if key in READ_ONLY_KEYS:
        return ConfigurationStatus.rejected
    field = FIELDS.get(key)
    if field is None:
        return ConfigurationStatus.not_supported
    reason = eichrecht.unsupported(key, raw)
    if reason is not None:
        log.warning("ChangeConfiguration %s=%s rejected: %s", key, raw, reason)
        return ConfigurationStatus.rejected
    try:
        store.put("ocpp", {key: parse(field, raw)})
    except ValueError:  # chargeschema.Invalid is one too
        return ConfigurationStatus.rejected
    return ConfigurationStatus.accepted
